"""SLA clocks (issue 4, docs/adr/0010-sla.md): every open case's clocks, kept in step with the case, and
the sweep that warns, records breaches and escalates them, exactly once.

* `sync(case, at=...)` is called by every case service that changes what the clocks depend on (opening,
  acknowledging, an update to the customer, a status, the priority, category or channel, a transfer,
  resolving, reopening, merging), inside its transaction and under the case's row lock. It matches the
  policy, checkpoints the business time used so far on the old calendar, applies the new targets, pauses
  or resumes, stops what is done, plans the next moment the sweep must look (`next_at`) and writes the
  case's badge (`sla_status`, `sla_due_at`).
* `sweep(now=...)` takes the clocks whose `next_at` has come (a partial index holds only those with
  something pending), records each warning (level 0), breach (level 1) and later escalation level once
  per clock cycle, tells the people concerned and applies the escalation chain. Rows are claimed with
  `FOR UPDATE SKIP LOCKED` (clocks, then their cases, never waiting: a case a service holds is left for
  the next sweep), and an `SlaAlert` is inserted with ON CONFLICT DO NOTHING: only the sweep whose token
  the row carries acts on it. A sweep killed mid-way rolls back its batch; the next one does it again.

The business-time arithmetic is pure (relay/cases/sla.py); this module only reads and writes rows.
"""

from __future__ import annotations

import copy
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction

from relay.accounts.models import Department, User
from relay.accounts.permissions import CAPABILITY_ROLES, VIEW_CUSTOMERS
from relay.cases import events, recipients
from relay.cases.choices import (
    LIVE_CLOCK_STATES,
    WAITING_CATEGORIES,
    ClockState,
    EscalationReassign,
    EventKind,
    OnTransfer,
    Priority,
    SlaStatus,
    SlaTarget,
)
from relay.cases.models import (
    BusinessCalendar,
    Case,
    DepartmentCalendar,
    SlaAlert,
    SlaClock,
    SlaPolicy,
)
from relay.cases.permissions import confidential_category_ids
from relay.cases.routing import TIER_TAG_PREFIX, tag_key
from relay.cases.sla import WorkCalendar, parse_intervals, span_text
from relay.core import bulk, config_cache, outbox
from relay.core import clock as clock_module
from relay.core.audit import with_actor

logger = logging.getLogger(__name__)
ZERO = timedelta(0)
PRIORITY_STEPS: tuple[str, ...] = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
TARGET_PHRASES: dict[str, str] = {
    SlaTarget.ACKNOWLEDGE: "first response",
    SlaTarget.RESOLVE: "resolution",
    SlaTarget.UPDATE: "update to the customer",
}

# --- calendars and policies ---------------------------------------------------------------------------

ALWAYS_OPEN = WorkCalendar(zone="UTC", always_open=True)
# built calendars by row and edit: their day caches stay warm across requests and sweeps
_built: dict[tuple[int, int, datetime], WorkCalendar] = {}


def work_calendar(row: BusinessCalendar | None) -> WorkCalendar:
    """The pure calendar of a row (24/7 without one), built once per edit of the row."""
    if row is None:
        return ALWAYS_OPEN
    key = (row.pk, row.version, row.updated_at)
    built = _built.get(key)
    if built is None:
        built = _built[key] = build_calendar(row)
    return built


def build_calendar(row: BusinessCalendar) -> WorkCalendar:
    week = {
        int(day): parse_intervals(", ".join(f"{start}-{end}" for start, end in intervals))
        for day, intervals in (row.hours or {}).items()
    }
    return WorkCalendar(
        zone=row.time_zone,
        week=week,
        holidays=[date.fromisoformat(h["date"]) for h in row.custom_holidays or []],
        country=row.holiday_country,
        subdivision=row.holiday_subdivision,
        always_open=row.always_open,
    )


def active_policies() -> list[SlaPolicy]:
    """In order; cached per configuration generation (relay.core.config_cache), each caller gets copies."""
    policies = config_cache.cached(
        "sla.active_policies",
        lambda: list(
            SlaPolicy.objects.filter(is_active=True).select_related("calendar").order_by("order", "id")
        ),
    )
    return [copy.copy(p) for p in policies]


