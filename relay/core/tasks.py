"""Background jobs of the core: delivering the outbox."""

from __future__ import annotations

from django.tasks import task

from relay.core import outbox


@task
def outbox_drain() -> int:
    """Deliver the due outbox events (enqueued after every commit that emitted one). Returns how many
    were dispatched. Safe to run any number of times, on any number of workers at once."""
    return outbox.drain().dispatched
