"""The commerce API: bulk upsert (idempotent, all or nothing, problem+json per row), the reads with their
permission cut of sensitive amounts, row scoping, pinned query counts."""

from __future__ import annotations

import pytest
import time_machine

from relay.commerce import services
from relay.commerce.models import Invoice, OrderLine, Payment, Product
from relay.commerce.tests.conftest import invoice_rows, order_rows, payment_rows, product_rows
from relay.commerce.tests.test_services import snapshot
from relay.core.testing.api import assert_problem, client_for, hidden_from_everyone
from relay.core.testing.queries import assert_flat_query_count
from relay.customers.models import Party

pytestmark = pytest.mark.django_db

BULK = "/api/v1/commerce/{}/bulk/"


def test_bulk_upsert_reports_counts_and_the_same_batch_twice_changes_nothing(erp, ada, owners):
    client = client_for(erp)
    body = {"source": "erp", "records": product_rows()}
    first = client.post(BULK.format("products"), body, format="json")
    assert first.status_code == 200, first.content
    data = first.json()
    assert (data["received"], data["created"], data["updated"], data["unchanged"]) == (3, 3, 0, 0)
    assert [r["outcome"] for r in data["results"]] == ["created"] * 3
    before = snapshot()
    again = client.post(BULK.format("products"), body, format="json").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert [r["id"] for r in again["results"]] == [r["id"] for r in data["results"]]
    assert snapshot() == before
    assert set(Product.history.values_list("history_origin", flat=True)) == {"api"}


def test_a_bad_row_is_a_problem_naming_its_index_and_field_and_nothing_is_written(erp, ada, owners):
    client = client_for(erp)
    rows = product_rows()
    rows[2]["unit_price"] = "-1"
    response = client.post(BULK.format("products"), {"source": "erp", "records": rows}, format="json")
    body = assert_problem(response, 400, "records.2.unit_price")
    assert body["rows"] == [
        {"index": 2, "field": "unit_price", "message": body["errors"]["records.2.unit_price"][0]}
    ]
    assert Product.objects.count() == 0


def test_an_unknown_party_is_a_problem_of_its_row(erp, ada, owners):
    client = client_for(erp)
    client.post(BULK.format("products"), {"source": "erp", "records": product_rows()}, format="json")
    orders = [*order_rows(), {**order_rows()[0], "external_id": "O-2", "party": "account:ACC-404"}]
    response = client.post(BULK.format("orders"), {"source": "erp", "records": orders}, format="json")
    body = assert_problem(response, 400, "records.1.party")
    assert body["rows"][0]["message"] == "No party with account:ACC-404."
    assert OrderLine.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"records": []}, "source"),
        ({"source": "erp"}, "records"),
        ({"source": "erp", "records": "nope"}, "records"),
        ({"source": "erp", "records": [], "extra": 1}, "extra"),
        ([1, 2], "records"),
    ],
)
def test_malformed_bodies(erp, body, field):
    response = client_for(erp).post(BULK.format("invoices"), body, format="json")
    assert_problem(response, 400, field)


@pytest.mark.parametrize("who", ["agent", "supervisor", "auditor"])
def test_only_sync_accounts_may_post(request, who, ada, owners):
    user = request.getfixturevalue(who)
    response = client_for(user).post(
        BULK.format("products"), {"source": "erp", "records": product_rows()}, format="json"
    )
    assert_problem(response, 403)
    assert Product.objects.count() == 0
    assert_problem(client_for(None).post(BULK.format("products"), {}, format="json"), 401)


