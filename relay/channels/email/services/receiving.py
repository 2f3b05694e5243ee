"""Taking mail in: `message_receive` is the one entry point of the HTTP endpoint, the SMTP ingress and
the IMAP poller (docs/adr/0012-email.md).

One call, one transaction: the message row is inserted first (the unique (mailbox, message_id)
constraint decides whether it is new), then the sender's party is found or created, the message threads
into its case (or opens one, at the received time), is logged as an inbound e-mail interaction with its
attachments, and an acknowledgement is queued when the loop rules allow. Anything that goes wrong
rolls that back and quarantines the raw message instead: a message is never lost and a bad one never
raises to the transport.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Literal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from relay.accounts.models import User
from relay.activities.choices import Direction as EntryDirection
from relay.activities.services import InteractionInput, attachment_add
from relay.cases.models import Case
from relay.cases.services import (
    case_log_interaction,
    case_open,
    case_open_follow_up,
    case_reopen,
)
from relay.cases.services.handling import can_reopen
from relay.channels.actors import channel_actor
from relay.channels.email import parsing
from relay.channels.email.models import (
    Direction,
    EmailMessage,
    Mailbox,
    QuarantinedMessage,
    SendStatus,
)
from relay.core import bulk, clock
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError
from relay.core.models import Source
from relay.customers.choices import ContactKind, PartyKind
from relay.customers.models import ContactPoint, Party
from relay.customers.services import ContactInput, PartyInput, Provenance, party_create

logger = logging.getLogger(__name__)

Outcome = Literal["stored", "duplicate", "quarantined"]
GATEWAY = "relay-email"
_MAX_MERGE_HOPS = 10


@dataclass
class Receipt:
    outcome: Outcome
    message: EmailMessage | None = None
    quarantined: QuarantinedMessage | None = None
    case: Case | None = None


class Quarantine(Exception):
    """The message cannot be taken in; `reason` is a short code shown in the quarantine list."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def mailbox_for_address(address: str) -> Mailbox | None:
    """The active mailbox for an address ("Name <a@b>" accepted), case-insensitive."""
    _, addr = parseaddr(address or "")
    addr = (addr or address or "").strip().strip("<>").lower()
    if not addr or "@" not in addr:
        return None
    return Mailbox.objects.select_related("department").filter(address=addr, is_active=True).first()


def max_bytes() -> int:
    return int(getattr(settings, "RELAY_EMAIL_MAX_BYTES", 25 * 1024 * 1024))


def store_raw(raw: bytes, digest: str) -> str:
    """Keep the raw message as a file, named by its hash (the same bytes are stored once)."""
    name = f"email/raw/{digest[:2]}/{digest}.eml"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(raw))
    return name


def message_receive(
    *, mailbox: Mailbox, raw: bytes, via: str, received_at: datetime | None = None
) -> Receipt:
    """Take one raw message in for `mailbox`. Never raises for a bad message (it is quarantined);
    idempotent per (mailbox, Message-ID); safe to call concurrently."""
    received_at = received_at or clock.now()
    raw = bytes(raw or b"")
    digest = hashlib.sha256(raw).hexdigest()
    stored = ""
    try:
        if not raw.strip():
            raise Quarantine("empty", "The message has no content.")
        if len(raw) > max_bytes():
            raise Quarantine("too large", f"{len(raw)} bytes; at most {max_bytes()} are taken in.")
        if not mailbox.is_active:
            raise Quarantine("mailbox inactive", f"{mailbox.address} does not take mail in.")
        try:
            parsed = parsing.parse(raw)
        except parsing.ParseError as exc:
            raise Quarantine("unparseable", str(exc)) from exc
        if not parsed.from_address:
            raise Quarantine("no sender", "The message has no From address to answer or file it under.")
        stored = store_raw(raw, digest)
        with transaction.atomic():
            return _receive(mailbox, parsed, raw, digest, stored, via, received_at)
    except Quarantine as exc:
        return _quarantine(mailbox, raw, digest, stored, via, received_at, exc.reason, exc.detail)
    except Exception as exc:  # a failure while processing: keep the message, say why
        logger.exception("Inbound e-mail for %s could not be processed; quarantined", mailbox.address)
        return _quarantine(
            mailbox,
            raw,
            digest,
            stored,
            via,
            received_at,
            "processing failed",
            f"{type(exc).__name__}: {exc}",
        )


