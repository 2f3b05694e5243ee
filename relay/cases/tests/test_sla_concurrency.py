"""Sweeps at once, and a sweeping worker killed mid-batch (issue 4, point 3): every breach is recorded
and notified exactly once. On PostgreSQL in the suite's database; on SQLite in processes of their own on a
file of their own (relay/cases/tests/sla_sqlite_crash.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import time_machine
from django.db import connection

from relay.cases.choices import Priority
from relay.cases.models import CaseEvent, SlaAlert
from relay.cases.services import sla
from relay.cases.tests.test_sla_engine import FRIDAY, MONDAY, berlin
from relay.core.models import OutboxEvent
from relay.core.testing.concurrency import run_at_once, run_on_own_sqlite

CASES = 30


@pytest.fixture
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is one connection: the SQLite case is the last test")


@pytest.fixture
def overdue(_postgresql_only, transactional_db, open_case, sla_policy, sla_team):
    with time_machine.travel(berlin(FRIDAY, 16, 55), tick=False):
        return [open_case(priority=Priority.HIGH) for _ in range(CASES)]


def _assert_each_breach_once() -> None:
    keys = list(SlaAlert.objects.filter(level=1).values_list("clock_id", "cycle"))
    assert len(keys) == len(set(keys)) == CASES
    notices = list(OutboxEvent.objects.filter(name="case.sla.breached").values_list("payload", flat=True))
    assert sorted(n["case_id"] for n in notices) == sorted(set(n["case_id"] for n in notices))
    assert len(notices) == CASES
    assert CaseEvent.objects.filter(kind="sla_breached").count() == CASES


def test_two_sweeps_at_once_record_each_breach_once(overdue):
    now = berlin(MONDAY, 10, 0)
    results = run_at_once(*[lambda: sla.sweep(now=now, batch_size=7) for _ in range(2)])
    assert all(isinstance(r, sla.SweepResult) for r in results), results
    assert sum(r.breaches for r in results) == CASES
    _assert_each_breach_once()


_KILLED_WORKER = textwrap.dedent(
    """
    import os, sys, time
    from datetime import datetime
    from zoneinfo import ZoneInfo
    import django
    django.setup()
    from relay.cases.services import sla

    real = sla.outbox.emit_many

    def slow(notices):
        open(sys.argv[1], "w").close()  # alerts, events and timeline rows written, not committed: kill me
        time.sleep(60)
        return real(notices)

    sla.outbox.emit_many = slow
    sla.sweep(now=datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")), batch_size=100)
    """
)


def _wait_until_its_backend_is_gone(application_name: str) -> None:
    """A killed client's server process rolls back and frees its row locks only once it reads the closed
    socket; until then a sweep skips those rows (SKIP LOCKED), as it should, and finds nothing to do."""
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [application_name]
            )
            if cursor.fetchone()[0] == 0:
                return
            assert time.monotonic() < deadline, "the killed worker's server process did not end"
            time.sleep(0.05)


def test_a_worker_killed_mid_sweep_leaves_nothing_and_the_next_sweep_does_it_once(overdue, tmp_path: Path):
    marker = tmp_path / "halfway"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "relay.config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PGAPPNAME": "relay-killed-sweeper",
    }
    worker = subprocess.Popen([sys.executable, "-c", _KILLED_WORKER, str(marker)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert worker.poll() is None, "the worker ended before it was killed"
            assert time.monotonic() < deadline, "the worker never got half-way"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    _wait_until_its_backend_is_gone("relay-killed-sweeper")
    assert not SlaAlert.objects.exists()  # its transaction died with it
    assert sla.sweep(now=berlin(MONDAY, 10, 0)).breaches == CASES
    _assert_each_breach_once()


@pytest.mark.slow
def test_on_sqlite_a_killed_sweep_leaves_nothing_and_two_sweeps_at_once_do_each_breach_once(own_sqlite: Path):
    summary = run_on_own_sqlite("relay.cases.tests.sla_sqlite_crash", own_sqlite)
    assert summary["error"] is None
    assert summary["alerts_after_kill"] == 0  # the killed sweep's batch rolled back with it
    assert sum(summary["breaches_per_sweep"]) == CASES
    assert summary["alerts"] == summary["distinct_alerts"] == CASES
    assert summary["notices"] == summary["cases_noticed"] == summary["events"] == CASES