def test_an_idempotency_key_replays_the_answer(erp, ada, owners):
    client = client_for(erp)
    body = {"source": "erp", "records": product_rows()}
    first = client.post(BULK.format("products"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(BULK.format("products"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"


# --- reads: the permission cut ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "visible"),
    [("agent", False), ("other_agent", False), ("supervisor", True), ("manager", True), ("auditor", True)],
)
def test_sensitive_amounts_are_masked_without_the_capability(request, shop, who, visible):
    client = client_for(request.getfixturevalue(who))
    invoices = client.get(f"/api/v1/commerce/invoices/?party={shop.pk}").json()["results"]
    assert len(invoices) == 2
    for row in invoices:
        assert row["amounts_hidden"] is not visible
        assert (row["amount"] is not None) is visible and (row["open_amount"] is not None) is visible
        assert row["status"] in {"open", "paid"} and row["source"] == "erp" and row["synced_at"]
    payment = client.get(f"/api/v1/commerce/payments/{Payment.objects.get().pk}/").json()
    assert (payment["amount"] == "45.00") is visible and (payment["amount"] is None) is not visible
    credit = client.get(f"/api/v1/commerce/credit-terms/?party={shop.pk}").json()["results"][0]
    assert (credit["credit_limit"] == "300.00") is visible
    assert (credit["payment_terms_days"] is None) is not visible and (
        credit["on_hold"] is None
    ) is not visible
    with time_machine.travel("2026-12-01T12:00:00Z", tick=False):
        account = client.get(f"/api/v1/commerce/accounts/{shop.pk}/").json()
    (usd,) = account["balances"]
    assert account["amounts_hidden"] is not visible and account["is_overdue"] is True
    assert (usd["open_invoices"], usd["overdue_invoices"], usd["oldest_overdue_on"]) == (1, 1, "2026-11-21")
    if visible:
        assert (usd["invoiced"], usd["paid"], usd["balance"], usd["overdue"]) == (
            "90.00",
            "45.00",
            "45.00",
            "45.00",
        )
    else:
        assert (usd["invoiced"], usd["paid"], usd["balance"], usd["overdue"]) == (None, None, None, None)
        assert all(i["amount"] is None for i in account["invoices"])
    assert account["subscriptions"][0]["status"] == "suspended"
    assert sorted(p["product"] for p in account["last_purchases"]) == ["AC-CASE", "HS-PIXEL"]


def test_what_is_not_sensitive_reads_in_clear(shop, agent):
    client = client_for(agent)
    order = client.get(f"/api/v1/commerce/orders/?party={shop.pk}").json()["results"][0]
    assert order["total_amount"] == "638.80" and [li["product"] for li in order["lines"]] == [
        "HS-PIXEL",
        "AC-CASE",
    ]
    product = client.get("/api/v1/commerce/products/").json()["results"][0]
    assert product["unit_price"] and product["amounts_hidden"] is False


def test_a_party_out_of_scope_hides_its_records(shop, supervisor):
    client = client_for(supervisor)
    invoice = Invoice.objects.first()
    with hidden_from_everyone(Party, shop.pk):
        assert client.get(f"/api/v1/commerce/invoices/{invoice.pk}/").status_code == 404
        assert client.get("/api/v1/commerce/invoices/").json()["results"] == []
        assert client.get(f"/api/v1/commerce/accounts/{shop.pk}/").status_code == 404
        assert client.get("/api/v1/commerce/subscriptions/").json()["results"] == []
        assert len(client.get("/api/v1/commerce/products/").json()["results"]) == 3  # the catalogue is not
    assert client.get(f"/api/v1/commerce/invoices/{invoice.pk}/").status_code == 200


def test_anonymous_and_inactive_get_nothing(shop, inactive_user):
    assert client_for(None).get("/api/v1/commerce/invoices/").status_code == 401
    assert client_for(inactive_user).get("/api/v1/commerce/invoices/").status_code == 401


def test_bad_query_parameters(shop, agent):
    assert_problem(client_for(agent).get("/api/v1/commerce/invoices/?party=abc"), 400, "party")


# --- query counts --------------------------------------------------------------------------------------


def _more_history(erp, party, start):
    def add(n):
        nonlocal start
        invoices = [
            {
                **invoice_rows()[0],
                "external_id": f"I-{start + i}",
                "number": f"INV-{start + i}",
                "party": party,
            }
            for i in range(n)
        ]
        services.commerce_sync(actor=erp, kind="invoices", source="erp", records=invoices)
        payments = [
            {
                **payment_rows()[0],
                "external_id": f"PAY-{start + i}",
                "invoice": f"I-{start + i}",
                "party": party,
            }
            for i in range(n)
        ]
        services.commerce_sync(actor=erp, kind="payments", source="erp", records=payments)
        orders = [{**order_rows()[0], "external_id": f"O-{start + i}", "party": party} for i in range(n)]
        services.commerce_sync(actor=erp, kind="orders", source="erp", records=orders)
        start += n

    return add


def test_the_account_endpoint_costs_the_same_however_long_the_history(shop, erp, agent):
    client = client_for(agent)
    assert_flat_query_count(
        lambda: client.get(f"/api/v1/commerce/accounts/{shop.pk}/"),
        _more_history(erp, "account:ACC-1", 100),
        few=2,
        many=12,
        at_most=9,
    )


@pytest.mark.parametrize("kind", ["invoices", "payments", "orders"])
def test_list_query_counts_do_not_grow(shop, erp, agent, kind):
    client = client_for(agent)
    assert_flat_query_count(
        lambda: client.get(f"/api/v1/commerce/{kind}/"),
        _more_history(erp, "account:ACC-1", 500),
        few=2,
        many=12,
        at_most=5,
    )


def test_a_sync_costs_the_same_number_of_queries_for_10_or_100_records(erp, ada, owners):
    from relay.core.testing.queries import count_queries

    services.commerce_sync(actor=erp, kind="products", source="erp", records=product_rows())

    def batch(n, offset):
        return [
            {**invoice_rows()[0], "external_id": f"I-{offset + i}", "number": f"N-{offset + i}"}
            for i in range(n)
        ]

    small, _, _ = count_queries(
        lambda: services.commerce_sync(actor=erp, kind="invoices", source="erp", records=batch(10, 0))
    )
    large, _, _ = count_queries(
        lambda: services.commerce_sync(actor=erp, kind="invoices", source="erp", records=batch(100, 1000))
    )
    assert small == large <= 14
