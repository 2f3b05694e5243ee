"""Every read of the commerce data, permission-scoped (relay/commerce/permissions.py).

The 360 card (and the party page's commerce panel) read one party's account with these, each one
indexed query whatever the party's history holds:

* `party_account(actor=, party=)`   balance and overdue amount per currency, open and overdue invoice
  counts: ONE query (a UNION ALL of the invoice and the payment aggregates of the party).
* `party_credit_terms(actor=, party=)`   the credit limit, terms, rating, hold: one query.
* `party_subscriptions(actor=, party=)`  the services and their status (active, suspended for
  non-payment, cancelled), active and suspended first: one query.
* `party_last_purchases(actor=, party=, limit=)`  the newest order lines with their product: one query
  (a range scan of orderline_party_recent_idx).
* `party_commerce(actor=, party=)`   all of the above plus the recent invoices and payments: six queries.

Amounts are masked for users without VIEW_SENSITIVE: the values are None and `amounts_visible` False;
that the party has an account, invoices, payments, credit terms stays visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, DecimalField, F, IntegerField, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from relay.accounts.models import User
from relay.commerce.choices import InvoiceStatus, SubscriptionStatus
from relay.commerce.models import (
    ZERO,
    CreditTerms,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Product,
    Subscription,
)
from relay.commerce.permissions import may_see_amounts, party_rows_scope_key
from relay.commerce.services import today as site_today
from relay.core.prepared import Prepared
from relay.customers.models import Party

LAST_PURCHASES = 5
RECENT_INVOICES = 6
RECENT_PAYMENTS = 5
MASK = "•••••"

_MONEY = DecimalField(max_digits=16, decimal_places=2)


@dataclass
class CurrencyBalance:
    currency: str
    invoiced: Decimal | None
    paid: Decimal | None
    balance: Decimal | None  # invoiced - paid (negative: in credit)
    overdue: Decimal | None  # what is still open on invoices past their due date
    open_invoices: int
    overdue_invoices: int
    oldest_overdue_on: date | None  # the earliest due date of an overdue invoice


@dataclass
class AccountSummary:
    party_id: int
    amounts_visible: bool
    balances: list[CurrencyBalance] = field(default_factory=list)

    @property
    def has_account(self) -> bool:
        return bool(self.balances)

    @property
    def is_overdue(self) -> bool:
        return any(b.overdue_invoices for b in self.balances)


def _open_amount() -> Any:
    return F("amount") - F("paid_amount")


def _scope(*, actor: User) -> bool:
    return party_rows_scope_key(actor)


def _scope_and_limit(*, actor: User, limit: int) -> tuple[bool, int]:
    return party_rows_scope_key(actor), limit


def _account_rows(*, actor: User, party_id: int, on: date) -> QuerySet:
    overdue = Q(status=InvoiceStatus.OPEN, due_on__lt=on)
    invoices = (
        Invoice.objects.restrict(actor, "view")
        .filter(party_id=party_id)
        .exclude(status=InvoiceStatus.VOID)
        .order_by()
        .values("currency")
        .annotate(
            invoiced=Sum("amount", output_field=_MONEY),
            paid=Value(ZERO, output_field=_MONEY),
            overdue=Coalesce(
                Sum(_open_amount(), filter=overdue, output_field=_MONEY), Value(ZERO), output_field=_MONEY
            ),
            open_count=Count("id", filter=Q(status=InvoiceStatus.OPEN)),
            overdue_count=Count("id", filter=overdue),
            oldest=Min("due_on", filter=overdue),
        )
    )
    payments = (
        Payment.objects.restrict(actor, "view")
        .filter(party_id=party_id)
        .order_by()
        .values("currency")
        .annotate(
            invoiced=Value(ZERO, output_field=_MONEY),
            paid=Sum("amount", output_field=_MONEY),
            overdue=Value(ZERO, output_field=_MONEY),
            open_count=Value(0, output_field=IntegerField()),
            overdue_count=Value(0, output_field=IntegerField()),
            oldest=Min("received_on", filter=Q(pk__isnull=True)),
        )
    )
    return invoices.union(payments, all=True).order_by()


_ACCOUNT = Prepared(_account_rows, params=("party_id", "on"), key=_scope)


def party_account(*, actor: User, party: Party | int, on: date | None = None) -> AccountSummary:
    """Balance (invoiced - paid) and overdue amount (open amounts of invoices due before `on`, default
    today) per currency, in one query."""
    party_id = party if isinstance(party, int) else party.pk
    on = on or site_today()
    rows = _ACCOUNT.fetch(actor=actor, party_id=party_id, on=on)
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        currency, invoiced, paid, overdue_amount = (
            row["currency"],
            row["invoiced"],
            row["paid"],
            row["overdue"],
        )
        open_count, overdue_count, oldest = row["open_count"], row["overdue_count"], row["oldest"]
        into = merged.setdefault(
            currency,
            {"invoiced": ZERO, "paid": ZERO, "overdue": ZERO, "open": 0, "overdue_count": 0, "oldest": None},
        )
        into["invoiced"] += Decimal(invoiced or 0)
        into["paid"] += Decimal(paid or 0)
        into["overdue"] += Decimal(overdue_amount or 0)
        into["open"] += open_count or 0
        into["overdue_count"] += overdue_count or 0
        if oldest is not None:
            oldest = oldest if isinstance(oldest, date) else date.fromisoformat(str(oldest)[:10])
            into["oldest"] = min(filter(None, (into["oldest"], oldest)))
    visible = may_see_amounts(actor)
    summary = AccountSummary(party_id=party_id, amounts_visible=visible)
    for currency in sorted(merged):
        m = merged[currency]
        summary.balances.append(
            CurrencyBalance(
                currency=currency,
                invoiced=m["invoiced"] if visible else None,
                paid=m["paid"] if visible else None,
                balance=m["invoiced"] - m["paid"] if visible else None,
                overdue=m["overdue"] if visible else None,
                open_invoices=m["open"],
                overdue_invoices=m["overdue_count"],
                oldest_overdue_on=m["oldest"],
            )
        )
    return summary


_CREDIT_TERMS = Prepared(
    lambda *, actor, party_id: (
        CreditTerms.objects.restrict(actor, "view").select_related("department").filter(party_id=party_id)
    ).order_by("pk")[:1],
    params=("party_id",),
    key=_scope,
)


def party_credit_terms(*, actor: User, party: Party | int) -> CreditTerms | None:
    party_id = party if isinstance(party, int) else party.pk
    found = _CREDIT_TERMS.fetch(actor=actor, party_id=party_id)
    return found[0] if found else None


def party_subscriptions(*, actor: User, party: Party | int, limit: int = 20) -> list[Subscription]:
    """Active and suspended services first, then cancelled ones, newest first."""
    party_id = party if isinstance(party, int) else party.pk
    return _SUBSCRIPTIONS.fetch(actor=actor, party_id=party_id, limit=limit)


def _subscriptions(*, actor: User, party_id: int, limit: int) -> QuerySet:
    rank = Case(
        When(status=SubscriptionStatus.SUSPENDED, then=Value(0)),
        When(status=SubscriptionStatus.ACTIVE, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        Subscription.objects.restrict(actor, "view")
        .filter(party_id=party_id)
        .select_related("product", "department")
        .annotate(rank=rank)
        .order_by("rank", "-started_on", "-id")[:limit]
    )


_SUBSCRIPTIONS = Prepared(_subscriptions, params=("party_id",), key=_scope_and_limit)


def party_last_purchases(*, actor: User, party: Party | int, limit: int = LAST_PURCHASES) -> list[OrderLine]:
    """The party's newest order lines (cancelled orders left out), each with its product and order."""
    party_id = party if isinstance(party, int) else party.pk
    return _LAST_PURCHASES.fetch(actor=actor, party_id=party_id, limit=limit)


