"""The machinery of a sync batch: validation of every record, the resolution of every reference at
once, and the generic upsert that leaves equal rows alone (relay/commerce/services/__init__.py)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from rest_framework import serializers
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from relay.accounts.models import Department, User
from relay.accounts.permissions import VIEW_SENSITIVE, has_capability
from relay.commerce import schemas
from relay.commerce.models import (
    Product,
)
from relay.core.audit import current_origin
from relay.core.exceptions import ApplicationError
from relay.customers.models import ExternalIdentifier, IdentifierScheme, Party

MAX_BATCH = 1000
_SOURCE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,49}")

# record type (the URL segment and the CLI argument) -> the default owning department's slug; a
# deployment may name others in settings.RELAY_COMMERCE_DEPARTMENTS, and a row its own (`department`)
DEFAULT_DEPARTMENTS = {
    "products": "sales",
    "orders": "sales",
    "invoices": "billing",
    "payments": "billing",
    "credit-terms": "credit-control",
    "subscriptions": "billing",
}
RECORD_TYPES = tuple(DEFAULT_DEPARTMENTS)


@dataclass(frozen=True)
class RowError:
    index: int  # 0-based position of the record in the batch
    field: str  # dotted: "unit_price", "lines.2.product"
    message: str


class SyncRejected(ApplicationError):
    """Some records of the batch are bad: nothing was written. `rows` says which and why."""

    status = 400
    title = "Some records are not valid; nothing was written"

    def __init__(self, rows: list[RowError]):
        rows = sorted(rows, key=lambda e: (e.index, e.field))
        bad = len({e.index for e in rows})
        errors: dict[str, list[str]] = defaultdict(list)
        for error in rows:
            errors[f"records.{error.index}.{error.field}"].append(error.message)
        super().__init__(
            f"{bad} record{'s' if bad != 1 else ''} of the batch {'have' if bad != 1 else 'has'} errors; "
            "nothing was written.",
            errors=dict(errors),
        )
        self.rows = rows


@dataclass
class Outcome:
    index: int
    external_id: str
    id: int
    outcome: str  # created, updated, unchanged


@dataclass
class SyncResult:
    kind: str
    source: str
    synced_at: datetime
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def created(self) -> int:
        return self.count("created")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


@dataclass
class _Batch:
    actor: User
    kind: str
    source: str
    now: datetime
    rows: list[tuple[int, dict[str, Any]]]
    errors: list[RowError] = field(default_factory=list)
    parties: dict[Any, int] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    linked: dict[str, Any] = field(default_factory=dict)  # orders of invoices, invoices of payments

    def error(self, index: int, name: str, message: str) -> None:
        self.errors.append(RowError(index, name, message))

    def check(self) -> None:
        if self.errors:
            raise SyncRejected(self.errors)

    @property
    def history_attrs(self) -> dict[str, Any]:
        return {"history_origin": current_origin()}


# --- validation and references -----------------------------------------------------------------------


def _flatten(prefix: str, detail: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "record" if key == "non_field_errors" and not prefix else str(key)
            _flatten(f"{prefix}.{name}" if prefix else name, value, out)
    elif isinstance(detail, list) and detail and all(isinstance(d, str) for d in detail):
        out.extend((prefix or "record", str(d)) for d in detail)
    elif isinstance(detail, list):
        for position, value in enumerate(detail):
            if value:
                _flatten(f"{prefix}.{position}" if prefix else str(position), value, out)
    else:
        out.append((prefix or "record", str(detail)))


def _validate(batch: _Batch, schema: type[serializers.Serializer], records: Sequence[Any]) -> None:
    seen: dict[str, int] = {}
    known = set(schema().fields)
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            batch.error(index, "record", "Each record is an object of fields.")
            continue
        unknown = sorted(str(name)[:100] for name in set(record) - known)
        if "lines" in known and isinstance(record.get("lines"), list):
            line_fields = set(schemas.OrderLineSchema().fields)
            unknown += [
                f"lines.{position}.{str(name)[:100]}"
                for position, line in enumerate(record["lines"])
                if isinstance(line, dict)
                for name in sorted(set(line) - line_fields, key=str)
            ]
        for name in unknown:
            batch.error(index, name, "Unknown field.")
        data = schema(data=record)
        if not data.is_valid():
            found: list[tuple[str, str]] = []
            _flatten("", data.errors, found)
            for name, message in found:
                batch.error(index, name, message)
            continue
        row = dict(data.validated_data)
        earlier = seen.setdefault(row["external_id"], index)
        if earlier != index:
            batch.error(index, "external_id", f"Appears twice in the batch (also record {earlier}).")
            continue
        if not unknown:
            batch.rows.append((index, row))


def _resolve_departments(batch: _Batch) -> None:
    configured = getattr(settings, "RELAY_COMMERCE_DEPARTMENTS", {}) or {}
    default = configured.get(batch.kind, DEFAULT_DEPARTMENTS[batch.kind])
    wanted = {row.get("department") or default for _, row in batch.rows}
    found = {d.slug: d for d in Department.objects.filter(slug__in=wanted)}
    for index, row in batch.rows:
        slug = row.get("department") or default
        if slug not in found:
            batch.error(
                index,
                "department",
                f"No department '{slug}'."
                + ("" if row.get("department") else " Name the owning department in `department`."),
            )
    batch.departments = found


def _department_id(batch: _Batch, row: dict[str, Any]) -> int:
    configured = getattr(settings, "RELAY_COMMERCE_DEPARTMENTS", {}) or {}
    slug = row.get("department") or configured.get(batch.kind, DEFAULT_DEPARTMENTS[batch.kind])
    return batch.departments[slug].pk


def _resolve_parties(batch: _Batch) -> None:
    """Every party the batch names, in one query per kind of reference; a party the actor may not see,
    or one named by a sensitive identifier the actor may not search by, is unknown."""
    refs = {row["party"] for _, row in batch.rows}
    visible = Party.objects.restrict(batch.actor, "view")
    ids = {value for kind, value in refs if kind == "pk"}
    found: dict[Any, int] = {}
    if ids:
        found.update({("pk", pk): pk for pk in visible.filter(pk__in=ids).values_list("pk", flat=True)})
    by_scheme: dict[str, set[str]] = defaultdict(set)
    for kind, value in refs:
        if kind != "pk":
            by_scheme[kind].add(value)
    if by_scheme:
        schemes = IdentifierScheme.objects.filter(code__in=by_scheme)
        if not has_capability(batch.actor, VIEW_SENSITIVE):
            schemes = schemes.filter(is_sensitive=False)
        usable = set(schemes.values_list("code", flat=True))
        for code in sorted(usable):
            rows = ExternalIdentifier.objects.filter(
                scheme__code=code, value__in=by_scheme[code], party__in=visible.values("pk")
            ).values_list("value", "party_id")
            found.update({(code, value): party_id for value, party_id in rows})
    for index, row in batch.rows:
        if row["party"] not in found:
            kind, value = row["party"]
            text = f"id {value}" if kind == "pk" else f"{kind}:{value}"
            batch.error(index, "party", f"No party with {text}.")
    batch.parties = found


def _resolve_products(batch: _Batch, skus: set[str]) -> None:
    batch.products = {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}


# --- the generic upsert -------------------------------------------------------------------------------

Values = dict[str, Any]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return bool(a == b)


@dataclass
class _Plan:
    created: list[Any] = field(default_factory=list)
    updated: list[tuple[Any, Values]] = field(default_factory=list)  # the object and its old values
    outcomes: list[Outcome] = field(default_factory=list)
    by_index: dict[int, Any] = field(default_factory=dict)


def _upsert(
    batch: _Batch,
    model: type[models.Model],
    values_for: Callable[[int, dict[str, Any], Any], Values],
    *,
    children_changed: Callable[[int, Any], bool] | None = None,
) -> _Plan:
    """Create the new records and update the changed ones of the batch; leave the equal ones alone.
    `values_for(index, row, existing)` gives a row's field values (by attname); `children_changed` says
    whether the record's children (an order's lines) differ, which makes the record changed too."""
    manager: Any = model._default_manager
    existing = {
        obj.external_id: obj
        for obj in manager.select_for_update().filter(
            source=batch.source, external_id__in=[row["external_id"] for _, row in batch.rows]
        )
    }
    plan = _Plan()
    now = batch.now
    changed_fields: set[str] = set()
    for index, row in batch.rows:
        obj = existing.get(row["external_id"])
        values = values_for(index, row, obj)
        if obj is None:
            obj = model(
                source=batch.source,
                external_id=row["external_id"],
                synced_at=now,
                created_at=now,
                updated_at=now,
                **values,
            )
            plan.created.append(obj)
            plan.outcomes.append(Outcome(index, row["external_id"], 0, "created"))
        else:
            old = {name: getattr(obj, name) for name in values}
            changed = [name for name, value in values.items() if not _same(old[name], value)]
            if changed or (children_changed is not None and children_changed(index, obj)):
                for name in changed:
                    setattr(obj, name, values[name])
                obj.version += 1
                obj.updated_at = obj.synced_at = now
                changed_fields.update(changed)
                plan.updated.append((obj, old))
                plan.outcomes.append(Outcome(index, row["external_id"], obj.pk, "updated"))
            else:
                plan.outcomes.append(Outcome(index, row["external_id"], obj.pk, "unchanged"))
        plan.by_index[index] = obj
    if plan.created:
        bulk_create_with_history(
            plan.created, model, default_user=batch.actor, custom_historical_attrs=batch.history_attrs
        )
        if plan.created[0].pk is None:  # a database that does not return ids from bulk inserts
            ids = dict(
                manager.filter(
                    source=batch.source, external_id__in=[o.external_id for o in plan.created]
                ).values_list("external_id", "pk")
            )
            for obj in plan.created:
                obj.pk = ids[obj.external_id]
    if plan.updated:
        bulk_update_with_history(
            [obj for obj, _ in plan.updated],
            model,
            sorted(changed_fields | {"version", "updated_at", "synced_at"}),
            default_user=batch.actor,
            custom_historical_attrs=batch.history_attrs,
        )
    for o in plan.outcomes:
        o.id = plan.by_index[o.index].pk
    return plan