def _quarantine(
    mailbox: Mailbox,
    raw: bytes,
    digest: str,
    stored: str,
    via: str,
    received_at: datetime,
    reason: str,
    detail: str,
) -> Receipt:
    subject = sender = ""
    try:
        parsed = parsing.parse(raw)
        subject, sender = parsed.subject, parsed.from_address
    except Exception:  # noqa: S110 - whatever the parser says, the raw is kept
        pass
    if not stored and raw:
        try:
            stored = store_raw(raw, digest)
        except Exception:
            logger.exception("Could not store a quarantined message's raw file")
    row = QuarantinedMessage.objects.create(
        mailbox=mailbox,
        via=via,
        reason=reason,
        detail=detail[:4000],
        sha256=digest,
        raw=stored,
        size=len(raw),
        from_address=sender[:320],
        subject=subject[:255],
        received_at=received_at,
    )
    return Receipt(outcome="quarantined", quarantined=row)


def _receive(
    mailbox: Mailbox,
    parsed: parsing.Parsed,
    raw: bytes,
    digest: str,
    stored: str,
    via: str,
    received_at: datetime,
) -> Receipt:
    message = EmailMessage(
        mailbox=mailbox,
        direction=Direction.INBOUND,
        via=via,
        message_id=parsed.message_id[:255],
        synthetic_id=parsed.synthetic_id,
        in_reply_to=parsed.in_reply_to[:255],
        references=" ".join(parsed.references)[:10000],
        from_address=parsed.from_address[:320],
        from_name=parsed.from_name,
        to=", ".join(parsed.to),
        cc=", ".join(parsed.cc),
        subject=parsed.subject,
        text=parsed.text,
        html=parsed.html,
        sha256=digest,
        raw=stored,
        size=len(raw),
        received_at=received_at,
        status=SendStatus.RECEIVED,
        automated=parsed.automated[:100],
    )
    if not bulk.insert_once(message):  # the constraint decides: this message was taken in before
        existing = EmailMessage.objects.select_related("case").get(
            mailbox=mailbox, message_id=message.message_id
        )
        return Receipt(outcome="duplicate", message=existing, case=existing.case)

    actor = channel_actor(GATEWAY)
    case, opened = _thread(actor, mailbox, parsed, received_at)
    if case is None:
        party = _sender_party(actor, parsed)
        case = case_open(
            actor=actor,
            party=party,
            subject=parsed.subject or "(no subject)",
            description=parsed.text[:2000],
            channel=Channel.EMAIL,
            opened_at=received_at,
            fallback_department=mailbox.department,
        )
        opened = True
    event = case_log_interaction(
        actor=actor,
        case=case,
        data=InteractionInput(
            channel=Channel.EMAIL,
            direction=EntryDirection.INBOUND,
            subject=parsed.subject[:255],
            body=parsed.text,
            occurred_at=min(received_at, clock.now()),
        ),
        notify=not opened,
    )
    entry = event.entry
    assert entry is not None
    message.case, message.party, message.entry = case, case.party, entry
    message.inline, message.skipped = _attachments(actor, entry, parsed)
    message.save(update_fields=["case", "party", "entry", "inline", "skipped"])
    if opened:
        from relay.channels.email.services.sending import acknowledge

        acknowledge(mailbox=mailbox, message=message, parsed=parsed, case=case)
    return Receipt(outcome="stored", message=message, case=case)


def _live(case: Case) -> Case:
    hops = 0
    while case.merged_into_id is not None and hops < _MAX_MERGE_HOPS:
        case = Case.objects.get(pk=case.merged_into_id)
        hops += 1
    return case


