"""The generic API test cases (relay/core/testing/api.py) for every commerce resource: reads by every
staff role, refusals (anonymous, bad or revoked tokens, inactive users), 404 outside the scope, 405 for
writes other than the bulk upsert, cursor pages, pinned query counts."""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

from relay.commerce import services
from relay.commerce.models import CreditTerms, Invoice, Order, Payment, Product, Subscription
from relay.core.testing.api import ReadOnlyTests
from relay.customers.models import Party
from relay.customers.services import PartyInput, party_create

_seq = itertools.count(1)


def _sync(ctx: dict[str, Any], kind: str, record: dict[str, Any]) -> Any:
    result = services.commerce_sync(actor=ctx["manager"], kind=kind, source="t", records=[record])
    return result.outcomes[0].id


def _product(ctx: dict[str, Any]) -> int:
    n = next(_seq)
    return _sync(
        ctx,
        "products",
        {
            "external_id": f"P{n}",
            "sku": f"SKU-{n}",
            "name": f"Thing {n}",
            "category": "things",
            "unit_price": "5.00",
            "currency": "USD",
            "department": "sales",
        },
    )


def _party(ctx: dict[str, Any]) -> Party:
    return party_create(actor=ctx["agent"], data=PartyInput(family_name=f"Buyer {next(_seq)}"))


class _PartyRecord(ReadOnlyTests):
    scope_model = Party
    kind: ClassVar[str]

    def scope_pk(self, obj: Any) -> Any:
        return obj.party_id

    def record(self, ctx: dict[str, Any], party: Party, n: int) -> dict[str, Any]:
        raise NotImplementedError

    def make(self, ctx: dict[str, Any]) -> Any:
        n = next(_seq)
        pk = _sync(ctx, self.kind, {**self.record(ctx, _party(ctx), n), "department": "billing"})
        return self.model.objects.get(pk=pk)


class TestProductAPI(ReadOnlyTests):
    endpoint = "/api/v1/commerce/products/"
    model = Product

    def make(self, ctx: dict[str, Any]) -> Any:
        return Product.objects.get(pk=_product(ctx))


class TestOrderAPI(_PartyRecord):
    endpoint = "/api/v1/commerce/orders/"
    model = Order
    kind = "orders"

    def record(self, ctx: dict[str, Any], party: Party, n: int) -> dict[str, Any]:
        sku = Product.objects.get(pk=_product(ctx)).sku
        return {
            "external_id": f"O{n}",
            "party": party.pk,
            "ordered_at": "2026-11-02T10:00:00Z",
            "currency": "USD",
            "lines": [{"product": sku, "unit_price": "5.00"}, {"product": sku, "unit_price": "1.00"}],
        }


def _invoice(party: Party, n: int) -> dict[str, Any]:
    return {
        "external_id": f"I{n}",
        "party": party.pk,
        "issued_on": "2026-11-01",
        "due_on": "2026-11-21",
        "amount": "12.00",
        "currency": "USD",
    }


class TestInvoiceAPI(_PartyRecord):
    endpoint = "/api/v1/commerce/invoices/"
    model = Invoice
    kind = "invoices"

    def record(self, ctx: dict[str, Any], party: Party, n: int) -> dict[str, Any]:
        return _invoice(party, n)


class TestPaymentAPI(_PartyRecord):
    endpoint = "/api/v1/commerce/payments/"
    model = Payment
    kind = "payments"

    def record(self, ctx: dict[str, Any], party: Party, n: int) -> dict[str, Any]:
        _sync(ctx, "invoices", {**_invoice(party, n), "department": "billing"})
        return {
            "external_id": f"PAY{n}",
            "party": party.pk,
            "invoice": f"I{n}",
            "received_on": "2026-11-10",
            "amount": "12.00",
            "currency": "USD",
        }


class TestCreditTermsAPI(_PartyRecord):
    endpoint = "/api/v1/commerce/credit-terms/"
    model = CreditTerms
    kind = "credit-terms"

    def record(self, ctx: dict[str, Any], party: Party, n: int) -> dict[str, Any]:
        return {"external_id": f"C{n}", "party": party.pk, "credit_limit": "100.00", "currency": "USD"}


class TestSubscriptionAPI(_PartyRecord):
    endpoint = "/api/v1/commerce/subscriptions/"
    model = Subscription
    kind = "subscriptions"

    def record(self, ctx: dict[str, Any], party: Party, n: int) -> dict[str, Any]:
        return {
            "external_id": f"S{n}",
            "party": party.pk,
            "name": f"Line {n}",
            "status": "suspended",
            "status_reason": "non_payment",
            "started_on": "2026-01-01",
            "currency": "USD",
        }
