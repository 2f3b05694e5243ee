"""The task engine behind django.tasks: Huey, embedded (SQLite file) or on Redis for scale-out."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from django.conf import settings
from huey import Huey, RedisHuey, crontab
from huey.storage import SqliteStorage


class QueueFileStorage(SqliteStorage):
    """Huey's SQLite queue with the main database's durability: WAL with synchronous=NORMAL, so an enqueue
    is not an fsync (Huey's default is a full sync per commit, 4 ms on this kind of disk, paid inside every
    request that emits an outbox event). A commit survives a crash of any process; only a power cut can
    lose the last ones, and the queue holds wake-ups only: the outbox, the SLA clocks and the mail queue
    keep their work in the main database, and the periodic re-drain and sweep pick up what a lost wake-up
    would have started."""

    def _create_connection(self) -> sqlite3.Connection:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


def build_huey() -> Huey:
    spec = settings.RELAY_TASKS
    immediate = bool(getattr(settings, "RELAY_TASKS_IMMEDIATE_HUEY", False))
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("relay", url=spec, immediate=immediate)
    path = settings.VAR_DIR / "tasks.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return Huey("relay", storage_class=QueueFileStorage, filename=str(path), immediate=immediate)


HUEY = build_huey()


@HUEY.task(retries=5, retry_delay=2)
def run_django_task(module_path: str, args: list, kwargs: dict) -> object:
    """Runs one django.tasks Task by its import path (see relay.core.tasks_backend)."""
    from django.utils.module_loading import import_string

    from relay.core.audit import Origin, origin

    task = import_string(module_path)
    with origin(Origin.JOB):
        return task.call(*args, **kwargs)


@HUEY.periodic_task(crontab(minute="*"), name="relay.outbox_redrain")
def outbox_redrain() -> int:
    """Every minute (Huey's finest periodic resolution), and when a consumer starts: deliver whatever the
    outbox still holds, such as the events of a worker killed mid-delivery once their lease has ended,
    or events whose after-commit drain could not be enqueued. Back-off retries are scheduled precisely
    by the drain itself (relay.core.outbox.schedule_drain)."""
    from relay.core.audit import Origin, origin
    from relay.core.outbox import drain

    with origin(Origin.JOB):
        return drain().dispatched


@HUEY.periodic_task(crontab(minute="*"), name="relay.sla_sweep")
def sla_sweep() -> int:
    """SLA clocks are evaluated at least every 30 s: a sweep now, and one enqueued for half a minute
    later (Huey's periodic tasks run once a minute at most). Sweeps may overlap, on any number of
    workers: each warning, breach and escalation is recorded and notified once
    (relay/cases/services/sla.py)."""
    from relay.cases.tasks import sla_sweep as task
    from relay.core import clock
    from relay.core.audit import Origin, origin

    task.using(run_after=clock.now() + timedelta(seconds=30)).enqueue()
    with origin(Origin.JOB):
        return task.call()


@HUEY.periodic_task(crontab(hour="3", minute="17"), name="relay.outbox_prune")
def outbox_prune() -> int:
    """Nightly: forget the outbox events delivered more than RELAY_OUTBOX_KEEP_DAYS ago (the inbox keeps
    its own)."""
    from relay.core.outbox import prune

    return prune()


@HUEY.periodic_task(crontab(minute="*"), name="relay.imap_poll")
def imap_poll() -> int:
    """Every minute: one poll enqueued per IMAP-enabled mailbox (relay/channels/email/tasks.py); a
    mailbox still being polled, or watched by `relay imap idle`, is skipped by its poll."""
    from relay.channels.email.tasks import imap_poll_due
    from relay.core.audit import Origin, origin

    with origin(Origin.JOB):
        return imap_poll_due.call()


@HUEY.periodic_task(crontab(minute="*/5"), name="relay.push_prune")
def push_prune() -> int:
    """Every five minutes: forget the live-push messages older than the resume window (the database
    backend's table; the Redis backend expires its own). docs/adr/0013."""
    from relay.channels.push.bus import prune, uses_redis

    return 0 if uses_redis() else prune()


@HUEY.periodic_task(crontab(hour="2", minute="41"), name="relay.recommendations_train")
def recommendations_train() -> int:
    """Nightly: learn the product rules from the purchase history and make them the active rule set the
    360 card reads (relay/recommendations/services.py: the swap is one transaction; a failed run leaves
    yesterday's rules in place)."""
    from relay.core.audit import Origin, origin
    from relay.recommendations.tasks import train_recommender

    with origin(Origin.JOB):
        return train_recommender.call()