def _thread(
    actor: User, mailbox: Mailbox, parsed: parsing.Parsed, received_at: datetime
) -> tuple[Case | None, bool]:
    """The case this message continues, and whether a new (follow-up) case was opened for it.

    1. In-Reply-To / References naming a message we sent or received (nearest first);
    2. else the case reference `[C-000123]` in the subject, when the sender is on that case's file;
    3. else none (a new case). A closed case is reopened within the reopen window, else followed up."""
    case: Case | None = None
    ids = parsed.thread_ids()
    if ids:
        rows = dict(
            EmailMessage.objects.filter(message_id__in=ids, case__isnull=False).values_list(
                "message_id", "case_id"
            )
        )
        for message_id in ids:
            if message_id in rows:
                case = Case.objects.get(pk=rows[message_id])
                break
    if case is None:
        reference = parsed.case_reference()
        if reference:
            candidate = Case.objects.filter(number=reference).first()
            if candidate is not None and _sender_on_file(parsed.from_address, _live(candidate).party_id):
                case = candidate
    if case is None:
        return None, False
    case = _live(case)
    if case.is_open():
        return case, False
    if can_reopen(case, at=clock.now()):
        return case_reopen(
            actor=actor, case=case, reason="The customer replied by e-mail.", expected_version=None
        ), False
    follow_up = case_open_follow_up(
        actor=actor,
        case=case,
        subject=parsed.subject or case.subject,
        description=parsed.text[:2000],
        channel=Channel.EMAIL,
        opened_at=received_at,
    )
    return follow_up, True


def _sender_on_file(address: str, party_id: int) -> bool:
    return ContactPoint.objects.filter(party_id=party_id, kind=ContactKind.EMAIL, normalized=address).exists()


def _sender_party(actor: User, parsed: parsing.Parsed) -> Party:
    """The party with the sender's address (the longest-known one when several share it), or a new
    person with provenance system / e-mail."""
    found = (
        ContactPoint.objects.filter(kind=ContactKind.EMAIL, normalized=parsed.from_address)
        .order_by("party_id")
        .values_list("party_id", flat=True)
        .first()
    )
    if found is not None:
        return Party.objects.get(pk=found)
    given, family = _split_name(parsed.from_name, parsed.from_address)
    try:
        return party_create(
            actor=actor,
            data=PartyInput(
                kind=PartyKind.PERSON,
                given_name=given,
                family_name=family,
                preferred_channel=Channel.EMAIL,
                contact_points=[
                    ContactInput(kind=ContactKind.EMAIL, raw=parsed.from_address, is_primary=True)
                ],
            ),
            provenance=Provenance(source=Source.SYSTEM, detail="e-mail"),
        )
    except ApplicationError as exc:
        raise Quarantine("bad sender", f"{parsed.from_address}: {exc}") from exc


def _split_name(name: str, address: str) -> tuple[str, str]:
    name = " ".join(name.replace('"', "").split())
    if "," in name:  # "Doe, Jane"
        family, _, given = name.partition(",")
        return given.strip()[:100], family.strip()[:100]
    if name and "@" not in name:
        given, _, family = name.rpartition(" ")
        return (given or family)[:100], (family if given else "")[:100]
    local = address.split("@")[0]
    words = [w for w in re.split(r"[._\-+]+", local) if w]
    if len(words) >= 2:
        return words[0].title()[:100], " ".join(words[1:]).title()[:100]
    return "", (local or address)[:100]


def _attachments(
    actor: User, entry: object, parsed: parsing.Parsed
) -> tuple[dict[str, int], list[dict[str, object]]]:
    """Store the parts under the same rules as uploads (sniffed type, size limit, clean names); a part
    those rules refuse is listed as skipped, and stays in the raw message."""
    inline: dict[str, int] = {}
    skipped: list[dict[str, object]] = []
    for part in parsed.parts:
        info: dict[str, object] = {
            "filename": part.filename,
            "content_type": part.content_type,
            "size": len(part.data),
        }
        if not part.data:
            skipped.append({**info, "reason": "empty"})
            continue
        try:
            with transaction.atomic():
                attachment = attachment_add(
                    actor=actor,
                    entry=entry,  # type: ignore[arg-type]
                    upload=SimpleUploadedFile(part.filename, part.data, content_type=part.content_type),
                )
        except ApplicationError as exc:
            skipped.append({**info, "reason": exc.message if hasattr(exc, "message") else str(exc)})
            continue
        if part.content_id:
            inline[part.content_id] = attachment.pk
    return inline, skipped
