"""Every write to the timeline: interactions, notes, attachments."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.text import get_valid_filename

from relay.accounts.models import User
from relay.activities.choices import Direction, EntryKind
from relay.activities.models import Attachment, TimelineEntry
from relay.core import clock
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError, NotAllowed
from relay.core.models import Source
from relay.core.services import apply_changes, delete_audited, lock_current, save_audited
from relay.customers.models import Party

_FUTURE_TOLERANCE = timedelta(minutes=5)
_MAIL_HEADERS = (
    b"from:",
    b"from ",
    b"received:",
    b"return-path:",
    b"mime-version:",
    b"message-id:",
    b"delivered-to:",
    b"date:",
    b"to:",
    b"subject:",
    b"x-",
)
ENTRY_FIELDS = {"channel", "direction", "subject", "body", "occurred_at", "duration_seconds"}


@dataclass
class InteractionInput:
    channel: str
    direction: str = Direction.INBOUND
    subject: str = ""
    body: str = ""
    occurred_at: datetime | None = None
    duration_seconds: int | None = None


def _require(actor: User, perm: str, obj: Any = None) -> None:
    if not actor.has_perm(perm, obj):
        raise NotAllowed("You may not change this timeline entry." if obj else "You may not log activity.")


def _validate_entry(entry: TimelineEntry) -> None:
    errors: dict[str, list[str]] = {}
    if entry.kind == EntryKind.INTERACTION:
        if entry.channel not in Channel.values:
            errors["channel"] = [f"Choose one of: {', '.join(Channel.values)}."]
        if entry.direction not in Direction.values:
            errors["direction"] = [f"Choose one of: {', '.join(Direction.values)}."]
    if entry.kind == EntryKind.NOTE and not entry.body.strip():
        errors["body"] = ["A note needs some text."]
    if entry.duration_seconds is not None and not (0 <= entry.duration_seconds <= 7 * 24 * 3600):
        errors["duration_seconds"] = ["Must be between 0 and 604800 seconds."]
    if entry.occurred_at and entry.occurred_at > clock.now() + _FUTURE_TOLERANCE:
        errors["occurred_at"] = ["Cannot be in the future."]
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)


def _save(entry: TimelineEntry, actor: User | None) -> TimelineEntry:
    _validate_entry(entry)
    try:
        save_audited(entry, actor=actor)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise ApplicationError("Some fields are not valid.", errors=errors) from exc
    return entry


def _touch_party(party: Party) -> None:
    Party.objects.filter(pk=party.pk).update(updated_at=clock.now())


@transaction.atomic
def interaction_log(
    *,
    actor: User,
    party: Party,
    data: InteractionInput,
    source: str = Source.USER,
    source_detail: str = "",
    case: Any = None,
) -> TimelineEntry:
    """Record a call, e-mail, letter, fax, web message, chat, SMS or visit on the party's timeline.
    `case`: the case it belongs to (for the cases' services, which record the case's side)."""
    _require(actor, "activities.add_interaction")
    entry = TimelineEntry(
        party=party,
        case=case,
        kind=EntryKind.INTERACTION,
        actor=actor,
        channel=data.channel,
        direction=data.direction,
        subject=data.subject.strip(),
        body=data.body,
        occurred_at=data.occurred_at or clock.now(),
        duration_seconds=data.duration_seconds,
        source=source,
        source_detail=source_detail,
        entered_by=actor if source == Source.USER else None,
    )
    _save(entry, actor)
    _touch_party(party)
    return entry


@transaction.atomic
def note_add(
    *, actor: User, party: Party, body: str, subject: str = "", occurred_at: datetime | None = None
) -> TimelineEntry:
    _require(actor, "activities.add_note")
    entry = TimelineEntry(
        party=party,
        kind=EntryKind.NOTE,
        actor=actor,
        direction=Direction.INTERNAL,
        subject=subject.strip(),
        body=body,
        occurred_at=occurred_at or clock.now(),
        entered_by=actor,
    )
    _save(entry, actor)
    _touch_party(party)
    return entry


@transaction.atomic
def entry_update(
    *, actor: User, entry: TimelineEntry, expected_version: int | None, changes: dict[str, Any]
) -> TimelineEntry:
    _require(actor, f"activities.change_{entry.kind}", entry)
    current = lock_current(TimelineEntry, entry.pk, expected_version)
    allowed = ENTRY_FIELDS if current.kind == EntryKind.INTERACTION else {"subject", "body", "occurred_at"}
    try:
        changed = apply_changes(current, changes, allowed=allowed)
    except ValueError as exc:
        raise ApplicationError(str(exc)) from exc
    if changed:
        _save(current, actor)
    return current


@transaction.atomic
def entry_delete(*, actor: User, entry: TimelineEntry, expected_version: int | None) -> None:
    _require(actor, f"activities.delete_{entry.kind}", entry)
    current = lock_current(TimelineEntry, entry.pk, expected_version)
    files = [a.file.name for a in current.attachments.all() if a.file.name]
    delete_audited(current, actor=actor)
    transaction.on_commit(lambda: _remove_files(files))


# --- attachments ---------------------------------------------------------------------------------------


def _remove_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        # files are content-addressed: keep a file another attachment still uses
        if name and not Attachment.objects.filter(file=name).exists():
            default_storage.delete(name)


def _clean_filename(name: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip().lstrip(".")
    try:
        cleaned = get_valid_filename(base)[:200]
    except Exception:
        cleaned = ""
    return cleaned or "attachment"


def sniff_content_type(head: bytes) -> str:
    """The type the bytes say they are; plain text when they decode as UTF-8 and hold no NULs."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a multi-byte character cut at the end of the sample is fine
                return "application/octet-stream"
        if head.lstrip()[:40].lower().startswith(_MAIL_HEADERS):
            return "message/rfc822"
        if head.count(b",") >= 2 and b"\n" in head:
            return "text/csv"
        return "text/plain"
    return "application/octet-stream"


@transaction.atomic
def attachment_add(*, actor: User, entry: TimelineEntry, upload: UploadedFile) -> Attachment:
    _require(actor, "activities.add_attachment")
    max_bytes = settings.RELAY_ATTACHMENT_MAX_BYTES
    size = upload.size or 0
    if size == 0:
        raise ApplicationError("The file is empty.", errors={"file": ["The file is empty."]})
    if size > max_bytes:
        raise ApplicationError(
            "The file is too large.",
            errors={"file": [f"Files may be at most {max_bytes // (1024 * 1024)} MB."]},
            status=413,
        )
    upload.seek(0)
    head = upload.read(8192)
    content_type = sniff_content_type(head)
    if content_type not in settings.RELAY_ATTACHMENT_TYPES:
        raise ApplicationError(
            "This kind of file is not accepted.",
            errors={"file": [f"Files of type {content_type} are not accepted."]},
            status=415,
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    attachment = Attachment(
        entry=entry,
        filename=_clean_filename(upload.name or ""),
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    upload.seek(0)
    attachment.file.save("upload", upload, save=False)
    stored = attachment.file.name or ""
    try:
        save_audited(attachment, actor=actor)
    except Exception:
        _remove_files([stored])
        raise
    return attachment