_LAST_PURCHASES = Prepared(
    lambda *, actor, party_id, limit: (
        OrderLine.objects.restrict(actor, "view")
        .filter(party_id=party_id)
        .exclude(order__status="cancelled")
        .select_related("product", "order", "order__department")
        .order_by("-ordered_at", "-id")[:limit]
    ),
    params=("party_id",),
    key=_scope_and_limit,
)


def party_invoices(*, actor: User, party: Party | int, limit: int = RECENT_INVOICES) -> list[Invoice]:
    """Open invoices first, then the others; newest first."""
    party_id = party if isinstance(party, int) else party.pk
    is_open = Case(
        When(status=InvoiceStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return list(
        Invoice.objects.restrict(actor, "view")
        .filter(party_id=party_id)
        .select_related("department")
        .annotate(open_first=is_open)
        .order_by("open_first", "-issued_on", "-id")[:limit]
    )


def party_payments(*, actor: User, party: Party | int, limit: int = RECENT_PAYMENTS) -> list[Payment]:
    party_id = party if isinstance(party, int) else party.pk
    return list(
        Payment.objects.restrict(actor, "view")
        .filter(party_id=party_id)
        .select_related("invoice", "department")
        .order_by("-received_on", "-id")[:limit]
    )


@dataclass
class CommercePanel:
    party: Party
    amounts_visible: bool
    account: AccountSummary
    credit: CreditTerms | None
    subscriptions: list[Subscription]
    purchases: list[OrderLine]
    invoices: list[Invoice]
    payments: list[Payment]
    today: date

    @property
    def is_empty(self) -> bool:
        return not (
            self.account.has_account or self.credit or self.subscriptions or self.purchases or self.payments
        )


def party_commerce(*, actor: User, party: Party) -> CommercePanel:
    """What the party bought, owes and subscribes to: six queries, whatever the history holds."""
    on = site_today()
    return CommercePanel(
        party=party,
        amounts_visible=may_see_amounts(actor),
        account=party_account(actor=actor, party=party, on=on),
        credit=party_credit_terms(actor=actor, party=party),
        subscriptions=party_subscriptions(actor=actor, party=party),
        purchases=party_last_purchases(actor=actor, party=party),
        invoices=party_invoices(actor=actor, party=party),
        payments=party_payments(actor=actor, party=party),
        today=on,
    )


# --- lists for the API ---------------------------------------------------------------------------------


def product_queryset(*, actor: User) -> QuerySet[Product]:
    return Product.objects.restrict(actor, "view").select_related("category", "department")


def order_queryset(*, actor: User) -> QuerySet[Order]:
    return Order.objects.restrict(actor, "view").select_related("department")


def invoice_queryset(*, actor: User) -> QuerySet[Invoice]:
    return Invoice.objects.restrict(actor, "view").select_related("department", "order")


def payment_queryset(*, actor: User) -> QuerySet[Payment]:
    return Payment.objects.restrict(actor, "view").select_related("department", "invoice")


def credit_terms_queryset(*, actor: User) -> QuerySet[CreditTerms]:
    return CreditTerms.objects.restrict(actor, "view").select_related("department")


def subscription_queryset(*, actor: User) -> QuerySet[Subscription]:
    return Subscription.objects.restrict(actor, "view").select_related("department", "product")
