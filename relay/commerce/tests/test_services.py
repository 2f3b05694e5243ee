"""The sync service: upsert by external id, all or nothing, idempotent, audited."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest

from relay.commerce import services
from relay.commerce.models import CreditTerms, Invoice, Order, OrderLine, Payment, Product, Subscription
from relay.commerce.tests.conftest import (
    credit_rows,
    invoice_rows,
    order_rows,
    payment_rows,
    product_rows,
    subscription_rows,
)
from relay.core.audit import Origin, origin
from relay.core.exceptions import ApplicationError, NotAllowed
from relay.core.outbox_models import OutboxEvent

pytestmark = pytest.mark.django_db

MODELS = [Product, Order, OrderLine, Invoice, Payment, CreditTerms, Subscription]


def snapshot():
    """Every commerce row and history row, as comparable values."""
    rows = {m.__name__: sorted(m.objects.values_list(), key=lambda r: r[0]) for m in MODELS}
    history = {m.__name__: m.history.count() for m in MODELS}
    return rows, history


def sync(actor, kind, rows, source="erp"):
    return services.commerce_sync(actor=actor, kind=kind, source=source, records=rows)


def test_a_whole_account_syncs_with_sources_owners_and_history(shop, erp, owners):
    product = Product.objects.get(sku="HS-PIXEL")
    assert (product.source, product.external_id, product.department, product.category.name) == (
        "erp",
        "P-1",
        owners["Sales"],
        "Handsets",
    )
    assert Product.objects.get(sku="AC-CASE").currency == "USD"
    order = Order.objects.get(external_id="O-1")
    assert order.party == shop and order.total_amount == Decimal("638.80") and order.number == "O-1"
    assert [(line.line_no, line.quantity, line.amount) for line in order.lines.all()] == [
        (1, 1, Decimal("599.00")),
        (2, 2, Decimal("39.80")),
    ]
    assert all(line.party_id == shop.pk for line in order.lines.all())
    paid, unpaid = Invoice.objects.order_by("issued_on")
    assert (paid.status, paid.paid_amount, unpaid.status) == ("paid", Decimal("45.00"), "open")
    assert paid.department == owners["Billing"]
    assert CreditTerms.objects.get().department == owners["Credit Control"]
    line = Subscription.objects.get()
    assert (line.status, line.status_reason) == ("suspended", "non_payment")
    created = product.history.get()
    assert (created.history_type, created.history_user, created.history_origin) == ("+", erp, "system")
    assert paid.history.filter(history_type="~").count() == 1  # turned paid by the payment


def test_the_same_batch_twice_changes_nothing(shop, erp):
    before = snapshot()
    events = OutboxEvent.objects.count()
    for kind, rows in (
        ("products", product_rows()),
        ("orders", order_rows()),
        ("invoices", invoice_rows()),
        ("payments", payment_rows()),
        ("credit-terms", credit_rows()),
        ("subscriptions", subscription_rows()),
    ):
        result = sync(erp, kind, rows)
        assert (result.created, result.updated, result.unchanged) == (0, 0, len(rows)), kind
        assert all(o.id for o in result.outcomes)
    assert snapshot() == before
    assert OutboxEvent.objects.count() == events


def test_counts_and_a_changed_record_gets_one_history_row(shop, erp):
    rows = product_rows()
    rows[1]["unit_price"] = "24.90"
    rows.append({**rows[0], "external_id": "P-4", "sku": "AC-GLASS", "name": "Screen glass"})
    result = sync(erp, "products", rows)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 2)
    assert [o.outcome for o in result.outcomes] == ["unchanged", "updated", "unchanged", "created"]
    case = Product.objects.get(sku="AC-CASE")
    assert (case.unit_price, case.version) == (Decimal("24.90"), 2)
    assert case.history.count() == 2 and Product.objects.get(sku="HS-PIXEL").history.count() == 1


def test_an_order_line_change_updates_the_order_and_its_lines(shop, erp):
    rows = order_rows()
    rows[0]["lines"] = [rows[0]["lines"][0]]  # the case was returned
    result = sync(erp, "orders", rows)
    assert result.updated == 1
    order = Order.objects.get()
    assert order.total_amount == Decimal("599.00") and order.lines.count() == 1
    assert OrderLine.history.filter(history_type="-").count() == 1


def test_a_payment_moved_to_another_invoice_refreshes_both(shop, erp):
    rows = payment_rows()
    rows[0]["invoice"] = "I-11"
    sync(erp, "payments", rows)
    statuses = dict(Invoice.objects.values_list("external_id", "status"))
    assert statuses == {"I-10": "open", "I-11": "paid"}


def test_a_voided_invoice_leaves_the_balance(shop, erp):
    rows = invoice_rows()
    rows[1]["status"] = "void"
    sync(erp, "invoices", rows)
    assert Invoice.objects.get(external_id="I-11").status == "void"


def test_another_source_has_its_own_external_ids(shop, erp):
    rows = product_rows()[:1]
    rows[0]["sku"] = "HS-OTHER"
    result = sync(erp, "products", rows, source="shop")
    assert result.created == 1
    assert Product.objects.filter(external_id="P-1").count() == 2


def test_a_status_change_is_an_outbox_event_once(shop, erp):
    sync(erp, "subscriptions", subscription_rows(status="active"))
    sync(erp, "subscriptions", subscription_rows(status="active"))
    events = OutboxEvent.objects.filter(name="commerce.subscription_status").order_by("id")
    assert [(e.payload["from"], e.payload["to"]) for e in events] == [
        (None, "suspended"),
        ("suspended", "active"),
    ]
    line = Subscription.objects.get()
    assert line.history.count() == 2 and line.status_reason == ""


def _rejects(actor, kind, rows, *expected):
    before = snapshot()
    with pytest.raises(services.SyncRejected) as caught:
        sync(actor, kind, rows)
    assert snapshot() == before, "nothing is written when a record is bad"
    found = {(e.index, e.field) for e in caught.value.rows}
    assert found == set(expected), caught.value.rows
    return caught.value


def test_bad_rows_reject_the_whole_batch_with_index_and_field(shop, erp):
    rows = product_rows()
    rows[0]["unit_price"] = "12.345"
    rows[1]["currency"] = "US1"
    rows[2]["kind"] = "gadget"
    rows.append({**product_rows()[0], "external_id": "P-9", "sku": "NEW", "colour": "red"})
    error = _rejects(erp, "products", rows, (0, "unit_price"), (1, "currency"), (2, "kind"), (3, "colour"))
    assert "records.0.unit_price" in error.errors and "nothing was written" in error.message


def test_unknown_references_are_errors_of_their_row(shop, erp, bob):
    orders = order_rows()
    orders.append({**copy.deepcopy(order_rows()[0]), "external_id": "O-2", "party": "account:NOPE"})
    orders[0]["lines"][1]["product"] = "NO-SUCH-SKU"
    _rejects(erp, "orders", orders, (0, "lines.1.product"), (1, "party"))
    payments = payment_rows(party="account:ACC-2")  # Bob paying Ada's invoice
    payments.append({**payment_rows()[0], "external_id": "PAY-2", "invoice": "I-404"})
    _rejects(erp, "payments", payments, (0, "invoice"), (1, "invoice"))
    _rejects(erp, "invoices", [{**invoice_rows()[0], "external_id": "I-99", "party": 999999}], (0, "party"))


def test_a_sensitive_identifier_names_a_party_only_for_who_may_search_by_it(shop, erp, agent):
    rows = credit_rows(party="tax_id:TX-1234567")
    assert sync(erp, "credit-terms", rows).unchanged == 1  # a manager may
    erp.role = "agent"  # an agent could not find the party by it (and may not sync anyway)
    with pytest.raises(NotAllowed):
        sync(erp, "credit-terms", rows)


def test_duplicates_in_a_batch_and_a_second_credit_terms_record(shop, erp):
    rows = product_rows()
    rows[2] = {**rows[2], "external_id": "P-1"}
    _rejects(erp, "products", rows, (2, "external_id"))
    _rejects(erp, "credit-terms", [{**credit_rows()[0], "external_id": "C-2"}], (0, "party"))
    _rejects(erp, "subscriptions", [{**subscription_rows()[0], "status_reason": ""}], (0, "status_reason"))
    _rejects(erp, "invoices", [{**invoice_rows()[0], "due_on": "2026-09-01"}], (0, "due_on"))


def test_a_missing_department_is_named(manager, ada, departments):
    # no Credit Control department here
    with pytest.raises(services.SyncRejected) as caught:
        sync(manager, "credit-terms", credit_rows())
    assert [(e.field, e.message) for e in caught.value.rows] == [
        ("department", "No department 'credit-control'. Name the owning department in `department`.")
    ]
    rows = credit_rows()
    rows[0]["department"] = "billing"
    assert sync(manager, "credit-terms", rows).created == 1


@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor"])
def test_only_sync_accounts_write(shop, role):
    from relay.core.testing.factories import UserFactory

    user = UserFactory(username=f"u-{role}", role=role)
    with pytest.raises(NotAllowed):
        sync(user, "products", product_rows())


@pytest.mark.parametrize(
    ("kind", "source", "records", "field"),
    [
        ("gizmos", "erp", [{}], "type"),
        ("products", "", [{}], "source"),
        ("products", "ERP system!", [{}], "source"),
        ("products", "erp", [], "records"),
        ("products", "erp", {"external_id": "x"}, "records"),
        ("products", "erp", [{}] * (services.MAX_BATCH + 1), "records"),
    ],
)
def test_malformed_batches(erp, kind, source, records, field):
    with pytest.raises(ApplicationError) as caught:
        sync(erp, kind, records, source=source)
    assert field in caught.value.errors


def test_history_rows_carry_the_origin(erp, ada, owners):
    with origin(Origin.API):
        sync(erp, "products", product_rows())
    assert set(Product.history.values_list("history_origin", flat=True)) == {"api"}


def test_the_invoice_status_rule():
    assert services.invoice_status(voided=False, amount=Decimal(10), paid=Decimal(0)) == "open"
    assert services.invoice_status(voided=False, amount=Decimal(10), paid=Decimal(10)) == "paid"
    assert services.invoice_status(voided=True, amount=Decimal(10), paid=Decimal(10)) == "void"
    assert isinstance(services.today(), date)
