"""Every write of the phone channel: a call rings, is answered, ends (and is logged), is dialled from
Relay, gets a case from its pop; an inbound fax is filed (docs/adr/0013-telephony-and-live-push.md).

The webhooks call these with the phone system's account (`channel_actor("relay-phone")`); the pop's
buttons with the agent. Idempotency is by constraint: (provider, call_id) is unique, and a call that
has ended is never logged twice, so a provider's retries change nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from relay.accounts.models import Department, User
from relay.activities.choices import Direction
from relay.activities.models import TimelineEntry
from relay.activities.services import (
    InteractionInput,
    attachment_add,
    entry_update,
    interaction_log,
    sniff_content_type,
)
from relay.cases.choices import OPEN_CATEGORIES
from relay.cases.models import Case
from relay.cases.services import case_log_interaction, case_open
from relay.channels.push import bus
from relay.channels.telephony.models import Call, CallDirection, CallState, Fax, PhoneLine, Provider
from relay.channels.telephony.permissions import party_visible_to
from relay.core import clock
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError, NotAllowed
from relay.core.models import Source
from relay.customers.choices import ContactLabel, PartyKind
from relay.customers.models import Party
from relay.customers.normalize import format_phone, try_normalize_phone
from relay.customers.selectors import party_ids_by_phone
from relay.customers.services import ContactInput, PartyInput, Provenance, party_create

PHONE_ACCOUNT = "relay-phone"
FAX_ACCOUNT = "relay-fax"


def e164_or_raw(raw: str) -> str:
    raw = (raw or "").strip()
    return try_normalize_phone(raw, settings.RELAY_PHONE_REGION) or raw[:40]


def _shown(number: str) -> str:
    return format_phone(number) if number.startswith("+") else number


def _field_error(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, errors={field: [message]})


# --- who gets the pop ------------------------------------------------------------------------------------


def can_see_call(user: User, call: Call) -> bool:
    """The rule of the call scope (relay/channels/telephony/permissions.py) for one call in hand."""
    from relay.channels.telephony.selectors import may_see_call

    return user.is_active and may_see_call(user, call)


def pop_recipients(call: Call) -> list[User]:
    """The agent the phone system named; else every active member (and the supervisor) of the line's
    department; in both cases only those who may see the call and the caller's file."""
    if call.agent_id is not None:
        candidates = [call.agent] if call.agent and call.agent.is_active else []
    elif call.line_id is not None:
        department = call.line.department  # type: ignore[union-attr]
        candidates = list(department.members.filter(is_active=True))
        if department.supervisor_id and all(u.pk != department.supervisor_id for u in candidates):
            supervisor = department.supervisor
            if supervisor is not None and supervisor.is_active:
                candidates.append(supervisor)
    else:
        candidates = []
    from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability

    return [
        u
        for u in candidates
        if has_capability(u, VIEW_CUSTOMERS)
        and u.username not in ("relay-phone", "relay-fax")
        and party_visible_to(u, call.party_id)
    ]


def _push(call: Call, state: str) -> None:
    event = {"type": "call", "state": state, "call": call.pk, "url": f"/phone/pops/{call.pk}/"}
    bus.publish_on_commit((bus.user_topic(u.pk), event) for u in pop_recipients(call))


# --- calls from the phone system -------------------------------------------------------------------------


@dataclass
class RingResult:
    call: Call
    created: bool


def _lookup_party(number: str) -> Party | None:
    ids = party_ids_by_phone(number)
    return Party.objects.get(pk=ids[0]) if len(ids) == 1 else None


