"""What every case service shares: permission checks, locking, saving, status spans, mentions."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from relay.accounts.models import Department, User
from relay.cases.choices import OPEN_CATEGORIES, StatusCategory
from relay.cases.models import Case, CaseStatus, CaseStatusSpan, CaseWatcher
from relay.cases.permissions import can_view_case
from relay.core import clock, config_cache
from relay.core.audit import with_actor
from relay.core.exceptions import ApplicationError, NotAllowed
from relay.core.services import lock_current

# usernames may hold letters, digits and . + - _ ; a mention does not end with a dot (end of sentence)
_MENTION = re.compile(r"(?<![\w.@+-])@([\w.+-]*[\w+-])")
_MAX_MENTIONS = 20
# statuses `case_set_status` may set; resolving and closing have their own services
_SETTABLE_CATEGORIES = frozenset(OPEN_CATEGORIES)


# --- helpers --------------------------------------------------------------------------------------------


def _field_error(field_name: str, message: str) -> ApplicationError:
    return ApplicationError(message, errors={field_name: [message]})


def _require_visible(actor: User, case: Case) -> None:
    if not can_view_case(actor, case):
        raise Case.DoesNotExist("No such case.")


def _require(actor: User, perm: str, case: Case | None = None) -> None:
    if case is not None:
        _require_visible(actor, case)
    if not actor.has_perm(perm, case):
        raise NotAllowed("You may not do this to the case." if case else "You may not open cases.")


def _lock(actor: User, case: Case, expected_version: int | None, perm: str = "cases.change_case") -> Case:
    """Check the actor may work the case, then lock its current row (stale versions are refused)."""
    _require(actor, perm, case)
    return lock_current(Case, case.pk, expected_version)


def _require_open(case: Case, action: str) -> None:
    if case.merged_into_id is not None:
        raise ApplicationError(f"This case was merged into another one; {action} that case instead.")
    if not case.is_open():
        state = case.get_status_category_display().lower()
        raise ApplicationError(f"The case is {state}; reopen it to {action}.")


def _save(case: Case, actor: User | None) -> Case:
    """A new version of the case with a history row naming the actor. The services validate their own
    inputs and the database constraints catch the rest (no full_clean: it costs a query per key)."""
    case.version += 1
    case.updated_at = clock.now()
    with_actor(case, actor)
    case.save()
    return case


def default_status(category: str) -> CaseStatus:
    defaults = config_cache.cached(
        "cases.default_statuses",
        lambda: {s.category: s for s in CaseStatus.objects.filter(is_default=True, is_active=True)},
    )
    status = copy.copy(defaults.get(category))
    if status is None:
        raise ApplicationError(
            f"No default status is configured for {StatusCategory(category).label}; ask an administrator."
        )
    return status


def _enter_status(case: Case, status: CaseStatus, *, actor: User | None, at: datetime) -> CaseStatus | None:
    """Move the case to `status`: end the current span, start the next. Returns the status it left
    (None when it already was in `status`)."""
    previous = case.status if case.status_id else None
    if previous is not None and previous.pk == status.pk:
        return None
    CaseStatusSpan.objects.filter(case=case, left_at__isnull=True).update(left_at=at)
    CaseStatusSpan.objects.create(
        case=case, status=status, category=status.category, entered_at=at, entered_by=actor
    )
    case.status, case.status_category = status, status.category
    return previous


def _touch(case: Case, at: datetime, *, response: bool = False) -> None:
    """Record activity without a new version (appends: notes, interactions, requests)."""
    updates: dict[str, Any] = {"last_activity_at": at}
    case.last_activity_at = at
    if response and case.first_response_at is None:
        updates["first_response_at"] = case.first_response_at = at
    Case.objects.filter(pk=case.pk).update(**updates)


def _display(user: User | None) -> str:
    return user.display_name if user is not None else "nobody"


def _check_member(user: User, department: Department, field_name: str) -> None:
    if not user.is_active or not user.departments.filter(pk=department.pk).exists():
        raise _field_error(field_name, f"{user.display_name} is not an active member of {department.name}.")


def _check_choice(field_name: str, value: str, choices: Any) -> None:
    if value not in choices.values:
        raise _field_error(field_name, f"Choose one of: {', '.join(choices.values)}.")


def mentioned_users(text: str) -> list[User]:
    """Active users named as `@username` in the text (case-insensitive), in order of first mention."""
    names = list(dict.fromkeys(m.lower() for m in _MENTION.findall(text)))[:_MAX_MENTIONS]
    if not names:
        return []
    found = {
        u.username.lower(): u
        for u in User.objects.annotate(login=Lower("username")).filter(login__in=names, is_active=True)
    }
    return [found[n] for n in names if n in found]


def _add_watcher(case: Case, who: User | Department, *, actor: User) -> CaseWatcher | None:
    """The new watcher row, or None when `who` already watches."""
    lookup: dict[str, Any] = {"user": who} if isinstance(who, User) else {"department": who}
    if isinstance(who, User) and not who.is_active:
        raise _field_error("user", f"{who.display_name} is not an active user.")
    if CaseWatcher.objects.filter(case=case, **lookup).exists():
        return None
    try:
        with transaction.atomic():
            return CaseWatcher.objects.create(case=case, added_by=actor, **lookup)
    except IntegrityError:  # a concurrent watch of the same case: the constraint decides
        return None
