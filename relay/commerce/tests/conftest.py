"""A small shop: departments that own the data, a sync account, two customers with account numbers,
and helpers that build a valid batch of each record type."""

from __future__ import annotations

from typing import Any

import pytest

from relay.accounts.choices import Role
from relay.commerce import services
from relay.core.testing.factories import DepartmentFactory, UserFactory
from relay.customers import services as customers
from relay.customers.services import IdentifierInput, PartyInput


@pytest.fixture
def owners(departments):
    return {**departments, "Credit Control": DepartmentFactory(name="Credit Control")}


@pytest.fixture
def erp(db, owners):
    """The account the ERP signs in as (a manager: SYNC_COMMERCE)."""
    return UserFactory(username="erp.sync", role=Role.MANAGER)


@pytest.fixture
def ada(agent, schemes):
    return customers.party_create(
        actor=agent,
        data=PartyInput(
            given_name="Ada",
            family_name="Lovelace",
            identifiers=[
                IdentifierInput(scheme="account", value="ACC-1"),
                IdentifierInput(scheme="tax_id", value="TX-1234567"),
            ],
        ),
    )


@pytest.fixture
def bob(agent, schemes):
    return customers.party_create(
        actor=agent,
        data=PartyInput(
            given_name="Bob",
            family_name="Babbage",
            identifiers=[IdentifierInput(scheme="account", value="ACC-2")],
        ),
    )


def product_rows() -> list[dict[str, Any]]:
    return [
        {
            "external_id": "P-1",
            "sku": "HS-PIXEL",
            "name": "Pixel handset",
            "category": "handsets",
            "category_name": "Handsets",
            "unit_price": "599.00",
            "currency": "USD",
        },
        {
            "external_id": "P-2",
            "sku": "AC-CASE",
            "name": "Phone case",
            "category": "accessories",
            "unit_price": "19.90",
            "currency": "usd",
        },
        {
            "external_id": "P-3",
            "sku": "PL-UNL",
            "name": "Mobile Unlimited",
            "category": "mobile-plans",
            "kind": "plan",
            "unit_price": "45.00",
            "currency": "USD",
        },
    ]


def order_rows(party: str = "account:ACC-1") -> list[dict[str, Any]]:
    return [
        {
            "external_id": "O-1",
            "party": party,
            "ordered_at": "2026-10-03T10:00:00Z",
            "status": "fulfilled",
            "currency": "USD",
            "lines": [
                {"product": "HS-PIXEL", "quantity": 1, "unit_price": "599.00"},
                {"product": "AC-CASE", "quantity": 2, "unit_price": "19.90"},
            ],
        }
    ]


def invoice_rows(party: str = "account:ACC-1") -> list[dict[str, Any]]:
    return [
        {
            "external_id": "I-10",
            "number": "INV-10",
            "party": party,
            "issued_on": "2026-10-01",
            "due_on": "2026-10-21",
            "amount": "45.00",
            "currency": "USD",
        },
        {
            "external_id": "I-11",
            "number": "INV-11",
            "party": party,
            "issued_on": "2026-11-01",
            "due_on": "2026-11-21",
            "amount": "45.00",
            "currency": "USD",
        },
    ]


def payment_rows(party: str = "account:ACC-1") -> list[dict[str, Any]]:
    return [
        {
            "external_id": "PAY-1",
            "party": party,
            "invoice": "I-10",
            "received_on": "2026-10-15",
            "amount": "45.00",
            "currency": "USD",
            "method": "card",
        }
    ]


def credit_rows(party: str = "account:ACC-1") -> list[dict[str, Any]]:
    return [
        {
            "external_id": "C-1",
            "party": party,
            "credit_limit": "300.00",
            "currency": "USD",
            "payment_terms_days": 14,
            "risk_rating": "medium",
            "on_hold": True,
        }
    ]


def subscription_rows(party: str = "account:ACC-1", status: str = "suspended") -> list[dict[str, Any]]:
    return [
        {
            "external_id": "S-1",
            "party": party,
            "product": "PL-UNL",
            "name": "Mobile Unlimited +1 415 555 0100",
            "service_id": "+14155550100",
            "status": status,
            "status_reason": "non_payment" if status == "suspended" else "",
            "started_on": "2025-01-01",
            "recurring_amount": "45.00",
            "currency": "USD",
        }
    ]


def sync_account(erp: Any, party: Any = "account:ACC-1", orders: list[dict[str, Any]] | None = None) -> None:
    """A whole account through the sync, as the ERP and billing systems send it: the catalogue, a handset
    order (or `orders`), two invoices (the second unpaid and overdue on 2026-12-01), one payment, credit
    terms on hold, a suspended mobile line."""
    for kind, rows in (
        ("products", product_rows()),
        ("orders", orders if orders is not None else order_rows(party)),
        ("invoices", invoice_rows(party)),
        ("payments", payment_rows(party)),
        ("credit-terms", credit_rows(party)),
        ("subscriptions", subscription_rows(party)),
    ):
        services.commerce_sync(actor=erp, kind=kind, source="erp", records=rows)


@pytest.fixture
def shop(erp, ada):
    """Ada's whole account, synced (sync_account)."""
    sync_account(erp)
    return ada
