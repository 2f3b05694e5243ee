#!/usr/bin/env python
"""Queue page server time (issue 3) against a database seeded with cases (see docs/benchmarks.md):

    DATABASE_URL=... .venv/bin/relay seed --cases 1000000 --open-share 0.1
    DATABASE_URL=... .venv/bin/python bench/cases_queue.py [--samples 300]

Times are measured in-process through Django's test client (middleware, view, queries, template), as
bench/run.py does, for an agent of the busiest department (most open cases): the queue's first page in
each sort, pages deep in the queue (keyset cursors), a status tab, and "my cases". Prints p50 / p95 / p99
in ms. Read-only; every loop is bounded by --samples.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django
import timing  # bench/timing.py: the script's folder is on sys.path

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from relay.accounts.models import Department, User  # noqa: E402
from relay.cases import selectors  # noqa: E402
from relay.cases.choices import OPEN_CATEGORIES  # noqa: E402
from relay.cases.models import Case  # noqa: E402


def measure(name: str, samples: int, call: Callable[[int], object]) -> None:
    timing.measure(name, samples, call, width=52)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    # the busiest queues: the departments with the most open cases, measured as an agent of the first
    busiest = (
        Case.objects.filter(status_category__in=OPEN_CATEGORIES)
        .values("department")
        .annotate(n=Count("id"))
        .order_by("-n")[:6]
    )
    departments = [Department.objects.get(pk=row["department"]) for row in busiest]
    if not departments:
        sys.exit("No open cases: run relay seed --cases N first.")
    agent = User.objects.filter(departments=departments[0], is_active=True, role="agent").first()
    if agent is None:
        sys.exit(f"{departments[0].name} has no active agent.")
    total = Case.objects.count()
    still_open = Case.objects.filter(status_category__in=OPEN_CATEGORIES).count()
    print(f"database: {connection.vendor}, {total:,} cases, {still_open:,} open", flush=True)
    for department in departments:
        n = Case.objects.filter(department=department, status_category__in=OPEN_CATEGORIES).count()
        print(f"  {department.name}: {n:,} open", flush=True)
    client = Client()
    client.force_login(agent)

    def get(path: str) -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")

    urls = [f"/cases/queue/{d.slug}/" for d in departments]
    measure("queue, first page (newest first)", args.samples, lambda i: get(urls[i % len(urls)]))
    for ordering in ("-priority", "activity"):
        measure(
            f"queue, first page (ordering={ordering})",
            args.samples,
            lambda i, o=ordering: get(f"{urls[i % len(urls)]}?ordering={o}"),
        )
    measure(
        "queue, status tab (waiting on customer)",
        args.samples,
        lambda i: get(f"{urls[i % len(urls)]}?status=waiting_customer"),
    )
    # pages deep in the queue: cursors taken by walking a few pages through the selector
    rng = random.Random(5)
    deep: list[str] = []
    for department, url in zip(departments, urls, strict=True):
        cursor = None
        for _ in range(rng.randint(20, 60)):
            page = selectors.department_queue(actor=agent, department=department, cursor=cursor, size=25)
            cursor = page.next_cursor
            if cursor is None:
                break
            deep.append(f"{url}?cursor={cursor}")
    if deep:
        measure("queue, pages 2-60 (keyset cursor)", args.samples, lambda i: get(deep[i % len(deep)]))
    measure("my cases", args.samples, lambda i: get("/cases/"))


if __name__ == "__main__":
    main()