def policy_matches(
    policy: SlaPolicy, case: Case, *, category_path: Sequence[int], tags: Iterable[str]
) -> bool:
    """Every condition the policy sets holds (an empty list does not constrain)."""
    if policy.priorities and case.priority not in policy.priorities:
        return False
    if policy.departments and case.department_id not in policy.departments:
        return False
    if policy.channels and case.channel not in policy.channels:
        return False
    if policy.categories and not set(policy.categories) & set(category_path):
        return False
    if policy.tiers:
        tag_set = set(tags)
        if not any(tag_key(TIER_TAG_PREFIX + t) in tag_set for t in policy.tiers):
            return False
    return True


def match_policy(case: Case, policies: Sequence[SlaPolicy] | None = None) -> SlaPolicy | None:
    """The first active policy (by order) whose conditions the case meets."""
    from relay.cases.services.routing import category_path

    policies = active_policies() if policies is None else policies
    if not policies:
        return None
    path = category_path(case.category) if case.category_id else ()
    tags: list[str] = []
    if any(p.tiers for p in policies):
        tags = list(case.party.tags.values_list("slug", flat=True))
    return next((p for p in policies if policy_matches(p, case, category_path=path, tags=tags)), None)


def calendar_for(policy: SlaPolicy | None, department_id: int | None) -> BusinessCalendar | None:
    """The policy's calendar, else the department's, else the default one, else none (24/7); the
    department's and the default come from the configuration cache (shared instances: not to change)."""
    if policy is not None and policy.calendar_id is not None:
        return policy.calendar
    calendars = config_cache.cached("sla.department_calendars", _department_calendars)
    found = calendars.get(department_id) if department_id is not None else None
    return found or calendars.get(None)


def _department_calendars() -> dict[int | None, BusinessCalendar]:
    """Each department's own calendar, and the default one under None: configuration, a few rows."""
    calendars: dict[int | None, BusinessCalendar] = {
        link.department_id: link.calendar for link in DepartmentCalendar.objects.select_related("calendar")
    }
    default = BusinessCalendar.objects.filter(is_default=True).first()
    if default is not None:
        calendars[None] = default
    return calendars


def due_preview(
    *, policy: SlaPolicy, start: datetime, department_id: int | None = None
) -> dict[str, datetime | None]:
    """When a case opened at `start` under `policy` would be due, per target (for the editors)."""
    cal = work_calendar(calendar_for(policy, department_id))
    return {
        target: (cal.add(start, timedelta(minutes=m)) if (m := policy.target_minutes(target)) else None)
        for target in SlaTarget.values
    }


# --- one case's clocks ------------------------------------------------------------------------------------


def _checkpoint(c: SlaClock, at: datetime) -> None:
    """Fold the business time used since `running_since` into `consumed` (on the clock's own calendar)."""
    if c.state == ClockState.RUNNING and c.running_since is not None and at > c.running_since:
        c.consumed += work_calendar(c.calendar).elapsed(c.running_since, at)
        c.running_since = at


def _new_cycle(c: SlaClock, at: datetime) -> None:
    c.cycle += 1
    c.consumed = ZERO
    c.started_at = at
    c.warned_at = c.breached_at = None
    c.level = 0
    if c.state == ClockState.RUNNING:
        c.running_since = at


def _stop(c: SlaClock, at: datetime, *, cancelled: bool = False) -> None:
    _checkpoint(c, at)
    if c.state == ClockState.PAUSED and c.paused_at is not None:
        c.paused_total += max(at - c.paused_at, ZERO)
    if cancelled:
        c.state = ClockState.CANCELLED
    elif c.level >= 1 or c.consumed > timedelta(seconds=c.target_seconds):
        if c.level == 0:  # ran out between two sweeps: it counts, though nobody is told any more
            c.breaches += 1
        c.state = ClockState.MISSED
    else:
        c.state = ClockState.MET
    c.running_since = c.paused_at = c.warn_at = c.next_at = None
    c.stopped_at = at


def _run_or_pause(c: SlaClock, at: datetime, *, waiting: bool) -> None:
    if waiting and c.state == ClockState.RUNNING:
        _checkpoint(c, at)
        c.state, c.running_since, c.paused_at = ClockState.PAUSED, None, at
    elif not waiting and c.state == ClockState.PAUSED:
        if c.paused_at is not None:
            c.paused_total += max(at - c.paused_at, ZERO)
        c.state, c.running_since, c.paused_at = ClockState.RUNNING, at, None


