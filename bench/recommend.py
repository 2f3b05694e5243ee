#!/usr/bin/env python
"""The recommender at scale (docs/adr/0017-recommendations.md): training time and the 360 card's read.

    .venv/bin/python bench/recommend.py                      # 100,000 customers x 50 products
    .venv/bin/python bench/recommend.py --customers 1000000  # ...or more
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/relay migrate
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/recommend.py --db

1. The pure core (relay/recommendations/rules.py) on a synthetic history with planted co-purchase
   structure: training time, rules, the scorer's time per customer; with mlxtend installed
   (`pip install mlxtend`, not a dependency), mlxtend's apriori + association_rules on the same data, and
   whether both find the same pairs.
2. With the Complete Journey data installed (requirements-dev.txt): training on its 2,469 households by
   product (61,000 products bought).
3. `--db`: the same synthetic history written to the configured database as parties, orders and lines
   (once; re-runs reuse it), then `services.train()` end to end and `recommendations_for` /
   `goes_well_with` latency for random customers (p50 / p95 / p99). Use a scratch database: it adds
   parties and orders.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")

from relay.recommendations.rules import Parameters, train

PRODUCTS = 50


def synthetic(customers: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Ten families of five products (an anchor and four add-ons bought by 20-60 % of its buyers), each
    customer in one or two families, plus a few products at random: about five purchases a customer."""
    rng = np.random.default_rng(seed)
    who: list[np.ndarray] = []
    what: list[np.ndarray] = []
    ids = np.arange(customers)
    for _round in range(2):
        members = ids if _round == 0 else ids[rng.random(customers) < 0.3]
        family = rng.integers(0, 10, len(members))
        who.append(members)
        what.append(family * 5)
        for addon, share in zip(range(1, 5), (0.6, 0.45, 0.3, 0.2), strict=True):
            takes = rng.random(len(members)) < share
            who.append(members[takes])
            what.append(family[takes] * 5 + addon)
    noise = rng.integers(0, customers, customers)
    who.append(noise)
    what.append(rng.integers(0, PRODUCTS, customers))
    return np.concatenate(who), np.concatenate(what)


def pure(customers: int) -> None:
    parties, products = synthetic(customers)
    print(f"synthetic history: {customers:,} customers x {PRODUCTS} products, {len(parties):,} purchases")
    start = time.perf_counter()
    model = train(customers=parties, items=products)
    took = time.perf_counter() - start
    print(f"  rules.train            {took * 1000:8.0f} ms   {model.rule_count:,} rules")
    owned: dict[int, set[int]] = {}
    for c, p in zip(parties[:200_000].tolist(), products[:200_000].tolist(), strict=True):
        owned.setdefault(c, set()).add(p)
    sample = list(owned.values())[:5000]
    start = time.perf_counter()
    for items in sample:
        model.recommend(items, k=5)
    per = (time.perf_counter() - start) / len(sample) * 1e6
    print(f"  rank (top 5)           {per:8.1f} us a customer")
    try:
        import pandas as pd
        from mlxtend.frequent_patterns import apriori, association_rules
    except ImportError:
        print("  mlxtend                not installed (pip install mlxtend to compare)")
        return
    start = time.perf_counter()
    onehot = pd.crosstab(parties, products).astype(bool)
    itemsets = apriori(onehot, min_support=Parameters().min_support, max_len=2, use_colnames=True)
    found = association_rules(itemsets, metric="confidence", min_threshold=0.0, num_itemsets=len(onehot))
    took = time.perf_counter() - start
    print(f"  mlxtend apriori+rules  {took * 1000:8.0f} ms   {len(found):,} rules (every pair)")
    everything = train(
        customers=parties,
        items=products,
        parameters=Parameters(min_confidence=0, min_lift=0, min_customers=1, max_rules_per_item=PRODUCTS),
    )
    ours = {(r.antecedent, r.consequent): r.confidence for r in everything.all_rules()}
    theirs = {
        (next(iter(a)), next(iter(c))): conf
        for a, c, conf in zip(found["antecedents"], found["consequents"], found["confidence"], strict=True)
    }
    same = set(ours) == set(theirs) and all(abs(ours[k] - theirs[k]) < 1e-9 for k in ours)
    print(f"  same pairs and confidences as mlxtend: {same}")


def completejourney() -> None:
    try:
        from relay.recommendations.datasets import load

        rows = load("completejourney")
    except Exception as exc:
        print(f"Complete Journey: not available ({type(exc).__name__})")
        return
    parties = np.fromiter((r[0] for r in rows), dtype=np.int64)
    products = np.fromiter((r[1] for r in rows), dtype=np.int64)
    start = time.perf_counter()
    model = train(customers=parties, items=products)
    took = time.perf_counter() - start
    print(
        f"Complete Journey by product: {len(rows):,} lines, {model.customers:,} households, "
        f"{model.items:,} products: rules.train {took * 1000:.0f} ms, {model.rule_count:,} rules"
    )


