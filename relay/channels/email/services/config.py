"""Writes of the e-mail set-up: mailboxes, templates, signatures, and the quarantine actions."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from relay.accounts.models import Department, User
from relay.channels.email.models import (
    EmailTemplate,
    Mailbox,
    QuarantinedMessage,
    QuarantineStatus,
    Signature,
)
from relay.channels.email.permissions import can_act_on_quarantine, can_edit_department_mail, is_mail_admin
from relay.core import clock, config_cache
from relay.core.exceptions import ApplicationError, NotAllowed

MAILBOX_FIELDS = (
    "name",
    "address",
    "department",
    "is_active",
    "auto_acknowledge",
    "imap_enabled",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_password",
    "imap_folder",
)


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError("Some fields are not valid.", errors={field: [message]})


# where the mailbox's IMAP UIDs come from
IMAP_SOURCE_FIELDS = ("imap_host", "imap_port", "imap_username", "imap_folder")


@transaction.atomic
def mailbox_save(*, actor: User, mailbox: Mailbox | None, data: dict[str, Any]) -> Mailbox:
    """Create (`mailbox=None`) or change a mailbox. Managers and admins only. An empty IMAP password
    keeps the one stored (the form never shows it)."""
    if not is_mail_admin(actor):
        raise NotAllowed("Only managers and administrators set up mailboxes.")
    row = Mailbox() if mailbox is None else Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    source = [getattr(row, f) for f in IMAP_SOURCE_FIELDS]
    for field in MAILBOX_FIELDS:
        if field not in data:
            continue
        if field == "imap_password" and not data[field] and row.pk:
            continue
        setattr(row, field, data[field])
    row.address = (row.address or "").strip().lower()
    try:
        validate_email(row.address)
    except ValidationError as exc:
        raise _invalid("address", "Enter an e-mail address.") from exc
    if not (row.name or "").strip():
        raise _invalid("name", "Give the mailbox a name.")
    if row.imap_enabled and not (row.imap_host and row.imap_username):
        raise _invalid("imap_host", "IMAP polling needs a host and a user name.")
    if row.pk and source != [getattr(row, f) for f in IMAP_SOURCE_FIELDS]:
        # another server, account or folder: its UIDs say nothing about the old one's (read it afresh;
        # what was already taken in stays one interaction by its Message-ID)
        row.imap_uidvalidity, row.imap_last_uid = None, 0
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise _invalid("address", "Another mailbox has this address.") from exc
    return row


@transaction.atomic
def mailbox_rotate_secret(*, actor: User, mailbox: Mailbox) -> Mailbox:
    """A new inbound secret (the old webhook URL stops working at once)."""
    import secrets

    if not is_mail_admin(actor):
        raise NotAllowed("Only managers and administrators set up mailboxes.")
    Mailbox.objects.filter(pk=mailbox.pk).update(
        inbound_secret=secrets.token_urlsafe(24), updated_at=clock.now()
    )
    mailbox.refresh_from_db()
    return mailbox


@transaction.atomic
def template_save(
    *,
    actor: User,
    template: EmailTemplate | None,
    department: Department,
    name: str,
    subject: str,
    body: str,
    is_active: bool = True,
    is_acknowledgement: bool = False,
) -> EmailTemplate:
    if not can_edit_department_mail(actor, department) or (
        template is not None and not can_edit_department_mail(actor, template.department)
    ):
        raise NotAllowed("Only managers, administrators and the department's supervisor edit its templates.")
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Give the template a name."]
    if not body.strip():
        errors["body"] = ["A template needs some text."]
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    row = template or EmailTemplate()
    row.department, row.name, row.subject, row.body = department, name.strip(), subject.strip(), body
    row.is_active, row.is_acknowledgement = is_active, is_acknowledgement
    row.updated_at = clock.now()
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise _invalid("name", "The department already has a template of this name.") from exc
    if is_acknowledgement:  # one acknowledgement template per department
        EmailTemplate.objects.filter(department=department, is_acknowledgement=True).exclude(
            pk=row.pk
        ).update(is_acknowledgement=False)
        config_cache.bump()  # an update() sends no signal
    return row


@transaction.atomic
def template_delete(*, actor: User, template: EmailTemplate) -> None:
    if not can_edit_department_mail(actor, template.department):
        raise NotAllowed("Only managers, administrators and the department's supervisor edit its templates.")
    template.delete()


@transaction.atomic
def signature_save(*, actor: User, department: Department, body: str) -> Signature | None:
    """Set the department's signature (empty text removes it)."""
    if not can_edit_department_mail(actor, department):
        raise NotAllowed("Only managers, administrators and the department's supervisor edit its signature.")
    if not body.strip():
        Signature.objects.filter(department=department).delete()
        return None
    signature, _ = Signature.objects.update_or_create(
        department=department, defaults={"body": body.rstrip(), "updated_at": clock.now()}
    )
    return signature