def _level_at(c: SlaClock, level: int, cal: WorkCalendar) -> datetime | None:
    """When a running clock reaches escalation `level` (1: its due time; 2...: the chain's later levels)."""
    assert c.running_since is not None
    if level == 1:
        used = timedelta(seconds=c.target_seconds)
    else:
        chain = c.policy.escalation if c.policy is not None else []
        if level > len(chain):
            return None
        used = timedelta(seconds=c.target_seconds, minutes=int(chain[level - 1].get("after_minutes") or 0))
    remaining = used - c.consumed
    return cal.add(c.running_since, remaining) if remaining > ZERO else c.running_since


def _plan(c: SlaClock) -> None:
    """Due and warning times and the sweep's `next_at`, from the state just set."""
    if c.state != ClockState.RUNNING:
        c.warn_at = c.next_at = None
        if c.state != ClockState.PAUSED:
            return
        c.due_at = None  # a paused clock is due when it runs again
        return
    cal = work_calendar(c.calendar)
    c.due_at = _level_at(c, 1, cal)
    warn = timedelta(seconds=c.warn_seconds)
    assert c.running_since is not None
    if c.warned_at is None and c.level == 0:
        c.warn_at = cal.add(c.running_since, warn - c.consumed) if warn > c.consumed else c.running_since
    else:
        c.warn_at = None
    pending = [t for t in (c.warn_at, _level_at(c, c.level + 1, cal)) if t is not None]
    c.next_at = min(pending) if pending else None


def _fresh_clock(case: Case, target: str, at: datetime) -> SlaClock:
    return SlaClock(
        case=case,
        target=target,
        state=ClockState.RUNNING,
        target_seconds=0,
        warn_seconds=0,
        consumed=ZERO,
        started_at=at,
        running_since=at,
        paused_total=ZERO,
    )


def sync(
    case: Case,
    *,
    at: datetime | None = None,
    responded: bool = False,
    transferred: bool = False,
    policies: Sequence[SlaPolicy] | None = None,
) -> list[SlaClock]:
    """Bring the case's clocks in line with the case as it now is (see the module docstring).

    `responded`: the customer was just updated (restarts the update clock). `transferred`: the case just
    changed department or handler (restarts every clock when the policy says so). A case being opened,
    not inserted yet, has no clocks: its badge is set on it for its insert to write (no update after it),
    and its new clocks are returned unsaved, for the caller to insert (`SlaClock.objects.bulk_create`)
    once the case has its id."""
    at = at or clock_module.now()
    clocks: dict[str, SlaClock] = {}
    opening = case._state.adding
    if not opening:
        rows = SlaClock.objects.filter(case=case).select_related("policy", "calendar")
        clocks = {c.target: c for c in rows}
    changed: list[SlaClock] = []
    if not case.is_open() or case.merged_into_id is not None:
        for done in clocks.values():
            if done.is_live():
                _stop(done, at, cancelled=case.merged_into_id is not None)
                changed.append(done)
    else:
        policy = match_policy(case, policies)
        calendar = calendar_for(policy, case.department_id) if policy is not None else None
        waiting = case.status_category in WAITING_CATEGORIES
        restart = transferred and policy is not None and policy.on_transfer == OnTransfer.RESTART
        acknowledged = case.acknowledged_at is not None or case.first_response_at is not None
        for target in SlaTarget.values:
            minutes = policy.target_minutes(target) if policy is not None else None
            existing = clocks.get(target)
            if minutes is None:
                if existing is not None and existing.is_live():
                    _stop(existing, at, cancelled=True)
                    changed.append(existing)
                continue
            assert policy is not None
            if existing is None:
                if target == SlaTarget.ACKNOWLEDGE and acknowledged:
                    continue  # answered before any policy applied
                c = clocks[target] = _fresh_clock(case, target, at)
            elif not (c := existing).is_live():
                if target == SlaTarget.ACKNOWLEDGE:
                    continue  # a first response happens once
                # reopened: the resolution clock goes on from what it had used; the update clock anew
                c.state, c.running_since, c.stopped_at = ClockState.RUNNING, at, None
                if target == SlaTarget.UPDATE:
                    _new_cycle(c, at)
            else:
                _checkpoint(c, at)
            if restart or (responded and target == SlaTarget.UPDATE):
                _new_cycle(c, at)
            c.policy, c.calendar = policy, calendar
            c.target_seconds = minutes * 60
            c.warn_seconds = minutes * 60 * policy.warn_percent // 100
            if target == SlaTarget.ACKNOWLEDGE and acknowledged:
                _stop(c, at)
            else:
                _run_or_pause(c, at, waiting=waiting)
                _plan(c)
            changed.append(c)
    if opening:
        case.sla_status, case.sla_due_at = badge(clocks.values(), at)
        return list(clocks.values())
    new = [c for c in changed if c.pk is None]
    for c in changed:
        if c.pk is not None:
            c.save()
    SlaClock.objects.bulk_create(new)
    set_badge(case, list(clocks.values()), at)
    return list(clocks.values())