def database(customers: int, samples: int) -> None:
    import django

    django.setup()
    import timing  # bench/timing.py
    from django.db import connection

    from relay.accounts.models import User
    from relay.commerce.models import OrderLine
    from relay.recommendations import services
    from relay.recommendations.selectors import goes_well_with, owned_product_ids, recommendations_for

    party_ids = _ensure_history(customers)
    lines = OrderLine.objects.count()
    print(f"database: {connection.vendor}, {len(party_ids):,} bench customers, {lines:,} order lines in all")
    start = time.perf_counter()
    run = services.train(trigger="bench")
    print(
        f"  services.train         {(time.perf_counter() - start) * 1000:8.0f} ms   "
        f"{run.rule_count:,} rules from "
        f"{run.customers:,} customers (read, train, write, swap)"
    )
    user, _ = User.objects.get_or_create(username="bench", defaults={"role": "agent", "first_name": "Bench"})
    rng = random.Random(7)
    timing.measure(
        "  recommendations_for (2 queries)",
        samples,
        lambda _i: recommendations_for(actor=user, party=rng.choice(party_ids)),
    )

    def pair(_i: int) -> None:
        party = rng.choice(party_ids)
        owned = owned_product_ids(actor=user, party=party)
        if owned:
            goes_well_with(actor=user, product=min(owned), exclude=owned)

    timing.measure("  owned + goes_well_with (2 queries)", samples, pair)


def _ensure_history(customers: int) -> list[int]:
    """The synthetic history as parties, orders and lines, written once (source 'bench')."""
    from django.db import transaction

    from relay.accounts.models import Department
    from relay.commerce.models import Order, OrderLine, Product, ProductCategory
    from relay.core import clock
    from relay.customers.models import Party

    existing = list(Order.objects.filter(source="bench").values_list("party_id", flat=True).distinct())
    if existing:
        return existing
    department, _ = Department.objects.get_or_create(name="Sales", defaults={"slug": "sales"})
    category, _ = ProductCategory.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    now = clock.now()
    products = []
    for i in range(PRODUCTS):
        product, _ = Product.objects.get_or_create(
            sku=f"BENCH-{i:02d}",
            defaults={
                "name": f"Bench product {i}",
                "category": category,
                "unit_price": 10 + i,
                "currency": "USD",
                "source": "bench",
                "external_id": f"BENCH-{i:02d}",
                "synced_at": now,
                "department": department,
            },
        )
        products.append(product)
    who, what = synthetic(customers)
    print(f"writing {customers:,} customers and {len(who):,} order lines (once)...", flush=True)
    by_customer: dict[int, list[int]] = {}
    for c, p in zip(who.tolist(), what.tolist(), strict=True):
        by_customer.setdefault(c, []).append(p)
    ids: list[int] = []
    batch = 5000
    keys = sorted(by_customer)
    for start in range(0, len(keys), batch):
        chunk = keys[start : start + batch]
        with transaction.atomic():
            parties = Party.objects.bulk_create(
                [
                    Party(
                        kind="person",
                        given_name="Bench",
                        family_name=str(key),
                        display_name=f"Bench {key}",
                        name_key=f"bench {key}",
                        search_text=f"bench {key}",
                    )
                    for key in chunk
                ]
            )
            orders = Order.objects.bulk_create(
                [
                    Order(
                        party=party,
                        number=f"B-{key}",
                        ordered_at=now,
                        status="fulfilled",
                        currency="USD",
                        source="bench",
                        external_id=f"B-{key}",
                        synced_at=now,
                        department=department,
                    )
                    for key, party in zip(chunk, parties, strict=True)
                ]
            )
            OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        order=order,
                        line_no=n,
                        party_id=order.party_id,
                        product=products[p],
                        unit_price=products[p].unit_price,
                        amount=products[p].unit_price,
                        currency="USD",
                        ordered_at=now,
                    )
                    for key, order in zip(chunk, orders, strict=True)
                    for n, p in enumerate(sorted(set(by_customer[key])), 1)
                ],
                batch_size=2000,
            )
        ids.extend(p.pk for p in parties)
        print(f"  {start + len(chunk):,} customers", end="\r", flush=True)
    print()
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--db", action="store_true", help="also write the history and time the card's read")
    parser.add_argument("--no-public", action="store_true", help="skip the Complete Journey training")
    args = parser.parse_args()
    pure(args.customers)
    if not args.no_public:
        completejourney()
    if args.db:
        database(args.customers, args.samples)


if __name__ == "__main__":
    main()
