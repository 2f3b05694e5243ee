"""Every read of cases, permission-scoped through `Case.objects.restrict(actor, "view")`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Count, IntegerField, QuerySet, Value, When

from relay.accounts.models import Department, User
from relay.cases.choices import CATEGORY_ORDER, OPEN_CATEGORIES, Priority, StatusCategory
from relay.cases.models import Case, CaseEvent, CaseLink, CaseWatcher, priority_rank
from relay.cases.permissions import hidden_rule, sees_all_cases, visible_count, visible_counts
from relay.cases.services import can_reopen
from relay.core import clock
from relay.core.exceptions import ApplicationError
from relay.core.pagination import Ordering, Page, paginate
from relay.customers.models import Party

QUEUE_ORDERINGS: dict[str, Ordering] = {
    "-opened": Ordering("opened_at", descending=True),
    "opened": Ordering("opened_at"),
    "-activity": Ordering("last_activity_at", descending=True),
    "activity": Ordering("last_activity_at"),
    "-updated": Ordering("updated_at", descending=True),
    "updated": Ordering("updated_at"),
    "-priority": Ordering("priority_rank", descending=True),
    "priority": Ordering("priority_rank"),
}


DEFAULT_QUEUE_ORDERING = "-opened"


def case_queryset(*, actor: User) -> QuerySet[Case]:
    return Case.objects.restrict(actor, "view").select_related(
        "party", "category", "status", "department", "assignee"
    )


def case_get(*, actor: User, pk: Any) -> Case:
    """One case for the case page; Case.DoesNotExist (a 404) when it is not visible."""
    return (
        case_queryset(actor=actor)
        .select_related("originator", "originating_department", "merged_into")
        .get(pk=pk)
    )


def case_get_by_number(*, actor: User, number: str) -> Case:
    return case_queryset(actor=actor).get(number=number.strip().upper())


def my_cases(*, actor: User, include_closed: bool = False, cursor: str | None = None, size: int = 25) -> Page:
    """The actor's own cases, open ones unless `include_closed`, most recently active first."""
    qs = case_queryset(actor=actor).filter(assignee=actor)
    if not include_closed:
        qs = qs.filter(status_category__in=OPEN_CATEGORIES)
    return paginate(qs, ordering=QUEUE_ORDERINGS["-activity"], cursor=cursor, size=size)


@dataclass
class QueueFilters:
    status_category: list[str] | None = None  # None: the open categories
    priority: list[str] | None = None
    assignee: User | None = None
    unassigned: bool = False


def _check_values(field: str, values: list[str] | None, allowed: list[str]) -> None:
    unknown = sorted(set(values or ()) - set(allowed))
    if unknown:
        raise ApplicationError(
            "Invalid filter.",
            errors={field: [f"Unknown value(s) {', '.join(unknown)}; use {', '.join(allowed)}."]},
        )


def department_queue(
    *,
    actor: User,
    department: Department,
    filters: QueueFilters | None = None,
    ordering: str = DEFAULT_QUEUE_ORDERING,
    cursor: str | None = None,
    size: int = 25,
) -> Page:
    """A department's queue: filtered by allow-listed values, sorted by an allow-listed key, one keyset
    page at a time."""
    f = filters or QueueFilters()
    if ordering not in QUEUE_ORDERINGS:
        raise ApplicationError(
            "Invalid ordering.", errors={"ordering": [f"Use one of: {', '.join(QUEUE_ORDERINGS)}."]}
        )
    _check_values("status_category", f.status_category, StatusCategory.values)
    _check_values("priority", f.priority, Priority.values)
    if f.unassigned and f.assignee is not None:
        raise ApplicationError(
            "Invalid filter.", errors={"assignee": ["Choose a person or unassigned, not both."]}
        )
    qs = case_queryset(actor=actor).filter(department=department)
    qs = qs.filter(status_category__in=f.status_category or sorted(OPEN_CATEGORIES))
    if f.priority:
        qs = qs.filter(priority__in=f.priority)
    if f.assignee is not None:
        qs = qs.filter(assignee=f.assignee)
    if f.unassigned:
        qs = qs.filter(assignee__isnull=True)
    if QUEUE_ORDERINGS[ordering].field == "priority_rank":
        qs = qs.annotate(priority_rank=priority_rank())
    return paginate(qs, ordering=QUEUE_ORDERINGS[ordering], cursor=cursor, size=size)


