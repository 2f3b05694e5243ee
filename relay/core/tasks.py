"""Background jobs of the core: delivering the outbox."""

from __future__ import annotations

from django.tasks import task

from relay.core import outbox


@task
def outbox_drain() -> None:
    """Deliver the due outbox events (enqueued after every commit that emitted one). Safe to run any
    number of times, on any number of workers at once. Returns nothing: Huey would keep a result of every
    run in its store until someone read it, and nobody does."""
    outbox.drain()
