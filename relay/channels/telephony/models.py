"""Phone lines, calls from the phone system's webhooks, faxes (docs/adr/0013-telephony-and-live-push.md).

* `PhoneLine`: a number customers dial (E.164), answered by a department: whose agents get the pop.
* `Call`: one call, in or out. (provider, call_id) is unique, so a webhook the provider retries is the
  same row and changes nothing. When it ends it is logged once on the caller's timeline (`interaction`)
  and on their open case, or on the case the agent started from the pop (`case`).
* `Fax`: one inbound fax, filed like an e-mail: (provider, fax_id) unique likewise.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from relay.core.models import RestrictedQuerySet, TimeStampedModel


class Provider(models.TextChoices):
    TWILIO = "twilio", "Twilio"
    GENERIC = "generic", "Phone system (JSON webhook)"
    MANUAL = "manual", "Dialled from Relay"


class CallState(models.TextChoices):
    RINGING = "ringing", "Ringing"
    IN_PROGRESS = "in_progress", "In progress"
    ENDED = "ended", "Ended"


class CallDirection(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class PhoneLine(TimeStampedModel):
    number = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +14155550100")
    name = models.CharField(max_length=100)
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="phone_lines"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class CallQuerySet(RestrictedQuerySet):
    pass


class Call(TimeStampedModel):
    provider = models.CharField(max_length=10, choices=Provider.choices)
    call_id = models.CharField(max_length=128, help_text="The provider's id (Twilio's CallSid)")
    direction = models.CharField(max_length=10, choices=CallDirection.choices, default=CallDirection.INBOUND)
    from_number = models.CharField(max_length=40, help_text="E.164 when it parses, else as received")
    to_number = models.CharField(max_length=40, blank=True)
    line = models.ForeignKey(
        PhoneLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    party = models.ForeignKey(
        "customers.Party", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    state = models.CharField(max_length=12, choices=CallState.choices, default=CallState.RINGING)
    started_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    disposition = models.CharField(max_length=40, blank=True, help_text="completed, busy, no-answer, ...")
    recording_url = models.URLField(max_length=500, blank=True)
    interaction = models.OneToOneField(
        "activities.TimelineEntry", null=True, blank=True, on_delete=models.SET_NULL, related_name="call"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "call_id"], name="call_unique_per_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} call {self.from_number} → {self.to_number}"

    def is_ended(self) -> bool:
        return self.state == CallState.ENDED


class Fax(TimeStampedModel):
    provider = models.CharField(max_length=10, choices=Provider.choices, default=Provider.GENERIC)
    fax_id = models.CharField(max_length=128)
    from_number = models.CharField(max_length=40)
    to_number = models.CharField(max_length=40, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    received_at = models.DateTimeField()
    party = models.ForeignKey(
        "customers.Party", null=True, blank=True, on_delete=models.SET_NULL, related_name="faxes"
    )
    interaction = models.OneToOneField(
        "activities.TimelineEntry", null=True, blank=True, on_delete=models.SET_NULL, related_name="fax"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="faxes"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "faxes"
        constraints = [
            models.UniqueConstraint(fields=["provider", "fax_id"], name="fax_unique_per_provider"),
        ]

    def __str__(self) -> str:
        return f"Fax from {self.from_number}"