# Resolved and closed cases pile up for ever: their tabs count up to this many and then say "1,000+".
COUNT_CAP = 1000


def queue_counts(*, actor: User, department: Department) -> dict[str, int]:
    """Cases of the department by status category, zeros included: the open categories exactly (one
    GROUP BY over the open cases' index), resolved and closed up to COUNT_CAP each (a department with a
    million closed cases must not count them on every page)."""
    # the counts of all the department's cases less the confidential ones the actor may not see: no
    # per-row rule over the many (index-only), for its own people and for everyone else alike
    cases, hidden = Case.objects.filter(department=department), hidden_rule(actor)
    counts = dict.fromkeys(CATEGORY_ORDER, 0)
    counts.update(
        visible_counts(cases.filter(status_category__in=sorted(OPEN_CATEGORIES)), hidden, "status_category")
    )
    for category in CATEGORY_ORDER:
        if category not in OPEN_CATEGORIES:
            counts[category] = visible_count(cases.filter(status_category=category), hidden, COUNT_CAP)
    return counts


def party_cases(*, actor: User, party: Party, limit: int | None = None) -> list[Case]:
    """Every case of the party the actor may see (the first `limit`): open ones first, then the newest."""
    open_first = models.Case(
        When(status_category__in=OPEN_CATEGORIES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    qs = case_queryset(actor=actor).filter(party=party).order_by(open_first, "-opened_at", "-id")
    return list(qs[:limit] if limit is not None else qs)


def case_events(*, actor: User, case: Case) -> list[CaseEvent]:
    """The case's own timeline, oldest first; empty when the case is not visible."""
    visible = Case.objects.restrict(actor, "view").filter(pk=case.pk)
    return list(
        CaseEvent.objects.filter(case__in=visible)
        .select_related(
            "actor",
            "from_status",
            "to_status",
            "from_department",
            "to_department",
            "from_assignee",
            "to_assignee",
            "entry",
        )
        .order_by("at", "id")
    )


def reopen_candidates(*, actor: User, party: Party) -> list[Case]:
    """The party's cases that can still be reopened: resolved, or closed within the reopen window
    (RELAY_CASE_REOPEN_DAYS), not merged; most recently closed first."""
    since = clock.now() - timedelta(days=settings.RELAY_CASE_REOPEN_DAYS)
    qs = case_queryset(actor=actor).filter(party=party, merged_into__isnull=True)
    resolved = qs.filter(status_category=StatusCategory.RESOLVED)
    closed = qs.filter(status_category=StatusCategory.CLOSED, closed_at__gte=since)
    return sorted(
        [*resolved, *closed],
        key=lambda c: (c.closed_at or c.resolved_at or c.opened_at, c.pk),
        reverse=True,
    )


# --- the agent console ------------------------------------------------------------------------------------


def my_case_counts(*, actor: User) -> dict[str, int]:
    """The actor's open cases by status category (the open categories, zeros included): one GROUP BY."""
    rows = (
        Case.objects.restrict(actor, "view")
        .filter(assignee=actor, status_category__in=OPEN_CATEGORIES)
        .order_by()
        .values("status_category")
        .annotate(n=Count("id"))
    )
    counts = {category: 0 for category in CATEGORY_ORDER if category in OPEN_CATEGORIES}
    counts.update({row["status_category"]: row["n"] for row in rows})
    return counts


@dataclass
class QueueChoice:
    department: Department
    open_cases: int
    own: bool  # a member or the supervisor


def queue_departments(*, actor: User) -> list[QueueChoice]:
    """The queues the department picker offers: the actor's own departments (member or supervisor; every
    department for managers and admins) with their open cases, then the other active departments."""
    departments = list(Department.objects.restrict(actor, "view").filter(is_active=True).order_by("name"))
    if sees_all_cases(actor):
        own_ids = {d.pk for d in departments}
    else:
        own_ids = set(actor.departments.values_list("pk", flat=True)) | set(
            actor.supervised_departments.values_list("pk", flat=True)
        )
    open_counts = visible_counts(
        Case.objects.filter(department_id__in=own_ids, status_category__in=OPEN_CATEGORIES),
        hidden_rule(actor),
        "department_id",
    )
    choices = [QueueChoice(d, open_counts.get(d.pk, 0), d.pk in own_ids) for d in departments]
    return sorted(choices, key=lambda c: (not c.own, c.department.name))


def department_get(*, actor: User, slug: str) -> Department:
    """An active department by slug (Department.DoesNotExist, a 404, otherwise)."""
    return Department.objects.restrict(actor, "view").get(slug=slug, is_active=True)


def department_members(*, department: Department) -> list[User]:
    """The people a case of the department can be given to: its active members, by name."""
    return list(department.members.filter(is_active=True).order_by("first_name", "last_name", "username"))


def case_watchers(*, actor: User, case: Case) -> list[CaseWatcher]:
    return list(
        CaseWatcher.objects.restrict(actor, "view").filter(case=case).select_related("user", "department")
    )


def case_links(*, actor: User, case: Case) -> list[CaseLink]:
    """The case's links both ways (follow-ups, duplicates), to cases the actor may see."""
    visible = Case.objects.restrict(actor, "view").values("pk")
    return list(
        CaseLink.objects.restrict(actor, "view")
        .filter(models.Q(case=case, related__in=visible) | models.Q(related=case, case__in=visible))
        .select_related("case", "related")
        .order_by("created_at", "id")
    )


@dataclass
class CaseActions:
    """What the actor may do to the case now: the buttons of the case page (the services decide)."""

    assign: bool = False
    take: bool = False
    acknowledge: bool = False
    transfer: bool = False
    note: bool = False
    request_update: bool = False
    set_status: bool = False
    resolve: bool = False
    close: bool = False
    reopen: bool = False
    follow_up: bool = False
    watch: bool = False
    unwatch: bool = False
    merge: bool = False

    @property
    def any(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)


def case_actions(*, actor: User, case: Case, watchers: list[CaseWatcher], merge_targets: int) -> CaseActions:
    """The actions open to the actor on a case they can see (`case_get`), from their role and the case's
    state; `watchers` and `merge_targets` are what the page already loaded."""
    works = actor.has_perm("cases.change_case")
    live = case.merged_into_id is None
    is_open = live and case.is_open()
    watching = any(w.user_id == actor.pk for w in watchers)
    member = actor.departments.filter(pk=case.department_id).exists() if is_open else False
    return CaseActions(
        assign=works and is_open,
        take=works and is_open and member and case.assignee_id != actor.pk,
        acknowledge=works and is_open and case.acknowledged_at is None,
        transfer=works and is_open,
        note=works and live,
        request_update=works and is_open,
        set_status=works and is_open,
        resolve=works and is_open,
        close=works and live and case.is_resolved(),
        reopen=works and live and not is_open and can_reopen(case),
        follow_up=actor.has_perm("cases.add_case") and live and not is_open and not can_reopen(case),
        watch=works and not watching,
        unwatch=works and watching,
        merge=actor.has_perm("cases.merge_case") and is_open and merge_targets > 0,
    )


def merge_targets(*, case: Case, party_cases: list[Case]) -> list[Case]:
    """The cases a duplicate can be merged into, out of its party's cases (`party_cases`): the others that
    are neither closed nor merged."""
    return [c for c in party_cases if c.pk != case.pk and c.merged_into_id is None and not c.is_closed()]


def cases_by_ids(*, actor: User, ids: list[int]) -> list[Case]:
    """The visible cases among `ids` (the ticked rows of a bulk action), by id."""
    return list(case_queryset(actor=actor).filter(pk__in=ids).order_by("pk"))


@dataclass
class PartyCaseRow:
    case: Case
    reopenable: bool  # resolved, or closed within the reopen window: reopen it
    follow_up: bool  # closed longer ago: open a new case linked to it


@dataclass
class PartyCasePanel:
    rows: list[PartyCaseRow]
    more: bool  # the party has more cases than the panel shows


PANEL_SIZE = 20


def party_case_panel(*, actor: User, party: Party, size: int = PANEL_SIZE) -> PartyCasePanel:
    """The cases panel of the 360 page: the party's cases the actor may see, open ones first, then the
    newest (at most `size`), each with what the agent can do when the customer comes back about it."""
    now = clock.now()
    cases = party_cases(actor=actor, party=party, limit=size + 1)
    rows = []
    for case in cases[:size]:
        reopenable = not case.is_open() and can_reopen(case, at=now)
        rows.append(
            PartyCaseRow(
                case=case,
                reopenable=reopenable,
                follow_up=case.is_closed() and case.merged_into_id is None and not reopenable,
            )
        )
    return PartyCasePanel(rows=rows, more=len(cases) > size)
