"""Every write of the commerce data: the sync of a batch of records from the system that owns them
(docs/adr/0015-commerce-data-and-sync.md). The API bulk endpoints and `relay import-commerce` both call
`commerce_sync`; the demo loads its data through it too.

* **All or nothing.** Every row is validated, then every reference of the batch resolved, before
  anything is written; a bad row rejects the batch with the row's index and field (`SyncRejected`).
* **Idempotent, by constraint.** A record is found by (source, external_id), which is unique per type.
  A row whose values equal the stored ones is `unchanged`: nothing is written for it, no history row,
  no new `synced_at`. So the same batch twice changes nothing the second time.
* **Audited.** Created and changed rows get their history rows (django-simple-history, in bulk) naming
  the actor and the origin (API, command), in the same transaction; so do the invoices whose paid amount
  or status a payment changes, and a subscription's status change also goes to the outbox.
* **Fixed cost per batch**: a handful of queries to resolve references and load the existing rows, then
  bulk inserts and updates, whatever the batch size (at most MAX_BATCH records).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Sum
from django.utils import timezone
from rest_framework import serializers
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from relay.accounts.models import Department, User
from relay.accounts.permissions import VIEW_SENSITIVE, has_capability
from relay.commerce import schemas
from relay.commerce.choices import InvoiceStatus
from relay.commerce.models import (
    ZERO,
    CreditTerms,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Product,
    ProductCategory,
    Subscription,
)
from relay.core import clock, outbox
from relay.core.audit import current_origin, with_actor
from relay.core.exceptions import ApplicationError, NotAllowed
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


# --- the entry point -----------------------------------------------------------------------------------


@transaction.atomic
def commerce_sync(
    *, actor: User, kind: str, source: str, records: Sequence[Any], limit: int | None = MAX_BATCH
) -> SyncResult:
    """Create or update a batch of records of one type (`products`, `orders`, `invoices`, `payments`,
    `credit-terms`, `subscriptions`) sent by `source`, all or nothing. `limit`: the largest batch taken
    (the API's; the CSV import takes a whole file, None)."""
    if not actor.has_perm("commerce.sync_commerce"):
        raise NotAllowed("Only the systems that own the commerce data (a sync account) may write it.")
    if kind not in SPECS:
        raise ApplicationError(
            "Unknown record type.", errors={"type": [f"Choose one of {', '.join(RECORD_TYPES)}."]}
        )
    source = (source or "").strip().lower()
    if not _SOURCE.fullmatch(source):
        raise ApplicationError(
            "Name the sending system.",
            errors={"source": ["A short name of lower-case letters, digits, '.', '_' or '-' (e.g. erp)."]},
        )
    if isinstance(records, str | bytes | dict) or not isinstance(records, Sequence):
        raise ApplicationError("Send the records as a list.", errors={"records": ["A list is required."]})
    if not records:
        raise ApplicationError("The batch is empty.", errors={"records": ["Send at least one record."]})
    if limit is not None and len(records) > limit:
        raise ApplicationError(
            "The batch is too large.", errors={"records": [f"At most {limit} records per batch."]}
        )
    spec = SPECS[kind]
    batch = _Batch(actor=actor, kind=kind, source=source, now=clock.now(), rows=[])
    _validate(batch, spec.schema, records)
    batch.check()
    _resolve_departments(batch)
    spec.resolve(batch)
    batch.check()
    outcomes = spec.apply(batch)
    result = SyncResult(kind=kind, source=source, synced_at=batch.now, outcomes=outcomes)
    if result.created or result.updated:
        outbox.emit(
            "commerce.synced",
            payload={
                "title": f"{source}: {result.created} {kind} created, {result.updated} updated",
                "kind": kind,
                "source": source,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "actor_id": actor.pk,
            },
        )
    return result


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


# --- the record types ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    schema: type[serializers.Serializer]
    resolve: Callable[[_Batch], None]
    apply: Callable[[_Batch], list[Outcome]]


# products -----------------------------------------------------------------------------------------------


def _products_resolve(batch: _Batch) -> None:
    skus: dict[str, int] = {}
    for index, row in batch.rows:
        if row["sku"] in skus:
            batch.error(index, "sku", f"Appears twice in the batch (also record {skus[row['sku']]}).")
        skus[row["sku"]] = index
    taken = dict(
        Product.objects.filter(sku__in=skus)
        .exclude(source=batch.source, external_id__in=[row["external_id"] for _, row in batch.rows])
        .values_list("sku", "source")
    )
    mine = dict(
        Product.objects.filter(
            source=batch.source, external_id__in=[row["external_id"] for _, row in batch.rows]
        ).values_list("external_id", "sku")
    )
    for index, row in batch.rows:
        if row["sku"] in taken:
            batch.error(index, "sku", f"Another product (from {taken[row['sku']]}) has this SKU.")
        elif row["sku"] in mine.values() and mine.get(row["external_id"]) != row["sku"]:
            batch.error(index, "sku", "Another product of this source has this SKU.")


def _categories(batch: _Batch) -> dict[str, ProductCategory]:
    wanted = {row["category"]: row.get("category_name") or "" for _, row in batch.rows}
    found = {c.code: c for c in ProductCategory.objects.filter(code__in=wanted)}
    new = [
        ProductCategory(code=code, name=name or code.replace("-", " ").capitalize(), created_at=batch.now)
        for code, name in sorted(wanted.items())
        if code not in found
    ]
    renamed = [
        found[code] for code, name in wanted.items() if code in found and name and found[code].name != name
    ]
    for category in renamed:
        category.name = wanted[category.code]
        category.updated_at = batch.now
    if new:
        bulk_create_with_history(
            new, ProductCategory, default_user=batch.actor, custom_historical_attrs=batch.history_attrs
        )
        found.update({c.code: c for c in ProductCategory.objects.filter(code__in=[c.code for c in new])})
    if renamed:
        bulk_update_with_history(
            renamed,
            ProductCategory,
            ["name", "updated_at"],
            default_user=batch.actor,
            custom_historical_attrs=batch.history_attrs,
        )
    return found


def _products_apply(batch: _Batch) -> list[Outcome]:
    categories = _categories(batch)

    def values(index: int, row: dict[str, Any], existing: Any) -> Values:
        return {
            "sku": row["sku"],
            "name": row["name"],
            "category_id": categories[row["category"]].pk,
            "kind": row["kind"],
            "unit_price": row["unit_price"],
            "currency": row["currency"],
            "is_active": row["is_active"],
            "description": row["description"],
            "department_id": _department_id(batch, row),
        }

    return _upsert(batch, Product, values).outcomes


# orders -------------------------------------------------------------------------------------------------


def _orders_resolve(batch: _Batch) -> None:
    _resolve_parties(batch)
    _resolve_products(batch, {line["product"] for _, row in batch.rows for line in row["lines"]})
    for index, row in batch.rows:
        for position, line in enumerate(row["lines"]):
            product = batch.products.get(line["product"])
            if product is None:
                batch.error(index, f"lines.{position}.product", f"No product with SKU {line['product']}.")


def _line_values(batch: _Batch, row: dict[str, Any], party_id: int) -> dict[int, Values]:
    return {
        line["line_no"]: {
            "product_id": batch.products[line["product"]].pk,
            "quantity": line["quantity"],
            "unit_price": line["unit_price"],
            "amount": line["unit_price"] * line["quantity"],
            "currency": row["currency"],
            "ordered_at": row["ordered_at"],
            "party_id": party_id,
        }
        for line in row["lines"]
    }


def _orders_apply(batch: _Batch) -> list[Outcome]:
    rows = dict(batch.rows)
    wanted = {index: _line_values(batch, row, batch.parties[row["party"]]) for index, row in rows.items()}
    current: dict[int, dict[int, OrderLine]] = defaultdict(dict)
    existing_ids = (
        Order.objects.select_for_update()
        .filter(source=batch.source, external_id__in=[row["external_id"] for row in rows.values()])
        .values_list("pk", flat=True)
    )
    for line in OrderLine.objects.filter(order_id__in=list(existing_ids)).order_by("order_id", "line_no"):
        current[line.order_id][line.line_no] = line

    def lines_differ(index: int, order: Order) -> bool:
        have, want = current.get(order.pk, {}), wanted[index]
        if set(have) != set(want):
            return True
        return any(
            not _same(getattr(have[no], name), value)
            for no, values in want.items()
            for name, value in values.items()
        )

    def values(index: int, row: dict[str, Any], existing: Any) -> Values:
        return {
            "party_id": batch.parties[row["party"]],
            "number": row["number"] or row["external_id"],
            "ordered_at": row["ordered_at"],
            "status": row["status"],
            "currency": row["currency"],
            "total_amount": sum((v["amount"] for v in wanted[index].values()), ZERO),
            "department_id": _department_id(batch, row),
        }

    plan = _upsert(batch, Order, values, children_changed=lines_differ)
    touched = {o.index for o in plan.outcomes if o.outcome != "unchanged"}
    creates: list[OrderLine] = []
    updates: list[OrderLine] = []
    deletes: list[OrderLine] = []
    for index in sorted(touched):
        order = plan.by_index[index]
        have = current.get(order.pk, {})
        for no, line_values in wanted[index].items():
            found = have.get(no)
            if found is None:
                creates.append(
                    OrderLine(
                        order_id=order.pk,
                        line_no=no,
                        created_at=batch.now,
                        updated_at=batch.now,
                        **line_values,
                    )
                )
            elif any(not _same(getattr(found, k), v) for k, v in line_values.items()):
                for k, v in line_values.items():
                    setattr(found, k, v)
                found.updated_at = batch.now
                updates.append(found)
        deletes.extend(line for no, line in have.items() if no not in wanted[index])
    for line in deletes:
        with_actor(line, batch.actor)
        line.delete()
    if creates:
        bulk_create_with_history(
            creates, OrderLine, default_user=batch.actor, custom_historical_attrs=batch.history_attrs
        )
    if updates:
        bulk_update_with_history(
            updates,
            OrderLine,
            [
                "product_id",
                "quantity",
                "unit_price",
                "amount",
                "currency",
                "ordered_at",
                "party_id",
                "updated_at",
            ],
            default_user=batch.actor,
            custom_historical_attrs=batch.history_attrs,
        )
    return plan.outcomes


# invoices -----------------------------------------------------------------------------------------------


def _linked(batch: _Batch, model: type[models.Model], name: str) -> None:
    """Resolve the `name` field of each row: the external id of a record of `model` from the same source."""
    wanted = {row[name] for _, row in batch.rows if row.get(name)}
    manager: Any = model._default_manager
    batch.linked = {o.external_id: o for o in manager.filter(source=batch.source, external_id__in=wanted)}
    for index, row in batch.rows:
        if row.get(name) and row[name] not in batch.linked:
            batch.error(index, name, f"No {model._meta.verbose_name} {row[name]} from {batch.source}.")


def _invoices_resolve(batch: _Batch) -> None:
    _resolve_parties(batch)
    _linked(batch, Order, "order")
    for index, row in batch.rows:
        order = batch.linked.get(row.get("order") or "")
        if (
            order is not None
            and row["party"] in batch.parties
            and order.party_id != batch.parties[row["party"]]
        ):
            batch.error(index, "order", "The order belongs to another party.")


def invoice_status(*, voided: bool, amount: Decimal, paid: Decimal) -> str:
    if voided:
        return InvoiceStatus.VOID
    return InvoiceStatus.PAID if paid >= amount else InvoiceStatus.OPEN


def _invoices_apply(batch: _Batch) -> list[Outcome]:
    def values(index: int, row: dict[str, Any], existing: Any) -> Values:
        paid = existing.paid_amount if existing is not None else ZERO
        order = batch.linked.get(row.get("order") or "")
        return {
            "party_id": batch.parties[row["party"]],
            "number": row["number"] or row["external_id"],
            "order_id": order.pk if order is not None else None,
            "issued_on": row["issued_on"],
            "due_on": row["due_on"],
            "amount": row["amount"],
            "currency": row["currency"],
            "status": invoice_status(voided=row["status"] == "void", amount=row["amount"], paid=paid),
            "department_id": _department_id(batch, row),
        }

    return _upsert(batch, Invoice, values).outcomes


# payments -----------------------------------------------------------------------------------------------


def _payments_resolve(batch: _Batch) -> None:
    _resolve_parties(batch)
    _linked(batch, Invoice, "invoice")
    for index, row in batch.rows:
        invoice = batch.linked.get(row.get("invoice") or "")
        if invoice is None:
            continue
        if row["party"] in batch.parties and invoice.party_id != batch.parties[row["party"]]:
            batch.error(index, "invoice", "The invoice belongs to another party.")
        if invoice.currency != row["currency"]:
            batch.error(index, "currency", f"The invoice is in {invoice.currency}.")


def _payments_apply(batch: _Batch) -> list[Outcome]:
    def values(index: int, row: dict[str, Any], existing: Any) -> Values:
        invoice = batch.linked.get(row.get("invoice") or "")
        return {
            "party_id": batch.parties[row["party"]],
            "invoice_id": invoice.pk if invoice is not None else None,
            "received_on": row["received_on"],
            "amount": row["amount"],
            "currency": row["currency"],
            "method": row["method"],
            "reference": row["reference"],
            "department_id": _department_id(batch, row),
        }

    plan = _upsert(batch, Payment, values)
    touched = [obj.invoice_id for obj in plan.created] + [
        pk for obj, old in plan.updated for pk in (obj.invoice_id, old.get("invoice_id"))
    ]
    affected = {pk for pk in touched if pk is not None}
    if affected:
        _refresh_invoices(batch, affected)
    return plan.outcomes


def _refresh_invoices(batch: _Batch, ids: set[int]) -> None:
    """Recompute the paid amount and status of the invoices the batch's payments touch; the changed ones
    get a history row (an invoice turning `paid` is in its history)."""
    paid = dict(
        Payment.objects.filter(invoice_id__in=ids)
        .values("invoice_id")
        .annotate(total=Sum("amount"))
        .values_list("invoice_id", "total")
    )
    changed = []
    for invoice in Invoice.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        total = paid.get(invoice.pk) or ZERO
        status = invoice_status(
            voided=invoice.status == InvoiceStatus.VOID, amount=invoice.amount, paid=total
        )
        if not _same(invoice.paid_amount, total) or invoice.status != status:
            invoice.paid_amount, invoice.status = total, status
            invoice.version += 1
            invoice.updated_at = batch.now
            changed.append(invoice)
    if changed:
        bulk_update_with_history(
            changed,
            Invoice,
            ["paid_amount", "status", "version", "updated_at"],
            default_user=batch.actor,
            custom_historical_attrs=batch.history_attrs,
        )


# credit terms -------------------------------------------------------------------------------------------


def _credit_resolve(batch: _Batch) -> None:
    _resolve_parties(batch)
    seen: dict[int, int] = {}
    for index, row in batch.rows:
        party_id = batch.parties.get(row["party"])
        if party_id is None:
            continue
        if party_id in seen:
            batch.error(index, "party", f"The party's credit terms are also in record {seen[party_id]}.")
        seen[party_id] = index
    held = CreditTerms.objects.filter(party_id__in=seen).values_list("party_id", "source", "external_id")
    for party_id, source, external_id in held:
        index = seen[party_id]
        row = dict(batch.rows)[index]
        if (source, external_id) != (batch.source, row["external_id"]):
            batch.error(index, "party", f"The party already has credit terms ({source} {external_id}).")


def _credit_apply(batch: _Batch) -> list[Outcome]:
    def values(index: int, row: dict[str, Any], existing: Any) -> Values:
        return {
            "party_id": batch.parties[row["party"]],
            "credit_limit": row["credit_limit"],
            "currency": row["currency"],
            "payment_terms_days": row["payment_terms_days"],
            "risk_rating": row["risk_rating"],
            "on_hold": row["on_hold"],
            "review_on": row["review_on"],
            "note": row["note"],
            "department_id": _department_id(batch, row),
        }

    return _upsert(batch, CreditTerms, values).outcomes


# subscriptions ------------------------------------------------------------------------------------------


def _subscriptions_resolve(batch: _Batch) -> None:
    _resolve_parties(batch)
    _resolve_products(batch, {row["product"] for _, row in batch.rows if row["product"]})
    for index, row in batch.rows:
        if row["product"] and row["product"] not in batch.products:
            batch.error(index, "product", f"No product with SKU {row['product']}.")


def _subscriptions_apply(batch: _Batch) -> list[Outcome]:
    def values(index: int, row: dict[str, Any], existing: Any) -> Values:
        product = batch.products.get(row["product"]) if row["product"] else None
        if row["status_since"] is not None:
            since = row["status_since"]
        elif existing is not None and existing.status == row["status"]:
            since = existing.status_since
        elif existing is None and row["status"] == "active":  # active since it started
            since = min(datetime.combine(row["started_on"], time.min, tzinfo=UTC), batch.now)
        else:
            since = batch.now
        return {
            "party_id": batch.parties[row["party"]],
            "product_id": product.pk if product is not None else None,
            "kind": row["kind"],
            "name": row["name"],
            "service_id": row["service_id"],
            "status": row["status"],
            "status_reason": row["status_reason"],
            "status_since": since,
            "started_on": row["started_on"],
            "ends_on": row["ends_on"],
            "recurring_amount": row["recurring_amount"],
            "currency": row["currency"],
            "billing_period": row["billing_period"],
            "department_id": _department_id(batch, row),
        }

    plan = _upsert(batch, Subscription, values)
    moves = [(obj, None) for obj in plan.created if obj.status != "active"] + [
        (obj, old["status"]) for obj, old in plan.updated if old["status"] != obj.status
    ]
    for subscription, previous in moves:
        outbox.emit(
            "commerce.subscription_status",
            payload={
                "title": f"{subscription.name}: {subscription.get_status_display().lower()}",
                "body": f"Reason: {subscription.get_status_reason_display()}"
                if subscription.status_reason
                else "",
                "url": f"/parties/{subscription.party_id}/",
                "subscription_id": subscription.pk,
                "party_id": subscription.party_id,
                "from": previous,
                "to": subscription.status,
                "reason": subscription.status_reason,
                "actor_id": batch.actor.pk,
            },
            key=f"commerce.subscription:{subscription.pk}:{subscription.version}",
        )
    return plan.outcomes


SPECS: dict[str, _Spec] = {
    "products": _Spec(schemas.ProductSchema, _products_resolve, _products_apply),
    "orders": _Spec(schemas.OrderSchema, _orders_resolve, _orders_apply),
    "invoices": _Spec(schemas.InvoiceSchema, _invoices_resolve, _invoices_apply),
    "payments": _Spec(schemas.PaymentSchema, _payments_resolve, _payments_apply),
    "credit-terms": _Spec(schemas.CreditTermsSchema, _credit_resolve, _credit_apply),
    "subscriptions": _Spec(schemas.SubscriptionSchema, _subscriptions_resolve, _subscriptions_apply),
}


def today() -> date:
    """The site's date now (due dates are calendar days in the site's zone)."""
    return timezone.localdate(clock.now())
