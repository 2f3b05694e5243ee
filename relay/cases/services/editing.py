"""Editing what a case is about: subject, description, category, priority."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from relay.accounts.models import User
from relay.cases import events, recipients
from relay.cases.choices import EventKind, Priority
from relay.cases.models import Case
from relay.cases.services import sla
from relay.cases.services._base import _lock, _save
from relay.core import clock
from relay.core.exceptions import ApplicationError

EDITABLE_FIELDS: frozenset[str] = frozenset({"subject", "description", "category", "priority"})


def _shown(name: str, value: Any) -> Any:
    """A changed value as the event keeps it: a category by id and name, text as it is."""
    if name == "category":
        return {"id": value.pk, "name": value.name} if value is not None else None
    return value


@transaction.atomic
def case_update(*, actor: User, case: Case, changes: dict[str, Any], expected_version: int | None) -> Case:
    """Change the subject, description, category or priority (a new version, an `edited` event with the
    before and after of each field). Sending values that are already there changes nothing."""
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            "Some fields cannot be edited.",
            errors={name: ["This field cannot be edited."] for name in unknown},
        )
    errors: dict[str, list[str]] = {}
    if "subject" in changes:
        changes["subject"] = (changes["subject"] or "").strip()
        if not changes["subject"]:
            errors["subject"] = ["A case needs a subject."]
        elif len(changes["subject"]) > 255:
            errors["subject"] = ["At most 255 characters."]
    if "priority" in changes and changes["priority"] not in Priority.values:
        errors["priority"] = [f"Choose one of: {', '.join(Priority.values)}."]
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    current = _lock(actor, case, expected_version)
    if current.merged_into_id is not None:
        raise ApplicationError("This case was merged into another one; edit that case instead.")
    category = changes.get("category")
    if category is not None and category.pk != current.category_id and not category.is_active:
        raise ApplicationError(
            "Some fields are not valid.", errors={"category": ["This category is no longer in use."]}
        )
    diff: dict[str, list[Any]] = {}
    for name, value in changes.items():
        old = getattr(current, name)
        if old != value:
            diff[name] = [_shown(name, old), _shown(name, value)]
            setattr(current, name, value)
    if not diff:
        return current
    now = clock.now()
    current.last_activity_at = now
    _save(current, actor)
    if diff.keys() & {"priority", "category", "channel"}:
        sla.sync(current, at=now)
    labels = ", ".join(
        str(getattr(Case._meta.get_field(name), "verbose_name", name)) for name in sorted(diff)
    )
    event = events.record(
        case=current,
        kind=EventKind.EDITED,
        actor=actor,
        at=now,
        headline=f"Edited: {labels}",
        data={"changes": diff},
    )
    events.notify(event=event, case=current, recipients=recipients.audience(current, originator=False))
    return current
