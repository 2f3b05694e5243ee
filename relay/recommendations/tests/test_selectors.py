"""What the 360 card reads: explained recommendations, never something owned, two queries whatever the
history holds, scoped like every read."""

from __future__ import annotations

import pytest

from relay.accounts.choices import Role
from relay.core.testing.factories import UserFactory
from relay.core.testing.queries import count_queries
from relay.recommendations import services
from relay.recommendations.selectors import goes_well_with, owned_product_ids, recommendations_for
from relay.recommendations.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(shop):
    services.train()
    return shop


def test_a_customer_with_history_gets_explained_recommendations(agent, trained):
    recs = recommendations_for(actor=agent, party=trained["ada"])
    assert [r.sku for r in recs] == ["CASE", "GLASS"]
    case = recs[0]
    assert case.explanation == "80 % of customers who bought Pixel 8 also bought Protective case"
    assert recs[1].explanation == "50 % of customers who bought Pixel 8 also bought Screen protector"
    assert (case.name, case.price, case.currency) == ("Protective case", trained["CASE"].unit_price, "USD")
    assert case.because == trained["PHONE"] and case.confidence == 0.8 and case.lift == pytest.approx(1.6)
    assert case.score == 0.8
    assert case.product == trained["CASE"] and case.product.description == trained["CASE"].description


def test_never_what_the_customer_owns_by_order_or_subscription(agent, trained):
    ada = trained["ada"]
    f.buy(ada, trained["CASE"])
    assert [r.sku for r in recommendations_for(actor=agent, party=ada)] == ["GLASS"]
    # explained by the stronger of phone -> glass (50 %) and case -> glass (62.5 %)
    [glass] = recommendations_for(actor=agent, party=ada)
    assert glass.because == trained["CASE"] and glass.explanation.startswith(
        "62 % of customers who bought Protective case"
    )
    assert glass.score == pytest.approx(0.5 + 0.625)
    f.subscribe(ada, trained["GLASS"], status="suspended")
    assert recommendations_for(actor=agent, party=ada) == []


def test_a_cancelled_order_is_not_owned(agent, trained):
    ada = trained["ada"]
    f.buy(ada, trained["CASE"], status="cancelled")
    assert [r.sku for r in recommendations_for(actor=agent, party=ada)] == ["CASE", "GLASS"]


def test_a_subscription_is_history_enough(agent, trained):
    who = f.party()
    f.subscribe(who, trained["FIBRE"])
    [router] = recommendations_for(actor=agent, party=who)
    assert router.explanation == "100 % of customers who bought Fibre 1 Gbit/s also bought Wi-Fi 6 router"


def test_no_history_no_run_or_inactive_products_give_nothing(agent, shop):
    ada = shop["ada"]
    assert recommendations_for(actor=agent, party=ada) == []  # no active run yet
    services.train()
    assert recommendations_for(actor=agent, party=f.party()) == []
    assert recommendations_for(actor=agent, party=ada, limit=0) == []
    assert [r.sku for r in recommendations_for(actor=agent, party=ada, limit=1)] == ["CASE"]
    shop["CASE"].is_active = False
    shop["CASE"].save(update_fields=["is_active"])
    assert [r.sku for r in recommendations_for(actor=agent, party=ada)] == ["GLASS"]


def test_only_the_active_runs_rules_are_read(agent, trained):
    ada = trained["ada"]
    for _ in range(20):  # phone buyers who now take the glass, not the case
        f.buy(f.party(), trained["PHONE"], trained["GLASS"])
    assert [r.sku for r in recommendations_for(actor=agent, party=ada)] == ["CASE", "GLASS"]
    services.train()
    assert [r.sku for r in recommendations_for(actor=agent, party=ada)] == ["GLASS", "CASE"]


def test_scoped_like_every_read(trained):
    inactive = UserFactory(username="gone", role=Role.AGENT, is_active=False)
    assert recommendations_for(actor=inactive, party=trained["ada"]) == []
    assert owned_product_ids(actor=inactive, party=trained["ada"]) == set()
    assert goes_well_with(actor=inactive, product=trained["PHONE"]) == []
    auditor = UserFactory(username="auditor", role=Role.AUDITOR)
    assert [r.sku for r in recommendations_for(actor=auditor, party=trained["ada"].pk)] == ["CASE", "GLASS"]


def test_three_queries_whatever_the_history_holds(agent, trained):
    """The owned products, the rules as numbers, the products shown; and the configuration generation's
    read (the active run is cached per process)."""
    ada = trained["ada"]
    recommendations_for(actor=agent, party=ada)  # the active run is cached after this
    n, sql, recs = count_queries(lambda: recommendations_for(actor=agent, party=ada))
    assert n == 4, sql
    assert recs
    for sku in ("FIBRE", "TV"):  # more owned products, more rules to read: still the same
        f.buy(ada, trained[sku])
    f.subscribe(ada, trained["ROUTER"])
    n_more, sql_more, recs_more = count_queries(lambda: recommendations_for(actor=agent, party=ada, limit=5))
    assert n_more == 4, sql_more
    assert {r.sku for r in recs_more} == {"CASE", "GLASS"}
    newcomer = f.party()
    n_none, sql_none, _ = count_queries(lambda: recommendations_for(actor=agent, party=newcomer))
    assert n_none == 2, sql_none


def test_goes_well_with_a_product(agent, trained):
    n, sql, recs = count_queries(lambda: goes_well_with(actor=agent, product=trained["PHONE"]))
    assert n == 1, sql
    assert [r.sku for r in recs] == ["CASE", "GLASS"]
    assert recs[0].explanation == "80 % of customers who bought Pixel 8 also bought Protective case"
    owned = owned_product_ids(actor=agent, party=trained["ada"])
    assert owned == {trained["PHONE"].pk}
    assert [
        r.sku for r in goes_well_with(actor=agent, product=trained["PHONE"], exclude=[trained["CASE"].pk])
    ] == ["GLASS"]
    assert goes_well_with(actor=agent, product=trained["TV"].pk) == []


def test_the_card_scores_with_the_active_runs_aggregation(agent, shop):
    from relay.recommendations.rules import Parameters

    ada = shop["ada"]
    services.train(parameters=Parameters(aggregate="max"))
    f.buy(ada, shop["CASE"])
    [glass] = recommendations_for(actor=agent, party=ada)
    assert glass.score == 0.625  # the best of 50 % and 62.5 %, not their sum
