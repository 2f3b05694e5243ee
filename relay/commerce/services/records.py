"""Each record type of the sync: how its references resolve and how its rows are written
(products with their categories, orders with their lines, invoices, payments that refresh the
invoices they pay, credit terms, subscriptions whose status changes go to the outbox)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Sum
from rest_framework import serializers
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

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
from relay.commerce.services.batch import (
    Outcome,
    Values,
    _Batch,
    _department_id,
    _resolve_parties,
    _resolve_products,
    _same,
    _upsert,
)
from relay.core import outbox
from relay.core.audit import with_actor

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
