"""Watchers: users or departments who get copies of everything that happens on a case."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from relay.accounts.models import Department, User
from relay.cases import events, recipients
from relay.cases.choices import EventKind
from relay.cases.models import Case, CaseWatcher
from relay.cases.services._base import _add_watcher, _field_error, _lock
from relay.core import clock


@transaction.atomic
def case_watch(
    *, actor: User, case: Case, user: User | None = None, department: Department | None = None
) -> CaseWatcher | None:
    """Add a watcher (the actor themselves when neither a user nor a department is given). Watching an
    already watched case changes nothing and returns None."""
    if user is not None and department is not None:
        raise _field_error("department", "A watcher is either a user or a department.")
    current = _lock(actor, case, None, "cases.watch_case")
    who: User | Department = department if department is not None else (user or actor)
    watcher = _add_watcher(current, who, actor=actor)
    if watcher is None:
        return None
    now = clock.now()
    name = who.display_name if isinstance(who, User) else who.name
    event = events.record(
        case=current,
        kind=EventKind.WATCHER_ADDED,
        actor=actor,
        at=now,
        headline=f"{name} watches the case",
        data={"user_id": watcher.user_id, "department_id": watcher.department_id},
    )
    told = {watcher.user_id} if watcher.user_id else recipients.department_member_ids(watcher.department_id)
    events.notify(event=event, case=current, recipients=recipients.allowed(current, told))
    return watcher


@transaction.atomic
def case_unwatch(
    *, actor: User, case: Case, user: User | None = None, department: Department | None = None
) -> bool:
    """Remove a watcher (the actor themselves by default). False when there was none."""
    if user is not None and department is not None:
        raise _field_error("department", "A watcher is either a user or a department.")
    current = _lock(actor, case, None, "cases.watch_case")
    lookup: dict[str, Any] = {"department": department} if department is not None else {"user": user or actor}
    deleted, _ = CaseWatcher.objects.filter(case=current, **lookup).delete()
    if not deleted:
        return False
    if department is not None:
        who, data = department.name, {"department_id": department.pk}
    else:
        person = user or actor
        who, data = person.display_name, {"user_id": person.pk}
    event = events.record(
        case=current,
        kind=EventKind.WATCHER_REMOVED,
        actor=actor,
        at=clock.now(),
        headline=f"{who} no longer watches the case",
        data=data,
    )
    events.notify(event=event, case=current, recipients=())
    return True
