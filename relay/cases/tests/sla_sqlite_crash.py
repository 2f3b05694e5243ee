"""Run by test_sla_concurrency on SQLite, in fresh processes against its own SQLite file (the suite's
in-memory database is one connection and cannot be shared with another process).

    python -m relay.cases.tests.sla_sqlite_crash            the story; prints a JSON summary
    python -m relay.cases.tests.sla_sqlite_crash hang M     a sweep that stops half-way (its alerts,
                                                            events and timeline rows written, not
                                                            committed), touches file M and waits to be
                                                            killed
    python -m relay.cases.tests.sla_sqlite_crash sweep      one sweep; prints its breaches

The story: 30 high-priority cases opened on Friday 16:55 in a Mon-Fri 09:00-17:00 Berlin calendar; a
sweeping worker is killed with SIGKILL mid-batch as of Monday 10:00; then two sweeps run at once in two
processes. Each breach must be recorded and notified exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from relay.cases.services import sla  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=BERLIN)
CASES = 30


def _setup() -> None:
    import time_machine

    from relay.accounts.choices import Role
    from relay.cases import services
    from relay.cases.choices import Priority
    from relay.cases.models import BusinessCalendar, SlaPolicy
    from relay.core.testing.factories import DepartmentFactory, PartyFactory, UserFactory

    call_command("migrate", verbosity=0)
    tech, care = DepartmentFactory(name="Technical Support"), DepartmentFactory(name="Customer Care")
    agent = UserFactory(username="agent", role=Role.AGENT, departments=[care])
    UserFactory(username="tech_agent", role=Role.AGENT, departments=[tech])
    tech.supervisor = UserFactory(username="tech_lead", role=Role.SUPERVISOR, departments=[tech])
    tech.save()
    hours = {str(day): [["09:00", "17:00"]] for day in range(5)}
    calendar = BusinessCalendar.objects.create(name="Office hours", time_zone="Europe/Berlin", hours=hours)
    SlaPolicy.objects.create(  # as test_sla_concurrency's: the acknowledgement is due Monday 09:55
        name="High priority",
        order=10,
        priorities=[Priority.HIGH],
        acknowledge_minutes=60,
        resolve_minutes=8 * 60,
        update_minutes=4 * 60,
        warn_percent=80,
        calendar=calendar,
    )
    party = PartyFactory(family_name="Lovelace")
    with time_machine.travel(datetime(2026, 12, 4, 16, 55, tzinfo=BERLIN), tick=False):
        for _ in range(CASES):
            services.case_open(
                actor=agent, party=party, subject="No line", department=tech, priority=Priority.HIGH
            )


def _child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "relay.cases.tests.sla_sqlite_crash", *args], stdout=subprocess.PIPE, text=True
    )


def story() -> dict[str, object]:
    from relay.cases.models import CaseEvent, SlaAlert
    from relay.core.models import OutboxEvent

    _setup()
    marker = Path(os.environ["RELAY_VAR_DIR"]) / "halfway"
    worker = _child("hang", str(marker))
    deadline = time.monotonic() + 120
    while not marker.exists():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            return {"error": "the hanging sweep never got half-way"}
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    alerts_after_kill = SlaAlert.objects.count()
    sweeps = [_child("sweep") for _ in range(2)]
    breaches = [int(s.communicate(timeout=300)[0].split()[-1]) for s in sweeps]
    keys = list(SlaAlert.objects.filter(level=1).values_list("clock_id", "cycle"))
    notices = list(OutboxEvent.objects.filter(name="case.sla.breached").values_list("payload", flat=True))
    return {
        "error": None,
        "alerts_after_kill": alerts_after_kill,
        "breaches_per_sweep": breaches,
        "alerts": len(keys),
        "distinct_alerts": len(set(keys)),
        "notices": len(notices),
        "cases_noticed": len({n["case_id"] for n in notices}),
        "events": CaseEvent.objects.filter(kind="sla_breached").count(),
    }


def hang(marker: str) -> None:
    real = sla.outbox.emit_many

    def slow(notices):
        Path(marker).touch()
        time.sleep(120)
        return real(notices)

    sla.outbox.emit_many = slow
    sla.sweep(now=MONDAY_10, batch_size=100)


if __name__ == "__main__":
    match sys.argv[1:]:
        case []:
            print(json.dumps(story()))
        case ["hang", marker]:
            hang(marker)
        case ["sweep"]:
            print(sla.sweep(now=MONDAY_10, batch_size=7).breaches)
