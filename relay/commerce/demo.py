"""The demo telecom's commerce data, pushed through the same sync as the ERP (so sources, owners and
history are real): a catalogue of plans, handsets, accessories, broadband and TV add-ons; purchase
history with a co-purchase structure a recommender can learn (handset buyers mostly add a case, a screen
protector and often insurance; fibre customers a router and the installation; TV customers a box and
a pack); monthly invoices and payments; credit terms; subscriptions.

And the telecom story of the README: John Carter's November bill is unpaid and overdue, and his mobile
line is suspended for non-payment.

Wired into `relay demo` by relay/core/demo.py: `load_demo_commerce(staff=..., departments=..., parties=...,
john=...)`. Deterministic (a fixed seed); everything is relative to the day the demo is loaded.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils.text import slugify

from relay.accounts.choices import Role
from relay.accounts.models import Department, User
from relay.commerce import services
from relay.core import clock
from relay.customers.models import Party

SOURCE_ERP = "erp"
SOURCE_BILLING = "billing"
SYNC_USER = "erp.sync"
CREDIT_DEPARTMENT = "Credit Control"

# sku, name, category code, category name, kind, price
CATALOGUE = [
    ("PL-MOB-S", "Mobile Start 5 GB", "mobile-plans", "Mobile plans", "plan", "15.00"),
    ("PL-MOB-M", "Mobile Plus 30 GB", "mobile-plans", "Mobile plans", "plan", "29.00"),
    ("PL-MOB-U", "Mobile Unlimited", "mobile-plans", "Mobile plans", "plan", "45.00"),
    ("HS-APL-15", "iPhone 15 128 GB", "handsets", "Handsets", "good", "799.00"),
    ("HS-SAM-S24", "Galaxy S24 128 GB", "handsets", "Handsets", "good", "749.00"),
    ("HS-PIX-8", "Pixel 8 128 GB", "handsets", "Handsets", "good", "599.00"),
    ("HS-NOK-105", "Nokia 105 feature phone", "handsets", "Handsets", "good", "29.00"),
    ("AC-CASE", "Protective case", "accessories", "Accessories", "good", "19.90"),
    ("AC-GLASS", "Screen protector", "accessories", "Accessories", "good", "12.90"),
    ("AC-CHRG", "Fast charger 30 W", "accessories", "Accessories", "good", "24.90"),
    ("AC-BUDS", "Wireless earbuds", "accessories", "Accessories", "good", "89.00"),
    ("AC-CAR", "Car holder", "accessories", "Accessories", "good", "14.90"),
    ("IN-DEVICE", "Device insurance", "insurance", "Insurance", "add_on", "7.99"),
    ("BB-FIB-300", "Fibre 300 Mbit/s", "broadband", "Broadband", "plan", "39.00"),
    ("BB-FIB-1G", "Fibre 1 Gbit/s", "broadband", "Broadband", "plan", "59.00"),
    ("BB-ROUTER", "Wi-Fi 6 router", "broadband-equipment", "Broadband equipment", "good", "129.00"),
    ("BB-MESH", "Mesh Wi-Fi extender", "broadband-equipment", "Broadband equipment", "good", "79.00"),
    ("BB-INSTALL", "Home installation", "services", "Services", "service", "49.00"),
    ("TV-BASIC", "TV Basic", "tv", "TV", "add_on", "9.00"),
    ("TV-SPORTS", "Sports pack", "tv", "TV", "add_on", "14.00"),
    ("TV-MOVIES", "Movies pack", "tv", "TV", "add_on", "12.00"),
    ("TV-BOX", "TV set-top box", "tv-equipment", "TV equipment", "good", "99.00"),
    ("AO-ROAM", "Roaming pass EU/US", "add-ons", "Add-ons", "add_on", "10.00"),
    ("AO-DATA", "Extra 10 GB data", "add-ons", "Add-ons", "add_on", "5.00"),
]
PRICES = {sku: Decimal(price) for sku, _, _, _, _, price in CATALOGUE}
NAMES = {sku: name for sku, name, *_ in CATALOGUE}
RECURRING = {sku for sku, _, _, _, kind, _ in CATALOGUE if kind in {"plan", "add_on"}} - {
    "AO-ROAM",
    "AO-DATA",
}


@dataclass
class DemoCommerce:
    products: int = 0
    orders: int = 0
    invoices: int = 0
    payments: int = 0
    subscriptions: int = 0
    credit_terms: int = 0


@dataclass
class _Customer:
    party: Party
    orders: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)  # sku, name, service_id, since


def sync_user() -> User:
    """The account the demo ERP signs in as (`relay apitoken erp.sync` for examples/erp_sync.py)."""
    user, created = User.objects.get_or_create(
        username=SYNC_USER, defaults={"first_name": "ERP", "last_name": "sync", "role": Role.MANAGER}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def catalogue_records() -> list[dict[str, Any]]:
    return [
        {
            "external_id": f"ART-{sku}",
            "sku": sku,
            "name": name,
            "category": code,
            "category_name": category,
            "kind": kind,
            "unit_price": price,
            "currency": "USD",
        }
        for sku, name, code, category, kind, price in CATALOGUE
    ]


def _chunks(rows: Sequence[dict[str, Any]]) -> list[Sequence[dict[str, Any]]]:
    size = services.MAX_BATCH
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _push(actor: User, kind: str, source: str, rows: Sequence[dict[str, Any]]) -> int:
    for chunk in _chunks(rows):
        services.commerce_sync(actor=actor, kind=kind, source=source, records=chunk)
    return len(rows)


def _at(day: date, hour: int = 11) -> str:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC).isoformat()


def _months_back(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, 1)


def _last_due_november(today: date) -> date:
    """The first of the latest November whose bill (due on the 21st) is already overdue."""
    year = today.year if today > date(today.year, 11, 21) else today.year - 1
    return date(year, 11, 1)


def _shop(rng: random.Random, customer: _Customer, *, start: date, today: date, number: int) -> None:
    """A customer's purchases: bundles with the co-purchase structure of a real telecom shop."""
    party = customer.party
    is_org = party.kind == "organisation"
    seq = 0

    def order(day: date, lines: list[tuple[str, int]]) -> None:
        nonlocal seq
        seq += 1
        customer.orders.append(
            {
                "external_id": f"SO-{number:06d}-{seq}",
                "party": party.pk,
                "ordered_at": _at(day, rng.randint(9, 18)),
                "status": "fulfilled",
                "currency": "USD",
                "lines": [
                    {"product": sku, "quantity": qty, "unit_price": str(PRICES[sku])} for sku, qty in lines
                ],
            }
        )

    def when() -> date:
        return start + timedelta(days=rng.randint(0, max((today - start).days - 45, 1)))

    phone = getattr(party, "primary_phone", "") or ""
    if rng.random() < (0.9 if is_org else 0.75):
        day = when()
        plan = rng.choices(["PL-MOB-S", "PL-MOB-M", "PL-MOB-U"], weights=[3, 4, 3])[0]
        lines_count = rng.randint(3, 15) if is_org else 1
        order(day, [(plan, lines_count)])
        customer.services.append({"sku": plan, "name": NAMES[plan], "service_id": phone, "since": day})
        if rng.random() < (0.6 if is_org else 0.5):
            handset = rng.choices(
                ["HS-APL-15", "HS-SAM-S24", "HS-PIX-8", "HS-NOK-105"], weights=[4, 3, 3, 1]
            )[0]
            qty = lines_count if is_org else 1
            lines = [(handset, qty)]
            premium = handset != "HS-NOK-105"
            if rng.random() < (0.75 if premium else 0.2):
                lines.append(("AC-CASE", qty))
            if premium and rng.random() < 0.55:
                lines.append(("AC-GLASS", qty))
            if premium and rng.random() < (0.5 if handset == "HS-APL-15" else 0.35):
                lines.append(("IN-DEVICE", qty))
                customer.services.append(
                    {
                        "sku": "IN-DEVICE",
                        "name": f"Device insurance · {NAMES[handset]}",
                        "service_id": "",
                        "since": day,
                    }
                )
            if rng.random() < 0.25:
                lines.append(("AC-CHRG", 1))
            if rng.random() < (0.3 if handset == "HS-APL-15" else 0.12):
                lines.append(("AC-BUDS", 1))
            if rng.random() < 0.08:
                lines.append(("AC-CAR", 1))
            order(day + timedelta(days=rng.randint(0, 3)), lines)
        if rng.random() < 0.2:
            order(when(), [("AO-ROAM", 1)])
        if rng.random() < 0.15:
            order(when(), [("AO-DATA", 1)])
    if rng.random() < (0.3 if is_org else 0.35):
        day = when()
        fibre = rng.choices(["BB-FIB-300", "BB-FIB-1G"], weights=[3, 2])[0]
        lines = [(fibre, 1)]
        if rng.random() < 0.8:
            lines.append(("BB-ROUTER", 1))
        if rng.random() < 0.6:
            lines.append(("BB-INSTALL", 1))
        if rng.random() < (0.4 if fibre == "BB-FIB-1G" else 0.15):
            lines.append(("BB-MESH", 1))
        order(day, lines)
        customer.services.append(
            {"sku": fibre, "name": NAMES[fibre], "service_id": f"BB-{number:06d}", "since": day}
        )
        if not is_org and rng.random() < 0.4:
            tv = [("TV-BASIC", 1)]
            if rng.random() < 0.7:
                tv.append(("TV-BOX", 1))
            if rng.random() < 0.4:
                tv.append(("TV-SPORTS", 1))
            if rng.random() < 0.3:
                tv.append(("TV-MOVIES", 1))
            tv_day = day + timedelta(days=rng.randint(0, 30))
            order(tv_day, tv)
            for sku, _ in tv:
                if sku in RECURRING:
                    customer.services.append(
                        {"sku": sku, "name": NAMES[sku], "service_id": "", "since": tv_day}
                    )


