"""The in-app inbox: one notification per (event, recipient), and each user's delivery preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from relay.core import clock
from relay.core.audit import AuditedHistory
from relay.core.models import RestrictedQuerySet, TimeStampedModel


class NotificationQuerySet(RestrictedQuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a user was told about, in their inbox. Written only by the outbox delivery."""

    # both foreign keys lead composite indexes below (the inbox; once per event): no index of their own
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    # PROTECT: pruning old outbox events must never empty someone's inbox
    event = models.ForeignKey(
        "core.OutboxEvent", on_delete=models.PROTECT, related_name="notifications", db_index=False
    )
    kind = models.CharField(max_length=100, help_text='The event name, e.g. "case.transferred"')
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="A path in the staff UI")
    case_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "recipient"], name="notifications_once_per_event")
        ]
        indexes = [
            # unread_count(): one COUNT over (recipient, read_at IS NULL)
            models.Index(fields=["recipient", "read_at"], name="notifications_unread_idx"),
            # inbox(): newest first, keyset pages
            models.Index(fields=["recipient", "-created_at", "-id"], name="notifications_inbox_idx"),
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                name="notifications_inbox_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipient_id}"

    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreferenceQuerySet(RestrictedQuerySet):
    pass


class NotificationPreference(TimeStampedModel):
    """How a user wants to hear about one kind of event (`case.transferred`) or a family of them
    (`case.`, ending with a dot). The most specific row wins; without one: in the app and by e-mail."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=100)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    objects = NotificationPreferenceQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notifications_one_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind}"

    def is_prefix(self) -> bool:
        return self.kind.endswith(".")
