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

`batch.py` holds the machinery (validation, references, the generic upsert), `records.py` each type.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from relay.accounts.models import User
from relay.commerce.services.batch import (
    _SOURCE,
    DEFAULT_DEPARTMENTS,
    MAX_BATCH,
    RECORD_TYPES,
    Outcome,
    RowError,
    SyncRejected,
    SyncResult,
    _Batch,
    _resolve_departments,
    _validate,
)
from relay.commerce.services.records import SPECS, invoice_status
from relay.core import clock, outbox
from relay.core.exceptions import ApplicationError, NotAllowed

__all__ = [
    "DEFAULT_DEPARTMENTS",
    "MAX_BATCH",
    "RECORD_TYPES",
    "SPECS",
    "ApplicationError",
    "Outcome",
    "RowError",
    "SyncRejected",
    "SyncResult",
    "commerce_sync",
    "invoice_status",
    "today",
]


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


def today() -> date:
    """The site's date now (due dates are calendar days in the site's zone)."""
    return timezone.localdate(clock.now())
