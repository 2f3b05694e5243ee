"""The timeline: one ordered history per party.

Every entry is a row of `TimelineEntry`, so the 360 page reads one index range
(party, occurred_at desc) whatever the mix of kinds. Interactions and notes are proxies over it;
later kinds (cases, orders, campaigns) add entries with their own `kind` that point at their record
(`ref_type` + `ref_id`) and render through their own template (`activities/entries/<kind>.html`).
See docs/adr/0004-one-timeline-table.md.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from relay.activities.choices import Direction, EntryKind
from relay.core.audit import AuditedHistory
from relay.core.choices import Channel
from relay.core.models import (
    ProvenanceModel,
    RestrictedQuerySet,
    TimeStampedModel,
    VersionedModel,
    entered_by_index,
)


class TimelineQuerySet(RestrictedQuerySet):
    def interactions(self) -> TimelineQuerySet:
        return self.filter(kind=EntryKind.INTERACTION)

    def notes(self) -> TimelineQuerySet:
        return self.filter(kind=EntryKind.NOTE)


class TimelineEntry(VersionedModel, ProvenanceModel):
    # foreign keys led by a composite index below have no index of their own (one fewer per insert)
    party = models.ForeignKey(
        "customers.Party", on_delete=models.CASCADE, related_name="timeline", db_index=False
    )
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=12, choices=Channel.choices, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    # the record a later kind of entry stands for (a case, an order, ...)
    ref_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    ref_id = models.BigIntegerField(null=True, blank=True)
    # the case this entry belongs to (a case event, or a call/e-mail linked to a case): the entry is
    # visible exactly when the case is (confidential categories, relay/cases/permissions.py)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="timeline_entries"
    )

    objects = TimelineQuerySet.as_manager()
    history = AuditedHistory(indexed=("party",))  # a party's history tab

    class Meta:
        verbose_name_plural = "timeline entries"
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["party", "-occurred_at", "-id"], name="timeline_party_idx"),
            models.Index(fields=["party", "channel", "-occurred_at", "-id"], name="timeline_channel_idx"),
            models.Index(fields=["ref_type", "ref_id"], name="timeline_ref_idx"),
            entered_by_index("timeline_entered_by_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.INTERACTION) | ~Q(channel=""),
                name="interaction_has_channel",
                violation_error_message="An interaction needs a channel.",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def template_name(self) -> str:
        return f"activities/entries/{self.kind}.html"


class _KindManager(models.Manager):
    kind: str = ""

    def get_queryset(self) -> models.QuerySet[Any]:
        return TimelineQuerySet(self.model, using=self._db).filter(kind=self.kind)

    def restrict(self, user: Any, action: str = "view") -> models.QuerySet[Any]:
        return self.get_queryset().restrict(user, action)  # type: ignore[attr-defined]


class InteractionManager(_KindManager):
    kind = EntryKind.INTERACTION


class NoteManager(_KindManager):
    kind = EntryKind.NOTE


class Interaction(TimelineEntry):
    """A call, e-mail, letter, fax, web message, chat, SMS or meeting with the party."""

    objects = InteractionManager()  # type: ignore[assignment,misc]

    class Meta:
        proxy = True


class Note(TimelineEntry):
    """An internal note on the party's file."""

    objects = NoteManager()  # type: ignore[assignment,misc]

    class Meta:
        proxy = True


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never comes from the user: no path traversal, no clashes.
    return f"attachments/{instance.created_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(TimeStampedModel):
    """A file on a timeline entry. Served only through a view that checks the entry is visible."""

    entry = models.ForeignKey(TimelineEntry, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(
        max_length=255, help_text="The uploaded name, cleaned; shown, never used as path"
    )
    content_type = models.CharField(
        max_length=100, help_text="Sniffed from the content, not the browser's word"
    )
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["entry", "id"]

    def __str__(self) -> str:
        return self.filename
