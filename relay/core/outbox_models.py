"""The transactional outbox's tables (docs/adr/0007-outbox-and-notifications.md).

`OutboxEvent` is written by a service inside its business transaction (`relay.core.outbox.emit`);
workers deliver it after commit. `OutboxDelivery` records, per event, recipient and channel, that the
delivery happened: its unique constraint is what makes a retried delivery harmless.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from relay.core import clock


class OutboxEvent(models.Model):
    """One business event, waiting for (or done with) delivery.

    `available_at` is when a worker may next pick it up: now for a new event, the end of the lease while
    a worker holds it (`claimed_by`), the back-off after a failed attempt.
    """

    name = models.CharField(max_length=100, help_text='What happened, e.g. "case.transferred"')
    payload = models.JSONField(default=dict)
    recipients = models.JSONField(default=list, help_text="User ids to tell")
    key = models.CharField(
        max_length=200, null=True, blank=True, unique=True, help_text="Idempotency key of the business event"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    available_at = models.DateTimeField(default=clock.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_by = models.CharField(max_length=32, blank=True, help_text="The claim (lease) of a worker")

    class Meta:
        ordering = ["id"]
        indexes = [
            # the drain's scan: undispatched events that are due, oldest first
            models.Index(
                fields=["available_at", "id"],
                name="core_outbox_due_idx",
                condition=Q(dispatched_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"

    def is_dispatched(self) -> bool:
        return self.dispatched_at is not None


class DeliveryChannel(models.TextChoices):
    IN_APP = "in_app", "In the app"
    EMAIL = "email", "E-mail"


class OutboxDelivery(models.Model):
    """One event delivered to one recipient on one channel. At most one row per (event, recipient,
    channel), by constraint: a second attempt inserts nothing and so notifies nobody twice."""

    # led by the once-per-channel constraint's index: no index of its own
    event = models.ForeignKey(
        OutboxEvent, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=DeliveryChannel.choices)
    sent_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "recipient", "channel"], name="core_outboxdelivery_once_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.recipient_id} ({self.channel})"
