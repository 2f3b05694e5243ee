"""Base models and the one place where read scoping lives (RestrictedQuerySet.restrict)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, cast

from django.conf import settings
from django.db import models

from relay.core import clock

if TYPE_CHECKING:
    from relay.accounts.models import User


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        abstract = True


class VersionedModel(TimeStampedModel):
    """An editable record. Every write bumps `version`; a write that names an older version is refused."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


class Source(models.TextChoices):
    USER = "user", "Entered by a user"
    IMPORT = "import", "Imported from a list"
    OVERLAY = "overlay", "Overlay / enrichment"
    SYSTEM = "system", "System"


class ProvenanceModel(models.Model):
    """Every data point says where it came from: who entered it, which list or overlay, or the system."""

    source = models.CharField(max_length=10, choices=Source.choices, default=Source.USER)
    source_detail = models.CharField(max_length=200, blank=True, help_text="List name, overlay provider, ...")
    # indexed only where set: each subclass lists `entered_by_index` in its Meta.indexes
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        abstract = True

    @property
    def provenance_label(self) -> str:
        if self.source == Source.USER:
            who = self.entered_by.get_full_name() or self.entered_by.username if self.entered_by else "a user"
            return f"Entered by {who}"
        label = Source(self.source).label
        return f"{label}: {self.source_detail}" if self.source_detail else label


def entered_by_index(name: str) -> models.Index:
    """The index a user's deletion (SET NULL) looks rows up by. Only rows a user entered are in it:
    imported, overlay and system rows, most of a large file, have no `entered_by`, and an index of them
    would cost every bulk load and import for nothing (0.76 s of a million-party seed's contact points)."""
    return models.Index(fields=["entered_by"], condition=models.Q(entered_by__isnull=False), name=name)


class RestrictedQuerySet(models.QuerySet):
    """`Model.objects.restrict(user, action)` is the only way views, API and selectors scope reads.

    The model's policy lives in `relay.accounts.permissions.scope_queryset`; a record outside the scope
    is invisible (a 404), never a 403.
    """

    def restrict(self, user: User | Any, action: str = "view") -> Self:
        from relay.accounts.permissions import scope_queryset

        return cast(Self, scope_queryset(self, user, action))


from relay.core.outbox_models import DeliveryChannel, OutboxDelivery, OutboxEvent  # noqa: E402


class ConfigGeneration(models.Model):
    """One row: a random token that changes with every configuration write (relay.core.config_cache)."""

    token = models.CharField(max_length=32)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="config_generation_single_row")]

    def __str__(self) -> str:
        return self.token


__all__ = [
    "ConfigGeneration",
    "DeliveryChannel",
    "OutboxDelivery",
    "OutboxEvent",
    "ProvenanceModel",
    "RestrictedQuerySet",
    "Source",
    "TimeStampedModel",
    "VersionedModel",
]
