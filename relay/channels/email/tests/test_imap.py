"""The IMAP poller against a real IMAP server: a private Dovecot on loopback (tests/dovecot.py), messages
put in with IMAP APPEND as a delivering mail server would."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from relay.channels.email import imap
from relay.channels.email.models import EmailMessage, QuarantinedMessage
from relay.channels.email.tests.dovecot import Dovecot, free_port
from relay.channels.email.tests.factories import MailboxFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def imap_server(tmp_path) -> Iterator[Dovecot]:
    with Dovecot(tmp_path) as server:
        yield server


def _imap(mailbox: Any, server: Dovecot, **fields: Any) -> Any:
    values = {
        "imap_enabled": True,
        "imap_host": server.host,
        "imap_port": server.port,
        "imap_security": "none",
        "imap_username": server.user,
        "imap_password": server.password,
        **fields,
    }
    for name, value in values.items():
        setattr(mailbox, name, value)
    mailbox.save()
    return mailbox


@pytest.fixture
def imap_mailbox(mailbox, imap_server):
    return _imap(mailbox, imap_server)


def inbound(mailbox: Any) -> Any:
    return EmailMessage.objects.filter(mailbox=mailbox, direction="inbound")


def ids(mailbox: Any) -> list[str]:
    return sorted(inbound(mailbox).values_list("message_id", flat=True))


def test_new_messages_become_interactions_and_the_uid_advances(imap_mailbox, imap_server, make_mail):
    for n in range(3):
        imap_server.append(make_mail(subject=f"Question {n}", message_id=f"<q{n}@example.com>"))

    result = imap.poll_mailbox(imap_mailbox.pk)

    assert (result.fetched, result.stored, result.error) == (3, 3, "")
    assert ids(imap_mailbox) == ["q0@example.com", "q1@example.com", "q2@example.com"]
    assert all(m.via == "imap" and m.case_id and m.entry_id for m in inbound(imap_mailbox))
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.imap_last_uid == 3
    assert imap_mailbox.imap_uidvalidity == imap_server.uidvalidity()
    assert imap_mailbox.imap_checked_at is not None and imap_mailbox.imap_error == ""

    # a second poll fetches nothing new
    again = imap.poll_mailbox(imap_mailbox.pk)
    assert (again.fetched, again.last_uid) == (0, 3)

    # one more message: only it is fetched
    imap_server.append(make_mail(message_id="<q3@example.com>"))
    later = imap.poll_mailbox(imap_mailbox.pk)
    assert (later.fetched, later.stored, later.last_uid) == (1, 1, 4)
    assert inbound(imap_mailbox).count() == 4


def test_the_poller_leaves_the_messages_unread_on_the_server(imap_mailbox, imap_server, make_mail):
    uid = imap_server.append(make_mail())
    imap.poll_mailbox(imap_mailbox.pk)
    with imap_server.client() as client:
        client.select_folder("INBOX", readonly=True)
        assert b"\\Seen" not in client.get_flags([uid])[uid]


def test_a_changed_uidvalidity_rereads_the_folder_without_doubling(mailbox, imap_server, make_mail):
    _imap(mailbox, imap_server, imap_folder="Support")
    first = [make_mail(message_id=f"<r{n}@example.com>") for n in range(2)]
    for raw in first:
        imap_server.append(raw, folder="Support")
    assert imap.poll_mailbox(mailbox.pk).stored == 2
    before = imap_server.uidvalidity("Support")

    # the server renumbers the folder (here: it is deleted and created again, as a migration would)
    imap_server.recreate("Support")
    for raw in [*first, make_mail(message_id="<r2@example.com>")]:
        imap_server.append(raw, folder="Support")
    assert imap_server.uidvalidity("Support") != before

    result = imap.poll_mailbox(mailbox.pk)

    assert result.uidvalidity_changed
    assert (result.fetched, result.duplicates, result.stored) == (3, 2, 1)
    assert ids(mailbox) == ["r0@example.com", "r1@example.com", "r2@example.com"]
    mailbox.refresh_from_db()
    assert (mailbox.imap_uidvalidity, mailbox.imap_last_uid) == (imap_server.uidvalidity("Support"), 3)


def test_a_crash_between_storing_and_bookkeeping_loses_nothing_and_doubles_nothing(
    imap_mailbox, imap_server, make_mail, monkeypatch
):
    for n in range(3):
        imap_server.append(make_mail(message_id=f"<c{n}@example.com>"))
    advance = imap._advance

    def crash_after_storing_uid_2(mailbox_id: int, uidvalidity: int, uid: int) -> None:
        if uid == 2:
            raise RuntimeError("killed after message_receive, before the bookkeeping")
        advance(mailbox_id, uidvalidity, uid)

    monkeypatch.setattr(imap, "_advance", crash_after_storing_uid_2)
    crashed = imap.poll_mailbox(imap_mailbox.pk)
    assert "RuntimeError" in crashed.error
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.imap_last_uid == 1  # message 2 is stored, its UID not recorded
    assert "RuntimeError" in imap_mailbox.imap_error  # the error is visible on the mailbox
    assert ids(imap_mailbox) == ["c0@example.com", "c1@example.com"]

    monkeypatch.setattr(imap, "_advance", advance)
    result = imap.poll_mailbox(imap_mailbox.pk)

    assert (result.fetched, result.duplicates, result.stored) == (2, 1, 1)  # message 2 re-fetched
    assert ids(imap_mailbox) == ["c0@example.com", "c1@example.com", "c2@example.com"]
    imap_mailbox.refresh_from_db()
    assert (imap_mailbox.imap_last_uid, imap_mailbox.imap_error) == (3, "")


def test_a_failing_server_is_recorded_and_does_not_stop_the_other_mailboxes(
    imap_mailbox, imap_server, departments, make_mail
):
    wrong_password = _imap(
        MailboxFactory(address="sales@relay.localhost", department=departments["Sales"]),
        imap_server,
        imap_password="wrong",
    )
    unreachable = _imap(
        MailboxFactory(address="billing@relay.localhost", department=departments["Billing"]),
        imap_server,
        imap_port=free_port(),
    )
    imap_server.append(make_mail(message_id="<ok@example.com>"))

    results = {r.address: r for r in imap.poll_all()}

    assert results[imap_mailbox.address].stored == 1
    assert results["sales@relay.localhost"].error and results["billing@relay.localhost"].error
    wrong_password.refresh_from_db()
    unreachable.refresh_from_db()
    assert "LoginError" in wrong_password.imap_error or "auth" in wrong_password.imap_error.lower()
    assert "ConnectionRefused" in unreachable.imap_error
    assert unreachable.imap_checked_at is not None and unreachable.imap_last_uid == 0


def test_a_mailbox_held_by_another_poller_is_skipped(imap_mailbox, imap_server, make_mail):
    imap_server.append(make_mail())
    with imap.mailbox_lease(imap_mailbox.pk) as held:
        assert held
        assert imap.poll_mailbox(imap_mailbox.pk).skipped
    assert not inbound(imap_mailbox).exists()
    assert imap.poll_mailbox(imap_mailbox.pk).stored == 1  # the lease ended with its holder


def test_two_pollers_at_once_fetch_each_message_once(imap_mailbox, imap_server, make_mail):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is one connection; PostgreSQL only")
    for n in range(20):
        imap_server.append(make_mail(message_id=f"<p{n}@example.com>"))
    barrier = threading.Barrier(2)
    results: list[imap.PollResult] = []

    def poll() -> None:
        from django.db import connections

        barrier.wait()
        try:
            results.append(imap.poll_mailbox(imap_mailbox.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 2
    # one took the mailbox; the other skipped it (or came after and found nothing new): no double fetch
    assert sum(r.fetched for r in results) == sum(r.stored for r in results) == 20
    assert inbound(imap_mailbox).count() == 20


def test_an_oversize_message_is_quarantined_without_being_read_whole(
    imap_mailbox, imap_server, make_mail, settings
):
    settings.RELAY_EMAIL_MAX_BYTES = 3000
    imap_server.append(make_mail(body=("z" * 70 + "\n") * 100, message_id="<big@example.com>"))
    imap_server.append(make_mail(message_id="<small@example.com>"))

    result = imap.poll_mailbox(imap_mailbox.pk)

    assert (result.fetched, result.quarantined, result.stored, result.last_uid) == (2, 1, 1, 2)
    assert ids(imap_mailbox) == ["small@example.com"]
    held = QuarantinedMessage.objects.get(mailbox=imap_mailbox)
    assert held.reason == "too large"


def test_idle_wakes_up_on_a_new_message(imap_mailbox, imap_server, make_mail):
    synced: queue.Queue[imap.PollResult] = queue.Queue()
    stop = threading.Event()

    def watch() -> None:
        from django.db import connections

        try:
            # a poll interval far longer than the test: only IDLE can bring the message in in time
            imap.idle(imap_mailbox.pk, stop=stop, interval=600, on_sync=synced.put)
        finally:
            connections.close_all()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert synced.get(timeout=20).fetched == 0  # the first sync, then IDLE
        imap_server.append(make_mail(message_id="<woken@example.com>"))
        woken = synced.get(timeout=20)
        assert (woken.fetched, woken.stored, woken.error) == (1, 1, "")
    finally:
        stop.set()
        watcher.join(30)
    assert not watcher.is_alive()
    assert ids(imap_mailbox) == ["woken@example.com"]


def test_idle_refuses_a_mailbox_another_poller_holds(imap_mailbox, imap_server):
    with imap.mailbox_lease(imap_mailbox.pk), pytest.raises(imap.MailboxBusy):
        imap.idle(imap_mailbox.pk, stop=threading.Event())


def test_without_idle_the_session_waits_for_the_interval(imap_mailbox, imap_server, monkeypatch):
    with imap.folder_session(imap_mailbox) as session:
        monkeypatch.setattr(imap.FolderSession, "can_idle", property(lambda self: False))
        stop = threading.Event()
        threading.Timer(0.2, stop.set).start()
        assert session.wait(timeout=30, stop=stop) is False  # returned when stopped, not after 30 s


def test_the_poll_command(imap_mailbox, imap_server, make_mail, capsys):
    imap_server.append(make_mail(message_id="<cmd@example.com>"))
    call_command("imap", "poll", "--mailbox", "SUPPORT@relay.localhost")
    out = capsys.readouterr().out
    assert "support@relay.localhost: 1 fetched, 1 stored" in out
    with pytest.raises(CommandError, match="no mailbox"):
        call_command("imap", "poll", "--mailbox", "nobody@relay.localhost")

    imap_mailbox.imap_password = "wrong"
    imap_mailbox.save()
    with pytest.raises(CommandError, match="could not be polled"):
        call_command("imap", "poll")


def test_the_periodic_task_polls_each_enabled_mailbox(imap_mailbox, imap_server, make_mail, settings):
    from relay.channels.email.tasks import imap_poll_due
    from relay.config import huey

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    MailboxFactory(address="off@relay.localhost", imap_enabled=False)
    imap_server.append(make_mail(message_id="<task@example.com>"))

    assert imap_poll_due.call() == 1  # one poll enqueued (and, here, run at once)
    assert ids(imap_mailbox) == ["task@example.com"]
    assert "relay.imap_poll" in {task.__name__ for task in huey.HUEY._registry._periodic_tasks}


def test_idle_reports_a_lost_server_and_keeps_retrying_without_spinning(imap_mailbox, imap_server):
    synced: queue.Queue[imap.PollResult] = queue.Queue()
    stop = threading.Event()

    def watch() -> None:
        from django.db import connections

        try:
            imap.idle(imap_mailbox.pk, stop=stop, interval=600, retry=0.2, on_sync=synced.put)
        finally:
            connections.close_all()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert synced.get(timeout=20).error == ""
        imap_server.stop()  # the server goes away while the poller is in IDLE
        lost = synced.get(timeout=20)
        assert lost.error  # reported (and recorded on the mailbox), then retried
        assert synced.get(timeout=20).error  # the reconnection fails too while the server is down
    finally:
        stop.set()
        watcher.join(30)
    assert not watcher.is_alive()
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.imap_error


def test_the_poll_task_of_a_deleted_mailbox_ends_quietly(db):
    from relay.channels.email.tasks import imap_poll

    assert imap_poll.call(987654) == "mailbox 987654 no longer exists"


@pytest.fixture
def tls_server(tmp_path) -> Iterator[Dovecot]:
    with Dovecot(tmp_path, tls=True) as server:
        yield server


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_connections_with_a_verified_certificate(mailbox, tls_server, make_mail, monkeypatch, security):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert))  # trust the test server's own certificate
    port = tls_server.ssl_port if security == "ssl" else tls_server.port
    _imap(mailbox, tls_server, imap_security=security, imap_port=port)
    tls_server.append(make_mail(message_id=f"<{security}@example.com>"))

    result = imap.poll_mailbox(mailbox.pk)

    assert (result.stored, result.error) == (1, "")
    assert ids(mailbox) == [f"{security}@example.com"]


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_an_untrusted_certificate_is_refused_and_recorded(mailbox, tls_server, make_mail, security):
    port = tls_server.ssl_port if security == "ssl" else tls_server.port
    _imap(mailbox, tls_server, imap_security=security, imap_port=port)
    tls_server.append(make_mail())

    result = imap.poll_mailbox(mailbox.pk)

    assert "CERTIFICATE_VERIFY_FAILED" in result.error
    mailbox.refresh_from_db()
    assert "CERTIFICATE_VERIFY_FAILED" in mailbox.imap_error
    assert not inbound(mailbox).exists()  # and the password never went out in the clear


def test_on_a_sqlite_file_the_lease_is_an_flock_other_processes_respect(db, settings, tmp_path, monkeypatch):
    """The production SQLite lease (the tests' in-memory database uses a lock of the process): held by
    another process it is refused; when that process is SIGKILLed it is free at once."""
    import signal
    import subprocess
    import sys

    from django.db import connection, connections

    if connection.vendor != "sqlite":
        pytest.skip("the SQLite lease")
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(connections["default"], "is_in_memory_db", lambda: False)
    path = imap._lock_path(42)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with imap.mailbox_lease(42) as held:
            assert not held
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        holder.stdout.close()
    with imap.mailbox_lease(42) as held:
        assert held
        with imap.mailbox_lease(42) as again:  # another thread or poll of this process: refused too
            assert not again


_KILLED_POLLER = """
import sys, time
import django
django.setup()
from relay.channels.email import imap

real = imap._advance

def stuck(mailbox_id, uidvalidity, uid):
    if uid == 2:
        open(sys.argv[2], "w").close()  # message 2 stored, its UID not yet recorded: kill me
        time.sleep(60)
    real(mailbox_id, uidvalidity, uid)

imap._advance = stuck
imap.poll_mailbox(int(sys.argv[1]))
"""


def test_a_poller_killed_mid_poll_leaves_no_stuck_lease_and_nothing_lost_or_doubled(
    imap_mailbox, imap_server, make_mail, tmp_path
):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the poller process needs the test database: SQLite's is in this process's memory")
    for n in range(3):
        imap_server.append(make_mail(message_id=f"<k{n}@example.com>"))
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "RELAY_VAR_DIR": str(tmp_path),
        "RELAY_MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_SETTINGS_MODULE": "relay.config.settings",
    }
    marker = tmp_path / "stored"
    poller = subprocess.Popen(
        [sys.executable, "-c", _KILLED_POLLER, str(imap_mailbox.pk), str(marker)],
        cwd=Path(__file__).resolve().parents[4],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert poller.poll() is None, "the poller ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert imap.poll_mailbox(imap_mailbox.pk).skipped  # it holds the lease
    finally:
        poller.send_signal(signal.SIGKILL)
        poller.wait(10)

    deadline = time.monotonic() + 10
    while (result := imap.poll_mailbox(imap_mailbox.pk)).skipped:  # the server drops a dead session's lock
        assert time.monotonic() < deadline, "the lease is stuck after its holder died"
        time.sleep(0.1)
    assert (result.fetched, result.duplicates, result.stored) == (2, 1, 1)
    assert ids(imap_mailbox) == ["k0@example.com", "k1@example.com", "k2@example.com"]


def test_from_now_skips_the_history_and_takes_in_what_comes_next(
    imap_mailbox, imap_server, make_mail, capsys
):
    for n in range(3):
        imap_server.append(make_mail(message_id=f"<old{n}@example.com>"))

    call_command("imap", "poll", "--mailbox", imap_mailbox.address, "--from-now")

    assert "nothing taken in; the polls go on after UID 3" in capsys.readouterr().out
    assert not inbound(imap_mailbox).exists()
    imap_server.append(make_mail(message_id="<new@example.com>"))
    assert imap.poll_mailbox(imap_mailbox.pk).stored == 1
    assert ids(imap_mailbox) == ["new@example.com"]
    with pytest.raises(CommandError, match="--mailbox"):
        call_command("imap", "poll", "--from-now")


def test_a_mailbox_switched_off_after_its_poll_was_enqueued_is_not_polled(
    imap_mailbox, imap_server, make_mail
):
    imap_server.append(make_mail())
    imap_mailbox.imap_enabled = False
    imap_mailbox.save()
    assert imap.poll_mailbox(imap_mailbox.pk).disabled
    assert not inbound(imap_mailbox).exists()


def test_the_idle_command_refuses_a_held_mailbox_and_a_bad_interval(imap_mailbox, imap_server):
    with imap.mailbox_lease(imap_mailbox.pk), pytest.raises(CommandError, match="another poller"):
        call_command("imap", "idle", "--mailbox", imap_mailbox.address)
    with pytest.raises(CommandError, match="--interval"):
        call_command("imap", "idle", "--mailbox", imap_mailbox.address, "--interval", "0")
