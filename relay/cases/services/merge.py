"""Merging a duplicate case into the one that stays (all or nothing)."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.db.models import Q
from simple_history.utils import bulk_update_with_history

from relay.accounts.models import User
from relay.activities.models import TimelineEntry
from relay.cases import events, recipients
from relay.cases.choices import EventKind, LinkKind, ResolutionCode, StatusCategory
from relay.cases.models import Case, CaseEvent, CaseLink, CaseWatcher
from relay.cases.services import sla
from relay.cases.services._base import (
    _add_watcher,
    _enter_status,
    _field_error,
    _require,
    _save,
    default_status,
)
from relay.core import clock
from relay.core.audit import current_origin
from relay.core.exceptions import ApplicationError
from relay.core.services import lock_current

# Every foreign key to Case, and what case_merge does with it. relay/cases/tests/test_services.py fails
# when a model gains a foreign key to Case that is not listed here.
MERGE_HANDLING: dict[tuple[str, str], str] = {
    ("cases.caseevent", "case"): "moved to the surviving case",
    ("cases.casewatcher", "case"): "moved (unless the surviving case has the same watcher)",
    ("cases.caselink", "case"): "moved (links between the two cases are dropped)",
    ("cases.caselink", "related"): "moved (links between the two cases are dropped)",
    ("cases.case", "merged_into"): "cases merged into the duplicate now point at the surviving case",
    ("activities.timelineentry", "case"): "moved, with ref_id, so the entries follow the events",
    ("cases.casestatusspan", "case"): "kept: the duplicate's own status history, ending in closed",
    ("cases.slaclock", "case"): "kept and cancelled: the surviving case's own clocks go on",
    ("cases.slaalert", "case"): "kept: the duplicate's own warnings and breaches (metrics count them)",
    ("telephony.call", "case"): "kept: a call logged on the duplicate stays linked to it (its timeline entry"
    " moves with the merge); a call still going on is logged on the surviving case when it ends",
    ("telephony.fax", "case"): "kept: the fax's timeline entry moves with the merge",
    ("email.emailmessage", "case"): "moved with the timeline entries: replies thread into the surviving case",
    ("email.autoreply", "case"): "kept: the acknowledgement log counts per sender, not per case",
}


# --- merge ------------------------------------------------------------------------------------------------


@transaction.atomic
def case_merge(
    *,
    actor: User,
    duplicate: Case,
    target: Case,
    expected_version: int | None,
    target_version: int | None = None,
    reason: str = "",
) -> Case:
    """Merge a duplicate into the case that stays: its events, timeline entries, watchers and links move
    to the target; the duplicate is closed with `merged_into` (its number keeps resolving to it). All or
    nothing. Needs a supervisor or above."""
    if duplicate.pk == target.pk:
        raise _field_error("target", "A case cannot be merged into itself.")
    _require(actor, "cases.merge_case", duplicate)
    _require(actor, "cases.merge_case", target)
    versions = {duplicate.pk: expected_version, target.pk: target_version}
    locked = {pk: lock_current(Case, pk, versions[pk]) for pk in sorted(versions)}  # one lock order
    dup, into = locked[duplicate.pk], locked[target.pk]
    if dup.merged_into_id is not None:
        raise ApplicationError("This case was already merged.")
    if into.merged_into_id is not None:
        raise _field_error("target", "The target was itself merged into another case; choose that one.")
    if into.party_id != dup.party_id:
        raise _field_error("target", "Only cases of the same customer can be merged.")
    if into.is_closed():
        raise _field_error("target", "The target is closed; reopen it first.")
    now = clock.now()

    moved_events = list(CaseEvent.objects.filter(case=dup).values_list("pk", flat=True))
    CaseEvent.objects.filter(pk__in=moved_events).update(case=into)

    entries = list(
        TimelineEntry.objects.filter(Q(case=dup) | Q(ref_type=events.case_content_type(), ref_id=dup.pk))
    )
    for entry in entries:
        entry.case = into
        if entry.ref_type_id == events.case_content_type().pk and entry.ref_id == dup.pk:
            entry.ref_id = into.pk
        entry.version += 1
        entry.updated_at = now
    if entries:
        bulk_update_with_history(
            entries,
            TimelineEntry,
            ["case", "ref_id", "version", "updated_at"],
            default_user=actor,
            custom_historical_attrs={"history_origin": current_origin()},
        )

    moved_watchers = 0
    for watcher in CaseWatcher.objects.filter(case=dup):
        lookup = {"user_id": watcher.user_id} if watcher.user_id else {"department_id": watcher.department_id}
        if CaseWatcher.objects.filter(case=into, **lookup).exists():
            watcher.delete()
        else:
            CaseWatcher.objects.filter(pk=watcher.pk).update(case=into)
            moved_watchers += 1
    # whoever logged the duplicate keeps hearing about the problem
    originator = dup.originator if dup.originator_id != into.originator_id else None
    if originator is not None and _add_watcher(into, originator, actor=actor) is not None:
        moved_watchers += 1

    for link in CaseLink.objects.filter(Q(case=dup) | Q(related=dup)):
        source = into.pk if link.case_id == dup.pk else link.case_id
        other = into.pk if link.related_id == dup.pk else link.related_id
        clash = CaseLink.objects.filter(case_id=source, related_id=other).exclude(pk=link.pk).exists()
        if source == other or clash:
            link.delete()
        else:
            CaseLink.objects.filter(pk=link.pk).update(case_id=source, related_id=other)
    Case.objects.filter(merged_into=dup).update(merged_into=into)
    # e-mail (relay/channels/email) is an optional channel app: looked up, not imported
    if apps.is_installed("relay.channels.email"):
        apps.get_model("email", "EmailMessage").objects.filter(case=dup).update(case=into)
    CaseLink.objects.create(case=dup, related=into, kind=LinkKind.DUPLICATE, created_by=actor)

    previous = _enter_status(dup, default_status(StatusCategory.CLOSED), actor=actor, at=now)
    dup.merged_into = into
    dup.resolution_code = ResolutionCode.DUPLICATE
    dup.resolution_summary = f"Merged into {into.number}." + (f" {reason.strip()}" if reason.strip() else "")
    dup.resolved_at = dup.resolved_at or now
    dup.closed_at = dup.last_activity_at = now
    _save(dup, actor)
    sla.sync(dup, at=now)
    into.last_activity_at = now
    _save(into, actor)

    events.record(
        case=dup,
        kind=EventKind.MERGED,
        actor=actor,
        at=now,
        headline=f"Merged into {into.number}",
        reason=reason.strip(),
        from_status=previous,
        to_status=dup.status,
        data={"merged_into": into.pk},
    )
    event = events.record(
        case=into,
        kind=EventKind.MERGED,
        actor=actor,
        at=now,
        headline=f"{dup.number} merged into this case",
        reason=reason.strip(),
        data={
            "merged_from": dup.pk,
            "moved_events": moved_events,
            "moved_entries": [e.pk for e in entries],
            "moved_watchers": moved_watchers,
        },
    )
    events.notify(event=event, case=into, recipients=recipients.audience(into))
    return into
