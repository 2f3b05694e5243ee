"""Where a change came from (ui, api, command, job, system), recorded on every history row.

The *actor* of a change is always an explicit argument of the service (see services.py in each app);
only the channel it arrived through is ambient, set once at each entry point.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from relay.core.origin import ORIGIN_LABELS, Origin, current_origin, origin, set_origin

__all__ = ["AuditedHistoryModel", "Origin", "current_origin", "origin", "set_origin", "with_actor"]


class AuditedHistoryModel(models.Model):
    """Abstract base of every historical table: adds the origin of the change."""

    history_origin = models.CharField(
        max_length=10, choices=list(ORIGIN_LABELS.items()), default=Origin.SYSTEM
    )

    class Meta:
        abstract = True


@receiver(pre_create_historical_record)
def _stamp_origin(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    history_instance.history_origin = current_origin()


def with_actor[T](instance: T, actor: Any) -> T:
    """Tell django-simple-history who made the next save/delete of `instance`."""
    instance._history_user = actor  # type: ignore[attr-defined]
    return instance
