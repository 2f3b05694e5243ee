"""A small shop for the recommender's tests: products, orders with their lines, subscriptions, written
straight to the tables (the sync's own tests cover the sync)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import cast

from relay.accounts.models import Department
from relay.commerce.models import Order, OrderLine, Product, ProductCategory, Subscription
from relay.core import clock
from relay.core.testing.factories import DepartmentFactory, PartyFactory
from relay.customers.models import Party

_ids = itertools.count(1)
WHEN = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def _department() -> Department:
    return cast(Department, DepartmentFactory(name="Sales"))


def product(sku: str, name: str | None = None, *, price: str = "10.00", active: bool = True) -> Product:
    category, _ = ProductCategory.objects.get_or_create(code="things", defaults={"name": "Things"})
    found = Product.objects.filter(sku=sku).first()
    if found:
        return found
    return Product.objects.create(
        sku=sku,
        name=name or sku.title(),
        category=category,
        unit_price=Decimal(price),
        currency="USD",
        is_active=active,
        source="erp",
        external_id=f"P-{sku}",
        synced_at=clock.now(),
        department=_department(),
    )


def products(*skus: str) -> list[Product]:
    return [product(sku) for sku in skus]


def party(**kwargs: object) -> Party:
    return cast(Party, PartyFactory(**kwargs))


def buy(who: Party, *items: Product | str, at: datetime = WHEN, status: str = "fulfilled") -> Order:
    """One order of `who` with one line per item, at `at`."""
    n = next(_ids)
    order = Order.objects.create(
        party=who,
        number=f"O-{n}",
        ordered_at=at,
        status=status,
        currency="USD",
        source="erp",
        external_id=f"O-{n}",
        synced_at=clock.now(),
        department=_department(),
    )
    lines = []
    for line_no, item in enumerate(items, 1):
        p = product(item) if isinstance(item, str) else item
        lines.append(
            OrderLine(
                order=order,
                line_no=line_no,
                party=who,
                product=p,
                quantity=1,
                unit_price=p.unit_price,
                amount=p.unit_price,
                currency="USD",
                ordered_at=at,
            )
        )
    OrderLine.objects.bulk_create(lines)
    return order


def subscribe(who: Party, item: Product | str, *, status: str = "active") -> Subscription:
    p = product(item) if isinstance(item, str) else item
    n = next(_ids)
    return Subscription.objects.create(
        party=who,
        product=p,
        name=p.name,
        status=status,
        status_reason="non_payment" if status == "suspended" else "",
        status_since=clock.now(),
        started_on=date(2026, 1, 1),
        currency="USD",
        source="billing",
        external_id=f"S-{n}",
        synced_at=clock.now(),
        department=_department(),
    )


def customers_who_bought(count: int, *items: Product | str, at: datetime = WHEN) -> list[Party]:
    made = []
    for _ in range(count):
        who = party()
        buy(who, *items, at=at)
        made.append(who)
    return made
