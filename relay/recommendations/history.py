"""Purchase history as the recommender reads it from the commerce data (relay/commerce/models.py).

A customer *owns* a product they ordered (an order line of an order neither cancelled nor returned) or
hold as an active or suspended subscription. Training needs only the distinct (party, product) pairs;
the time-based evaluation needs when each pair was first bought.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import numpy as np
from django.db.models import Min, QuerySet

from relay.commerce.choices import OrderStatus, SubscriptionStatus
from relay.commerce.models import OrderLine, Subscription

NOT_OWNED_ORDERS = (OrderStatus.CANCELLED, OrderStatus.RETURNED)
OWNED_SUBSCRIPTIONS = (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED)
_CHUNK = 20_000


def _owned_lines() -> QuerySet[OrderLine]:
    return OrderLine.objects.exclude(order__status__in=NOT_OWNED_ORDERS).order_by()


def _owned_subscriptions() -> QuerySet[Subscription]:
    return Subscription.objects.filter(status__in=OWNED_SUBSCRIPTIONS, product__isnull=False).order_by()


def owned_pairs() -> tuple[np.ndarray, np.ndarray]:
    """(party ids, product ids), one entry per distinct pair, streamed from the database in chunks so that
    ten million order lines do not become ten million Python objects at once."""
    parties, products = array("q"), array("q")
    pairs = _owned_lines().values_list("party_id", "product_id").distinct()
    subs = _owned_subscriptions().values_list("party_id", "product_id").distinct()
    for query in (pairs, subs):
        for party_id, product_id in query.iterator(chunk_size=_CHUNK):
            parties.append(party_id)
            products.append(product_id)
    # a pair both ordered and subscribed appears twice here; training counts it once
    return np.frombuffer(parties, dtype=np.int64), np.frombuffer(products, dtype=np.int64)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def first_purchases() -> Iterator[tuple[int, int, datetime]]:
    """(party id, product id, first bought) for every owned pair: the order's time, or the day a
    subscription without an order started."""
    lines = _owned_lines().values("party_id", "product_id").annotate(first=Min("ordered_at"))
    for row in lines.iterator(chunk_size=_CHUNK):
        yield row["party_id"], row["product_id"], row["first"]
    subs = _owned_subscriptions().values("party_id", "product_id").annotate(first=Min("started_on"))
    for row in subs.iterator(chunk_size=_CHUNK):
        yield row["party_id"], row["product_id"], _day_start(row["first"])