def replan(
    *,
    policy_ids: Iterable[int] = (),
    calendar_ids: Iterable[int] = (),
    department_ids: Iterable[int] = (),
    batch_size: int = 200,
) -> int:
    """Re-plan the live clocks of open cases that run on these policies or calendars, or are handled by
    these departments (after an edit of targets, hours, holidays or a department's calendar): each case is
    locked and synced, a batch per transaction. The time used since a clock's last change is counted on
    the calendar as it now is. Returns the cases done."""
    from django.db.models import Q

    policy_ids, calendar_ids, department_ids = list(policy_ids), list(calendar_ids), list(department_ids)
    if not policy_ids and not calendar_ids and not department_ids:
        return 0
    live = SlaClock.objects.filter(state__in=list(LIVE_CLOCK_STATES)).filter(
        Q(policy_id__in=policy_ids)
        | Q(calendar_id__in=calendar_ids)
        | Q(case__department_id__in=department_ids)
    )
    done, after = 0, 0
    while True:
        ids = list(
            live.filter(case_id__gt=after)
            .order_by("case_id")
            .values_list("case_id", flat=True)
            .distinct()[:batch_size]
        )
        if not ids:
            return done
        with transaction.atomic():
            policies = active_policies()
            for case in Case.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"):
                sync(case, policies=policies)
                done += 1
        after = ids[-1]


def replan_later(
    *, policy_ids: Iterable[int] = (), calendar_ids: Iterable[int] = (), department_ids: Iterable[int] = ()
) -> None:
    """After the caller's transaction commits, have a worker `replan` (the editors' writes call this)."""
    kwargs = {
        "policy_ids": sorted(set(policy_ids)),
        "calendar_ids": sorted(set(calendar_ids)),
        "department_ids": sorted(set(department_ids)),
    }

    def enqueue() -> None:
        from relay.cases.tasks import sla_replan

        try:
            sla_replan.enqueue(**kwargs)
        except Exception:  # the clocks follow anyway when each case next changes
            logger.exception("Could not enqueue the SLA re-plan %s", kwargs)

    transaction.on_commit(enqueue, robust=True)


def badge(clocks: Iterable[SlaClock], at: datetime) -> tuple[str, datetime | None]:
    """The worst state of the live clocks, and the earliest due time of those running."""
    live = [c for c in clocks if c.is_live()]
    if not live:
        return SlaStatus.NONE, None
    running = [c for c in live if c.state == ClockState.RUNNING]
    due = min((c.due_at for c in running if c.due_at is not None), default=None)
    if any(c.level >= 1 for c in live) or any(c.due_at is not None and c.due_at <= at for c in running):
        return SlaStatus.BREACHED, due  # an overdue clock is breached before the sweep says so
    if any(c.warned_at is not None or (c.warn_at is not None and c.warn_at <= at) for c in running):
        return SlaStatus.AT_RISK, due
    if not running:
        return SlaStatus.PAUSED, None
    return SlaStatus.ON_TIME, due


def set_badge(case: Case, clocks: Iterable[SlaClock], at: datetime) -> None:
    status, due = badge(clocks, at)
    if (case.sla_status, case.sla_due_at) != (status, due):
        case.sla_status, case.sla_due_at = status, due
        Case.objects.filter(pk=case.pk).update(sla_status=status, sla_due_at=due)