@transaction.atomic
def call_ring(
    *,
    actor: User,
    provider: str,
    call_id: str,
    from_number: str,
    to_number: str,
    direction: str = CallDirection.INBOUND,
    agent_username: str = "",
    at: datetime | None = None,
) -> RingResult:
    """A call rings: record it once and pop the caller's card to whoever may take it."""
    call_id = (call_id or "").strip()
    if not call_id or len(call_id) > 128:
        raise _field_error("call_id", "A call needs the provider's call id (at most 128 characters).")
    if not (from_number or "").strip():
        raise _field_error("from", "A call needs the caller's number.")
    if direction not in CallDirection.values:
        raise _field_error("direction", "Choose inbound or outbound.")
    existing = Call.objects.filter(provider=provider, call_id=call_id).first()
    if existing is not None:
        return RingResult(existing, False)
    caller, dialled = e164_or_raw(from_number), e164_or_raw(to_number)
    ours, theirs = (dialled, caller) if direction == CallDirection.INBOUND else (caller, dialled)
    line = PhoneLine.objects.select_related("department").filter(number=ours, is_active=True).first()
    agent = None
    if agent_username:
        agent = User.objects.filter(username=agent_username, is_active=True).first()
    call = Call(
        provider=provider,
        call_id=call_id,
        direction=direction,
        from_number=caller,
        to_number=dialled,
        line=line,
        party=_lookup_party(theirs),
        agent=agent,
        state=CallState.RINGING,
        started_at=at or clock.now(),
    )
    try:
        with transaction.atomic():
            call.save()
    except IntegrityError:  # the same webhook, delivered twice at once
        return RingResult(Call.objects.get(provider=provider, call_id=call_id), False)
    _push(call, CallState.RINGING)
    return RingResult(call, True)


@transaction.atomic
def call_answer(*, actor: User, provider: str, call_id: str, at: datetime | None = None) -> Call | None:
    call = Call.objects.select_for_update().filter(provider=provider, call_id=call_id).first()
    if call is None or call.state != CallState.RINGING:
        return call
    call.state, call.answered_at, call.updated_at = CallState.IN_PROGRESS, at or clock.now(), clock.now()
    call.save(update_fields=["state", "answered_at", "updated_at"])
    return call


@transaction.atomic
def call_end(
    *,
    actor: User,
    provider: str,
    call_id: str,
    duration_seconds: int | None = None,
    disposition: str = "",
    recording_url: str = "",
    notes: str = "",
    at: datetime | None = None,
    from_number: str = "",
    to_number: str = "",
    direction: str = CallDirection.INBOUND,
) -> Call:
    """The call is over: record how it went and log it, once, on the caller's timeline and case. An end
    without a ring before it (a missed webhook) records the call first."""
    call = Call.objects.select_for_update().filter(provider=provider, call_id=call_id).first()
    if call is None:
        if not from_number:
            raise _field_error("call_id", "No such call, and no caller's number to record it by.")
        call_ring(
            actor=actor,
            provider=provider,
            call_id=call_id,
            from_number=from_number,
            to_number=to_number,
            direction=direction,
        )
        call = Call.objects.select_for_update().get(provider=provider, call_id=call_id)
    if call.state == CallState.ENDED:
        # a retried webhook changes nothing, but a recording often comes in a later callback than the end
        late = (recording_url or "").strip()[:500]
        if late and not call.recording_url:
            _add_recording(call, late)
        return call
    if duration_seconds is not None and not (0 <= duration_seconds <= 7 * 24 * 3600):
        raise _field_error("duration", "Must be between 0 and 604800 seconds.")
    now = at or clock.now()
    call.state, call.ended_at, call.updated_at = CallState.ENDED, now, clock.now()
    if duration_seconds is None:
        duration_seconds = max(0, int((now - (call.answered_at or call.started_at)).total_seconds()))
    call.duration_seconds = duration_seconds
    call.disposition = (disposition or "completed").strip()[:40]
    call.recording_url = (recording_url or "").strip()[:500] or call.recording_url
    if call.party_id is None:  # the caller may have been put on file while the call went on
        other = call.to_number if call.direction == CallDirection.OUTBOUND else call.from_number
        call.party = _lookup_party(other)
    call.save()
    if call.party_id is not None:
        _log(call, notes=notes)
    _push(call, CallState.ENDED)
    return call