# --- quarantine -------------------------------------------------------------------------------------------


def _pending(actor: User, row: QuarantinedMessage) -> QuarantinedMessage:
    current = QuarantinedMessage.objects.select_for_update().select_related("mailbox").get(pk=row.pk)
    if not can_act_on_quarantine(actor, current.mailbox):
        raise NotAllowed("Only managers, administrators and the mailbox's supervisor handle its quarantine.")
    if current.status != QuarantineStatus.PENDING:
        raise ApplicationError("This message was already dealt with.")
    return current


@transaction.atomic
def quarantine_resolve(*, actor: User, message: QuarantinedMessage) -> QuarantinedMessage:
    """Mark it dealt with (handled by hand); the raw message stays downloadable."""
    current = _pending(actor, message)
    current.status, current.resolved_by, current.resolved_at = QuarantineStatus.RESOLVED, actor, clock.now()
    current.save(update_fields=["status", "resolved_by", "resolved_at"])
    return current


def quarantine_retry(*, actor: User, message: QuarantinedMessage) -> QuarantinedMessage:
    """Take the message in again (after a fix, or a larger size limit). When it still fails, a new
    quarantine row says why and this one stays pending."""
    from relay.channels.email.services.receiving import message_receive

    with transaction.atomic():
        current = _pending(actor, message)
    raw = b""
    if current.raw:
        with current.raw.open("rb") as handle:
            raw = handle.read()
    receipt = message_receive(
        mailbox=current.mailbox, raw=raw, via=current.via, received_at=current.received_at
    )
    if receipt.outcome == "quarantined":
        if receipt.quarantined is not None:
            receipt.quarantined.delete()  # the same failure again: one row, with the latest reason
            QuarantinedMessage.objects.filter(pk=current.pk).update(
                reason=receipt.quarantined.reason, detail=receipt.quarantined.detail
            )
        current.refresh_from_db()
        raise ApplicationError(f"The message still cannot be taken in: {current.reason}. {current.detail}")
    QuarantinedMessage.objects.filter(pk=current.pk).update(
        status=QuarantineStatus.RETRIED, resolved_by=actor, resolved_at=clock.now(), message=receipt.message
    )
    current.refresh_from_db()
    return current


@transaction.atomic
def quarantine_delete(*, actor: User, message: QuarantinedMessage) -> None:
    """Delete it for good (spam); the raw file goes when no other row uses it."""
    current = QuarantinedMessage.objects.select_for_update().select_related("mailbox").get(pk=message.pk)
    if not can_act_on_quarantine(actor, current.mailbox):
        raise NotAllowed("Only managers, administrators and the mailbox's supervisor handle its quarantine.")
    name = current.raw.name if current.raw else ""
    current.delete()

    def _remove() -> None:
        from django.core.files.storage import default_storage

        from relay.channels.email.models import EmailMessage

        if (
            name
            and not QuarantinedMessage.objects.filter(raw=name).exists()
            and not EmailMessage.objects.filter(raw=name).exists()
        ):
            default_storage.delete(name)

    transaction.on_commit(_remove)
