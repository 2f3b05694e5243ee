"""The outbox with real `relay worker` processes (TESTING.md, "Integrity under concurrency and faults"):
two consumers on Redis drain 200 events with nothing doubled and nothing lost; a worker SIGKILLed in the
middle of a delivery loses nothing and doubles nothing once another worker runs; the embedded SqliteHuey
queue drains too.

The processes share one real database: a SQLite file of their own (the test database is in memory), or
on PostgreSQL the test database itself (a transactional test, so what they write is visible and flushed
afterwards). Setting-up, emitting and counting run in subprocesses too (outbox_cluster.py), so that every
process sees the same database the same way. E-mail goes to a log file (outbox_mail.py), one line per
message sent, which survives a SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
# a spare database of the local Redis, flushed before and after; one per test database, so that the
# SQLite and PostgreSQL runs of `make test` can run side by side
REDIS_DB = 10 if os.environ.get("DATABASE_URL", "").startswith("postgres") else 9
EVENTS = 200
RECIPIENTS = 2  # per event, besides the actor (who is never told)


def _redis():
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_connect_timeout=1)
        client.ping()
    except Exception as exc:
        if os.environ.get("CI"):  # .ci/run starts Redis: there, a missing server is a failure
            raise
        pytest.skip(f"needs the local Redis at 127.0.0.1:6379 ({type(exc).__name__}: {exc})")
    return client


def _database_url(own_sqlite: Path) -> str:
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
        return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{own_sqlite}"


class Cluster:
    """The processes of one test, all on the same database, queue and mail log."""

    def __init__(self, tmp_path: Path, own_sqlite: Path, tasks: str):
        self.tmp = tmp_path
        self.mail_log = tmp_path / "mail.log"
        self.mail_log.touch()
        dropped = {"RELAY_TASKS_IMMEDIATE", "DJANGO_SETTINGS_MODULE"}
        self.env = {k: v for k, v in os.environ.items() if k not in dropped}
        self.env.update(
            DJANGO_SETTINGS_MODULE="relay.core.tests.outbox_worker_settings",
            DATABASE_URL=_database_url(own_sqlite),
            RELAY_TASKS=tasks,
            RELAY_VAR_DIR=str(tmp_path),
            RELAY_TEST_MAIL_LOG=str(self.mail_log),
            PYTHONUNBUFFERED="1",
        )
        self.workers: list[subprocess.Popen] = []

    def run(self, *args: str, timeout: float = 300) -> dict:
        out = subprocess.run(
            [sys.executable, "-m", "relay.core.tests.outbox_cluster", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    def start_worker(self, *, mail_delay: float = 0.0) -> subprocess.Popen:
        n = len(self.workers)
        log = (self.tmp / f"worker-{n}.log").open("w")
        process = subprocess.Popen(
            # `relay worker`, run as a module so that it imports this checkout's code
            [sys.executable, "-m", "relay.manage", "worker", "--workers", "2"],
            cwd=ROOT,
            env={**self.env, "RELAY_TEST_MAIL_DELAY": str(mail_delay)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(process)
        deadline = time.monotonic() + 20
        while "Worker consuming" not in (self.tmp / f"worker-{n}.log").read_text():
            assert process.poll() is None, (self.tmp / f"worker-{n}.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)
        return process

    def mails(self) -> list[tuple[str, str]]:
        return [tuple(line.split()) for line in self.mail_log.read_text().splitlines() if line]  # type: ignore[misc]

    def stop(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self) -> str:
        return "\n".join((self.tmp / f"worker-{n}.log").read_text()[-2000:] for n in range(len(self.workers)))


@pytest.fixture
def redis_cluster(tmp_path, own_sqlite):
    client = _redis()
    client.flushdb()
    cluster = Cluster(tmp_path, own_sqlite, f"redis://127.0.0.1:6379/{REDIS_DB}")
    yield cluster
    cluster.stop()
    client.flushdb()


@pytest.fixture
def sqlite_cluster(tmp_path, own_sqlite):
    cluster = Cluster(tmp_path, own_sqlite, "sqlite")
    yield cluster
    cluster.stop()


def assert_everything_delivered_once(summary: dict, logs: str) -> None:
    assert summary["undispatched"] == 0, (summary["errors"], logs)
    assert summary["still_claimed"] == 0, "no claim outlives its delivery"
    assert summary["notifications"] == summary["distinct_notifications"] == summary["events"] * RECIPIENTS
    assert summary["in_app_rows"] == summary["email_rows"] == summary["events"] * RECIPIENTS
    assert summary["actor_notified"] == 0


@pytest.mark.redis
def test_two_workers_on_redis_drain_200_events_without_a_duplicate_or_a_loss(redis_cluster):
    cluster = redis_cluster
    cluster.run("setup")
    first = cluster.start_worker(mail_delay=0.003)
    second = cluster.start_worker(mail_delay=0.003)
    cluster.run("emit", str(EVENTS))
    summary = cluster.run("report", "25")
    assert_everything_delivered_once(summary, cluster.logs())
    mails = cluster.mails()
    sent = Counter(message_id for message_id, _ in mails)
    assert len(sent) == EVENTS * RECIPIENTS, "every e-mail sent"
    assert max(sent.values()) == 1, "no e-mail sent twice"
    assert {pid for _, pid in mails} == {str(first.pid), str(second.pid)}, "both consumers delivered"


@pytest.mark.redis
def test_a_worker_killed_mid_delivery_loses_nothing_and_doubles_nothing(redis_cluster):
    cluster = redis_cluster
    cluster.run("setup")
    cluster.run("emit", str(EVENTS))  # 200 drains wait in Redis
    victim = cluster.start_worker(mail_delay=0.01)
    deadline = time.monotonic() + 20
    while len(cluster.mails()) < 40:
        assert time.monotonic() < deadline, cluster.logs()
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)  # mid-batch: its claimed events stay leased, nothing is released
    victim.wait()
    sent_by_victim = len(cluster.mails())
    assert sent_by_victim < EVENTS * RECIPIENTS, "killed before it could finish"

    time.sleep(2.5)  # the victim's lease (2 s in outbox_worker_settings) ends
    cluster.start_worker()  # its start-up runs the periodic re-drain; the queued drains follow
    summary = cluster.run("report", "25")
    assert_everything_delivered_once(summary, cluster.logs())
    assert summary["reclaimed"] > 0, "the killed worker's claimed events were taken over"

    sent = Counter(message_id for message_id, _ in cluster.mails())
    assert len(sent) == EVENTS * RECIPIENTS, "every e-mail sent"
    # A message sent but not yet recorded when the worker died is sent again: at most one per worker
    # thread (2) that was between its send and its commit at that instant.
    resent = [message_id for message_id, n in sent.items() if n > 1]
    assert len(resent) <= 2 and max(sent.values()) <= 2, resent
    assert sorted(f"<relay.outbox.{pair}@" for pair in summary["pairs"]) == sorted(
        message_id.split("@")[0] + "@" for message_id in sent
    ), "the recorded e-mail deliveries are exactly the messages sent"


def test_the_embedded_sqlite_queue_drains_too(sqlite_cluster):
    cluster = sqlite_cluster
    cluster.run("setup")
    cluster.start_worker()
    cluster.run("emit", "20")
    summary = cluster.run("report", "20")
    assert summary["events"] == 20
    assert_everything_delivered_once(summary, cluster.logs())
    assert len(cluster.mails()) == 20 * RECIPIENTS