@transaction.atomic
def call_add_recording(*, actor: User, provider: str, call_id: str, recording_url: str) -> Call:
    """A recording callback (Twilio's RecordingStatusCallback): kept on the call, and on its logged
    entry when the call has ended already. The first recording stays; a retry changes nothing."""
    call = Call.objects.select_for_update().filter(provider=provider, call_id=call_id).first()
    if call is None:
        raise _field_error("call_id", "No such call.")
    url = recording_url.strip()[:500]
    if url and not call.recording_url:
        if call.state == CallState.ENDED:
            _add_recording(call, url)
        else:  # recorded while the call goes on: logged with it at the end
            call.recording_url, call.updated_at = url, clock.now()
            call.save(update_fields=["recording_url", "updated_at"])
    return call


def _add_recording(call: Call, url: str) -> None:
    """A recording that arrives after the call was logged: kept on the call and added to its entry."""
    from relay.channels.actors import channel_actor

    call.recording_url, call.updated_at = url, clock.now()
    call.save(update_fields=["recording_url", "updated_at"])
    if call.interaction_id is not None:
        entry = TimelineEntry.objects.get(pk=call.interaction_id)
        entry_update(
            actor=channel_actor(PHONE_ACCOUNT),
            entry=entry,
            expected_version=None,
            changes={"body": f"{entry.body}\nRecording: {url}".strip()},
        )


def _logger(call: Call) -> User:
    """The agent who took the call writes the entry when they may; else the phone system does."""
    from relay.channels.actors import channel_actor

    if call.agent is not None and call.agent.is_active and call.agent.has_perm("activities.add_interaction"):
        return call.agent
    return channel_actor(PHONE_ACCOUNT)


def _target_case(call: Call) -> Case | None:
    """The case the agent started from the pop (or the one it was merged into), else the caller's most
    recently active open case."""
    case = call.case
    seen = set()
    while case is not None and case.merged_into_id is not None and case.pk not in seen:
        seen.add(case.pk)
        case = case.merged_into
    if case is not None and case.status_category in OPEN_CATEGORIES:
        return case
    assert call.party_id is not None
    return (
        Case.objects.filter(
            party_id=call.party_id, status_category__in=sorted(OPEN_CATEGORIES), merged_into__isnull=True
        )
        .order_by("-last_activity_at", "-id")
        .first()
    )


def _log(call: Call, *, notes: str = "") -> TimelineEntry:
    """Log the ended call on the timeline and on its case (once: the call row is locked by the caller)."""
    from relay.channels.actors import channel_actor

    assert call.party is not None
    outbound = call.direction == CallDirection.OUTBOUND
    other = call.to_number if outbound else call.from_number
    minutes, seconds = divmod(call.duration_seconds or 0, 60)
    lines = [f"Outcome: {call.disposition or 'completed'} · {minutes} min {seconds:02d} s"]
    if call.line is not None:
        lines.append(f"Line: {call.line.name} ({_shown(call.line.number)})")
    if call.agent is not None:
        lines.append(f"Agent: {call.agent.display_name}")
    if call.recording_url:
        lines.append(f"Recording: {call.recording_url}")
    if notes.strip():
        lines += ["", notes.strip()]
    entry = interaction_log(
        actor=_logger(call),
        party=call.party,
        data=InteractionInput(
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
            subject=f"{'Call to' if outbound else 'Call from'} {_shown(other)}",
            body="\n".join(lines),
            occurred_at=call.started_at,
            duration_seconds=call.duration_seconds,
        ),
        source=Source.SYSTEM if call.provider != Provider.MANUAL else Source.USER,
        source_detail=f"{call.get_provider_display()} call {call.call_id}"[:200],
    )
    call.interaction = entry
    case = _target_case(call)
    if case is not None:
        case_log_interaction(actor=channel_actor(PHONE_ACCOUNT), case=case, interaction=entry)
        call.case = case
    call.save(update_fields=["interaction", "case", "updated_at"])
    return entry


# --- calls from Relay (click-to-call) and the pop's buttons -------------------------------------------