# --- the sweep --------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    now: datetime
    clocks: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    skipped: int = 0  # cases another transaction held; the next sweep takes them

    def as_text(self) -> str:
        return (
            f"Swept as of {self.now.isoformat()}: {self.clocks} clocks due, {self.warnings} warnings, "
            f"{self.breaches} breaches, {self.escalations} escalations"
            + (f", {self.skipped} left for the next sweep (busy)" if self.skipped else "")
        )


def sweep(*, now: datetime | None = None, batch_size: int = 500) -> SweepResult:
    """Record and notify every warning, breach and escalation due by `now`, in batches of one
    transaction each. Any number of sweeps may run at once."""
    now = now or clock_module.now()
    result = SweepResult(now=now)
    while True:
        with transaction.atomic():
            claimed = _sweep_batch(now, batch_size, result)
        if claimed < batch_size:
            return result


def _sweep_batch(now: datetime, batch_size: int, result: SweepResult) -> int:
    clocks = list(
        SlaClock.objects.select_for_update(skip_locked=True)
        .filter(next_at__lte=now)
        .order_by("next_at", "id")[:batch_size]
    )
    if not clocks:
        return 0
    case_ids = {c.case_id for c in clocks}
    cases = {
        case.pk: case
        for case in Case.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("department")
        .filter(pk__in=case_ids)
    }
    policy_ids = {c.policy_id for c in clocks if c.policy_id}
    calendar_ids = {c.calendar_id for c in clocks if c.calendar_id}
    policies = {p.pk: p for p in SlaPolicy.objects.filter(pk__in=policy_ids)}
    calendars = {b.pk: b for b in BusinessCalendar.objects.filter(pk__in=calendar_ids)}
    token = uuid.uuid4().hex
    due: list[tuple[SlaClock, SlaAlert]] = []
    touched: list[SlaClock] = []
    for c in clocks:
        case = cases.get(c.case_id)
        if case is None:
            result.skipped += 1
            continue
        result.clocks += 1
        c.case = case
        c.policy = policies.get(c.policy_id) if c.policy_id else None
        c.calendar = calendars.get(c.calendar_id) if c.calendar_id else None
        touched.append(c)
        if c.state != ClockState.RUNNING or not case.is_open():
            c.next_at = None  # stale: the services keep live clocks planned
            continue
        cal = work_calendar(c.calendar)
        if c.warned_at is None and c.warn_at is not None and c.warn_at <= now:
            c.warned_at = now
            if c.level == 0 and c.due_at is not None and c.due_at > now:
                due.append((c, _alert(c, 0, c.warn_at, now, token)))
        while (reached := _level_at(c, c.level + 1, cal)) is not None and reached <= now:
            c.level += 1
            if c.level == 1:
                c.breached_at = reached
                c.breaches += 1
            due.append((c, _alert(c, c.level, reached, now, token)))
        _plan(c)
    SlaAlert.objects.bulk_create([alert for _, alert in due], ignore_conflicts=True)
    ours = set(
        SlaAlert.objects.filter(token=token).values_list("clock_id", "cycle", "level")
    )  # the constraint decided: act only on what this sweep inserted
    bulk.update(touched, ["warned_at", "breached_at", "level", "breaches", "warn_at", "due_at", "next_at"])
    mine = [(c, alert) for c, alert in due if (c.pk, alert.cycle, alert.level) in ours]
    escalated = _tell(mine, result)
    _badges([cases[i] for i in {c.case_id for c in touched} - escalated], touched, now)
    for case_id in escalated:  # the chain changed the case: its clocks follow (new priority, department)
        sync(cases[case_id], at=now)
    return len(clocks)


def _badges(cases: list[Case], touched: list[SlaClock], now: datetime) -> None:
    """Write the badge of each case whose clocks the sweep moved (one read, one bulk update)."""
    if not cases:
        return
    by_case: dict[int, list[SlaClock]] = {case.pk: [] for case in cases}
    for c in touched:
        if c.case_id in by_case:
            by_case[c.case_id].append(c)
    others = SlaClock.objects.filter(case_id__in=list(by_case)).exclude(pk__in=[c.pk for c in touched])
    for c in others:
        by_case[c.case_id].append(c)
    changed = []
    for case in cases:
        status, due = badge(by_case[case.pk], now)
        if (case.sla_status, case.sla_due_at) != (status, due):
            case.sla_status, case.sla_due_at = status, due
            changed.append(case)
    bulk.update(changed, ["sla_status", "sla_due_at"])


