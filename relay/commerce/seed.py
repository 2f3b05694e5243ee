"""Volume commerce data for benchmarks: `relay seed --orders N` (PostgreSQL).

For the parties already in the database: a bench catalogue (200 products in 10 categories), N orders of
one to three lines each (about 2 N order lines), an invoice for every second order (paid when it is
older than 60 days, else open: some overdue) with its payment, a mobile-line subscription for every
third party (one in twenty suspended for non-payment, one in ten cancelled) and credit terms for every
fifth. Every column is a function of the row number (pseudo-random choices hash it), generated inside
the server (INSERT ... SELECT over generate_series) in chunks that parallel connections run side by
side, as relay/customers/seed.py does. The rows carry `source` "bench"; no audit history and no outbox
events: this is load, not data the ERP sent. Only integers and constants are interpolated into the SQL.

SQLite is refused: its benchmark figures are of the customer file; commerce data reaches it through the
sync API, the CSV import or `relay demo`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from relay.accounts.models import Department
from relay.cases.seed import _reserve
from relay.commerce.models import Product, ProductCategory
from relay.core import clock
from relay.core.exceptions import ApplicationError
from relay.customers.seed import Job, Progress, _pg_parallel

SOURCE = "bench"
PRODUCTS = 200
CATEGORIES = 10
PLANS = 5  # the first products of the catalogue are the mobile plans the subscriptions name
THREE_YEARS = 3 * 365 * 24 * 3600
TABLES = (
    "commerce_order",
    "commerce_orderline",
    "commerce_invoice",
    "commerce_payment",
    "commerce_subscription",
    "commerce_creditterms",
)


@dataclass
class CommerceSeedResult:
    orders: int
    lines: int
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


def _h(expression: str, salt: int, size: int) -> str:
    """A pseudo-random 0..size-1 from an integer expression."""
    return f"mod(abs(hashint8(({expression}) * 131 + {salt})), {size})"


def _catalogue() -> tuple[dict[str, int], int]:
    """The owning departments and the bench products (created once; the products' ids in order)."""
    owners = {
        name: Department.objects.get_or_create(name=name, defaults={"slug": name.lower().replace(" ", "-")})[
            0
        ].pk
        for name in ("Sales", "Billing", "Credit Control")
    }
    categories = [
        ProductCategory.objects.get_or_create(code=f"bench-{c}", defaults={"name": f"Bench category {c}"})[0]
        for c in range(CATEGORIES)
    ]
    if not Product.objects.filter(source=SOURCE).exists():
        now = clock.now()
        Product.objects.bulk_create(
            Product(
                source=SOURCE,
                external_id=f"p-{i}",
                synced_at=now,
                department_id=owners["Sales"],
                sku=f"BENCH-{i:04d}",
                name=f"Bench plan {i}" if i < PLANS else f"Bench product {i}",
                category=categories[i % CATEGORIES],
                kind="plan" if i < PLANS else "good",
                unit_price=Decimal(5 + (i * 37) % 600),
                currency="USD",
            )
            for i in range(PRODUCTS)
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS commerce_seed_products")
        cursor.execute(
            "CREATE UNLOGGED TABLE commerce_seed_products AS SELECT (row_number() OVER (ORDER BY id) - 1)::int"
            " AS n, id, unit_price FROM commerce_product WHERE source = %s",
            [SOURCE],
        )
        cursor.execute("ALTER TABLE commerce_seed_products ADD PRIMARY KEY (n)")
        cursor.execute("DROP TABLE IF EXISTS commerce_seed_parties")
        cursor.execute(
            "CREATE UNLOGGED TABLE commerce_seed_parties AS SELECT (row_number() OVER (ORDER BY id) - 1)::bigint"
            " AS n, id FROM customers_party"
        )
        cursor.execute("ALTER TABLE commerce_seed_parties ADD PRIMARY KEY (n)")
        cursor.execute("SELECT count(*) FROM commerce_seed_parties")
        parties = int(cursor.fetchone()[0])
    return owners, parties


class _Jobs:
    def __init__(
        self, *, orders: int, parties: int, owners: dict[str, int], batch: int, now_sql: str
    ) -> None:
        self.orders, self.parties, self.owners, self.batch, self.now = orders, parties, owners, batch, now_sql
        self.order_base = _reserve("commerce_order", orders)
        self.line_base = _reserve("commerce_orderline", 3 * orders)
        self.invoice_base = _reserve("commerce_invoice", orders)
        self.payment_base = _reserve("commerce_payment", orders)
        self.run = self.order_base  # the reserved block is this run's alone: its external ids are unique

    def order_jobs(self) -> Iterator[Job]:
        for lo in range(1, self.orders + 1, self.batch):
            hi = min(lo + self.batch - 1, self.orders)
            yield "orders", hi - lo + 1, self._orders(lo, hi)

    def _orders(self, lo: int, hi: int) -> list[str]:
        now, ob, lb, ib, pb = self.now, self.order_base, self.line_base, self.invoice_base, self.payment_base
        sales, billing = self.owners["Sales"], self.owners["Billing"]
        ext = f"'{self.run}-' || g"
        return [
            # the rows are consistent by construction: the foreign-key triggers are skipped for the load
            # (a superuser's setting, as pg_restore uses it; the local benchmark server's role is one)
            "SET LOCAL session_replication_role = replica",
            # the orders: a party, a time in the last three years
            "INSERT INTO commerce_order (id, created_at, updated_at, version, source, external_id, synced_at,"
            " number, ordered_at, status, currency, total_amount, department_id, party_id)"
            f" SELECT {ob} + g, {now}, {now}, 1, '{SOURCE}', {ext}, {now}, 'B' || ({ob} + g),"
            f" {now} - ({_h('g', 5, THREE_YEARS)}) * interval '1 second', 'fulfilled', 'USD', 0, {sales}, p.id"
            f" FROM generate_series({lo}, {hi}) AS g"
            f" JOIN commerce_seed_parties p ON p.n = {_h('g', 11, self.parties)}",
            # one to three lines each
            "INSERT INTO commerce_orderline (id, created_at, updated_at, line_no, quantity, unit_price, amount,"
            " currency, ordered_at, order_id, party_id, product_id)"
            f" SELECT {lb} + 3 * (o.id - {ob} - 1) + l, {now}, {now}, l, 1 + {_h('o.id * 3 + l', 7, 2)},"
            f" pr.unit_price, pr.unit_price * (1 + {_h('o.id * 3 + l', 7, 2)}), 'USD', o.ordered_at, o.id,"
            " o.party_id, pr.id"
            f" FROM commerce_order o JOIN generate_series(1, 3) AS l ON l <= 1 + {_h('o.id', 17, 3)}"
            f" JOIN commerce_seed_products pr ON pr.n = {_h('o.id * 3 + l', 31, PRODUCTS)}"
            f" WHERE o.id BETWEEN {ob + lo} AND {ob + hi}",
            "UPDATE commerce_order o SET total_amount = t.total FROM (SELECT order_id, sum(amount) AS total"
            f" FROM commerce_orderline WHERE order_id BETWEEN {ob + lo} AND {ob + hi} GROUP BY order_id) t"
            " WHERE o.id = t.order_id",
            # an invoice for every second order: paid after 60 days, else open (overdue after 14)
            "INSERT INTO commerce_invoice (id, created_at, updated_at, version, source, external_id, synced_at,"
            " number, issued_on, due_on, amount, paid_amount, currency, status, department_id, party_id,"
            " order_id)"
            f" SELECT {ib} + (o.id - {ob}), {now}, {now}, 1, '{SOURCE}', '{self.run}-' || o.id, {now},"
            f" 'BI' || o.id, o.ordered_at::date, o.ordered_at::date + 14, o.total_amount,"
            f" CASE WHEN o.ordered_at < {now} - interval '60 days' THEN o.total_amount ELSE 0 END, 'USD',"
            f" CASE WHEN o.ordered_at < {now} - interval '60 days' THEN 'paid' ELSE 'open' END, {billing},"
            " o.party_id, o.id"
            f" FROM commerce_order o WHERE o.id BETWEEN {ob + lo} AND {ob + hi} AND mod(o.id, 2) = 0",
            "INSERT INTO commerce_payment (id, created_at, updated_at, version, source, external_id, synced_at,"
            " received_on, amount, currency, method, reference, department_id, invoice_id, party_id)"
            f" SELECT {pb} + (i.id - {ib}), {now}, {now}, 1, '{SOURCE}', '{self.run}-' || i.id, {now},"
            f" i.issued_on + 10, i.amount, 'USD', 'card', '', {billing}, i.id, i.party_id"
            f" FROM commerce_invoice i WHERE i.id BETWEEN {ib + lo} AND {ib + hi} AND i.status = 'paid'"
            " AND i.amount > 0",
        ]

    def party_jobs(self) -> Iterator[Job]:
        now, run = self.now, self.run
        billing, credit = self.owners["Billing"], self.owners["Credit Control"]
        step = self.batch * 5
        for lo in range(0, self.parties, step):
            hi = min(lo + step, self.parties) - 1
            rank = _h("p.n", 23, 20)
            yield (
                "",
                0,
                [
                    "INSERT INTO commerce_subscription (created_at, updated_at, version, source, external_id,"
                    " synced_at, kind, name, service_id, status, status_reason, status_since, started_on, ends_on,"
                    " recurring_amount, currency, billing_period, department_id, party_id, product_id)"
                    f" SELECT {now}, {now}, 1, '{SOURCE}', '{run}-s' || p.n, {now}, 'subscription',"
                    " 'Bench mobile line ' || p.n, '+1555' || lpad(p.n::text, 7, '0'),"
                    f" CASE WHEN {rank} = 0 THEN 'suspended' WHEN {rank} < 3 THEN 'cancelled' ELSE 'active' END,"
                    f" CASE WHEN {rank} = 0 THEN 'non_payment' WHEN {rank} < 3 THEN 'customer_request' ELSE '' END,"
                    f" {now} - ({_h('p.n', 29, THREE_YEARS)}) * interval '1 second',"
                    f" ({now} - ({_h('p.n', 29, THREE_YEARS)}) * interval '1 second')::date, NULL, pr.unit_price,"
                    f" 'USD', 'month', {billing}, p.id, pr.id"
                    f" FROM commerce_seed_parties p JOIN commerce_seed_products pr ON pr.n = {_h('p.n', 3, PLANS)}"
                    f" WHERE p.n BETWEEN {lo} AND {hi} AND mod(p.n, 3) = 0",
                    "INSERT INTO commerce_creditterms (created_at, updated_at, version, source, external_id, synced_at,"
                    " credit_limit, currency, payment_terms_days, risk_rating, on_hold, review_on, note,"
                    " department_id, party_id)"
                    f" SELECT {now}, {now}, 1, '{SOURCE}', '{run}-c' || p.n, {now}, 100 * (1 + {_h('p.n', 37, 20)}),"
                    f" 'USD', 14 + 16 * {_h('p.n', 41, 2)}, 'low', {_h('p.n', 43, 25)} = 0, NULL, '', {credit}, p.id"
                    f" FROM commerce_seed_parties p WHERE p.n BETWEEN {lo} AND {hi} AND mod(p.n, 5) = 0"
                    " AND NOT EXISTS (SELECT 1 FROM commerce_creditterms c WHERE c.party_id = p.id)",
                ],
            )


def seed_commerce(
    *, orders: int, batch: int = 20_000, progress: Progress | None = None, workers: int | None = None
) -> CommerceSeedResult:
    """Append `orders` orders (with lines, invoices, payments) and the subscriptions and credit terms of
    the parties in the database."""
    if orders < 0 or batch < 1:
        raise ApplicationError("orders >= 0 and batch >= 1.")
    if orders == 0:
        return CommerceSeedResult(orders=0, lines=0, seconds=0.0)
    if connection.vendor != "postgresql":
        raise ApplicationError(
            "Commerce volume is generated on PostgreSQL only; on SQLite use `relay demo`, the sync API or "
            "`relay import-commerce`."
        )
    started = time.perf_counter()
    phases: dict[str, float] = {}
    now_sql = f"timestamptz '{clock.now().isoformat()}'"
    owners, parties = _catalogue()
    if not parties:
        raise ApplicationError("Seed parties first (--parties).")
    workers = workers or os.cpu_count() or 1
    jobs = _Jobs(orders=orders, parties=parties, owners=owners, batch=batch, now_sql=now_sql)
    try:
        _pg_parallel(jobs.order_jobs(), workers, progress)
        phases["orders"] = time.perf_counter() - started
        mark = time.perf_counter()
        _pg_parallel(jobs.party_jobs(), workers, None)
        phases["services and credit"] = time.perf_counter() - mark
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS commerce_seed_products")
            cursor.execute("DROP TABLE IF EXISTS commerce_seed_parties")
    mark = time.perf_counter()
    if not connection.in_atomic_block:
        _pg_parallel((("", 0, [f"VACUUM ANALYZE {table}"]) for table in TABLES), workers, None)
    phases["analyze"] = time.perf_counter() - mark
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM commerce_orderline WHERE order_id BETWEEN %s AND %s",
            [jobs.order_base + 1, jobs.order_base + orders],
        )
        lines = int(cursor.fetchone()[0])
    return CommerceSeedResult(
        orders=orders, lines=lines, seconds=time.perf_counter() - started, phases=phases
    )
