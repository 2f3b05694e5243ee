"""Writing what happened on a case: its `CaseEvent`, the party-timeline entry that shows it, and the
outbox event that tells people. Called by the services inside their transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType

from relay.accounts.models import Department, User
from relay.activities.choices import Direction, EntryKind
from relay.activities.models import TimelineEntry
from relay.cases.choices import Visibility
from relay.cases.models import Case, CaseEvent, CaseStatus
from relay.core import bulk, outbox
from relay.core.audit import current_origin, with_actor
from relay.core.models import Source

_BODY_PREVIEW = 500


def case_content_type() -> ContentType:
    return ContentType.objects.get_for_model(Case)  # cached by Django after the first call


def timeline_entry_for(
    *, case: Case, actor: User | None, at: datetime, headline: str, body: str = ""
) -> TimelineEntry:
    """The party-timeline row of a case event (kind "case", pointing at the case)."""
    entry = timeline_entry(case=case, actor=actor, at=at, headline=headline, body=body)
    entry.save()
    return entry


def timeline_entry(
    *, case: Case, actor: User | None, at: datetime, headline: str, body: str
) -> TimelineEntry:
    """`timeline_entry_for`'s row, not saved (rows written together go in one insert)."""
    entry = TimelineEntry(
        **_entry_fields(case=case, at=at, headline=headline),
        **_kind_fields(by_user=actor is not None),
        actor=actor,
        entered_by=actor,
        body=body,
    )
    entry.case, entry.ref_type = case, case_content_type()  # in hand: no query when read
    with_actor(entry, actor)
    return entry


def _entry_fields(*, case: Case, at: datetime, headline: str) -> dict[str, Any]:
    """The values of a case event's timeline row that depend on the case and the event."""
    return {
        "party_id": case.party_id,
        "occurred_at": at,
        "subject": f"{case.number} · {headline}"[:255],
        "ref_id": case.pk,
        "case_id": case.pk,
    }


def _kind_fields(*, by_user: bool) -> dict[str, Any]:
    """The values every case event's timeline row shares (by a user, or by the system)."""
    return {
        "kind": EntryKind.CASE,
        "direction": Direction.INTERNAL,
        "ref_type_id": case_content_type().pk,
        "source": Source.USER if by_user else Source.SYSTEM,
    }


def record(
    *, case: Case, kind: str, actor: User | None, at: datetime, headline: str, **fields: Any
) -> CaseEvent:
    """Append an event to the case's history (`build`'s arguments). Without `entry` a timeline row is
    written for it; with one (a call or e-mail linked to the case) that row already shows the event on the
    party's timeline."""
    event = build(case=case, kind=kind, actor=actor, at=at, headline=headline, **fields)
    event.save()
    return event


def build(
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
    """The event `record` appends, not saved yet (events written together go in one `bulk_create`); the
    timeline row it needs is written now when no `entry` is given."""
    if entry is None:
        body = "\n\n".join(p for p in (f"Reason: {reason}" if reason else "", note) if p)
        entry = timeline_entry_for(case=case, actor=actor, at=at, headline=headline, body=body)
    return CaseEvent(
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


def record_many(items: Sequence[SystemEvent]) -> list[int]:
    """Append many system events at once (the SLA sweep): the rows `record` writes one by one (timeline
    row, its history row, the event), three inserts in all (relay.core.bulk). Returns the events' ids."""
    entries = bulk.insert_with_history(
        TimelineEntry,
        [_entry_fields(case=item.case, at=item.at, headline=item.headline) for item in items],
        same={**_kind_fields(by_user=False), "body": ""},  # no actor: the system
        origin=current_origin(),
    )
    return bulk.insert(
        CaseEvent,
        [
            {
                "case_id": item.case.pk,
                "kind": item.kind,
                "at": item.at,
                "data": {"headline": item.headline, **item.data},
                "entry_id": entry,
            }
            for item, entry in zip(items, entries, strict=True)
        ],
    )


def notify(*, event: CaseEvent, case: Case, recipients: Iterable[int]) -> None:
    """Emit the outbox event of a case event; delivery happens after commit. The actor is never told."""
    name, payload, to, key = notice(event=event, case=case, recipients=recipients)
    outbox.emit(name, payload=payload, recipients=to, key=key)


def notice(
    *, event: CaseEvent, case: Case, recipients: Iterable[int]
) -> tuple[str, dict[str, Any], list[int], str]:
    """The outbox event of a case event, as `outbox.emit_many` takes it (name, payload, recipients, key)."""
    actor_id = event.actor_id
    body = event.note or event.reason or ""
    payload = {
        "title": f"{case.number} {event.data.get('headline', '')}".strip(),
        "body": body[:_BODY_PREVIEW],
        "url": case.get_absolute_url(),
        "case_id": case.pk,
        "case_number": case.number,
        "event_id": event.pk,
        "actor_id": actor_id,
    }
    return (
        f"case.{event.kind}",
        payload,
        sorted({pk for pk in recipients if pk != actor_id}),
        f"case-event:{event.pk}",
    )
