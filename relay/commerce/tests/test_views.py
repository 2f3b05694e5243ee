"""The party page's commerce panel: what it shows, the amounts masked without the capability, the
source and sync time of each record, row scoping, and a pinned query count."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client

from relay.commerce.selectors import MASK, party_account, party_commerce
from relay.commerce.tests.test_api import _more_history
from relay.core.testing.api import hidden_from_everyone
from relay.core.testing.queries import assert_flat_query_count, count_queries
from relay.customers.models import Party

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def panel(user, party, **headers):
    with time_machine.travel("2026-12-01T12:00:00Z", tick=False):
        return login(user).get(f"/commerce/parties/{party.pk}/", **headers)


def test_the_party_page_loads_the_panel_after_itself(shop, agent):
    body = login(agent).get(f"/parties/{shop.pk}/").content.decode()
    assert f'hx-get="/commerce/parties/{shop.pk}/"' in body and 'hx-trigger="load"' in body
    assert "<script>" not in body and "style=" not in body  # strict CSP: nothing inline


def test_a_supervisor_sees_balance_overdue_credit_services_and_purchases(shop, supervisor):
    response = panel(supervisor, shop, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body  # the fragment
    assert 'data-amount="balance">45.00 USD' in body and 'data-amount="overdue">45.00 USD' in body
    assert "1 overdue since" in body and 'id="commerce-overdue"' in body
    assert 'data-amount="credit_limit">300.00 USD' in body and "14 days · medium risk" in body
    assert "on hold" in body
    assert "Mobile Unlimited +1 415 555 0100" in body and "Suspended: non-payment" in body
    assert "Pixel handset" in body and "2 \u00d7 Phone case" in body
    assert "INV-11" in body and "overdue</span>" in body
    assert body.count("From erp · ") >= 6 and "synced <time" in body  # each record: source and sync time
    assert MASK not in body


@pytest.mark.parametrize("who", ["agent", "other_agent"])
def test_an_agent_sees_that_there_is_an_account_but_no_amounts(request, shop, who):
    body = panel(request.getfixturevalue(who), shop, **HTMX).content.decode()
    amounts = re.findall(r'data-amount="(\w+)">([^<]*)<', body)
    assert amounts and all(value == MASK for _, value in amounts), amounts
    assert "45.00" not in body and "300.00" not in body and "14 days" not in body and "on hold" not in body
    assert 'id="commerce-masked"' in body and 'id="commerce-credit"' in body
    assert "Suspended: non-payment" in body and "INV-11" in body  # what is not sensitive stays
    assert "Pixel handset" in body and "599.00 USD" in body  # purchases are not sensitive


def test_the_panel_is_a_page_of_its_own_without_htmx(shop, auditor):
    body = panel(auditor, shop).content.decode()
    assert "<html" in body and "Account and purchases" in body and "45.00 USD" in body


def test_an_empty_account_says_where_data_comes_from(agent, bob):
    body = panel(agent, bob, **HTMX).content.decode()
    assert "No purchases, invoices or services on file" in body


def test_a_party_out_of_scope_is_a_404(shop, supervisor):
    with hidden_from_everyone(Party, shop.pk):
        assert panel(supervisor, shop, **HTMX).status_code == 404
        assert party_account(actor=supervisor, party=shop).balances == []


def test_anonymous_is_sent_to_login_and_inactive_refused(shop, inactive_user):
    response = Client().get(f"/commerce/parties/{shop.pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_panel_costs_the_same_however_long_the_history(shop, erp, supervisor):
    client = login(supervisor)
    assert_flat_query_count(
        lambda: client.get(f"/commerce/parties/{shop.pk}/", **HTMX),
        _more_history(erp, "account:ACC-1", 100),
        few=2,
        many=12,
        at_most=12,  # with the two of the recommendations
    )


def test_the_selectors_query_budget(shop, supervisor):
    """What the 360 card will call: the account is one query, the whole panel six."""
    n, sql, summary = count_queries(lambda: party_account(actor=supervisor, party=shop))
    assert n == 1, sql
    assert summary.balances[0].currency == "USD"
    n, sql, _ = count_queries(lambda: party_commerce(actor=supervisor, party=shop))
    assert n == 6, sql
