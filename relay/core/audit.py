"""Where a change came from (ui, api, command, job, system), recorded on every history row.

The *actor* of a change is always an explicit argument of the service (see services.py in each app);
only the channel it arrived through is ambient, set once at each entry point.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.dispatch import receiver
from simple_history.manager import HistoryDescriptor
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from relay.core.origin import ORIGIN_LABELS, Origin, current_origin, origin, set_origin

__all__ = [
    "AuditedHistory",
    "AuditedHistoryModel",
    "Origin",
    "current_origin",
    "origin",
    "set_origin",
    "with_actor",
]


class AuditedHistoryModel(models.Model):
    """Abstract base of every historical table: adds the origin of the change."""

    history_origin = models.CharField(
        max_length=10, choices=list(ORIGIN_LABELS.items()), default=Origin.SYSTEM
    )

    class Meta:
        abstract = True


class AuditedHistory(HistoricalRecords):
    """The history of a model (django-simple-history) with our origin column, indexed for what reads it:
    the record's own id (its history tab) and the fields named in `indexed` (a party's history reads its
    contact points' by `party`). django-simple-history would index a copy of every foreign key and
    indexed field, and the date: nine indexes on the timeline's history, written with every entry, that
    nothing queried. The history user keeps its index (deleting a user clears it in every history)."""

    def __init__(self, *args: Any, indexed: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, bases=[AuditedHistoryModel], **kwargs)
        self.indexed = {"id", *indexed}

    def copy_fields(self, model: type[models.Model]) -> dict[str, models.Field]:
        fields = super().copy_fields(model)
        for name, field in fields.items():
            field.db_index = name in self.indexed
        return fields

    def finalize(self, sender: Any, **kwargs: Any) -> None:
        super().finalize(sender, **kwargs)
        descriptor = sender.__dict__.get(self.manager_name)
        if type(descriptor) is HistoryDescriptor:
            setattr(sender, self.manager_name, _HistoryDescriptor(descriptor))


class _HistoryDescriptor(HistoryDescriptor):
    """`instance.history` with its manager class made once. django-simple-history's descriptor builds
    the class (`Manager.from_queryset`) on every access, and it reads the descriptor for every history
    row it writes: about a twentieth of the CPU of an inbound e-mail."""

    def __init__(self, original: HistoryDescriptor) -> None:
        super().__init__(original.model, manager=original.manager_class, queryset=original.queryset_class)
        self.manager_type = self.manager_class.from_queryset(self.queryset_class)

    def __get__(self, instance: Any, owner: Any) -> Any:
        return self.manager_type(self.model, instance)


@receiver(pre_create_historical_record)
def _stamp_origin(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    history_instance.history_origin = current_origin()


def with_actor[T](instance: T, actor: Any) -> T:
    """Tell django-simple-history who made the next save/delete of `instance`."""
    instance._history_user = actor  # type: ignore[attr-defined]
    return instance
