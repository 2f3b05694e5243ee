"""Mail out: replies from the case page, and the auto-acknowledgement of new cases.

A reply is an `EmailMessage` row (outbound, queued) and an outbound e-mail interaction on the case
(through the case services, so the SLA response target is met), written in one transaction with an
outbox event keyed by the message row. The outbox delivers it after commit (`deliver_event`): it sends
through Django's configured mailer and marks the row sent; a retried delivery finds the row sent and
sends nothing. A failure marks the row failed with the error, and the outbox retries it with back-off
(or staff retry it at once from the case page).
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage as MailMessage
from django.db import transaction
from django.db.models import F

from relay.accounts.models import User
from relay.activities.choices import Direction as EntryDirection
from relay.activities.services import InteractionInput
from relay.cases.models import Case
from relay.cases.services import case_log_interaction
from relay.channels.email import parsing
from relay.channels.email.models import (
    AutoReply,
    Direction,
    EmailMessage,
    EmailTemplate,
    Mailbox,
    SendStatus,
    Signature,
    Via,
)
from relay.core import clock, config_cache, outbox
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError, NotAllowed
from relay.core.outbox_models import OutboxEvent

logger = logging.getLogger(__name__)

SEND_EVENT = "email.send"
PLACEHOLDERS = ("customer_name", "case_number", "case_subject", "agent_name", "department")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_REFERENCE = re.compile(r"\[C-\d+\]")


def render_placeholders(text: str, values: dict[str, str]) -> str:
    """`{{ name }}` replaced by its value, as plain text; unknown names are left as they are. Nothing
    else is evaluated (no template language reaches the customer's data or the server)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def placeholder_values(case: Case, agent: User | None) -> dict[str, str]:
    return {
        "customer_name": case.party.display_name,
        "case_number": case.number,
        "case_subject": case.subject,
        "agent_name": agent.display_name if agent is not None else "",
        "department": case.department.name,
    }


def subject_with_reference(subject: str, case: Case) -> str:
    subject = " ".join(subject.split()) or case.subject
    if f"[{case.number}]" not in subject:
        subject = f"{_REFERENCE.sub('', subject).strip()} [{case.number}]".strip()
    return subject[:255]


def new_message_id(mailbox: Mailbox) -> str:
    domain = mailbox.address.rpartition("@")[2] or "relay.localhost"
    return f"relay.{uuid.uuid4().hex}@{domain}"


def is_our_message_id(message_id: str) -> bool:
    return (
        message_id.startswith("relay.")
        and EmailMessage.objects.filter(message_id=message_id, direction=Direction.OUTBOUND).exists()
    )


def mailbox_for_case(case: Case, emails: list[EmailMessage] | None = None) -> Mailbox | None:
    """The mailbox the customer last wrote to on this case, else the department's, else any active one.
    One query for the (few) active mailboxes; `emails`, the case's messages when the caller has them."""
    if emails is None:
        emails = list(
            EmailMessage.objects.filter(case=case, direction=Direction.INBOUND).only(
                "mailbox_id", "direction", "received_at"
            )
        )
    active = {m.pk: m for m in Mailbox.objects.filter(is_active=True).order_by("id")}
    inbound = sorted(
        (e for e in emails if e.direction == Direction.INBOUND and e.mailbox_id in active),
        key=lambda e: (e.received_at, e.pk),
    )
    if inbound:
        return active[inbound[-1].mailbox_id]
    ours = [m for m in active.values() if m.department_id == case.department_id]
    return next(iter(ours or active.values()), None)


def _parent(case: Case) -> EmailMessage | None:
    """The message a reply answers: the case's latest, but for acknowledgements."""
    return EmailMessage.objects.filter(case=case, is_auto_reply=False).order_by("-received_at", "-id").first()


def _last_sender(case: Case) -> str:
    last = (
        EmailMessage.objects.filter(case=case, direction=Direction.INBOUND)
        .exclude(automated__startswith="robot")
        .order_by("-received_at", "-id")
        .values_list("from_address", flat=True)
        .first()
    )
    return last or ""


def _references(parent: EmailMessage | None) -> tuple[str, str]:
    if parent is None:
        return "", ""
    refs = [*[r for r in parent.references.split() if r][-19:], parent.message_id]
    return parent.message_id, " ".join(refs)


def _department_texts(department_id: int | None) -> tuple[EmailTemplate | None, Signature | None]:
    """The department's acknowledgement template and its signature (configuration: cached, shared)."""
    return config_cache.cached(
        f"email.department_texts.{department_id}",
        lambda: (
            EmailTemplate.objects.filter(
                department=department_id, is_acknowledgement=True, is_active=True
            ).first(),
            Signature.objects.filter(department=department_id).first(),
        ),
    )


def signature_for(case: Case, agent: User | None) -> str:
    signature = _department_texts(case.department_id)[1]
    return render_placeholders(signature.body, placeholder_values(case, agent)) if signature else ""


def _emit_send(message: EmailMessage) -> None:
    outbox.emit(
        SEND_EVENT,
        payload={
            "title": f"E-mail to {message.to}"[:200],
            "email_id": message.pk,
            "case_id": message.case_id,
        },
        key=f"{SEND_EVENT}:{message.pk}",
    )


@transaction.atomic
def email_reply(
    *,
    actor: User,
    case: Case,
    body: str,
    subject: str = "",
    to: str = "",
    cc: str = "",
    template: EmailTemplate | None = None,
    with_signature: bool = True,
) -> EmailMessage:
    """Send an e-mail to the customer from the case page: `[C-000123]` in the subject, threaded on the
    case's last message (In-Reply-To, References), the department's signature appended. It is queued
    now and sent after commit."""
    if not actor.has_perm("cases.change_case", case) or not actor.has_perm("activities.add_interaction"):
        raise NotAllowed("You may not write to the customer on this case.")
    case = Case.objects.select_related("party", "department").get(pk=case.pk)
    values = placeholder_values(case, actor)
    if template is not None:
        if template.department_id != case.department_id or not template.is_active:
            raise ApplicationError(
                "Some fields are not valid.", errors={"template": ["Choose a template of this department."]}
            )
        body = body or render_placeholders(template.body, values)
        subject = subject or render_placeholders(template.subject, values)
    body = body.strip()
    errors: dict[str, list[str]] = {}
    if not body:
        errors["body"] = ["Write the message."]
    parent = _parent(case)
    recipient = to.strip() or _last_sender(case) or case.party.primary_email or ""
    recipients = [a for a in re.split(r"[,;\s]+", recipient) if a]
    copies = [a for a in re.split(r"[,;\s]+", cc) if a]
    from django.core.validators import validate_email

    for label, group in (("to", recipients), ("cc", copies)):
        for address in group:
            try:
                validate_email(address)
            except Exception:
                errors.setdefault(label, []).append(f"'{address}' is not an e-mail address.")
    if not recipients:
        errors.setdefault("to", []).append("The customer has no e-mail address; enter one.")
    mailbox = mailbox_for_case(case)
    if mailbox is None:
        errors.setdefault("to", []).append("No mailbox is set up to send from; ask a manager to add one.")
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    assert mailbox is not None
    if with_signature:
        signature = signature_for(case, actor)
        if signature:
            body = f"{body}\n\n-- \n{signature}"
    if not subject.strip():
        base = parent.subject if parent is not None and parent.subject else case.subject
        subject = base if base.lower().startswith("re:") else f"Re: {base}"
    in_reply_to, references = _references(parent)
    message = EmailMessage.objects.create(
        mailbox=mailbox,
        direction=Direction.OUTBOUND,
        via=Via.RELAY,
        message_id=new_message_id(mailbox),
        in_reply_to=in_reply_to,
        references=references,
        from_address=mailbox.address,
        from_name=mailbox.name,
        to=", ".join(recipients),
        cc=", ".join(copies),
        subject=subject_with_reference(subject, case),
        text=body,
        status=SendStatus.QUEUED,
        case=case,
        party=case.party,
        sent_by=actor,
    )
    event = case_log_interaction(
        actor=actor,
        case=case,
        data=InteractionInput(
            channel=Channel.EMAIL, direction=EntryDirection.OUTBOUND, subject=message.subject, body=body
        ),
    )
    message.entry = event.entry
    message.save(update_fields=["entry"])
    _emit_send(message)
    return message


@transaction.atomic
def email_retry(*, actor: User, message: EmailMessage) -> EmailMessage:
    """Try a failed e-mail again now (the same message: the same Message-ID, never a second copy)."""
    current = EmailMessage.objects.select_for_update(of=("self",)).select_related("case").get(pk=message.pk)
    if current.case is None or not actor.has_perm("cases.change_case", current.case):
        raise NotAllowed("You may not send e-mail on this case.")
    if current.direction != Direction.OUTBOUND or current.status != SendStatus.FAILED:
        raise ApplicationError("Only an e-mail that failed to send can be retried.")
    current.status, current.error = SendStatus.QUEUED, ""
    current.save(update_fields=["status", "error"])
    now = clock.now()
    updated = OutboxEvent.objects.filter(key=f"{SEND_EVENT}:{current.pk}").update(
        available_at=now, dispatched_at=None, claimed_by=""
    )
    if not updated:
        _emit_send(current)
    else:
        transaction.on_commit(lambda: outbox.schedule_drain(now), robust=True)
    return current


def acknowledge(*, mailbox: Mailbox, message: EmailMessage, parsed: parsing.Parsed, case: Case) -> str:
    """Queue the auto-acknowledgement of a new case, unless a loop rule says no. Returns "" when one
    was queued, else the reason none was (also kept on the message as `automated`)."""
    reason = ""
    address = message.from_address
    if not mailbox.auto_acknowledge:
        reason = "acknowledgements off for this mailbox"
    elif parsed.automated:
        reason = parsed.automated
    elif Mailbox.objects.filter(address=address).exists():
        reason = "sent by one of our own mailboxes"
    elif is_our_message_id(parsed.message_id):
        reason = "our own message"
    else:
        limit = int(getattr(settings, "RELAY_AUTOREPLY_PER_HOUR", 3))
        since = clock.now() - timedelta(hours=1)
        if AutoReply.objects.filter(mailbox=mailbox, address=address, sent_at__gte=since).count() >= limit:
            reason = f"rate limit ({limit} per hour)"
    if reason:
        if not message.automated:
            EmailMessage.objects.filter(pk=message.pk).update(automated=reason[:100])
            message.automated = reason[:100]
        return reason
    if not (Case.party.is_cached(case) and Case.department.is_cached(case)):
        case = Case.objects.select_related("party", "department").get(pk=case.pk)
    values = placeholder_values(case, None)
    template = _department_texts(case.department_id)[0]
    if template is not None:
        subject = render_placeholders(template.subject, values) or f"Re: {message.subject}"
        body = render_placeholders(template.body, values)
    else:
        subject = f"Re: {message.subject}" if message.subject else case.subject
        body = (
            f"Thank you for your message. We have opened case {case.number} and will answer as soon as "
            f"we can.\n\nPlease keep [{case.number}] in the subject when you write about it again."
        )
    signature = signature_for(case, None)
    if signature:
        body = f"{body}\n\n-- \n{signature}"
    ack = EmailMessage.objects.create(
        mailbox=mailbox,
        direction=Direction.OUTBOUND,
        via=Via.RELAY,
        message_id=new_message_id(mailbox),
        in_reply_to=message.message_id,
        references=" ".join([*message.references.split()[-19:], message.message_id]),
        from_address=mailbox.address,
        from_name=mailbox.name,
        to=address,
        subject=subject_with_reference(subject, case),
        text=body,
        status=SendStatus.QUEUED,
        is_auto_reply=True,
        case=case,
        party=case.party,
    )
    AutoReply.objects.create(mailbox=mailbox, address=address, case=case, message=ack)
    _emit_send(ack)
    return ""


# --- delivery (registered with the outbox in apps.py) ---------------------------------------------------


def mail_for(message: EmailMessage) -> MailMessage:
    headers = {"Message-ID": f"<{message.message_id}>"}
    if message.in_reply_to:
        headers["In-Reply-To"] = f"<{message.in_reply_to}>"
    if message.references:
        headers["References"] = " ".join(f"<{r}>" for r in message.references.split())
    if message.is_auto_reply:
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    if message.case_id is not None:
        headers["X-Relay-Case"] = str(message.case.number) if message.case else ""
    mailbox = message.mailbox
    return MailMessage(
        subject=message.subject,
        body=message.text,
        from_email=f"{mailbox.name} <{mailbox.address}>" if mailbox.name else mailbox.address,
        to=[a.strip() for a in message.to.split(",") if a.strip()],
        cc=[a.strip() for a in message.cc.split(",") if a.strip()],
        headers=headers,
    )


def deliver_event(event: OutboxEvent) -> None:
    """Send the e-mail of an `email.send` event, once: a row already sent is not sent again."""
    if event.name != SEND_EVENT:
        return
    message = (
        EmailMessage.objects.select_related("mailbox", "case")
        .filter(pk=event.payload.get("email_id"))
        .first()
    )
    if message is None or message.status == SendStatus.SENT:
        return
    EmailMessage.objects.filter(pk=message.pk).update(attempts=F("attempts") + 1)
    try:
        mail_for(message).send()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        EmailMessage.objects.filter(pk=message.pk).exclude(status=SendStatus.SENT).update(
            status=SendStatus.FAILED, error=error
        )
        raise outbox.DeliveryFailed(error) from exc
    EmailMessage.objects.filter(pk=message.pk).update(status=SendStatus.SENT, sent_at=clock.now(), error="")
