"""The transactional outbox: side effects are rows written in the business transaction, delivered after
commit by workers, at least once (docs/adr/0007-outbox-and-notifications.md).

Writing::

    @transaction.atomic
    def case_transfer(*, actor, case, ...):
        ...
        outbox.emit("case.transferred", payload={"title": ..., "url": ..., "case_id": case.pk,
                    "actor_id": actor.pk}, recipients=[...], key=f"case.transferred:{case.pk}:{case.version}")

Delivering: `drain()` (run by the `outbox_drain` task after each commit, and every minute by the periodic
re-drain in relay/config/huey.py) claims a batch of due events with a lease, hands each to the registered
deliverers (the notifications app registers the in-app and e-mail delivery), and marks it dispatched.

* A claim is a short transaction: `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL (two consumers never
  take the same row), a plain select on SQLite (`BEGIN IMMEDIATE` serialises writers). It sets
  `claimed_by` and moves `available_at` to the end of the lease, so nobody else picks the event up
  while it is being delivered. No transaction is held while delivering (on SQLite that would stop every
  other writer for as long as an SMTP server takes to answer).
* A worker killed mid-delivery leaves its events claimed until the lease ends; then any drain takes them
  again. Deliverers are idempotent (a unique delivery row per event, recipient and channel), so the
  second attempt completes what the first left undone and repeats nothing that was recorded.
* A delivery that raises is retried after an exponential back-off (`available_at`), with the error in
  `last_error`; a drain is scheduled for that moment, and the periodic re-drain is the safety net.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Exists, F, OuterRef

from relay.core import bulk, clock
from relay.core.outbox_models import OutboxEvent

logger = logging.getLogger(__name__)

Deliverer = Callable[[OutboxEvent], None]
Preparer = Callable[[list[OutboxEvent]], None]
_deliverers: dict[str, Deliverer] = {}
_preparers: dict[str, Preparer] = {}

_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_OPTIONAL_TEXT = ("body", "url")
_OPTIONAL_IDS = ("case_id", "actor_id")


class OutboxError(Exception):
    """emit() was called wrongly: outside a transaction, or with a payload deliveries cannot read."""


class DeliveryFailed(Exception):
    """A deliverer could not finish; the event is retried later."""


class LeaseLost(Exception):
    """Another worker took the event over (this worker's lease ran out): stop delivering it."""


@dataclass
class DrainResult:
    claimed: int = 0
    dispatched: int = 0
    failed: int = 0


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def lease() -> timedelta:
    """How long a claim keeps other workers off an event. Longer than one event's delivery takes."""
    return timedelta(seconds=_setting("RELAY_OUTBOX_LEASE_SECONDS", 60))


def backoff(attempts: int) -> timedelta:
    """The wait before attempt `attempts + 1`: 10 s, 20 s, 40 s, ... at most an hour."""
    base = _setting("RELAY_OUTBOX_RETRY_BASE_SECONDS", 10)
    cap = _setting("RELAY_OUTBOX_RETRY_MAX_SECONDS", 3600)
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)))


def register_deliverer(name: str, deliverer: Deliverer, *, prepare: Preparer | None = None) -> None:
    """Register a function that delivers one event (it must be idempotent: it may run more than once).

    `prepare`, optional, is called by `drain()` once per claimed batch, before the events are delivered
    one by one, to do the part of the work that is cheaper for many events at once (the in-app notices
    of a whole batch in one insert). It must be idempotent too, and leave on each event what the
    deliverer then need not repeat. If it raises, the error is logged and the deliverer does everything."""
    _deliverers[name] = deliverer
    if prepare is None:
        _preparers.pop(name, None)
    else:
        _preparers[name] = prepare


# --- writing --------------------------------------------------------------------------------------------


def _check_payload(name: str, payload: dict[str, Any]) -> None:
    if not _NAME.fullmatch(name) or len(name) > 100:
        raise OutboxError(f'Event names are dotted lower-case words, like "case.transferred"; got {name!r}.')
    if not isinstance(payload, dict):
        raise OutboxError("The payload must be a dict.")
    title = payload.get("title")
    if not isinstance(title, str) or not title.strip():
        raise OutboxError("The payload needs a non-empty `title`.")
    for field in _OPTIONAL_TEXT:
        if field in payload and not isinstance(payload[field], str):
            raise OutboxError(f"The payload's `{field}` must be a string.")
    url = payload.get("url", "")
    if url and (not url.startswith("/") or url.startswith("//")):
        raise OutboxError("The payload's `url` must be a path in the staff UI, such as /cases/12/.")
    for field in _OPTIONAL_IDS:
        value = payload.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise OutboxError(f"The payload's `{field}` must be an id (an int) or absent.")
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as exc:
        raise OutboxError(f"The payload must be plain JSON: {exc}") from exc