def _alert(c: SlaClock, level: int, due_at: datetime, now: datetime, token: str) -> SlaAlert:
    return SlaAlert(
        clock=c,
        case_id=c.case_id,
        target=c.target,
        cycle=c.cycle,
        level=level,
        due_at=due_at,
        at=now,
        late_seconds=max(int((now - due_at).total_seconds()), 0),
        department_id=c.case.department_id,
        assignee_id=c.case.assignee_id,
        token=token,
    )


class _Audience:
    """Who may be told about the cases of one batch: the members of their departments and the active
    staff among the people they name, read in two queries for the whole batch. A confidential case asks
    recipients.allowed, case by case."""

    def __init__(self, cases: Iterable[Case], extra: Iterable[int | None] = ()) -> None:
        cases = list(cases)
        departments = {d for c in cases for d in (c.department_id, c.originating_department_id) if d}
        self.members: dict[int, set[int]] = {d: set() for d in departments}
        for user_id, department_id in User.departments.through.objects.filter(
            department_id__in=departments, user__is_active=True
        ).values_list("user_id", "department_id"):
            self.members[department_id].add(user_id)
        named = {pk for c in cases for pk in (c.assignee_id, c.originator_id, c.department.supervisor_id)}
        candidates = set().union(*self.members.values(), named, extra) - {None}
        self.staff = set(
            User.objects.filter(
                pk__in=candidates, is_active=True, role__in=CAPABILITY_ROLES[VIEW_CUSTOMERS]
            ).values_list("pk", flat=True)
        )
        self.secret = confidential_category_ids()

    def handler(self, case: Case) -> set[int]:
        if case.assignee_id is not None:
            return {case.assignee_id}
        return set(self.members.get(case.department_id, ()))

    def office(self, case: Case) -> set[int]:
        """The originating office: the originator and the members of the originating department."""
        ids = set(self.members.get(case.originating_department_id or 0, ()))
        if case.originator_id is not None:
            ids.add(case.originator_id)
        return ids

    def allowed(self, case: Case, ids: set[int]) -> list[int]:
        if case.category_id is not None and case.category_id in self.secret:
            return sorted(recipients.allowed(case, ids))
        return sorted(ids & self.staff)


def _payload(case: Case, title: str, alert: SlaAlert, event_id: int | None) -> dict[str, Any]:
    return {
        "title": f"{case.number} {title}",
        "body": case.subject,
        "url": case.get_absolute_url(),
        "case_id": case.pk,
        "case_number": case.number,
        "event_id": event_id,
        "actor_id": None,
        "target": alert.target,
        "level": alert.level,
        "due_at": alert.due_at.isoformat(),
        "late_seconds": alert.late_seconds,
    }


