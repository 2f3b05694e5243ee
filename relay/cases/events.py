"""Writing what happened on a case: its `CaseEvent`, the party-timeline entry that shows it, and the
outbox event that tells people. Called by the services inside their transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from simple_history.utils import bulk_create_with_history

from relay.accounts.models import Department, User
from relay.activities.choices import Direction, EntryKind
from relay.activities.models import TimelineEntry
from relay.cases.choices import Visibility
from relay.cases.models import Case, CaseEvent, CaseStatus
from relay.core import outbox
from relay.core.audit import current_origin, with_actor
from relay.core.models import Source

_BODY_PREVIEW = 500


def case_content_type() -> ContentType:
    return ContentType.objects.get_for_model(Case)  # cached by Django after the first call


def timeline_entry_for(
    *, case: Case, actor: User | None, at: datetime, headline: str, body: str = ""
) -> TimelineEntry:
    """The party-timeline row of a case event (kind "case", pointing at the case)."""
    entry = _timeline_entry(case=case, actor=actor, at=at, headline=headline, body=body)
    entry.save()
    return entry


def _timeline_entry(
    *, case: Case, actor: User | None, at: datetime, headline: str, body: str
) -> TimelineEntry:
    entry = TimelineEntry(
        party_id=case.party_id,
        kind=EntryKind.CASE,
        occurred_at=at,
        actor=actor,
        direction=Direction.INTERNAL,
        subject=f"{case.number} · {headline}"[:255],
        body=body,
        ref_type=case_content_type(),
        ref_id=case.pk,
        case=case,
        source=Source.USER if actor is not None else Source.SYSTEM,
        entered_by=actor,
    )
    with_actor(entry, actor)
    return entry


def record(
    *,
    case: Case,
    kind: str,
    actor: User | None,
    at: datetime,
    headline: str,
    note: str = "",
    reason: str = "",
    visibility: str = Visibility.INTERNAL,
    from_status: CaseStatus | None = None,
    to_status: CaseStatus | None = None,
    from_department: Department | None = None,
    to_department: Department | None = None,
    from_assignee: User | None = None,
    to_assignee: User | None = None,
    data: dict[str, Any] | None = None,
    entry: TimelineEntry | None = None,
) -> CaseEvent:
    """Append an event to the case's history. Without `entry` a timeline row is written for it; with one
    (a call or e-mail linked to the case) that row already shows the event on the party's timeline."""
    if entry is None:
        body = "\n\n".join(p for p in (f"Reason: {reason}" if reason else "", note) if p)
        entry = timeline_entry_for(case=case, actor=actor, at=at, headline=headline, body=body)
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        at=at,
        from_status=from_status,
        to_status=to_status,
        from_department=from_department,
        to_department=to_department,
        from_assignee=from_assignee,
        to_assignee=to_assignee,
        reason=reason,
        note=note,
        visibility=visibility,
        data={"headline": headline, **(data or {})},
        entry=entry,
    )


@dataclass
class SystemEvent:
    """A case event written by the system (no actor), for `record_many`."""

    case: Case
    kind: str
    at: datetime
    headline: str
    data: dict[str, Any]


def record_many(items: Sequence[SystemEvent]) -> list[CaseEvent]:
    """Append many system events at once (the SLA sweep): their timeline rows with their history rows,
    then the events, in two bulk inserts each; the same rows `record` writes one by one."""
    entries = [
        _timeline_entry(case=item.case, actor=None, at=item.at, headline=item.headline, body="")
        for item in items
    ]
    bulk_create_with_history(
        entries, TimelineEntry, custom_historical_attrs={"history_origin": current_origin()}
    )
    return CaseEvent.objects.bulk_create(
        CaseEvent(
            case=item.case,
            kind=item.kind,
            at=item.at,
            data={"headline": item.headline, **item.data},
            entry=entry,
        )
        for item, entry in zip(items, entries, strict=True)
    )


def notify(*, event: CaseEvent, case: Case, recipients: Iterable[int]) -> None:
    """Emit the outbox event of a case event; delivery happens after commit. The actor is never told."""
    actor_id = event.actor_id
    body = event.note or event.reason or ""
    outbox.emit(
        f"case.{event.kind}",
        payload={
            "title": f"{case.number} {event.data.get('headline', '')}".strip(),
            "body": body[:_BODY_PREVIEW],
            "url": case.get_absolute_url(),
            "case_id": case.pk,
            "case_number": case.number,
            "event_id": event.pk,
            "actor_id": actor_id,
        },
        recipients=sorted({pk for pk in recipients if pk != actor_id}),
        key=f"case-event:{event.pk}",
    )
