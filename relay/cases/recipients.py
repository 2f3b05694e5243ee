"""Who is told about a case event (issue 3, point 4).

* the handler: the assignee, or every member of the case's department while nobody is assigned;
* the watchers: watching users and every member of a watching department;
* the originator (who logged the case, e.g. the official's office);
* for a resolution, the supervisor of the case's department;
* plus whoever the event names (a mentioned user, the new assignee, the previous one).

Only active staff who may read the case are told (a confidential case never reaches someone outside
its circle, even through a mention), and never the actor: `events.notify` drops them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Q, QuerySet

from relay.accounts.models import User
from relay.accounts.permissions import CAPABILITY_ROLES, VIEW_CUSTOMERS
from relay.cases.models import Case, CaseWatcher
from relay.cases.permissions import SEE_ALL_ROLES, is_confidential


def department_member_ids(department_id: int | None) -> set[int]:
    if department_id is None:
        return set()
    return set(User.objects.filter(departments=department_id, is_active=True).values_list("pk", flat=True))


def watcher_ids(case: Case) -> set[int]:
    """Watching users, and the members of watching departments."""
    rows = list(CaseWatcher.objects.filter(case=case).values_list("user_id", "department_id"))
    users = {u for u, _ in rows if u is not None}
    departments = [d for _, d in rows if d is not None]
    if departments:
        users |= set(
            User.objects.filter(departments__in=departments, is_active=True).values_list("pk", flat=True)
        )
    return users


def handler_ids(case: Case) -> set[int]:
    if case.assignee_id is not None:
        return {case.assignee_id}
    return department_member_ids(case.department_id)


def supervisor_id(case: Case) -> int | None:
    return case.department.supervisor_id if case.department_id else None


def audience(
    case: Case,
    *,
    handler: bool = True,
    watchers: bool = True,
    originator: bool = True,
    supervisor: bool = False,
    extra: Iterable[int | None] = (),
) -> set[int]:
    candidates: set[int] = {pk for pk in extra if pk is not None}
    if handler:
        candidates |= handler_ids(case)
    if watchers:
        candidates |= watcher_ids(case)
    if originator and case.originator_id is not None:
        candidates.add(case.originator_id)
    if supervisor and (sup := supervisor_id(case)) is not None:
        candidates.add(sup)
    return allowed(case, candidates)


def _staff(candidates: set[int]) -> QuerySet[User]:
    return User.objects.filter(pk__in=candidates, is_active=True, role__in=CAPABILITY_ROLES[VIEW_CUSTOMERS])


def allowed(case: Case, candidates: set[int]) -> set[int]:
    """The candidates who are active staff and may read the case."""
    if not candidates:
        return set()
    users = _staff(candidates)
    if is_confidential(case):
        watching = CaseWatcher.objects.filter(case=case)
        users = users.filter(
            Q(role__in=SEE_ALL_ROLES)
            | Q(departments=case.department_id)
            | Q(pk__in=[pk for pk in (case.assignee_id, case.originator_id, supervisor_id(case)) if pk])
            | Q(pk__in=watching.filter(user__isnull=False).values("user_id"))
            | Q(departments__in=watching.filter(department__isnull=False).values("department_id"))
        )
    return set(users.order_by().values_list("pk", flat=True).distinct())


def allowed_many(items: Sequence[tuple[Case, set[int]]]) -> list[set[int]]:
    """`allowed` of many cases (a batch of openings): one query for the candidates of all the cases that
    are not confidential (for them it depends on the person only), one a confidential case."""
    plain = set().union(*(candidates for case, candidates in items if not is_confidential(case)))
    staff = set(_staff(plain).values_list("pk", flat=True)) if plain else set()
    return [
        allowed(case, candidates) if is_confidential(case) else candidates & staff
        for case, candidates in items
    ]
