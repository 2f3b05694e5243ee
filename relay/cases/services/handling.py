"""Working a case: assign, acknowledge, transfer, notes, interactions, update requests, statuses,
resolve, close, reopen."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from relay.accounts.models import Department, User
from relay.activities.choices import Direction, EntryKind
from relay.activities.models import TimelineEntry
from relay.activities.services import InteractionInput, interaction_log
from relay.cases import events, recipients
from relay.cases.choices import EventKind, ResolutionCode, StatusCategory, Visibility
from relay.cases.models import Case, CaseEvent, CaseStatus
from relay.cases.services import sla
from relay.cases.services._base import (
    _SETTABLE_CATEGORIES,
    _check_choice,
    _check_member,
    _display,
    _enter_status,
    _field_error,
    _lock,
    _require_open,
    _save,
    _touch,
    default_status,
    mentioned_users,
)
from relay.core import clock
from relay.core.audit import with_actor
from relay.core.exceptions import ApplicationError


def _start_work(case: Case, *, actor: User, at: datetime) -> CaseStatus | None:
    """A new case becomes open when someone takes it on (assigned, acknowledged)."""
    if case.status_category == StatusCategory.NEW:
        return _enter_status(case, default_status(StatusCategory.OPEN), actor=actor, at=at)
    return None


@transaction.atomic
def case_assign(
    *, actor: User, case: Case, assignee: User | None, expected_version: int | None, note: str = ""
) -> Case:
    """Give the case to a member of its department (or back to the queue with `assignee=None`)."""
    current = _lock(actor, case, expected_version, "cases.assign_case")
    _require_open(current, "assign it")
    if assignee is not None:
        _check_member(assignee, current.department, "assignee")
    if current.assignee_id == (assignee.pk if assignee else None):
        raise _field_error("assignee", f"The case is already assigned to {_display(assignee)}.")
    now = clock.now()
    previous = current.assignee
    previous_status = _start_work(current, actor=actor, at=now) if assignee else None
    current.assignee = assignee
    current.last_activity_at = now
    _save(current, actor)
    event = events.record(
        case=current,
        kind=EventKind.ASSIGNED,
        actor=actor,
        at=now,
        headline=f"Assigned to {assignee.display_name}" if assignee else "Returned to the queue",
        note=note,
        from_assignee=previous,
        to_assignee=assignee,
        from_status=previous_status,
        to_status=current.status if previous_status else None,
    )
    events.notify(
        event=event,
        case=current,
        recipients=recipients.audience(current, originator=False, extra=[previous.pk if previous else None]),
    )
    return current


@transaction.atomic
def case_acknowledge(*, actor: User, case: Case, expected_version: int | None, note: str = "") -> Case:
    """Confirm the case is in the right hands; the originator (and the watchers) are told."""
    current = _lock(actor, case, expected_version)
    _require_open(current, "acknowledge it")
    now = clock.now()
    previous_status = _start_work(current, actor=actor, at=now)
    if current.acknowledged_at is None:
        current.acknowledged_at = now
    current.last_activity_at = now
    _save(current, actor)
    sla.sync(current, at=now)
    event = events.record(
        case=current,
        kind=EventKind.ACKNOWLEDGED,
        actor=actor,
        at=now,
        headline=f"Acknowledged by {current.department.name}",
        note=note,
        from_status=previous_status,
        to_status=current.status if previous_status else None,
    )
    events.notify(event=event, case=current, recipients=recipients.audience(current, handler=False))
    return current


@transaction.atomic
def case_transfer(
    *,
    actor: User,
    case: Case,
    department: Department | None = None,
    assignee: User | None = None,
    reason: str,
    note: str,
    expected_version: int | None,
) -> Case:
    """Hand the case to another department and/or person. A reason and a note are required; the new
    handler (the person, or the new department's members), the watchers and the originator are told."""
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = ["Say why the case is transferred."]
    if not note.strip():
        errors["note"] = ["Write a note for the new handler."]
    if department is None and assignee is None:
        errors["department"] = ["Choose a department or a person."]
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    current = _lock(actor, case, expected_version, "cases.transfer_case")
    _require_open(current, "transfer it")
    target = department or current.department
    if not target.is_active:
        raise _field_error("department", "This department is no longer active.")
    if assignee is not None:
        _check_member(assignee, target, "assignee")
    if target.pk == current.department_id and (assignee.pk if assignee else None) == current.assignee_id:
        raise _field_error("department", "The case is already there.")
    now = clock.now()
    from_department, from_assignee = current.department, current.assignee
    current.department, current.assignee = target, assignee
    current.last_activity_at = now
    _save(current, actor)
    sla.sync(current, at=now, transferred=True)
    to = f"{target.name}" + (f" ({assignee.display_name})" if assignee else "")
    event = events.record(
        case=current,
        kind=EventKind.TRANSFERRED,
        actor=actor,
        at=now,
        headline=f"Transferred to {to}",
        note=note.strip(),
        reason=reason.strip(),
        from_department=from_department,
        to_department=target,
        from_assignee=from_assignee,
        to_assignee=assignee,
    )
    told = recipients.audience(current)
    if target.pk != from_department.pk:
        told |= recipients.allowed(current, recipients.department_member_ids(target.pk))
    events.notify(event=event, case=current, recipients=told)
    return current


@transaction.atomic
def case_add_note(
    *,
    actor: User,
    case: Case,
    body: str,
    visibility: str = Visibility.INTERNAL,
    expected_version: int | None = None,
) -> CaseEvent:
    """A note on the case, internal or visible to the customer. `@username` mentions notify that person
    (when they may read the case)."""
    if not body.strip():
        raise _field_error("body", "A note needs some text.")
    _check_choice("visibility", visibility, Visibility)
    current = _lock(actor, case, expected_version)
    if current.merged_into_id is not None:
        raise ApplicationError("This case was merged into another one; add the note there.")
    now = clock.now()
    mentions = [u for u in mentioned_users(body) if u.pk != actor.pk]
    _touch(current, now, response=visibility == Visibility.CUSTOMER)
    if visibility == Visibility.CUSTOMER:
        sla.sync(current, at=now, responded=True)
    label = "Note for the customer" if visibility == Visibility.CUSTOMER else "Internal note"
    event = events.record(
        case=current,
        kind=EventKind.NOTE_ADDED,
        actor=actor,
        at=now,
        headline=label,
        note=body.strip(),
        visibility=visibility,
        data={"mentions": [u.pk for u in mentions]},
    )
    told = recipients.audience(current) | recipients.allowed(current, {u.pk for u in mentions})
    events.notify(event=event, case=current, recipients=told)
    return event


def _link_interaction(*, actor: User, case: Case, entry: TimelineEntry, notify: bool = True) -> CaseEvent:
    if entry.kind != EntryKind.INTERACTION:
        raise _field_error("interaction", "Only calls, e-mails, letters and other contacts can be linked.")
    if entry.party_id != case.party_id:
        raise _field_error("interaction", "The interaction is on another customer's file.")
    if entry.case_id is not None and entry.case_id != case.pk:
        raise _field_error("interaction", "The interaction already belongs to another case.")
    if entry.case_id == case.pk:
        raise _field_error("interaction", "The interaction is already linked to this case.")
    entry.case = case
    entry.version += 1
    entry.updated_at = clock.now()
    with_actor(entry, actor)
    entry.save(update_fields=["case", "version", "updated_at"])
    return _interaction_linked(actor=actor, case=case, entry=entry, notify=notify)


def _interaction_linked(*, actor: User, case: Case, entry: TimelineEntry, notify: bool) -> CaseEvent:
    """The case's side of an interaction that now belongs to it: activity, first response, the event."""
    at = clock.now()
    outbound = entry.direction == Direction.OUTBOUND
    _touch(case, at, response=outbound)
    if outbound:
        sla.sync(case, at=at, responded=True)
    event = events.record(
        case=case,
        kind=EventKind.INTERACTION_LOGGED,
        actor=actor,
        at=at,
        headline=f"{entry.get_channel_display()} ({entry.get_direction_display().lower()}) linked",
        note=entry.subject,
        visibility=Visibility.CUSTOMER,
        data={"entry_id": entry.pk, "channel": entry.channel, "direction": entry.direction},
        entry=entry,
    )
    if notify:
        events.notify(event=event, case=case, recipients=recipients.audience(case, originator=False))
    return event


@transaction.atomic
def case_log_interaction(
    *,
    actor: User,
    case: Case,
    interaction: TimelineEntry | None = None,
    data: InteractionInput | None = None,
    expected_version: int | None = None,
    notify: bool = True,
) -> CaseEvent:
    """Link a call, e-mail, letter... to the case: an interaction already on the party's timeline, or a
    new one logged now (`data`), on the case from the start. An outbound contact counts as the first
    response. `notify=False` when the case was opened for this contact (its opening told everyone)."""
    if (interaction is None) == (data is None):
        raise _field_error("interaction", "Give either an existing interaction or a new one to log.")
    current = _lock(actor, case, expected_version)
    if current.merged_into_id is not None:
        raise ApplicationError("This case was merged into another one; log the interaction there.")
    if data is not None:
        party = case.party if Case.party.is_cached(case) else current.party
        entry = interaction_log(actor=actor, party=party, data=data, case=current)
        return _interaction_linked(actor=actor, case=current, entry=entry, notify=notify)
    assert interaction is not None
    interaction = TimelineEntry.objects.restrict(actor, "view").select_for_update().get(pk=interaction.pk)
    return _link_interaction(actor=actor, case=current, entry=interaction, notify=notify)


@transaction.atomic
def case_request_update(
    *, actor: User, case: Case, note: str = "", expected_version: int | None = None
) -> CaseEvent:
    """Ask the handler for news (the assignee, or the department while unassigned); logged."""
    current = _lock(actor, case, expected_version)
    _require_open(current, "ask for an update")
    now = clock.now()
    _touch(current, now)
    event = events.record(
        case=current,
        kind=EventKind.UPDATE_REQUESTED,
        actor=actor,
        at=now,
        headline=f"Update requested by {actor.display_name}",
        note=note.strip(),
    )
    told = recipients.audience(current, watchers=False, originator=False)
    events.notify(event=event, case=current, recipients=told)
    return event


@transaction.atomic
def case_set_status(
    *, actor: User, case: Case, status: CaseStatus, expected_version: int | None, note: str = ""
) -> Case:
    """Move an open case to another open or waiting status (resolving and closing have their own
    services, with a resolution)."""
    if not status.is_active:
        raise _field_error("status", "This status is no longer in use.")
    if status.category not in _SETTABLE_CATEGORIES:
        raise _field_error("status", "Resolve or close the case with its own action.")
    current = _lock(actor, case, expected_version)
    _require_open(current, "change its status")
    if current.status_id == status.pk:
        raise _field_error("status", f"The case is already {status.name}.")
    now = clock.now()
    previous = _enter_status(current, status, actor=actor, at=now)
    current.last_activity_at = now
    _save(current, actor)
    sla.sync(current, at=now)
    event = events.record(
        case=current,
        kind=EventKind.STATUS_CHANGED,
        actor=actor,
        at=now,
        headline=f"Status: {status.name}",
        note=note.strip(),
        from_status=previous,
        to_status=status,
    )
    events.notify(event=event, case=current, recipients=recipients.audience(current, originator=False))
    return current


@transaction.atomic
def case_resolve(
    *,
    actor: User,
    case: Case,
    resolution_code: str,
    resolution_summary: str,
    expected_version: int | None,
) -> Case:
    """Resolve with a code and a summary; copies go to the watchers, the originator, the handler and the
    supervisor of the case's department."""
    errors: dict[str, list[str]] = {}
    if resolution_code not in ResolutionCode.values:
        errors["resolution_code"] = [f"Choose one of: {', '.join(ResolutionCode.values)}."]
    if not resolution_summary.strip():
        errors["resolution_summary"] = ["Summarise what was done."]
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    current = _lock(actor, case, expected_version, "cases.resolve_case")
    _require_open(current, "resolve it")
    now = clock.now()
    previous = _enter_status(current, default_status(StatusCategory.RESOLVED), actor=actor, at=now)
    current.resolution_code = resolution_code
    current.resolution_summary = resolution_summary.strip()
    current.resolved_at = current.last_activity_at = now
    _save(current, actor)
    sla.sync(current, at=now)
    event = events.record(
        case=current,
        kind=EventKind.RESOLVED,
        actor=actor,
        at=now,
        headline=f"Resolved: {ResolutionCode(resolution_code).label}",
        note=current.resolution_summary,
        visibility=Visibility.CUSTOMER,
        from_status=previous,
        to_status=current.status,
        data={"resolution_code": resolution_code},
    )
    events.notify(event=event, case=current, recipients=recipients.audience(current, supervisor=True))
    return current


@transaction.atomic
def case_close(*, actor: User, case: Case, expected_version: int | None, note: str = "") -> Case:
    """Close a resolved case."""
    current = _lock(actor, case, expected_version, "cases.close_case")
    if current.status_category != StatusCategory.RESOLVED:
        raise ApplicationError(
            "Only a resolved case can be closed; resolve it first."
            if current.is_open()
            else f"The case is already {current.get_status_category_display().lower()}."
        )
    now = clock.now()
    previous = _enter_status(current, default_status(StatusCategory.CLOSED), actor=actor, at=now)
    current.closed_at = current.last_activity_at = now
    _save(current, actor)
    event = events.record(
        case=current,
        kind=EventKind.CLOSED,
        actor=actor,
        at=now,
        headline="Closed",
        note=note.strip(),
        from_status=previous,
        to_status=current.status,
    )
    events.notify(event=event, case=current, recipients=recipients.audience(current))
    return current


def reopen_window() -> timedelta:
    return timedelta(days=settings.RELAY_CASE_REOPEN_DAYS)


def can_reopen(case: Case, *, at: datetime | None = None) -> bool:
    """A resolved case, or a closed one closed within RELAY_CASE_REOPEN_DAYS, that was not merged."""
    if case.merged_into_id is not None or case.is_open():
        return False
    if case.status_category == StatusCategory.CLOSED:
        return case.closed_at is not None and case.closed_at >= (at or clock.now()) - reopen_window()
    return True


@transaction.atomic
def case_reopen(*, actor: User, case: Case, reason: str, expected_version: int | None) -> Case:
    """The customer came back about the same problem: reopen a resolved, or recently closed, case.
    Beyond the window a follow-up case (case_open_follow_up) keeps the old one as it was."""
    if not reason.strip():
        raise _field_error("reason", "Say why the case is reopened.")
    current = _lock(actor, case, expected_version, "cases.reopen_case")
    if current.merged_into_id is not None:
        raise ApplicationError("This case was merged into another one; reopen that case instead.")
    if current.is_open():
        raise ApplicationError("The case is still open.")
    now = clock.now()
    if not can_reopen(current, at=now):
        days = settings.RELAY_CASE_REOPEN_DAYS
        raise ApplicationError(
            f"The case was closed more than {days} days ago and can no longer be reopened; "
            "open a follow-up case linked to it instead."
        )
    previous = _enter_status(current, default_status(StatusCategory.OPEN), actor=actor, at=now)
    current.resolved_at = current.closed_at = None
    current.resolution_code, current.resolution_summary = "", ""
    current.reopened_count += 1
    current.last_activity_at = now
    _save(current, actor)
    sla.sync(current, at=now)
    event = events.record(
        case=current,
        kind=EventKind.REOPENED,
        actor=actor,
        at=now,
        headline="Reopened",
        reason=reason.strip(),
        from_status=previous,
        to_status=current.status,
        data={"reopened_count": current.reopened_count},
    )
    events.notify(event=event, case=current, recipients=recipients.audience(current))
    return current