@transaction.atomic
def call_dial(*, actor: User, party: Party, number: str) -> Call:
    """Click-to-call: an outbound call from the agent to one of the party's numbers. The agent's phone
    dials it (the tel: link); the outcome is logged from the call page, or by a provider's callback."""
    if not actor.has_perm("activities.add_interaction"):
        raise NotAllowed("You may not log calls.")
    if not party_visible_to(actor, party.pk):
        raise NotAllowed("You may not see this customer.")
    e164 = try_normalize_phone(number, settings.RELAY_PHONE_REGION)
    if not e164 or not party.contact_points.filter(kind="phone", normalized=e164).exists():
        raise _field_error("number", "Choose one of the customer's phone numbers.")
    line = PhoneLine.objects.filter(department__members=actor, is_active=True).order_by("number").first()
    now = clock.now()
    call = Call.objects.create(
        provider=Provider.MANUAL,
        call_id=uuid.uuid4().hex,
        direction=CallDirection.OUTBOUND,
        from_number=line.number if line else "",
        to_number=e164,
        line=line,
        party=party,
        agent=actor,
        state=CallState.IN_PROGRESS,
        started_at=now,
        answered_at=now,
    )
    return call


@transaction.atomic
def call_log_outcome(
    *, actor: User, call: Call, duration_seconds: int, disposition: str, notes: str = ""
) -> Call:
    """For a call no provider reports on (dialled from Relay): the agent logs how it went."""
    if not actor.has_perm("activities.add_interaction") or not can_see_call(actor, call):
        raise NotAllowed("You may not log this call.")
    if call.state == CallState.ENDED:
        raise ApplicationError("This call is already logged.")
    return call_end(
        actor=actor,
        provider=call.provider,
        call_id=call.call_id,
        duration_seconds=duration_seconds,
        disposition=disposition,
        notes=notes,
    )


@transaction.atomic
def call_start_case(
    *,
    actor: User,
    call: Call,
    subject: str = "",
    party: Party | None = None,
    new_caller: PartyInput | None = None,
) -> Case:
    """ "Start a case" from the pop: one click opens a phone case for the caller with the call linked
    (logged on it now if the call is over, or when it ends). An unknown caller is put on file first
    from the pop's new-caller form, with the number they call from."""
    if not actor.has_perm("cases.add_case") or not can_see_call(actor, call):
        raise NotAllowed("You may not open a case from this call.")
    locked = Call.objects.select_for_update(of=("self",)).select_related("party", "case").get(pk=call.pk)
    started_here = (
        locked.case is not None
        and locked.case.status_category in OPEN_CATEGORIES
        and locked.case.originator_id == actor.pk
        and locked.case.opened_at >= locked.started_at
    )
    if started_here and locked.case is not None:
        return locked.case  # a second click (not the open case the call was merely logged on)
    other = locked.to_number if locked.direction == CallDirection.OUTBOUND else locked.from_number
    party = locked.party or party
    if party is None:
        if new_caller is None or not (new_caller.given_name or new_caller.family_name):
            raise _field_error("family_name", "No customer has this number; enter the caller's name.")
        if other.startswith("+"):
            new_caller.contact_points.append(ContactInput(kind="phone", raw=other, is_primary=True))
        party = party_create(actor=actor, data=new_caller)
    locked.party = party
    case = case_open(
        actor=actor,
        party=party,
        subject=subject.strip() or f"Call from {_shown(other)}",
        channel=Channel.PHONE,
        originator=actor,
    )
    locked.case = case
    locked.save(update_fields=["party", "case", "updated_at"])
    if locked.state == CallState.ENDED:
        if locked.interaction is not None:
            if locked.interaction.case_id is None:  # logged on no case: it goes on this one
                case_log_interaction(actor=actor, case=case, interaction=locked.interaction)
        else:
            _log(locked)
    return case


# --- fax -------------------------------------------------------------------------------------------------

FAX_TYPES = ("application/pdf", "image/tiff")


@dataclass
class FaxResult:
    fax: Fax
    created: bool


