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
from relay.cases.models import Case, CaseEvent
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
    return paginate(qs, ordering=QUEUE_ORDERINGS[ordering], cursor=cursor, size=size)


def queue_counts(*, actor: User, department: Department) -> dict[str, int]:
    """Cases of the department by status category (every category, zeros included): one GROUP BY."""
    rows = (
        Case.objects.restrict(actor, "view")
        .filter(department=department)
        .order_by()
        .values("status_category")
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys(CATEGORY_ORDER, 0)
    counts.update({row["status_category"]: row["n"] for row in rows})
    return counts


def party_cases(*, actor: User, party: Party) -> list[Case]:
    """Every case of the party the actor may see: open ones first, then the newest."""
    open_first = models.Case(
        When(status_category__in=OPEN_CATEGORIES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return list(case_queryset(actor=actor).filter(party=party).order_by(open_first, "-opened_at", "-id"))


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
