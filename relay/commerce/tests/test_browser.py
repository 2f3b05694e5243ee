"""End to end: the party page loads its commerce panel under the strict CSP, masked for an agent and in
clear for a supervisor; and the sample sync script in examples/ runs against a live server, twice."""

from __future__ import annotations

import importlib.util
import os
from datetime import date
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import expect

from relay.accounts.services import api_token_create
from relay.commerce.models import Invoice, Subscription
from relay.commerce.selectors import MASK
from relay.customers.tests.test_browser import browser, page, sign_in  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.parametrize(("who", "clear"), [("agent", False), ("supervisor", True)])
def test_the_commerce_panel_on_the_party_page(page, shop, request, who, clear):  # noqa: F811
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    user = request.getfixturevalue(who)
    with time_machine.travel("2026-12-01T12:00:00Z", tick=True):
        sign_in(page, user.username)
        page.goto(f"/parties/{shop.pk}/")
        balance = page.locator("#commerce-balance [data-amount=balance]")
        expect(balance).to_have_text("45.00 USD" if clear else MASK)
        expect(page.locator("#commerce-services")).to_contain_text("Suspended: non-payment")
        expect(page.locator("#commerce-purchases")).to_contain_text("Pixel handset")
        expect(page.locator("#commerce-invoices")).to_contain_text("overdue")
        expect(page.locator("#commerce-masked")).to_have_count(0 if clear else 1)
    assert not [e for e in errors if "Content Security Policy" in e], errors


def _script():
    path = Path(__file__).resolve().parents[3] / "examples" / "erp_sync.py"
    spec = importlib.util.spec_from_file_location("erp_sync", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_sync_script_against_a_live_server(live_server, erp, schemes, capsys):
    script = _script()
    _, token = api_token_create(user=erp)
    argv = ["--url", live_server.url, "--token", token, "--today", date(2026, 12, 1).isoformat()]
    assert script.main(argv) == 0
    first = capsys.readouterr().out
    assert "products       from erp        6 sent: 6 created" in first
    assert Subscription.objects.filter(service_id="+14155550177", status="active").exists()
    assert set(Invoice.objects.values_list("number", "status")) == {
        ("EX-2026-10", "paid"),
        ("EX-2026-11", "open"),
    }
    assert script.main(argv) == 0
    second = capsys.readouterr().out
    assert second.count("0 created, 0 updated") == 6, second