@transaction.atomic
def fax_receive(
    *,
    actor: User,
    provider: str,
    fax_id: str,
    from_number: str,
    to_number: str,
    upload: UploadedFile,
    pages: int | None = None,
    at: datetime | None = None,
) -> FaxResult:
    """File an inbound fax like an e-mail: on the sender's file (found by number, or put on file with the
    fax as provenance), as an inbound fax interaction with the document attached, and on the sender's
    open case or a new one the routing rules place. All or nothing; the same fax twice is one fax."""
    fax_id = (fax_id or "").strip()
    if not fax_id or len(fax_id) > 128:
        raise _field_error("fax_id", "A fax needs the provider's fax id (at most 128 characters).")
    if not (from_number or "").strip():
        raise _field_error("from", "A fax needs the sender's number.")
    existing = Fax.objects.filter(provider=provider, fax_id=fax_id).first()
    if existing is not None:
        return FaxResult(existing, False)
    if not upload.size:
        raise _field_error("file", "The file is empty.")
    upload.seek(0)
    kind = sniff_content_type(upload.read(8192))
    upload.seek(0)
    if kind not in FAX_TYPES:
        raise ApplicationError(
            "A fax is a PDF or TIFF document.",
            errors={"file": [f"Files of type {kind} are not accepted as a fax."]},
            status=415,
        )
    sender = e164_or_raw(from_number)
    shown = _shown(sender)
    now = at or clock.now()
    ids = party_ids_by_phone(sender)
    if ids:
        party = Party.objects.get(pk=ids[0])
    else:
        party = party_create(
            actor=actor,
            data=PartyInput(
                kind=PartyKind.ORGANISATION,
                organisation_name=f"Fax sender {shown}",
                roles=["customer"],
                contact_points=[
                    ContactInput(kind="phone", raw=sender, label=ContactLabel.FAX, is_primary=True)
                ],
            ),
            provenance=Provenance(source=Source.SYSTEM, detail=f"fax from {shown}"),
        )
    page_text = f"{pages} page{'s' if pages != 1 else ''}" if pages else "A document"
    line = PhoneLine.objects.select_related("department").filter(number=e164_or_raw(to_number)).first()
    entry = interaction_log(
        actor=actor,
        party=party,
        data=InteractionInput(
            channel=Channel.FAX,
            direction=Direction.INBOUND,
            subject=f"Fax from {shown}",
            body=f"{page_text} received" + (f" on {line.name} ({_shown(line.number)})." if line else "."),
            occurred_at=now,
        ),
        source=Source.SYSTEM,
        source_detail=f"fax {fax_id}"[:200],
    )
    attachment_add(actor=actor, entry=entry, upload=upload)
    case = (
        Case.objects.filter(
            party=party, status_category__in=sorted(OPEN_CATEGORIES), merged_into__isnull=True
        )
        .order_by("-last_activity_at", "-id")
        .first()
    )
    if case is None:
        case = _open_fax_case(actor=actor, party=party, subject=f"Fax from {shown}", line=line)
    case_log_interaction(actor=actor, case=case, interaction=entry)
    fax = Fax(
        provider=provider,
        fax_id=fax_id,
        from_number=sender,
        to_number=e164_or_raw(to_number),
        pages=pages,
        received_at=now,
        party=party,
        interaction=entry,
        case=case,
    )
    try:
        with transaction.atomic():
            fax.save()
    except IntegrityError as exc:  # the same fax delivered twice at once: the other delivery filed it
        raise ApplicationError("This fax was filed already.", status=409) from exc
    return FaxResult(fax, True)


def _open_fax_case(*, actor: User, party: Party, subject: str, line: PhoneLine | None) -> Case:
    """A new case the routing rules place; with no rule matching, the fax line's department (or the
    one named by RELAY_FAX_DEPARTMENT) takes it."""
    department = line.department if line is not None else None
    if department is None:
        name = getattr(settings, "RELAY_FAX_DEPARTMENT", "Customer Care")
        department = Department.objects.filter(name=name, is_active=True).first()
    if department is None:
        department = Department.objects.filter(is_active=True).order_by("name").first()
    return case_open(
        actor=actor, party=party, subject=subject, channel=Channel.FAX, fallback_department=department
    )
