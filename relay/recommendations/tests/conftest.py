"""A shop with co-purchase structure, small enough to count by hand.

16 customers: 10 bought the phone (8 of them the case too, 5 of those the screen glass); 6 bought fibre
and the router. Ada bought only the phone.

    phone -> case   8 of 10 = 80 %     phone -> glass  5 of 10 = 50 %
    case  -> glass  5 of 8  = 62.5 %   fibre -> router 6 of 6 = 100 %
"""

from __future__ import annotations

import pytest

from relay.recommendations.tests import factories as f


@pytest.fixture
def catalogue(db):
    return {
        sku: f.product(sku, name)
        for sku, name in (
            ("PHONE", "Pixel 8"),
            ("CASE", "Protective case"),
            ("GLASS", "Screen protector"),
            ("FIBRE", "Fibre 1 Gbit/s"),
            ("ROUTER", "Wi-Fi 6 router"),
            ("TV", "TV Basic"),
        )
    }


@pytest.fixture
def shop(catalogue):
    c = catalogue
    for n in range(8):
        who = f.party()
        f.buy(who, c["PHONE"])
        f.buy(who, c["CASE"], *([c["GLASS"]] if n < 5 else []))
    ada = f.party(given_name="Ada", family_name="Lovelace")
    f.buy(ada, c["PHONE"])
    f.buy(f.party(), c["PHONE"])
    for _ in range(6):
        f.buy(f.party(), c["FIBRE"], c["ROUTER"])
    return {"ada": ada, **c}
