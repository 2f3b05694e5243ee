#!/usr/bin/env python
"""Case benchmarks (issue 3) against a seeded database (see docs/benchmarks.md):

    DATABASE_URL=... .venv/bin/relay seed --parties 100000
    DATABASE_URL=... .venv/bin/python bench/cases.py [--cases 2000] [--processes 2]

* create + route + outbox: `case_open` through the service layer (routing rules present, the outbox row
  written in the same transaction), in N processes at once; cases/s, timed from the moment every
  process has started and opened its warm-up cases to the last opening. With `--batch B`, the same
  cases through `case_open_many`, B a transaction (an import, the API's batch endpoint).
* outbox delivery: the events those openings emitted, drained by N processes calling the same drain the
  worker runs (in-app notices, e-mail to the locmem backend); notifications/s.

It writes into the configured database: use a benchmark database, never production data.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")


def _setup() -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def _fixtures() -> tuple[list[int], list[int]]:
    """Bench departments with agents and a supervisor, a few routing rules; returns (party ids, user ids)."""
    from relay.accounts.choices import Role
    from relay.accounts.models import Department, User
    from relay.customers.models import Party

    departments = []
    for name in ("Bench Care", "Bench Billing", "Bench Support"):
        department, _ = Department.objects.get_or_create(
            name=name, defaults={"slug": name.lower().replace(" ", "-")}
        )
        departments.append(department)
        for i in range(5):
            user, _ = User.objects.get_or_create(
                username=f"{department.slug}-{i}", defaults={"role": Role.AGENT, "first_name": f"Agent {i}"}
            )
            user.departments.add(department)
        supervisor, _ = User.objects.get_or_create(
            username=f"{department.slug}-lead", defaults={"role": Role.SUPERVISOR}
        )
        supervisor.departments.add(department)
        if department.supervisor_id != supervisor.pk:
            department.supervisor = supervisor
            department.save(update_fields=["supervisor"])
    from relay.cases.models import RoutingRule
    from relay.cases.services.routing import RuleInput, routing_rule_create

    if not RoutingRule.objects.filter(name__startswith="bench").exists():
        admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": Role.ADMIN})
        for word, department in zip(["bill", "dial", "fibre"], departments, strict=True):
            routing_rule_create(
                actor=admin,
                data=RuleInput(
                    name=f"bench {word}", department=department, keywords=[word], assignment="round_robin"
                ),
            )
    parties = list(Party.objects.order_by("id").values_list("id", flat=True)[:20_000])
    users = list(User.objects.filter(username__startswith="bench-care-").values_list("id", flat=True))
    return parties, users


SUBJECTS = ["Question about the bill", "No dial tone", "Fibre upgrade", "Moving house", "Roaming"]


WARM_UP = 10  # openings a process makes before the clock starts (first queries, caches, connections)


def _open_cases(args: tuple[int, int, list[int], int, Any, int]) -> tuple[int, float, float]:
    """Opens `count` cases after WARM_UP untimed ones; returns (count, start, end) in wall-clock time,
    the start taken when every process is ready (`barrier`). `batch` > 1: that many a transaction."""
    worker, count, parties, actor_id, barrier, batch = args
    _setup()
    from django.db import connection

    from relay.accounts.models import User
    from relay.cases.services import CaseDraft, case_open, case_open_many
    from relay.customers.models import Party

    connection.close()
    actor = User.objects.get(pk=actor_id)
    rows = list(Party.objects.filter(pk__in=parties[worker::7][: count + WARM_UP]))

    def open_case(i: int) -> None:
        case_open(
            actor=actor,
            party=rows[i % len(rows)],
            subject=SUBJECTS[(worker + i) % len(SUBJECTS)],
            description="Opened by bench/cases.py",
            channel="phone",
        )

    def draft(i: int) -> CaseDraft:
        return CaseDraft(
            party=rows[i % len(rows)],
            subject=SUBJECTS[(worker + i) % len(SUBJECTS)],
            description="Opened by bench/cases.py",
            channel="phone",
        )

    for i in range(WARM_UP):
        open_case(count + i)
    barrier.wait()
    start = time.time()
    if batch > 1:
        for first in range(0, count, batch):
            case_open_many(actor=actor, drafts=[draft(i) for i in range(first, min(first + batch, count))])
    else:
        for i in range(count):
            open_case(i)
    return count, start, time.time()


def _drain(_: int) -> tuple[int, float]:
    _setup()
    from relay.core import outbox

    start = time.perf_counter()
    total = 0
    while True:
        result = outbox.drain(batch_size=100, budget_seconds=3600)
        if not result.claimed:
            break
        total += result.dispatched
    return total, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000, help="cases per process")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1, help="cases a transaction (case_open_many)")
    args = parser.parse_args()
    _setup()
    from django.db import connection

    from relay.core.outbox_models import OutboxEvent
    from relay.notifications.models import Notification

    parties, users = _fixtures()
    print(f"database: {connection.vendor}, {len(parties):,} parties to open cases on", flush=True)
    pending = OutboxEvent.objects.filter(dispatched_at__isnull=True).count()
    if pending:
        print(f"draining {pending:,} older undelivered events first", flush=True)
        _drain(0)
    connection.close()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(args.processes) as pool:
        barrier = manager.Barrier(args.processes)
        done = pool.map(
            _open_cases,
            [
                (w, args.cases, parties, users[w % len(users)], barrier, args.batch)
                for w in range(args.processes)
            ],
        )
    made = sum(n for n, _, _ in done)
    wall = max(end for _, _, end in done) - min(start for _, start, _ in done)
    print(
        f"create + route + outbox ({args.processes} processes, "
        f"{f'case_open_many, {args.batch} a batch' if args.batch > 1 else 'case_open'}): "
        f"{made:,} cases in {wall:.1f} s = "
        f"{made / wall:,.0f} cases/s",
        flush=True,
    )
    before = Notification.objects.count()
    events = OutboxEvent.objects.filter(dispatched_at__isnull=True).count()
    with ctx.Pool(args.processes) as pool:
        start = time.perf_counter()
        pool.map(_drain, range(args.processes))
        wall = time.perf_counter() - start
    notices = Notification.objects.count() - before
    print(
        f"outbox delivery ({args.processes} consumers): {events:,} events, {notices:,} in-app notices "
        f"in {wall:.1f} s = {notices / wall:,.0f} notifications/s",
        flush=True,
    )


if __name__ == "__main__":
    main()