def _tell(mine: list[tuple[SlaClock, SlaAlert]], result: SweepResult) -> set[int]:
    """Act on the alerts this sweep recorded: a warning tells the handler; a breach (or a later level)
    applies its step of the escalation chain, goes on the case's history and the party's timeline with
    how late it is, and tells the handler (and the one it was taken from), the supervisor and the
    originating office that the ball dropped and an update is requested. Returns the cases the chain
    changed."""
    escalated: set[int] = set()
    breaches: list[tuple[SlaClock, SlaAlert, list[str], int | None]] = []
    for c, alert in mine:
        if alert.level == 0:
            result.warnings += 1
            continue
        result.breaches += alert.level == 1
        result.escalations += alert.level > 1
        previous = c.case.assignee_id
        actions = _apply_step(c.case, _step(c, alert.level))
        if actions:
            escalated.add(c.case_id)
        breaches.append((c, alert, actions, previous))
    audience = _Audience([c.case for c, _ in mine], extra=[p for *_, p in breaches])
    notices: list[tuple[str, dict[str, Any], list[int], str]] = []
    for c, alert in mine:
        if alert.level == 0:
            case = c.case
            left = max(int(((c.due_at or alert.at) - alert.at).total_seconds()), 0)
            title = f"At risk: {TARGET_PHRASES[c.target]} due in {span_text(left)}"
            handler = audience.allowed(case, audience.handler(case))
            notices.append(("case.sla.warning", _payload(case, title, alert, None), handler, _key(c, alert)))
    headlines = [_headline(c, alert, actions) for c, alert, actions, _ in breaches]
    recorded = events.record_many(
        [
            events.SystemEvent(
                case=c.case,
                kind=EventKind.SLA_BREACHED if alert.level == 1 else EventKind.SLA_ESCALATED,
                at=alert.at,
                headline=headline,
                data={
                    "target": c.target,
                    "level": alert.level,
                    "cycle": alert.cycle,
                    "due_at": alert.due_at.isoformat(),
                    "late_seconds": alert.late_seconds,
                    "update_requested": True,
                    "actions": actions,
                },
            )
            for (c, alert, actions, _), headline in zip(breaches, headlines, strict=True)
        ]
    )
    for (c, alert, _, previous), headline, event_id in zip(breaches, headlines, recorded, strict=True):
        case = c.case
        named = {pk for pk in (previous, case.department.supervisor_id) if pk is not None}
        people = audience.handler(case) | audience.office(case) | named
        name = "case.sla.breached" if alert.level == 1 else "case.sla.escalated"
        notices.append(
            (name, _payload(case, headline, alert, event_id), audience.allowed(case, people), _key(c, alert))
        )
    outbox.emit_many(notices)
    return escalated


def _key(c: SlaClock, alert: SlaAlert) -> str:
    return f"sla:{c.pk}:{alert.cycle}:{alert.level}"


def _step(c: SlaClock, level: int) -> dict[str, Any]:
    chain = c.policy.escalation if c.policy is not None else []
    return chain[level - 1] if level <= len(chain) else {}


def _headline(c: SlaClock, alert: SlaAlert, actions: list[str]) -> str:
    phrase, late = TARGET_PHRASES[c.target], span_text(alert.late_seconds)
    if alert.level == 1:
        text = f"Dropped ball: {phrase} overdue by {late}; update requested"
    else:
        text = f"Escalated to level {alert.level}: {phrase} overdue by {late}"
    return text + ("; " + "; ".join(actions) if actions else "")


def _apply_step(case: Case, step: dict[str, Any]) -> list[str]:
    """Apply one level of the escalation chain to the (locked) case; what was done, in words."""
    done: list[str] = []
    if step.get("raise_priority") and case.priority != PRIORITY_STEPS[-1]:
        case.priority = PRIORITY_STEPS[PRIORITY_STEPS.index(case.priority) + 1]
        done.append(f"priority raised to {Priority(case.priority).label.lower()}")
    reassign = step.get("reassign") or EscalationReassign.NONE
    if reassign == EscalationReassign.SUPERVISOR:
        supervisor = case.department.supervisor
        if supervisor is not None and supervisor.is_active and case.assignee_id != supervisor.pk:
            case.assignee = supervisor
            done.append(f"reassigned to {supervisor.display_name}")
    elif reassign == EscalationReassign.DEPARTMENT and step.get("department"):
        target = Department.objects.filter(pk=step["department"], is_active=True).first()
        if target is not None and target.pk != case.department_id:
            case.department, case.assignee = target, None
            done.append(f"transferred to {target.name}")
    if done:
        case.version += 1
        case.updated_at = clock_module.now()
        with_actor(case, None)
        case.save()
    return done


# --- metrics ------------------------------------------------------------------------------------------


def business_minutes(c: SlaClock, at: datetime | None = None) -> int:
    """Business minutes the clock has used (up to `at` while running)."""
    used = c.consumed
    if c.state == ClockState.RUNNING and c.running_since is not None:
        used += work_calendar(c.calendar).elapsed(c.running_since, at or clock_module.now())
    return int(used.total_seconds() // 60)


__all__ = [
    "SweepResult",
    "active_policies",
    "badge",
    "build_calendar",
    "business_minutes",
    "calendar_for",
    "due_preview",
    "match_policy",
    "sweep",
    "sync",
    "work_calendar",
]
