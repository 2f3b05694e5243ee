#!/usr/bin/env python
"""SLA sweep figures (issue 4, point 7), on PostgreSQL, in a database of their own:

    createdb -h 127.0.0.1 -U postgres relay_sla_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_sla_bench
    .venv/bin/relay migrate && .venv/bin/relay demo
    .venv/bin/python bench/sla.py [--cases 1000000] [--breach 100000] [--consumers 2] [--samples 200]

1. Fills the database up to --cases open cases, each with a running resolution clock due in the next
   weeks (plain SQL; the cases are bare rows on the demo's parties and departments, which is all a sweep
   reads). Idempotent: a second run reuses them.
2. A sweep with nothing due, --samples times: p50 / p95 / p99 in ms (the figure: <= 20 ms).
3. --breach clocks run out at once; --consumers processes run `relay sla sweep` side by side; prints
   the wall time until every breach is recorded, its event written and its notification in the outbox
   (the figure: <= 60 s), then checks each breach was recorded once, then the time --consumers drains
   take to put the notices in the inboxes (in the app only, unless --email). The run's alerts, events
   and notifications are removed again afterwards, and the clocks set back, so runs repeat.
4. The same breaches again with the sweeps and the drains running at the same time, as workers run
   them: the time until the last notice is in its inbox.

The due-time arithmetic has its own script: bench/sla_due.py.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")

import django
import timing  # bench/timing.py

django.setup()

from django.db import connection  # noqa: E402

from relay.accounts.models import Department, User  # noqa: E402
from relay.cases.choices import OPEN_CATEGORIES, StatusCategory  # noqa: E402
from relay.cases.models import BusinessCalendar, Case, CaseStatus, SlaAlert, SlaClock, SlaPolicy  # noqa: E402
from relay.cases.services import sla  # noqa: E402
from relay.core import clock  # noqa: E402
from relay.core.models import OutboxEvent  # noqa: E402
from relay.notifications.models import Notification, NotificationPreference  # noqa: E402

PREFIX = "S-"
POLICY = "Bench: three business days"


def _policy() -> SlaPolicy:
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="Bench office hours",
        defaults={"time_zone": "Europe/Berlin", "hours": {str(d): [["09:00", "17:00"]] for d in range(5)}},
    )
    policy, _ = SlaPolicy.objects.get_or_create(
        name=POLICY, defaults={"order": 10_000, "resolve_minutes": 3 * 8 * 60, "calendar": calendar}
    )
    return policy


def fill(total: int) -> None:
    have = Case.objects.filter(number__startswith=PREFIX).count()
    policy = _policy()
    if have < total:
        status = CaseStatus.objects.get(category=StatusCategory.OPEN, is_default=True)
        departments = list(Department.objects.values_list("pk", flat=True))
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(id), max(id) FROM customers_party")
            low, high = cursor.fetchone()
            deps = "ARRAY[" + ",".join(str(d) for d in departments) + "]"
            step = 100_000
            for lo in range(have + 1, total + 1, step):
                hi = min(lo + step - 1, total)
                cursor.execute(
                    "INSERT INTO cases_case (created_at, updated_at, version, number, subject, description, "
                    "priority, channel, status_category, resolution_code, resolution_summary, opened_at, "
                    "last_activity_at, reopened_count, department_id, party_id, status_id, sla_status, "
                    "sla_due_at) "
                    f"SELECT now(), now(), 1, '{PREFIX}' || lpad(g::text, 7, '0'), 'Bench case', '', "
                    f"'normal', 'phone', 'open', '', '', now() - interval '1 hour', now(), 0, "
                    f"({deps})[1 + g % {len(departments)}], {low} + g % ({high} - {low} + 1), {status.pk}, "
                    f"'on_time', now() + (2 + g % 20) * interval '1 day' "
                    f"FROM generate_series({lo}, {hi}) AS g"
                )
            cursor.execute(
                "INSERT INTO cases_slaclock (case_id, target, state, policy_id, calendar_id, cycle, "
                "target_seconds, warn_seconds, consumed, started_at, running_since, paused_total, warn_at, "
                "due_at, level, next_at, breaches) "
                f"SELECT c.id, 'resolve', 'running', {policy.pk}, {policy.calendar_id}, 1, 86400, 69120, "
                "interval '0', c.opened_at, c.opened_at, interval '0', c.sla_due_at - interval '1 day', "
                "c.sla_due_at, 0, c.sla_due_at - interval '1 day', 0 FROM cases_case c "
                f"WHERE c.number LIKE '{PREFIX}%' AND NOT EXISTS "
                "(SELECT 1 FROM cases_slaclock k WHERE k.case_id = c.id)"
            )
            cursor.execute("VACUUM ANALYZE cases_case")
            cursor.execute("VACUUM ANALYZE cases_slaclock")
        print(f"filled {total - have} cases and clocks in {time.perf_counter() - started:.0f} s", flush=True)
    open_cases = Case.objects.filter(status_category__in=OPEN_CATEGORIES).count()
    print(f"{open_cases:,} open cases, {SlaClock.objects.filter(state='running').count():,} running clocks")


def _vacuum() -> None:
    """VACUUM what a run rewrites, as autovacuum would between runs: this machine's PostgreSQL runs with
    `autovacuum = off`, and the dead versions of the clocks an earlier run moved would sit in the sweep's
    partial index (a bitmap scan visits them all: 4 -> 27 ms p50 after two runs of 100,000)."""
    with connection.cursor() as cursor:
        for table in ("cases_slaclock", "cases_slaalert", "cases_case", "core_outboxevent"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def nothing_due(samples: int) -> None:
    _vacuum()
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT * FROM cases_slaclock WHERE next_at <= now() ORDER BY next_at, id LIMIT 500"
        )
        plan = " / ".join(row[0].strip() for row in cursor.fetchall()[:3])
    print(f"plan: {plan}")
    timing.measure("sweep, nothing due", samples, lambda i: sla.sweep())


def _run_out(count: int) -> list[int]:
    """Let `count` clocks run out a minute ago (their warning long since given)."""
    ids = list(
        SlaClock.objects.filter(case__number__startswith=PREFIX, level=0)
        .order_by("id")
        .values_list("pk", flat=True)[:count]
    )
    now = clock.now()
    SlaClock.objects.filter(pk__in=ids).update(
        consumed=timedelta(seconds=86400),
        running_since=now - timedelta(minutes=1),
        warned_at=now - timedelta(hours=1),
        next_at=now - timedelta(minutes=1),
    )
    return ids


def breach(count: int, consumers: int, *, email: bool, batch_size: int) -> None:
    ids = _run_out(count)
    alerts_before = SlaAlert.objects.count()
    started = time.perf_counter()
    command = [sys.executable, "-m", "relay.manage", "sla", "sweep", "--batch-size", str(batch_size)]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(consumers)]
    outputs = [w.communicate()[0].strip() for w in workers]
    elapsed = time.perf_counter() - started
    recorded = SlaAlert.objects.count() - alerts_before
    keys = SlaAlert.objects.filter(clock_id__in=ids, level=1).values_list("clock_id", flat=True)
    once = len(set(keys)) == len(keys) == len(ids)
    print("\n".join(f"  consumer {i + 1}: {out}" for i, out in enumerate(outputs)))
    print(
        f"{len(ids):,} breaches at once, {consumers} consumers: {elapsed:.1f} s "
        f"({recorded / elapsed:,.0f} a second), each recorded once: {once}",
        flush=True,
    )
    deliver(consumers, email=email)
    _reset(ids)


_DRAIN = (
    "from relay.core.outbox import drain\n"
    "total = 0\n"
    "while (n := drain(batch_size=200, budget_seconds=3600).dispatched):\n"
    "    total += n\n"
    "print(total)"
)


def _preferences(*, email: bool) -> None:
    """Unless `email`, every user's preference for `case.sla.` is in the app only (an e-mail each is the
    mail backend's speed, not the sweep's: run with --email to see it)."""
    for user in User.objects.all():
        NotificationPreference.objects.update_or_create(
            user=user, kind="case.sla.", defaults={"in_app": True, "email": email}
        )


def deliver(consumers: int, *, email: bool) -> None:
    """The notices of the breaches, delivered to the in-app inboxes by `consumers` drains at once."""
    _preferences(email=email)
    notices = OutboxEvent.objects.filter(name__startswith="case.sla.", dispatched_at__isnull=True).count()
    started = time.perf_counter()
    command = [sys.executable, "-m", "relay.manage", "shell", "--no-imports", "-c", _DRAIN]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(consumers)]
    delivered = sum(int(w.communicate()[0].split()[-1]) for w in workers)
    elapsed = time.perf_counter() - started
    inbox = Notification.objects.filter(event__name__startswith="case.sla.").count()
    print(
        f"{notices:,} breach notices delivered by {consumers} drains: {elapsed:.1f} s "
        f"({delivered / elapsed:,.0f} events, {inbox / elapsed:,.0f} inbox notifications a second)",
        flush=True,
    )


_DRAIN_UNTIL = (
    "import os, time\n"
    "from relay.core.outbox import drain\n"
    "total = 0\n"
    "while True:\n"
    "    done = os.path.exists(os.environ['RELAY_BENCH_SWEEPS_DONE'])\n"
    "    n = drain(batch_size=200, budget_seconds=3600).dispatched\n"
    "    total += n\n"
    "    if done and not n:\n"
    "        break\n"
    "    if not n:\n"
    "        time.sleep(0.2)\n"
    "print(total)"
)


def together(count: int, consumers: int, *, email: bool, batch_size: int) -> None:
    """As a worker does it: `consumers` sweeps and `consumers` drains at once, from the breach until the
    last notice is in its inbox."""
    _preferences(email=email)
    ids = _run_out(count)
    marker = Path(f"/tmp/relay-bench-sweeps-done-{os.getpid()}")
    marker.unlink(missing_ok=True)
    started = time.perf_counter()
    sweep = [sys.executable, "-m", "relay.manage", "sla", "sweep", "--batch-size", str(batch_size)]
    drain = [sys.executable, "-m", "relay.manage", "shell", "--no-imports", "-c", _DRAIN_UNTIL]
    env = {**os.environ, "RELAY_BENCH_SWEEPS_DONE": str(marker)}
    sweeps = [subprocess.Popen(sweep, stdout=subprocess.PIPE, text=True) for _ in range(consumers)]
    drains = [subprocess.Popen(drain, stdout=subprocess.PIPE, text=True, env=env) for _ in range(consumers)]
    for w in sweeps:
        w.communicate()
    recorded = time.perf_counter() - started
    marker.touch()
    delivered = sum(int(w.communicate()[0].split()[-1]) for w in drains)
    elapsed = time.perf_counter() - started
    marker.unlink(missing_ok=True)
    print(
        f"{len(ids):,} breaches, {consumers} sweeps and {consumers} drains at once: all recorded after "
        f"{recorded:.1f} s, all {delivered:,} notices in the inboxes after {elapsed:.1f} s",
        flush=True,
    )
    _reset(ids)


def _reset(ids: list[int]) -> None:
    """Undo the run: its alerts, events, timeline rows and notifications; the clocks as they were."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH gone AS (DELETE FROM cases_caseevent WHERE kind IN ('sla_breached', 'sla_escalated') "
            "RETURNING entry_id) DELETE FROM activities_timelineentry WHERE id IN (SELECT entry_id FROM gone)"
        )
        cursor.execute(
            "DELETE FROM notifications_notification WHERE event_id IN "
            "(SELECT id FROM core_outboxevent WHERE name LIKE 'case.sla.%%')"
        )
        cursor.execute(
            "DELETE FROM core_outboxdelivery WHERE event_id IN "
            "(SELECT id FROM core_outboxevent WHERE name LIKE 'case.sla.%%')"
        )
        cursor.execute("DELETE FROM core_outboxevent WHERE name LIKE 'case.sla.%%'")
    SlaAlert.objects.filter(clock_id__in=ids).delete()
    later = clock.now() + timedelta(days=5)
    SlaClock.objects.filter(pk__in=ids).update(
        consumed=timedelta(0), level=0, breaches=0, breached_at=None, warned_at=None, next_at=later
    )
    Case.objects.filter(sla_clocks__pk__in=ids).update(sla_status="on_time", sla_due_at=later)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--breach", type=int, default=100_000)
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--email", action="store_true", help="deliver the notices by e-mail too")
    parser.add_argument("--batch-size", type=int, default=500, help="clocks a sweep takes per transaction")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/sla.py measures PostgreSQL: set DATABASE_URL (see the docstring)")
    fill(args.cases)
    nothing_due(args.samples)
    if args.breach:
        breach(args.breach, args.consumers, email=args.email, batch_size=args.batch_size)
        together(args.breach, args.consumers, email=args.email, batch_size=args.batch_size)


if __name__ == "__main__":
    main()
