"""django.tasks on Huey: business code enqueues a Task; Huey runs it, audited as a job."""

import pytest
from django.tasks import task

from relay.config.huey import HUEY
from relay.core.origin import current_origin

SEEN: list[tuple[int, str]] = []


@task
def remember(value: int) -> int:
    SEEN.append((value, current_origin()))
    return value * 2


@pytest.fixture
def immediate_huey(settings):
    settings.TASKS = {"default": {"BACKEND": "relay.core.tasks_backend.HueyTaskBackend"}}
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


def test_an_enqueued_task_runs_on_huey_as_a_job(immediate_huey):
    SEEN.clear()
    result = remember.enqueue(21)
    assert result.id and SEEN == [(21, "job")]


def test_a_queued_task_waits_for_a_worker():
    from huey.storage import MemoryStorage

    original = HUEY.storage
    HUEY.storage = MemoryStorage("relay-test")
    try:
        SEEN.clear()
        remember.enqueue(5)
        assert SEEN == [] and HUEY.pending_count() == 1
        HUEY.execute(HUEY.dequeue())
        assert SEEN == [(5, "job")]
    finally:
        HUEY.storage = original


def test_a_deferred_task_waits_for_its_time():
    from datetime import timedelta

    from django.utils import timezone
    from huey.storage import MemoryStorage

    original = HUEY.storage
    HUEY.storage = MemoryStorage("relay-test")
    try:
        SEEN.clear()
        remember.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(7)
        message = HUEY.dequeue()
        assert message.eta.tzinfo is None, "Huey's clock is naive UTC"
        assert not HUEY.ready_to_run(message)
        HUEY.add_schedule(message)
        assert HUEY.read_schedule(HUEY._get_timestamp()) == [] and SEEN == []
        later = HUEY._get_timestamp() + timedelta(hours=1, seconds=1)
        assert [t.id for t in HUEY.read_schedule(later)] == [message.id]
    finally:
        HUEY.storage = original


def test_the_queue_file_is_wal_without_a_sync_per_enqueue(tmp_path):
    """synchronous=NORMAL (1), as the main database: an enqueue is a write, not an fsync."""
    from relay.config.huey import QueueFileStorage

    storage = QueueFileStorage("relay-test", filename=str(tmp_path / "queue.sqlite3"))
    storage.enqueue(b"wake up")
    conn = storage.conn
    assert conn.execute("pragma journal_mode").fetchone() == ("wal",)
    assert conn.execute("pragma synchronous").fetchone() == (1,)
    assert storage.dequeue() == b"wake up"