def _monthly(customer: _Customer, month: date) -> Decimal:
    """What the customer's services cost in `month` (the quantities of business lines included)."""
    total = Decimal("0.00")
    quantities = {line["product"]: line["quantity"] for o in customer.orders for line in o["lines"]}
    for service in customer.services:
        if service["since"] < month:
            total += PRICES[service["sku"]] * quantities.get(service["sku"], 1)
    return total


def load_demo_commerce(
    *, staff: dict[str, User], departments: dict[str, Department], parties: Sequence[Party], john: Party
) -> DemoCommerce:
    """Idempotent by external id (loading it again changes nothing)."""
    rng = random.Random(20261201)
    credit, _ = Department.objects.get_or_create(
        name=CREDIT_DEPARTMENT,
        defaults={"slug": slugify(CREDIT_DEPARTMENT), "supervisor": staff["billing.lead"]},
    )
    staff["billing.lead"].departments.add(credit)
    actor = sync_user()
    today = services.today()
    result = DemoCommerce()
    result.products = _push(actor, "products", SOURCE_ERP, catalogue_records())

    november = _last_due_november(today)
    anchor = _months_back(today.replace(day=1), 0 if today.day > 21 else 1)  # the latest past-due month
    months = [_months_back(anchor, 2), _months_back(anchor, 1), anchor]
    start = _months_back(anchor, 24)
    customers: list[_Customer] = []
    for number, party in enumerate(parties, start=1):
        if party.pk == john.pk or "customer" not in (getattr(party, "role_codes", "") or "customer"):
            continue
        customer = _Customer(party=party)
        _shop(rng, customer, start=start, today=today, number=number)
        if customer.orders:
            customers.append(customer)

    orders = [o for c in customers for o in c.orders]
    subscriptions: list[dict[str, Any]] = []
    invoices: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    terms: list[dict[str, Any]] = []
    suspended_at = min(datetime.combine(anchor + timedelta(days=22), time(8, 0), tzinfo=UTC), clock.now())
    for customer in customers:
        late = rng.random()
        unpaid = {anchor} if late < 0.07 else {months[1], anchor} if late < 0.09 else set()
        suspended = len(unpaid) > 1
        for position, service in enumerate(customer.services):
            is_line = service["sku"].startswith("PL-")
            status = (
                "suspended" if suspended and is_line else "cancelled" if rng.random() < 0.04 else "active"
            )
            subscriptions.append(
                {
                    "external_id": f"SUB-{customer.party.pk}-{position + 1}",
                    "party": customer.party.pk,
                    "product": service["sku"],
                    "name": service["name"]
                    + (f" · {service['service_id']}" if service["service_id"] else ""),
                    "service_id": service["service_id"],
                    "kind": "contract" if customer.party.kind == "organisation" else "subscription",
                    "status": status,
                    "status_reason": {"suspended": "non_payment", "cancelled": "customer_request"}.get(
                        status, ""
                    ),
                    "status_since": suspended_at.isoformat() if status == "suspended" else None,
                    "started_on": service["since"].isoformat(),
                    "recurring_amount": str(PRICES[service["sku"]]),
                    "currency": "USD",
                }
            )
        for month in months:
            amount = _monthly(customer, month)
            if not amount:
                continue
            key = f"INV-{month:%Y%m}-{customer.party.pk}"
            due = month + timedelta(days=20)
            invoices.append(
                {
                    "external_id": key,
                    "number": key,
                    "party": customer.party.pk,
                    "issued_on": month.isoformat(),
                    "due_on": due.isoformat(),
                    "amount": str(amount),
                    "currency": "USD",
                }
            )
            if month not in unpaid:
                payments.append(
                    {
                        "external_id": f"PAY-{key}",
                        "party": customer.party.pk,
                        "invoice": key,
                        "received_on": (due - timedelta(days=rng.randint(0, 15))).isoformat(),
                        "amount": str(amount),
                        "currency": "USD",
                        "method": rng.choices(["direct_debit", "card", "bank_transfer"], weights=[6, 3, 1])[
                            0
                        ],
                    }
                )
        is_org = customer.party.kind == "organisation"
        if is_org or rng.random() < 0.3:
            terms.append(
                {
                    "external_id": f"CT-{customer.party.pk}",
                    "party": customer.party.pk,
                    "credit_limit": str(
                        rng.choice([5000, 10000, 25000]) if is_org else rng.choice([300, 500, 1000])
                    ),
                    "currency": "USD",
                    "payment_terms_days": 30 if is_org else 14,
                    "risk_rating": "high" if unpaid else rng.choice(["low", "low", "medium"]),
                    "on_hold": suspended,
                }
            )

    # the telecom story: John's November bill is unpaid and his line is frozen
    since = date(november.year - 1, 3, 14)
    orders += [
        {
            "external_id": "SO-JOHN-1",
            "party": john.pk,
            "ordered_at": _at(since),
            "status": "fulfilled",
            "currency": "USD",
            "lines": [{"product": "PL-MOB-U", "unit_price": "45.00"}],
        },
        {
            "external_id": "SO-JOHN-2",
            "party": john.pk,
            "ordered_at": _at(since, 15),
            "status": "fulfilled",
            "currency": "USD",
            "lines": [
                {"product": "HS-APL-15", "unit_price": "799.00"},
                {"product": "AC-CASE", "unit_price": "19.90"},
                {"product": "IN-DEVICE", "unit_price": "7.99"},
            ],
        },
        {
            "external_id": "SO-JOHN-3",
            "party": john.pk,
            "ordered_at": _at(november - timedelta(days=120)),
            "status": "fulfilled",
            "currency": "USD",
            "lines": [{"product": "AO-ROAM", "unit_price": "10.00"}],
        },
    ]
    frozen = min(datetime.combine(november + timedelta(days=30), time(8, 0), tzinfo=UTC), clock.now())
    subscriptions += [
        {
            "external_id": "SUB-JOHN-LINE",
            "party": john.pk,
            "product": "PL-MOB-U",
            "name": "Mobile Unlimited · +14155550100",
            "service_id": "+14155550100",
            "status": "suspended",
            "status_reason": "non_payment",
            "status_since": frozen.isoformat(),
            "started_on": since.isoformat(),
            "recurring_amount": "45.00",
            "currency": "USD",
        },
        {
            "external_id": "SUB-JOHN-INSURANCE",
            "party": john.pk,
            "product": "IN-DEVICE",
            "name": "Device insurance · iPhone 15 128 GB",
            "status": "active",
            "started_on": since.isoformat(),
            "recurring_amount": "7.99",
            "currency": "USD",
        },
    ]
    for month in (_months_back(november, 2), _months_back(november, 1), november):
        key = f"INV-{month:%Y%m}-JOHN"
        invoices.append(
            {
                "external_id": key,
                "number": f"INV-{month:%Y-%m}-100100",
                "party": john.pk,
                "issued_on": month.isoformat(),
                "due_on": (month + timedelta(days=20)).isoformat(),
                "amount": "52.99",
                "currency": "USD",
            }
        )
        if month != november:
            payments.append(
                {
                    "external_id": f"PAY-{key}",
                    "party": john.pk,
                    "invoice": key,
                    "received_on": (month + timedelta(days=18)).isoformat(),
                    "amount": "52.99",
                    "currency": "USD",
                    "method": "direct_debit",
                }
            )
    terms.append(
        {
            "external_id": "CT-JOHN",
            "party": john.pk,
            "credit_limit": "300.00",
            "currency": "USD",
            "payment_terms_days": 14,
            "risk_rating": "medium",
            "on_hold": True,
            "note": "Outgoing calls barred until the November bill is paid.",
        }
    )
    result.orders = _push(actor, "orders", SOURCE_ERP, orders)
    result.subscriptions = _push(actor, "subscriptions", SOURCE_BILLING, subscriptions)
    result.invoices = _push(actor, "invoices", SOURCE_BILLING, invoices)
    result.payments = _push(actor, "payments", SOURCE_BILLING, payments)
    result.credit_terms = _push(actor, "credit-terms", SOURCE_ERP, terms)
    return result