def _recipient_ids(recipients: Iterable[int], actor_id: int | None) -> list[int]:
    ids: set[int] = set()
    for recipient in recipients:
        if isinstance(recipient, bool) or not isinstance(recipient, int):
            raise OutboxError(f"Recipients are user ids (ints); got {recipient!r}.")
        ids.add(recipient)
    ids.discard(actor_id)  # nobody is told about their own action
    return sorted(ids)


def emit(
    name: str, *, payload: dict[str, Any], recipients: Iterable[int] = (), key: str | None = None
) -> OutboxEvent:
    """Record that `name` happened, in the caller's transaction; it is delivered after commit.

    `payload`: `title` (required), `body`, `url` (a staff UI path), `case_id`, `actor_id` (never
    notified of their own action). `key`: the business event's idempotency key; emitting the same key
    twice writes one row and returns it.
    """
    db = transaction.get_connection()
    if not db.in_atomic_block:
        raise OutboxError(
            "outbox.emit() must be called inside the business transaction (@transaction.atomic)."
        )
    _check_payload(name, payload)
    if key is not None and (not key.strip() or len(key) > 200):
        raise OutboxError("An idempotency key has 1 to 200 characters.")
    fields = {
        "name": name,
        "payload": payload,
        "recipients": _recipient_ids(recipients, payload.get("actor_id")),
        "key": key,
    }
    event = OutboxEvent(**fields)
    if key is None:
        event.save()
    elif not bulk.insert_once(event):  # the constraint decides: this business event is already recorded
        return OutboxEvent.objects.get(key=key)
    _drain_after_commit(db)
    return event


def emit_many(events: Iterable[tuple[str, dict[str, Any], Iterable[int], str]]) -> int:
    """Record many events (name, payload, recipients, key) in one insert, in the caller's transaction;
    an event whose key is already recorded is skipped, as `emit` does. Returns how many were given."""
    db = transaction.get_connection()
    if not db.in_atomic_block:
        raise OutboxError("outbox.emit_many() must be called inside the business transaction.")
    rows = []
    for name, payload, recipients, key in events:
        _check_payload(name, payload)
        if not key.strip() or len(key) > 200:
            raise OutboxError("An idempotency key has 1 to 200 characters.")
        recipient_ids = _recipient_ids(recipients, payload.get("actor_id"))
        rows.append({"name": name, "payload": payload, "recipients": recipient_ids, "key": key})
    if rows:
        bulk.insert(OutboxEvent, rows, returning=False, ignore_conflicts=True)
        _drain_after_commit(db)
    return len(rows)


def _drain_after_commit(db: Any) -> None:
    """Enqueue one drain when the transaction commits, however many events it emitted; none on rollback
    (Django drops the callback with the transaction or savepoint that registered it)."""
    if any(func is _enqueue_drain for _, func, _ in db.run_on_commit):
        return
    transaction.on_commit(_enqueue_drain, robust=True)


def _enqueue_drain() -> None:
    """Ask a worker to drain now. If the queue is unreachable the periodic re-drain delivers later: the
    business transaction has committed and must not fail because of it."""
    from relay.core.tasks import outbox_drain

    try:
        outbox_drain.enqueue()
    except Exception:
        logger.exception("Could not enqueue the outbox drain; the periodic re-drain will deliver")


def schedule_drain(at: datetime) -> None:
    """Ask for a drain at `at` (after a back-off), where the task backend can defer tasks."""
    from relay.core.tasks import outbox_drain

    try:
        if outbox_drain.get_backend().supports_defer:
            outbox_drain.using(run_after=at).enqueue()
    except Exception:
        logger.exception("Could not schedule the outbox drain; the periodic re-drain will deliver")


# --- delivering -----------------------------------------------------------------------------------------


