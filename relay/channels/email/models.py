"""Mailboxes, inbound and outbound e-mail, quarantine, templates and signatures (docs/adr/0012-email.md).

* `Mailbox`: an address Relay receives mail for, owned by a department; mail reaches it by the HTTP
  endpoint (a provider's inbound webhook, authenticated by `inbound_secret`), the SMTP ingress or IMAP.
* `EmailMessage`: one e-mail, in or out. (mailbox, message_id) is unique: the same message delivered
  three times is one row and one interaction. The raw message is kept as a file (`raw`), always.
* `QuarantinedMessage`: a message that could not be taken in (unparseable, too large, a failure while
  processing): the raw bytes are kept with the reason, and staff resolve, retry or delete it.
* `AutoReply`: every auto-acknowledgement sent, for the per-sender rate limit.
* `EmailTemplate`, `Signature`: per department; agents use them in the reply composer.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from relay.core import clock
from relay.core.models import RestrictedQuerySet, TimeStampedModel


def _secret() -> str:
    return secrets.token_urlsafe(24)


def raw_path(instance: EmailMessage | QuarantinedMessage, filename: str) -> str:
    # content-addressed, never from the message: no traversal, and the same bytes are one file
    digest = instance.sha256 or "unknown"
    return f"email/raw/{digest[:2]}/{digest}.eml"


class ImapSecurity(models.TextChoices):
    SSL = "ssl", "SSL/TLS"
    STARTTLS = "starttls", "STARTTLS"
    NONE = "none", "None (loopback only)"


class Mailbox(TimeStampedModel):
    name = models.CharField(max_length=100)
    address = models.EmailField(unique=True, help_text="Stored lower-case")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="mailboxes")
    is_active = models.BooleanField(default=True)
    auto_acknowledge = models.BooleanField(
        default=True, help_text="Answer the first message of a new case with its reference"
    )
    inbound_secret = models.CharField(max_length=64, unique=True, default=_secret, editable=False)
    # IMAP polling (relay/channels/email/imap.py)
    imap_enabled = models.BooleanField(default=False)
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(max_length=10, choices=ImapSecurity.choices, default=ImapSecurity.SSL)
    imap_username = models.CharField(max_length=255, blank=True)
    imap_password = models.CharField(max_length=255, blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_last_uid = models.BigIntegerField(default=0)
    imap_checked_at = models.DateTimeField(null=True, blank=True)
    imap_error = models.TextField(blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def save(self, *args: object, **kwargs: object) -> None:
        self.address = (self.address or "").strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class SendStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Via(models.TextChoices):
    HTTP = "http", "HTTP"
    SMTP = "smtp", "SMTP"
    IMAP = "imap", "IMAP"
    RELAY = "relay", "Sent by Relay"


class EmailMessage(models.Model):
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="messages", db_index=False)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    via = models.CharField(max_length=10, choices=Via.choices)
    message_id = models.CharField(max_length=255, help_text="Without the angle brackets")
    synthetic_id = models.BooleanField(default=False, help_text="The message had no Message-ID of its own")
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=255, blank=True)
    to = models.TextField(blank=True, help_text="Addresses, comma-separated")
    cc = models.TextField(blank=True)
    subject = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True, help_text="The plain-text body (or the text of the HTML body)")
    html = models.TextField(blank=True, help_text="The HTML body as received; shown only sanitised")
    inline = models.JSONField(default=dict, blank=True, help_text="Content-ID -> attachment id")
    skipped = models.JSONField(default=list, blank=True, help_text="Parts not stored, with why")
    sha256 = models.CharField(max_length=64, blank=True)
    raw = models.FileField(upload_to=raw_path, max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    # inbound: when it reached us; outbound: when it was queued
    received_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=SendStatus.choices, default=SendStatus.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # why no auto-acknowledgement went out (loop rules), or "" when it did / was not due
    automated = models.CharField(max_length=100, blank=True, help_text="Why it looks machine-sent")
    is_auto_reply = models.BooleanField(default=False)
    party = models.ForeignKey(
        "customers.Party", null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="emails", db_index=False
    )
    entry = models.OneToOneField(
        "activities.TimelineEntry", null=True, blank=True, on_delete=models.SET_NULL, related_name="email"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "message_id"], name="email_message_once_per_mailbox"),
        ]
        indexes = [
            models.Index(fields=["message_id"], name="email_message_id_idx"),
            models.Index(fields=["case", "received_at"], name="email_case_idx"),
            models.Index(fields=["mailbox", "-received_at"], name="email_mailbox_idx"),
            models.Index(
                fields=["status"], name="email_unsent_idx", condition=Q(status__in=["queued", "failed"])
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id

    def is_inbound(self) -> bool:
        return self.direction == Direction.INBOUND


class QuarantineStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RESOLVED = "resolved", "Resolved"
    RETRIED = "retried", "Taken in on retry"


class QuarantinedMessage(models.Model):
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="quarantine")
    via = models.CharField(max_length=10, choices=Via.choices)
    reason = models.CharField(max_length=100)
    detail = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64)
    raw = models.FileField(upload_to=raw_path, max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    from_address = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=clock.now)
    status = models.CharField(
        max_length=10, choices=QuarantineStatus.choices, default=QuarantineStatus.PENDING
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        EmailMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["mailbox", "status", "-received_at"], name="email_quarantine_idx")]

    def __str__(self) -> str:
        return f"{self.reason}: {self.subject or self.sha256[:12]}"


class AutoReply(models.Model):
    """An auto-acknowledgement sent to `address` from `mailbox` (the rate limit counts these)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="+", db_index=False)
    address = models.CharField(max_length=320)
    sent_at = models.DateTimeField(default=clock.now)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.OneToOneField(
        EmailMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["mailbox", "address", "-sent_at"], name="email_autoreply_idx")]

    def __str__(self) -> str:
        return f"{self.address} {self.sent_at:%Y-%m-%d %H:%M}"


class EmailTemplate(TimeStampedModel):
    """A reply template of a department. Placeholders: {{ customer_name }}, {{ case_number }},
    {{ case_subject }}, {{ agent_name }} (rendered as plain text, nothing else is evaluated)."""

    department = models.ForeignKey(
        "accounts.Department", on_delete=models.CASCADE, related_name="email_templates"
    )
    name = models.CharField(max_length=100)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField()
    is_active = models.BooleanField(default=True)
    is_acknowledgement = models.BooleanField(
        default=False, help_text="Used for the auto-acknowledgement of new cases"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["department", "name"]
        constraints = [
            models.UniqueConstraint("department", Lower("name"), name="email_template_name_per_department"),
        ]

    def __str__(self) -> str:
        return self.name


class Signature(TimeStampedModel):
    """The signature appended to a department's e-mail (placeholders as in templates)."""

    department = models.OneToOneField(
        "accounts.Department", on_delete=models.CASCADE, related_name="email_signature"
    )
    body = models.TextField()

    objects = RestrictedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Signature of {self.department}"
