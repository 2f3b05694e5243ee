"""SLA clocks on real cases (issue 4, points 2, 3 and 6): started, paused, stopped and recomputed by the
case services; the sweep warns, records breaches and escalates exactly once, also when a sweep fails
half-way or when the constraint has already decided."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from relay.accounts.choices import Role
from relay.cases import services
from relay.cases.choices import (
    ClockState,
    EventKind,
    OnTransfer,
    Priority,
    SlaStatus,
    SlaTarget,
    StatusCategory,
    Visibility,
)
from relay.cases.models import (
    Case,
    CaseEvent,
    CaseStatus,
    SlaAlert,
    SlaClock,
)
from relay.cases.services import sla
from relay.core.models import OutboxEvent
from relay.core.testing.factories import UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY = (2026, 12, 4)
MONDAY = (2026, 12, 7)


def berlin(day: tuple[int, int, int], hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(*day, hour, minute, second, tzinfo=BERLIN)


@pytest.fixture
def friday_case(open_case, sla_policy, sla_team):
    with time_machine.travel(berlin(FRIDAY, 16, 55), tick=False):
        return open_case(priority=Priority.HIGH)


def _clocks(case: Case) -> dict[str, SlaClock]:
    return {c.target: c for c in SlaClock.objects.filter(case=case)}


def _status(category: str) -> CaseStatus:
    return CaseStatus.objects.get(category=category, is_default=True)


def _fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


# --- clocks follow the case -------------------------------------------------------------------------------


def test_a_case_opened_friday_at_1655_is_due_on_monday(friday_case):
    clocks = _clocks(friday_case)
    assert set(clocks) == {SlaTarget.ACKNOWLEDGE, SlaTarget.RESOLVE, SlaTarget.UPDATE}
    assert clocks[SlaTarget.RESOLVE].due_at == berlin(MONDAY, 16, 55)
    assert clocks[SlaTarget.ACKNOWLEDGE].due_at == berlin(MONDAY, 9, 55)
    assert clocks[SlaTarget.ACKNOWLEDGE].warn_at == berlin(MONDAY, 9, 43)  # 80 % of an hour
    assert clocks[SlaTarget.UPDATE].due_at == berlin(MONDAY, 12, 55)
    case = _fresh(friday_case)
    assert case.sla_status == SlaStatus.ON_TIME
    assert case.sla_due_at == berlin(MONDAY, 9, 55)  # the soonest running target
    assert clocks[SlaTarget.RESOLVE].next_at == clocks[SlaTarget.RESOLVE].warn_at


def test_the_opening_insert_writes_the_badge_and_the_clocks_follow_in_one_insert(
    open_case, sla_policy, sla_team
):
    from relay.core.testing.queries import count_queries

    open_case(priority=Priority.HIGH)  # warm-up
    _, sql, case = count_queries(lambda: open_case(priority=Priority.HIGH))
    assert not [q for q in sql if q.startswith('UPDATE "cases_case"')], sql
    assert len([q for q in sql if q.startswith('INSERT INTO "cases_slaclock"')]) == 1
    assert _fresh(case).sla_status == SlaStatus.ON_TIME and len(_clocks(case)) == 3


def test_a_case_without_a_matching_policy_has_no_clock(open_case, sla_policy):
    case = open_case(priority=Priority.LOW)
    assert not SlaClock.objects.filter(case=case).exists()
    assert _fresh(case).sla_status == SlaStatus.NONE


def test_waiting_on_the_customer_pauses_and_resuming_moves_the_due_time(friday_case, tech_agent):
    with time_machine.travel(berlin(MONDAY, 10, 0), tick=False):
        case = services.case_set_status(
            actor=tech_agent,
            case=friday_case,
            status=_status(StatusCategory.WAITING_CUSTOMER),
            expected_version=friday_case.version,
        )
    resolve = _clocks(case)[SlaTarget.RESOLVE]
    assert resolve.state == ClockState.PAUSED and resolve.due_at is None and resolve.next_at is None
    assert resolve.consumed == timedelta(minutes=65)  # 5 on Friday, 60 on Monday
    paused = _fresh(case)
    assert paused.sla_status == SlaStatus.PAUSED and paused.sla_due_at is None

    with time_machine.travel(berlin(MONDAY, 11, 0), tick=False):
        case = services.case_set_status(
            actor=tech_agent,
            case=paused,
            status=_status(StatusCategory.OPEN),
            expected_version=paused.version,
        )
    resolve = _clocks(case)[SlaTarget.RESOLVE]
    assert resolve.state == ClockState.RUNNING
    # 415 minutes left from 11:00: 360 on Monday, 55 on Tuesday
    assert resolve.due_at == berlin((2026, 12, 8), 9, 55)
    assert resolve.paused_total == timedelta(hours=1)
    assert _fresh(case).sla_status == SlaStatus.BREACHED  # nobody answered by 09:55


def test_acknowledging_stops_the_first_response_clock(friday_case, tech_agent):
    with time_machine.travel(berlin(MONDAY, 9, 30), tick=False):
        services.case_acknowledge(actor=tech_agent, case=friday_case, expected_version=friday_case.version)
    ack = _clocks(friday_case)[SlaTarget.ACKNOWLEDGE]
    assert ack.state == ClockState.MET
    assert ack.stopped_at == berlin(MONDAY, 9, 30) and ack.next_at is None
    assert sla.business_minutes(ack) == 35
    assert _fresh(friday_case).sla_due_at == berlin(MONDAY, 12, 55)  # now the update is the soonest


def test_an_update_to_the_customer_restarts_the_update_clock(friday_case, tech_agent):
    with time_machine.travel(berlin(MONDAY, 11, 0), tick=False):
        services.case_add_note(
            actor=tech_agent, case=friday_case, body="We are on it.", visibility=Visibility.CUSTOMER
        )
    clocks = _clocks(friday_case)
    assert clocks[SlaTarget.UPDATE].cycle == 2
    assert clocks[SlaTarget.UPDATE].due_at == berlin(MONDAY, 15, 0)
    assert clocks[SlaTarget.ACKNOWLEDGE].state == ClockState.MISSED  # the first response, 65 min in
    # an internal note is no update
    with time_machine.travel(berlin(MONDAY, 12, 0), tick=False):
        services.case_add_note(actor=tech_agent, case=friday_case, body="internal")
    assert _clocks(friday_case)[SlaTarget.UPDATE].cycle == 2


def test_a_priority_change_recomputes_with_the_new_policy(friday_case, sla_normal_policy, tech_agent):
    with time_machine.travel(berlin(MONDAY, 9, 0), tick=False):
        case = services.case_update(
            actor=tech_agent,
            case=friday_case,
            changes={"priority": Priority.NORMAL},
            expected_version=friday_case.version,
        )
    clocks = _clocks(case)
    assert clocks[SlaTarget.ACKNOWLEDGE].state == ClockState.CANCELLED  # the new sla_policy sets none
    resolve = clocks[SlaTarget.RESOLVE]
    assert resolve.policy_id == sla_normal_policy.pk
    assert resolve.consumed == timedelta(minutes=5)  # the time used so far is kept
    assert resolve.due_at == berlin((2026, 12, 9), 16, 55)  # 24 business hours from Friday 16:55


def test_a_transfer_keeps_or_restarts_the_clocks_as_the_policy_says(
    friday_case, sla_policy, tech_agent, billing
):
    with time_machine.travel(berlin(MONDAY, 10, 0), tick=False):
        kept = services.case_transfer(
            actor=tech_agent,
            case=friday_case,
            department=billing,
            reason="bill",
            note="n",
            expected_version=1,
        )
    assert _clocks(kept)[SlaTarget.RESOLVE].due_at == berlin(MONDAY, 16, 55)
    sla_policy.on_transfer = OnTransfer.RESTART
    sla_policy.save()
    with time_machine.travel(berlin(MONDAY, 11, 0), tick=False):
        restarted = services.case_transfer(
            actor=tech_agent,
            case=kept,
            department=friday_case.department,
            reason="back",
            note="n",
            expected_version=kept.version,
        )
    resolve = _clocks(restarted)[SlaTarget.RESOLVE]
    assert resolve.cycle == 2 and resolve.consumed == timedelta(0)
    assert resolve.due_at == berlin((2026, 12, 8), 11, 0)


def test_resolving_stops_the_clocks_and_reopening_resumes_resolution(friday_case, tech_agent):
    with time_machine.travel(berlin(MONDAY, 10, 0), tick=False):
        resolved = services.case_resolve(
            actor=tech_agent,
            case=friday_case,
            resolution_code="solved",
            resolution_summary="fixed",
            expected_version=friday_case.version,
        )
    clocks = _clocks(resolved)
    assert clocks[SlaTarget.RESOLVE].state == ClockState.MET
    assert clocks[SlaTarget.ACKNOWLEDGE].state == ClockState.MISSED  # due 09:55, never acknowledged
    assert clocks[SlaTarget.ACKNOWLEDGE].breaches == 1
    assert _fresh(resolved).sla_status == SlaStatus.NONE
    with time_machine.travel(berlin(MONDAY, 14, 0), tick=False):
        reopened = services.case_reopen(
            actor=tech_agent, case=resolved, reason="still broken", expected_version=resolved.version
        )
    clocks = _clocks(reopened)
    assert clocks[SlaTarget.RESOLVE].state == ClockState.RUNNING
    assert clocks[SlaTarget.RESOLVE].due_at == berlin((2026, 12, 8), 12, 55)  # 65 min used, 415 to go
    assert clocks[SlaTarget.ACKNOWLEDGE].state == ClockState.MISSED  # answered once, for good
    assert clocks[SlaTarget.UPDATE].cycle == 2


def test_a_merged_duplicate_cancels_its_clocks(friday_case, open_case, tech_supervisor):
    with time_machine.travel(berlin(MONDAY, 9, 0), tick=False):
        target = open_case(priority=Priority.HIGH)
        services.case_merge(
            actor=tech_supervisor, duplicate=friday_case, target=target, expected_version=friday_case.version
        )
    assert {c.state for c in _clocks(friday_case).values()} == {ClockState.CANCELLED}
    assert _clocks(target)[SlaTarget.RESOLVE].state == ClockState.RUNNING


# --- the sweep --------------------------------------------------------------------------------------------


def _notices(name: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(name=name).order_by("id"))


def test_the_sweep_warns_the_handler_once(friday_case, sla_team):
    at = berlin(MONDAY, 9, 45)
    first = sla.sweep(now=at)
    assert (first.warnings, first.breaches) == (1, 0)
    [warning] = _notices("case.sla.warning")
    assert set(warning.recipients) == {u.pk for u in sla_team.values()}  # unassigned: the department
    assert "due in 10 min" in warning.payload["title"]
    assert _fresh(friday_case).sla_status == SlaStatus.AT_RISK
    again = sla.sweep(now=at + timedelta(minutes=1))
    assert again.warnings == 0 and len(_notices("case.sla.warning")) == 1


def test_a_breach_tells_handler_supervisor_and_originating_office_once(friday_case, sla_team, agent, care):
    care_colleague = UserFactory(role=Role.AGENT, departments=[care])
    result = sla.sweep(now=berlin(MONDAY, 10, 0))
    assert result.breaches == 1  # the acknowledgement; its warning came too late to matter
    [alert] = SlaAlert.objects.filter(level=1)
    assert (alert.target, alert.late_seconds) == (SlaTarget.ACKNOWLEDGE, 300)
    assert alert.department_id == friday_case.department_id
    [notice] = _notices("case.sla.breached")
    expected = {
        sla_team["agent"].pk,
        sla_team["colleague"].pk,
        sla_team["supervisor"].pk,
        agent.pk,
        care_colleague.pk,
    }
    assert set(notice.recipients) == expected
    assert "Dropped ball: first response overdue by 5 min; update requested" in notice.payload["title"]
    event = CaseEvent.objects.get(case=friday_case, kind=EventKind.SLA_BREACHED)
    assert event.data["update_requested"] is True and event.entry is not None  # on the party's timeline
    case = _fresh(friday_case)
    assert case.sla_status == SlaStatus.BREACHED
    for later in (berlin(MONDAY, 10, 1), berlin(MONDAY, 10, 30)):
        assert sla.sweep(now=later).breaches == 0
    assert len(_notices("case.sla.breached")) == 1
    assert CaseEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == 1


def test_the_escalation_chain_raises_priority_and_reassigns(
    friday_case, sla_policy, sla_team, sla_calendar, billing
):
    sla_policy.escalation = [
        {"after_minutes": 0, "raise_priority": True, "reassign": "supervisor"},
        {"after_minutes": 60, "reassign": "department", "department": billing.pk},
    ]
    sla_policy.priorities = [Priority.HIGH, Priority.URGENT]
    sla_policy.save()
    sla.sweep(now=berlin(MONDAY, 10, 0))
    case = _fresh(friday_case)
    assert case.priority == Priority.URGENT
    assert case.assignee_id == sla_team["supervisor"].pk
    assert case.history.filter(history_user=None).exists()  # the escalation is audited
    result = sla.sweep(now=berlin(MONDAY, 11, 0))
    assert result.escalations == 1
    case = _fresh(case)
    assert case.department_id == billing.pk and case.assignee_id is None
    assert SlaAlert.objects.filter(clock__target=SlaTarget.ACKNOWLEDGE).count() == 2
    assert sla.sweep(now=berlin(MONDAY, 12, 0)).escalations == 0  # the chain has no third level


def test_a_sweep_as_of_a_later_day_catches_up_every_level_once(friday_case, sla_policy):
    sla_policy.escalation = [{"after_minutes": 0}, {"after_minutes": 30}, {"after_minutes": 90}]
    sla_policy.save()
    result = sla.sweep(now=berlin((2026, 12, 9), 12, 0))
    # acknowledge: breach + 2 levels; update: breach + 2; resolve: breach + 2
    assert (result.breaches, result.escalations) == (3, 6)
    assert SlaAlert.objects.count() == 9
    assert sla.sweep(now=berlin((2026, 12, 10), 12, 0)).clocks == 0


def test_a_sweep_that_fails_half_way_records_nothing_and_the_next_one_does_it_once(
    open_case, sla_policy, sla_team, monkeypatch
):
    with time_machine.travel(berlin(FRIDAY, 16, 55), tick=False):
        cases = [open_case(priority=Priority.HIGH) for _ in range(3)]

    def crash(events):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(sla.outbox, "emit_many", crash)  # after the alerts, events and escalations
    with pytest.raises(RuntimeError):
        sla.sweep(now=berlin(MONDAY, 10, 0))
    assert not SlaAlert.objects.exists()
    assert not OutboxEvent.objects.filter(name__startswith="case.sla.").exists()
    assert {_fresh(c).sla_status for c in cases} == {SlaStatus.ON_TIME}
    monkeypatch.undo()
    assert sla.sweep(now=berlin(MONDAY, 10, 0)).breaches == 3
    assert len(_notices("case.sla.breached")) == 3


def test_the_unique_constraint_decides_when_another_sweep_already_recorded_it(friday_case):
    ack = _clocks(friday_case)[SlaTarget.ACKNOWLEDGE]
    # another sweep committed the breach, and this one read the clock before it did
    SlaAlert.objects.create(
        clock=ack,
        case=friday_case,
        target=ack.target,
        cycle=ack.cycle,
        level=1,
        due_at=berlin(MONDAY, 9, 55),
        at=berlin(MONDAY, 10, 0),
        token="someone-else",
    )
    result = sla.sweep(now=berlin(MONDAY, 10, 0))
    assert result.breaches == 0
    assert not _notices("case.sla.breached")
    assert SlaAlert.objects.count() == 1
    assert _clocks(friday_case)[SlaTarget.ACKNOWLEDGE].level == 1


def test_a_confidential_case_breach_reaches_only_its_circle(open_case, sla_policy, sla_team, agent, care):
    from relay.cases.models import CaseCategory

    secret = CaseCategory.objects.create(name="Fraud", slug="fraud", is_confidential=True)
    outsider = UserFactory(role=Role.AGENT, departments=[care])
    with time_machine.travel(berlin(FRIDAY, 16, 55), tick=False):
        open_case(priority=Priority.HIGH, category=secret)
    sla.sweep(now=berlin(MONDAY, 10, 0))
    [notice] = _notices("case.sla.breached")
    assert outsider.pk not in notice.recipients
    assert agent.pk in notice.recipients  # the originator is in the circle


def test_relay_sla_sweep_runs_as_of_a_given_instant(friday_case, capsys):
    call_command("sla", "sweep", "--now", berlin(MONDAY, 10, 0).isoformat())
    out = capsys.readouterr().out
    assert "1 breaches" in out and "2026-12-07T10:00:00+01:00" in out
    call_command("sla", "sweep", "--now", "2026-12-07T10:05:00")  # a zone-less value is in TIME_ZONE
    assert SlaAlert.objects.filter(level=1).count() == 1
    from relay.config.huey import run_django_task

    with time_machine.travel(berlin(MONDAY, 10, 0, 30), tick=False):  # the half-minute sweep: nothing new
        assert run_django_task.call_local("relay.cases.tasks.sla_sweep", [], {}) == 0
    with pytest.raises(CommandError, match="not an ISO-8601"):
        call_command("sla", "sweep", "--now", "next monday")


def test_nothing_due_is_a_sweep_of_no_clock(friday_case):
    assert sla.sweep(now=berlin(FRIDAY, 17, 0)).clocks == 0


@pytest.fixture
def queue(settings):
    """Tasks go to an in-memory Huey queue the test can read (never the shared var/ file)."""
    from huey.storage import MemoryStorage

    from relay.config.huey import HUEY

    settings.TASKS = {"default": {"BACKEND": "relay.core.tasks_backend.HueyTaskBackend"}}
    original = HUEY.storage
    HUEY.storage = MemoryStorage("relay-sla-test")
    yield HUEY
    HUEY.storage = original


def test_the_worker_sweeps_every_minute_and_again_30_seconds_later(friday_case, queue):
    from relay.config.huey import sla_sweep

    minute = datetime(2026, 12, 7, 9, 0)
    assert "relay.sla_sweep" in [task.name for task in queue.read_periodic(minute)]
    with time_machine.travel(berlin(MONDAY, 10, 0), tick=False):
        assert sla_sweep.call_local() == 1  # the overdue acknowledgement
        [half_minute_later] = queue.pending()
    assert half_minute_later.args[0] == "relay.cases.tasks.sla_sweep"
    assert half_minute_later.eta == datetime(2026, 12, 7, 9, 0, 30)  # naive UTC, as Huey keeps it
    assert SlaAlert.objects.filter(level=1).count() == 1
    from relay.config.huey import run_django_task

    with time_machine.travel(berlin(MONDAY, 10, 0, 30), tick=False):  # the half-minute sweep: nothing new
        assert run_django_task.call_local("relay.cases.tasks.sla_sweep", [], {}) == 0


def test_editing_a_policy_or_calendar_replans_the_open_cases_on_it(friday_case, sla_policy, sla_calendar):
    sla_policy.resolve_minutes = 4 * 60
    sla_policy.save()
    with time_machine.travel(berlin(MONDAY, 9, 0), tick=False):
        assert sla.replan(policy_ids=[sla_policy.pk]) == 1
    assert _clocks(friday_case)[SlaTarget.RESOLVE].due_at == berlin(MONDAY, 12, 55)
    sla_calendar.hours = {str(day): [["09:00", "12:00"]] for day in range(5)}  # mornings only now
    sla_calendar.version += 1  # as every edit through the services does
    sla_calendar.save()
    with time_machine.travel(berlin(MONDAY, 10, 0), tick=False):
        assert sla.replan(calendar_ids=[sla_calendar.pk]) == 1
    # 65 min used by 10:00, 175 to go: 120 on Monday morning, 55 on Tuesday's
    assert _clocks(friday_case)[SlaTarget.RESOLVE].due_at == berlin((2026, 12, 8), 9, 55)
    assert sla.replan() == 0


def test_an_edit_in_the_editors_replans_after_commit(
    friday_case, sla_policy, manager, settings, django_capture_on_commit_callbacks
):
    from relay.cases.services import sla_config

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        sla_config.policy_update(
            actor=manager, policy=sla_policy, expected_version=1, changes={"resolve_minutes": 60}
        )
    resolve = _clocks(friday_case)[SlaTarget.RESOLVE]
    assert resolve.target_seconds == 3600
    assert resolve.due_at == berlin(MONDAY, 9, 55)