def claim(*, limit: int) -> tuple[str, list[OutboxEvent]]:
    """Take up to `limit` due events for this worker: a new claim token, and the events it holds."""
    token = uuid.uuid4().hex
    now = clock.now()
    with transaction.atomic():
        due = OutboxEvent.objects.filter(dispatched_at__isnull=True, available_at__lte=now).order_by(
            "available_at", "id"
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        if ids:
            OutboxEvent.objects.filter(pk__in=ids).update(
                claimed_by=token, available_at=now + lease(), attempts=F("attempts") + 1
            )
    if not ids:
        return token, []
    return token, list(OutboxEvent.objects.filter(pk__in=ids, claimed_by=token).order_by("id"))


def _still_ours(event: OutboxEvent, token: str) -> bool:
    """Renew the lease before delivering; False when another worker took the event meanwhile."""
    renewed = OutboxEvent.objects.filter(pk=event.pk, claimed_by=token, dispatched_at__isnull=True).update(
        available_at=clock.now() + lease()
    )
    event._lease_renewed = time.monotonic()  # type: ignore[attr-defined]
    return bool(renewed)


def keep_lease(event: OutboxEvent) -> None:
    """For deliverers with slow steps (one e-mail after another): extend the claim when a third of the
    lease has passed since it was last renewed, so no other worker starts on the event meanwhile. Raises
    LeaseLost when another worker has taken it over."""
    last = getattr(event, "_lease_renewed", None)
    if last is not None and time.monotonic() - last < lease().total_seconds() / 3:
        return
    if event.claimed_by and not _still_ours(event, event.claimed_by):
        raise LeaseLost(f"outbox event {event.pk} was taken over by another worker")


def _fresh_claim(event: OutboxEvent, token: str) -> bool:
    """True while less than a third of the lease this worker's claim set has passed: nobody else can
    have taken the event (a claim takes only events whose lease has ended), so there is nothing to renew
    yet. Saves one UPDATE per event for the events of a batch that are delivered soon after the claim."""
    if event.claimed_by != token or event.dispatched_at is not None:
        return False
    return clock.now() < event.available_at - lease() * 2 / 3


def deliver(event: OutboxEvent, token: str) -> bool:
    """Run every deliverer on a claimed event; mark it dispatched, or schedule its retry. True when done."""
    if not _deliver(event, token):
        return False
    _mark_dispatched([event.pk])
    return True


def _mark_dispatched(ids: list[int]) -> None:
    if ids:
        OutboxEvent.objects.filter(pk__in=ids, dispatched_at__isnull=True).update(
            dispatched_at=clock.now(), claimed_by=""
        )


def _prepare(events: list[OutboxEvent]) -> None:
    for name, preparer in list(_preparers.items()):
        if name not in _deliverers:
            continue
        try:
            preparer(events)
        except Exception:  # the deliverers do the whole work event by event instead
            logger.exception("Preparing a batch of %s outbox events for %s failed", len(events), name)


def _deliver(event: OutboxEvent, token: str) -> bool:
    """`deliver` without marking the event dispatched (`drain` marks its batch in one update)."""
    if _fresh_claim(event, token):
        held = lease() - (event.available_at - clock.now())  # how long ago the claim was made
        event._lease_renewed = time.monotonic() - held.total_seconds()  # type: ignore[attr-defined]
    elif not _still_ours(event, token):
        return False
    try:
        for deliverer in list(_deliverers.values()):
            deliverer(event)
    except LeaseLost:
        logger.warning("Outbox event %s was taken over by another worker mid-delivery", event.pk)
        return False
    except Exception as exc:
        retry_at = clock.now() + backoff(event.attempts)
        error = f"{type(exc).__name__}: {exc}"[:4000]
        OutboxEvent.objects.filter(pk=event.pk, claimed_by=token, dispatched_at__isnull=True).update(
            available_at=retry_at, last_error=error, claimed_by=""
        )
        logger.warning(
            "Outbox event %s (%s) failed, attempt %s: %s", event.pk, event.name, event.attempts, error
        )
        schedule_drain(retry_at)
        return False
    return True


def drain(*, batch_size: int | None = None, budget_seconds: float | None = None) -> DrainResult:
    """Deliver due events, batch after batch, until none is due or the time budget is spent (then a
    follow-up drain is enqueued, so one long backlog never holds a worker thread for long)."""
    size = batch_size or _setting("RELAY_OUTBOX_BATCH_SIZE", 50)
    budget = budget_seconds if budget_seconds is not None else _setting("RELAY_OUTBOX_DRAIN_SECONDS", 30)
    deadline = time.monotonic() + budget
    result = DrainResult()
    flush_after = lease().total_seconds() / 3
    while True:
        token, events = claim(limit=size)
        if not events:
            return result
        result.claimed += len(events)
        _prepare(events)
        # the delivered events are marked dispatched together, at the latest a third of a lease after
        # they were delivered (a worker dying before that leaves them to be delivered again: idempotent)
        done: list[int] = []
        since = time.monotonic()
        for event in events:
            if _deliver(event, token):
                result.dispatched += 1
                done.append(event.pk)
            else:
                result.failed += 1
            if time.monotonic() - since >= flush_after:
                _mark_dispatched(done)
                done, since = [], time.monotonic()
        _mark_dispatched(done)
        if time.monotonic() > deadline:
            _enqueue_drain()
            return result


def prune(*, keep: timedelta | None = None, batch_size: int = 1000) -> int:
    """Delete the events delivered longer ago than `keep` (RELAY_OUTBOX_KEEP_DAYS, default 30), with their
    delivery records, in batches; returns how many. An event that a row still refers to with PROTECT (a
    notification in someone's inbox) stays, as do events not yet delivered, however old."""
    keep = keep if keep is not None else timedelta(days=_setting("RELAY_OUTBOX_KEEP_DAYS", 30))
    candidates = OutboxEvent.objects.filter(dispatched_at__lt=clock.now() - keep)
    for rel in OutboxEvent._meta.related_objects:
        if rel.on_delete is models.PROTECT:
            referring = rel.related_model._default_manager.filter(**{rel.field.name: OuterRef("pk")})
            candidates = candidates.filter(~Exists(referring))
    pruned = 0
    while ids := list(candidates.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        pruned += OutboxEvent.objects.filter(pk__in=ids).delete()[1].get(OutboxEvent._meta.label, 0)
    return pruned
