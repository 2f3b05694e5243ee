"""Reading the audit history: field-level before/after for any set of historical rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

HIDDEN_FIELDS = {
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user",
    "history_user_id",
    "history_origin",
    "version",
    "updated_at",
    "created_at",
    "search_text",
    "name_key",
    "display_name",
    "normalized",
}
TYPES = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass
class Change:
    field: str
    old: str | None
    new: str | None


@dataclass
class HistoryRecord:
    id: int
    model: str
    object_id: int
    object: str
    type: str
    at: datetime
    user: int | None
    user_name: str | None
    origin: str
    changes: list[Change] = field(default_factory=list)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


Masker = Callable[[Any, str, Any], Any]


def history_records(
    querysets: Iterable[QuerySet[Any]], *, mask: Masker | None = None, limit: int = 200
) -> list[HistoryRecord]:
    """Newest first. Each record lists the fields that changed against the object's previous record."""
    records: list[HistoryRecord] = []
    for qs in querysets:
        model = qs.model
        tracked = [f for f in model._meta.concrete_fields if f.name not in HIDDEN_FIELDS and f.name != "id"]
        rows = list(
            qs.select_related("history_user").order_by("id", "history_date", "history_id")[: limit * 5]
        )
        previous: dict[int, Any] = {}
        label = model._meta.verbose_name.removeprefix("historical ").strip()
        for row in rows:
            before = previous.get(row.id)
            changes = []
            for f in tracked:
                attname = f.attname
                new = getattr(row, attname)
                old = getattr(before, attname) if before is not None else None
                if (
                    row.history_type == "-"
                    or (before is not None and old == new)
                    or (before is None and new in (None, "", False))
                ):
                    continue
                if mask:
                    old, new = mask(row, f.name, old), mask(row, f.name, new)
                changes.append(Change(field=f.verbose_name, old=_text(old), new=_text(new)))
            title = str(row.instance) if row.history_type != "-" else f"{label} #{row.id}"
            if mask:
                title = mask(row, "__str__", title)
            user = row.history_user
            records.append(
                HistoryRecord(
                    id=row.history_id,
                    model=label,
                    object_id=row.id,
                    object=title,
                    type=TYPES.get(row.history_type, row.history_type),
                    at=row.history_date,
                    user=user.pk if user else None,
                    user_name=(user.get_full_name() or user.username) if user else None,
                    origin=row.history_origin,
                    changes=changes,
                )
            )
            previous[row.id] = row
    records.sort(key=lambda r: (r.at, r.id), reverse=True)
    return records[:limit]
