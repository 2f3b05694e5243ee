"""Reads of the SLA in the staff's daily work (issue 4, points 4 and 6): a case's clocks and alerts for
its page, the "at risk" and "breached" lists of a department, the dropped-balls report, and the metrics
analytics will read (plain functions returning dataclasses).

Every read is scoped like the cases it is about: `Case.objects.restrict(actor, "view")`,
`SlaClock.objects.restrict(...)`, `SlaAlert.objects.restrict(...)` (a confidential case's clocks and
alerts exist only for its circle). On top of that, the dropped-balls report shows agents only their own
breaches (`sees_team_breaches`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, DateTimeField, DurationField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from relay.accounts.choices import Role
from relay.accounts.models import Department, User
from relay.cases.choices import OPEN_CATEGORIES, ClockState, SlaStatus, SlaTarget
from relay.cases.models import Case, SlaAlert, SlaClock
from relay.cases.permissions import hidden_rule, visible_counts
from relay.cases.selectors import case_queryset
from relay.cases.services.sla import work_calendar
from relay.core import clock as clock_module
from relay.core.exceptions import ApplicationError
from relay.core.pagination import Ordering, Page, paginate

ZERO = timedelta(0)
TARGETS: tuple[str, ...] = tuple(SlaTarget.values)
# the two lists of a department (the badge states worth a list of their own)
LIST_STATUSES: tuple[str, ...] = (SlaStatus.AT_RISK, SlaStatus.BREACHED)
# a breached case whose clocks are all paused has no due time: it sorts after every due one
_NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)
# roles that read everyone's breaches; agents read their own (see `sees_team_breaches`)
TEAM_BREACH_ROLES: frozenset[str] = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN, Role.AUDITOR})
LONGEST_PERIOD = timedelta(days=366)


def _now(at: datetime | None) -> datetime:
    return at or clock_module.now()


def business_used(c: SlaClock, at: datetime) -> timedelta:
    """Business time the clock has used this cycle, up to `at` while it runs."""
    used = c.consumed
    if c.state == ClockState.RUNNING and c.running_since is not None and at > c.running_since:
        used += work_calendar(c.calendar).elapsed(c.running_since, at)
    return used


def paused_for(c: SlaClock, at: datetime) -> timedelta:
    """Wall-clock time the clock has been paused, all cycles, the current pause included."""
    paused = c.paused_total
    if c.state == ClockState.PAUSED and c.paused_at is not None and at > c.paused_at:
        paused += at - c.paused_at
    return paused


# --- the case page ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockRow:
    """One clock as the case page shows it."""

    target: str
    target_label: str
    state: str
    state_label: str
    policy_name: str
    calendar_name: str  # "24/7" without a calendar
    zone: str  # the calendar's time zone (UTC for 24/7)
    due_at: datetime | None  # running: when it runs out; stopped: the due time it had
    used: timedelta  # business time used this cycle
    allowed: timedelta  # the target
    paused: timedelta  # wall-clock time paused, all cycles
    breaches: int  # cycles that ran out, all cycles
    cycle: int
    breached: bool  # this cycle ran out (an alert of level 1 or more, or stopped missed)
    late: timedelta | None  # how late, wall-clock: up to now while running, to the stop when missed
    stopped_at: datetime | None

    @property
    def used_percent(self) -> int:
        if not self.allowed:
            return 0
        return int(self.used / self.allowed * 100)


@dataclass(frozen=True)
class AlertRow:
    """A warning, a breach ("dropped ball") or a later escalation level of a case."""

    level: int
    kind: str  # warning, breach, escalation
    target: str
    target_label: str
    due_at: datetime  # a warning: when it was due to warn; a breach: the due time that was missed
    at: datetime  # when the sweep recorded it
    late: timedelta  # when it was recorded, how long after `due_at`
    cycle: int
    department_name: str
    assignee_name: str


@dataclass
class CaseSla:
    clocks: list[ClockRow] = field(default_factory=list)
    alerts: list[AlertRow] = field(default_factory=list)

    @property
    def policy_names(self) -> list[str]:
        return sorted({c.policy_name for c in self.clocks if c.policy_name})


def _clock_row(c: SlaClock, at: datetime) -> ClockRow:
    due = c.due_at
    breached = c.level >= 1 or c.state == ClockState.MISSED
    late: timedelta | None = None
    if breached and due is not None:
        until = c.stopped_at if c.state == ClockState.MISSED and c.stopped_at else at
        late = max(until - due, ZERO)
    return ClockRow(
        target=c.target,
        target_label=SlaTarget(c.target).label,
        state=c.state,
        state_label=ClockState(c.state).label,
        policy_name=c.policy.name if c.policy is not None else "",
        calendar_name=c.calendar.name if c.calendar is not None else "24/7",
        zone=c.calendar.time_zone if c.calendar is not None else "UTC",
        due_at=due,
        used=business_used(c, at),
        allowed=timedelta(seconds=c.target_seconds),
        paused=paused_for(c, at),
        breaches=c.breaches,
        cycle=c.cycle,
        breached=breached,
        late=late,
        stopped_at=c.stopped_at,
    )


def _alert_kind(level: int) -> str:
    return "warning" if level == 0 else "breach" if level == 1 else "escalation"


def _may_have_alerts(clocks: list[SlaClock]) -> bool:
    """Whether any alert can exist: a warning sets `warned_at` and a breach `breaches` (a new cycle
    resets `warned_at` but counts up `cycle`)."""
    return any(c.warned_at is not None or c.breaches or c.level or c.cycle > 1 for c in clocks)


def case_sla(*, actor: User, case: Case, at: datetime | None = None) -> CaseSla:
    """The SLA panel of the case page: each clock (acknowledge, resolve, update order) and the case's
    alerts, newest first. The clocks are read through their row scope; the alerts (same scope: readable
    with the case) only when the actor could read a clock saying there are some."""
    at = _now(at)
    clocks = list(
        SlaClock.objects.restrict(actor, "view")
        .filter(case=case)
        .select_related("policy", "calendar")
        .order_by("id")
    )
    clocks.sort(key=lambda c: TARGETS.index(c.target))
    result = CaseSla(clocks=[_clock_row(c, at) for c in clocks])
    if _may_have_alerts(clocks):
        alerts = (
            SlaAlert.objects.filter(case=case)
            .select_related("department", "assignee")
            .order_by("-at", "-level", "-id")
        )
        result.alerts = [
            AlertRow(
                level=a.level,
                kind=_alert_kind(a.level),
                target=a.target,
                target_label=SlaTarget(a.target).label,
                due_at=a.due_at,
                at=a.at,
                late=timedelta(seconds=a.late_seconds),
                cycle=a.cycle,
                department_name=a.department.name if a.department is not None else "",
                assignee_name=a.assignee.display_name if a.assignee is not None else "",
            )
            for a in alerts
        ]
    return result


# --- the "at risk" and "breached" lists of a department ----------------------------------------------------


def sla_counts(*, actor: User, department: Department) -> dict[str, int]:
    """The department's open cases at risk and breached (one GROUP BY over the SLA index, less the
    confidential cases the actor may not see, as the queue counts)."""
    cases = Case.objects.filter(
        department=department, status_category__in=sorted(OPEN_CATEGORIES), sla_status__in=LIST_STATUSES
    )
    counts = dict.fromkeys(LIST_STATUSES, 0)
    counts.update(visible_counts(cases, hidden_rule(actor), "sla_status"))
    return counts


def sla_list(
    *, actor: User, department: Department, status: str, cursor: str | None = None, size: int = 25
) -> Page:
    """Open cases of the department with the badge `status` (at risk or breached), soonest due first
    (the most overdue first), keyset pages. At risk cases always have a due time and walk the index in
    its order; breached ones may be paused (no due time) and come last."""
    if status not in LIST_STATUSES:
        raise ApplicationError(
            "Invalid list.", errors={"status": [f"Use one of: {', '.join(LIST_STATUSES)}."]}
        )
    qs = case_queryset(actor=actor).filter(
        department=department, status_category__in=sorted(OPEN_CATEGORIES), sla_status=status
    )
    if status == SlaStatus.AT_RISK:
        return paginate(
            qs.filter(sla_due_at__isnull=False), ordering=Ordering("sla_due_at"), cursor=cursor, size=size
        )
    qs = qs.annotate(due_rank=Coalesce("sla_due_at", Value(_NO_DUE, output_field=DateTimeField())))
    return paginate(qs, ordering=Ordering("due_rank"), cursor=cursor, size=size)


# --- the dropped-balls report -----------------------------------------------------------------------------


def sees_team_breaches(actor: User) -> bool:
    """Supervisors, managers, admins and auditors read every breach they may see; an agent reads only
    the breaches of cases that were theirs at the time (a report about colleagues is for their lead)."""
    return getattr(actor, "role", None) in TEAM_BREACH_ROLES


def _check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ApplicationError("Invalid period.", errors={"to": ["The end must be after the start."]})
    if end - start > LONGEST_PERIOD:
        raise ApplicationError("Invalid period.", errors={"to": ["At most a year at a time."]})


def breaches_in(
    *,
    actor: User,
    start: datetime,
    end: datetime,
    department: Department | None = None,
    assignee_id: int | None = None,
) -> QuerySet[SlaAlert]:
    """Dropped balls (alerts of level 1) recorded in [start, end) that the actor may read."""
    _check_period(start, end)
    qs = SlaAlert.objects.restrict(actor, "view").filter(level=1, at__gte=start, at__lt=end)
    if not sees_team_breaches(actor):
        qs = qs.filter(assignee=actor)
    if department is not None:
        qs = qs.filter(department=department)
    if assignee_id is not None:
        qs = qs.filter(assignee_id=assignee_id)
    return qs


@dataclass
class BreachTally:
    """Breaches of one department or one person (assignee at the time), by target."""

    id: int | None  # None: no department / nobody assigned
    name: str
    by_target: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_target.values())


@dataclass
class DroppedBalls:
    start: datetime
    end: datetime
    departments: list[BreachTally]
    people: list[BreachTally]
    by_target: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_target.values())


def _tallies(rows: list[Any], key: str, names: dict[int, str], nobody: str) -> list[BreachTally]:
    by_key: dict[int | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TARGETS, 0))
    for row in rows:
        by_key[row[key]][row["target"]] += row["n"]
    tallies = [
        BreachTally(k, names.get(k, nobody) if k is not None else nobody, v) for k, v in by_key.items()
    ]
    return sorted(tallies, key=lambda t: (-t.total, t.name.lower(), t.id or 0))


def dropped_balls(
    *,
    actor: User,
    start: datetime,
    end: datetime,
    department: Department | None = None,
    assignee_id: int | None = None,
) -> DroppedBalls:
    """Breaches in the period per department and per person (assignee at the time), by target: two
    GROUP BYs and the names of those counted."""
    qs = breaches_in(actor=actor, start=start, end=end, department=department, assignee_id=assignee_id)
    rows = list(qs.order_by().values("department_id", "assignee_id", "target").annotate(n=Count("id")))
    department_ids = {r["department_id"] for r in rows if r["department_id"] is not None}
    people_ids = {r["assignee_id"] for r in rows if r["assignee_id"] is not None}
    department_names = dict(Department.objects.filter(pk__in=department_ids).values_list("pk", "name"))
    people_names = {u.pk: u.display_name for u in User.objects.filter(pk__in=people_ids)}
    by_target = dict.fromkeys(TARGETS, 0)
    for row in rows:
        by_target[row["target"]] += row["n"]
    return DroppedBalls(
        start=start,
        end=end,
        departments=_tallies(rows, "department_id", department_names, "No department"),
        people=_tallies(rows, "assignee_id", people_names, "Unassigned"),
        by_target=by_target,
    )


@dataclass(frozen=True)
class BreachRow:
    alert: SlaAlert
    case: Case
    target_label: str
    # how late the case was: when answered/resolved late, until then; still running, until now; else
    # (the clock restarted since) how late it was when the breach was recorded
    late: timedelta
    still_late: bool


def breach_list(
    *,
    actor: User,
    start: datetime,
    end: datetime,
    department: Department | None = None,
    assignee_id: int | None = None,
    cursor: str | None = None,
    size: int = 25,
    at: datetime | None = None,
) -> Page:
    """The dropped balls of the report, newest first, keyset pages of `BreachRow`."""
    at = _now(at)
    qs = breaches_in(
        actor=actor, start=start, end=end, department=department, assignee_id=assignee_id
    ).select_related("case", "case__status", "case__department", "clock", "department", "assignee")
    page = paginate(qs, ordering=Ordering("at", descending=True), cursor=cursor, size=size)
    page.items = [_breach_row(a, at) for a in page.items]
    return page


def _breach_row(a: SlaAlert, at: datetime) -> BreachRow:
    c = a.clock
    late = timedelta(seconds=a.late_seconds)
    still_late = False
    if c.cycle == a.cycle and c.due_at is not None:
        if c.state == ClockState.MISSED and c.stopped_at is not None:
            late = max(c.stopped_at - c.due_at, late)
        elif c.state == ClockState.RUNNING:
            late, still_late = max(at - c.due_at, late), True
    return BreachRow(
        alert=a, case=a.case, target_label=SlaTarget(a.target).label, late=late, still_late=still_late
    )


# --- metrics (analytics reads these) ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseSlaMetrics:
    """One case's figures. Wall-clock times from the case's own timestamps; business times from its
    clocks (None without a clock for the target, or while the target is not done)."""

    case_id: int
    time_to_acknowledge: timedelta | None  # opening -> the first response or acknowledgement
    business_time_to_acknowledge: timedelta | None
    time_to_resolve: timedelta | None  # opening -> the (last) resolution; None while open
    business_time_to_resolve: timedelta | None
    time_paused: timedelta  # wall-clock time the clocks were paused (the resolution clock's)
    breaches: dict[str, int]  # target -> cycles that ran out


def _case_metrics(case: Case, clocks: list[SlaClock], at: datetime) -> CaseSlaMetrics:
    by_target = {c.target: c for c in clocks}
    answered = [t for t in (case.acknowledged_at, case.first_response_at) if t is not None]
    ack = by_target.get(SlaTarget.ACKNOWLEDGE)
    resolve = by_target.get(SlaTarget.RESOLVE)
    done = (ClockState.MET, ClockState.MISSED)
    if resolve is not None:
        paused = paused_for(resolve, at)
    else:
        paused = max((paused_for(c, at) for c in clocks), default=ZERO)
    return CaseSlaMetrics(
        case_id=case.pk,
        time_to_acknowledge=min(answered) - case.opened_at if answered else None,
        business_time_to_acknowledge=ack.consumed if ack is not None and ack.state in done else None,
        time_to_resolve=(
            case.resolved_at - case.opened_at if case.resolved_at is not None and not case.is_open() else None
        ),
        business_time_to_resolve=(
            resolve.consumed if resolve is not None and resolve.state in done else None
        ),
        time_paused=paused,
        breaches={t: (by_target[t].breaches if t in by_target else 0) for t in TARGETS},
    )


def case_sla_metrics(*, actor: User, case: Case, at: datetime | None = None) -> CaseSlaMetrics:
    """The figures of one case the actor may see (an invisible case has no clocks for them)."""
    clocks = list(SlaClock.objects.restrict(actor, "view").filter(case=case).select_related("calendar"))
    return _case_metrics(case, clocks, _now(at))


def cases_sla_metrics(
    *, actor: User, cases: list[Case], at: datetime | None = None
) -> dict[int, CaseSlaMetrics]:
    """The figures of many cases at once (one query for all their clocks), by case id."""
    at = _now(at)
    clocks: dict[int, list[SlaClock]] = defaultdict(list)
    for c in SlaClock.objects.restrict(actor, "view").filter(case__in=[case.pk for case in cases]):
        clocks[c.case_id].append(c)
    return {case.pk: _case_metrics(case, clocks[case.pk], at) for case in cases}


@dataclass
class TargetCompliance:
    """Clocks of one target stopped in the period: met or missed (cancelled ones do not count)."""

    target: str
    label: str
    met: int = 0
    missed: int = 0
    average: timedelta | None = None  # wall-clock, from the start of the clock's cycle to its stop
    average_business: timedelta | None = None

    @property
    def stopped(self) -> int:
        return self.met + self.missed

    @property
    def percent(self) -> float | None:
        """Compliance: met / (met + missed), in %; None when nothing stopped."""
        return round(self.met * 100 / self.stopped, 1) if self.stopped else None


@dataclass
class DepartmentSlaMetrics:
    department_id: int
    name: str
    targets: dict[str, TargetCompliance]
    breaches: int  # dropped balls recorded in the period while the department had the case

    @property
    def average_first_response(self) -> timedelta | None:
        return self.targets[SlaTarget.ACKNOWLEDGE].average

    @property
    def average_first_response_business(self) -> timedelta | None:
        return self.targets[SlaTarget.ACKNOWLEDGE].average_business


def department_sla_metrics(
    *, actor: User, start: datetime, end: datetime, department: Department | None = None
) -> list[DepartmentSlaMetrics]:
    """Per department (the one handling the case now, for the clocks; the one that had it at the time,
    for the breaches), for clocks stopped and breaches recorded in [start, end): compliance % per target,
    the number of breaches, and the average time to first response (wall-clock and business), over the
    cases the actor may see. Two GROUP BYs and the departments' names."""
    _check_period(start, end)
    clocks = SlaClock.objects.restrict(actor, "view").filter(
        stopped_at__gte=start, stopped_at__lt=end, state__in=[ClockState.MET, ClockState.MISSED]
    )
    alerts = SlaAlert.objects.restrict(actor, "view").filter(level=1, at__gte=start, at__lt=end)
    if department is not None:
        clocks = clocks.filter(case__department=department)
        alerts = alerts.filter(department=department)
    clock_rows = list(
        clocks.order_by()
        .values("case__department", "target")
        .annotate(
            met=Count("id", filter=Q(state=ClockState.MET)),
            missed=Count("id", filter=Q(state=ClockState.MISSED)),
            average=Avg(F("stopped_at") - F("started_at"), output_field=DurationField()),
            average_business=Avg("consumed"),
        )
    )
    breach_rows = list(
        alerts.filter(department__isnull=False).order_by().values("department_id").annotate(n=Count("id"))
    )
    breaches = {r["department_id"]: r["n"] for r in breach_rows}
    ids = {r["case__department"] for r in clock_rows} | set(breaches)
    names = dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
    result: dict[int, DepartmentSlaMetrics] = {
        pk: DepartmentSlaMetrics(
            department_id=pk,
            name=names.get(pk, ""),
            targets={t: TargetCompliance(t, SlaTarget(t).label) for t in TARGETS},
            breaches=breaches.get(pk, 0),
        )
        for pk in ids
    }
    for row in clock_rows:
        tc = result[row["case__department"]].targets[row["target"]]
        tc.met, tc.missed = row["met"], row["missed"]
        tc.average, tc.average_business = _duration(row["average"]), _duration(row["average_business"])
    return sorted(result.values(), key=lambda m: m.name.lower())


def _duration(value: Any) -> timedelta | None:
    """An average duration as both databases return it (an interval, or microseconds on SQLite)."""
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(microseconds=float(value))


__all__ = [
    "LIST_STATUSES",
    "AlertRow",
    "BreachRow",
    "BreachTally",
    "CaseSla",
    "CaseSlaMetrics",
    "ClockRow",
    "DepartmentSlaMetrics",
    "DroppedBalls",
    "TargetCompliance",
    "breach_list",
    "breaches_in",
    "business_used",
    "case_sla",
    "case_sla_metrics",
    "cases_sla_metrics",
    "department_sla_metrics",
    "dropped_balls",
    "paused_for",
    "sees_team_breaches",
    "sla_counts",
    "sla_list",
]
