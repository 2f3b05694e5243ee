"""Reading the audit history: field-level before/after for any set of historical rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import OuterRef, Q, QuerySet, Subquery
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
    """The newest `limit` records, newest first. Each lists the fields that changed against the object's
    previous record (simple-history's `diff_against`). A fixed number of queries per model, however many
    rows: the previous record of each row and the objects its title names are fetched in bulk."""
    records: list[HistoryRecord] = []
    for qs in querysets:
        model = qs.model
        tracked = [f for f in model._meta.concrete_fields if f.name not in HIDDEN_FIELDS and f.name != "id"]
        by_name = {f.name: f for f in tracked}
        earlier = model._default_manager.filter(id=OuterRef("id")).filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        rows = list(
            qs.select_related("history_user")
            .annotate(
                previous_history_id=Subquery(
                    earlier.order_by("-history_date", "-history_id").values("history_id")[:1]
                )
            )
            .order_by("-history_date", "-history_id")[:limit]
        )
        previous = model._default_manager.in_bulk(
            [r.previous_history_id for r in rows if r.previous_history_id is not None]
        )
        label = model._meta.verbose_name.removeprefix("historical ").strip()
        titles = _titles(model, rows, label)
        for row in rows:
            before = previous.get(row.previous_history_id)
            changes = []
            if row.history_type != "-":
                if before is not None:
                    delta = row.diff_against(before, included_fields=list(by_name))
                    pairs = {c.field: (c.old, c.new) for c in delta.changes}
                else:
                    pairs = {
                        f.name: (None, getattr(row, f.attname))
                        for f in tracked
                        if getattr(row, f.attname) not in (None, "", False)
                    }
                for f in tracked:  # in the model's field order
                    if f.name not in pairs:
                        continue
                    old, new = pairs[f.name]
                    if mask:
                        old, new = mask(row, f.name, old), mask(row, f.name, new)
                    changes.append(Change(field=f.verbose_name, old=_text(old), new=_text(new)))
            title = titles[row.history_id]
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
    records.sort(key=lambda r: (r.at, r.id), reverse=True)
    return records[:limit]


def _titles(model: Any, rows: list[Any], label: str) -> dict[int, str]:
    """Each row's object as its `__str__` shows it, without a query per row: the objects it points to
    (other than users) are fetched once per foreign key, and a row whose target is gone is named by id."""
    instance_model = model.instance_type
    relations = [
        f
        for f in instance_model._meta.concrete_fields
        if f.many_to_one and f.related_model is not get_user_model()
    ]
    targets = {
        f.name: f.related_model._base_manager.in_bulk(
            {getattr(r, f.attname) for r in rows if getattr(r, f.attname) is not None}
        )
        for f in relations
    }
    titles: dict[int, str] = {}
    for row in rows:
        fallback = f"{label} #{row.id}"
        if row.history_type == "-":
            titles[row.history_id] = fallback
            continue
        instance = instance_model(
            **{
                f.attname: getattr(row, f.attname)
                for f in instance_model._meta.concrete_fields
                if hasattr(row, f.attname)
            }
        )
        missing = False
        for f in relations:
            target_id = getattr(row, f.attname, None)
            if target_id is None:
                continue
            target = targets[f.name].get(target_id)
            if target is None:
                missing = True
                break
            f.set_cached_value(instance, target)
        try:
            titles[row.history_id] = fallback if missing else str(instance)
        except ObjectDoesNotExist:
            titles[row.history_id] = fallback
    return titles
