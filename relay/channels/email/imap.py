"""The IMAP poller: mail that waits in a mailbox's IMAP folder becomes Relay messages (ADR 0012).

For each mailbox with `imap_enabled`: connect (ssl, starttls or none), select the folder read-only, check
UIDVALIDITY, fetch the messages with a UID above `imap_last_uid` in batches (BODY.PEEK[]: nothing is
marked read or moved on the server), hand each to `message_receive(via="imap")` and only then advance
`imap_last_uid` to its UID. A crash between storing and advancing re-fetches that message on the next
poll, and the idempotency by (mailbox, Message-ID) makes it one interaction. A changed UIDVALIDITY means
the server renumbered the folder: the bookkeeping starts again from UID 0 and the folder is re-read, the
same idempotency making that safe. Every poll records `imap_checked_at` and `imap_error` (empty when it
went well); a failing server never stops the other mailboxes.

One poller per mailbox at a time, across processes and machines (`mailbox_lease`): on PostgreSQL a
transaction-scoped advisory lock held by a separate connection for the whole poll (released by the
server if the process dies), on SQLite (one machine by definition) an flock on a file under VAR_DIR
(released by the kernel if the process dies). A poller that finds the mailbox taken skips it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from imapclient import IMAPClient

from relay.core import clock

if TYPE_CHECKING:
    from relay.channels.email.models import Mailbox

logger = logging.getLogger(__name__)

TIMEOUT = 30.0  # seconds for connecting and for each command
BATCH_MESSAGES = 50  # messages fetched per FETCH command
BATCH_BYTES = 32 * 1024 * 1024  # ... and at most about this many bytes of them
IDLE_RENEW = 25 * 60.0  # RFC 2177: re-issue IDLE before the server's 30-minute inactivity timer


class MailboxBusy(Exception):
    """Another poller holds this mailbox."""


@dataclass
class PollResult:
    address: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    last_uid: int = 0
    uidvalidity_changed: bool = False
    skipped: bool = False  # another poller held the mailbox
    disabled: bool = False  # IMAP (or the mailbox) is switched off
    error: str = ""
    outcomes: list[str] = field(default_factory=list, repr=False)

    def as_text(self) -> str:
        if self.disabled:
            return f"{self.address}: not polled, IMAP or the mailbox is switched off"
        if self.skipped:
            return f"{self.address}: skipped, another poller holds it"
        if self.error:
            return f"{self.address}: failed after {self.fetched} message(s): {self.error}"
        reset = " (UIDVALIDITY changed: folder re-read)" if self.uidvalidity_changed else ""
        return (
            f"{self.address}: {self.fetched} fetched, {self.stored} stored, {self.duplicates} duplicate(s), "
            f"{self.quarantined} quarantined; last UID {self.last_uid}{reset}"
        )


# --- one poller per mailbox ----------------------------------------------------------------------------


@contextlib.contextmanager
def mailbox_lease(mailbox_id: int) -> Iterator[bool]:
    """Yields True when this process now holds the mailbox's poller lease, False when another does."""
    if connection.vendor == "postgresql":
        with _advisory_lease(mailbox_id) as held:
            yield held
    else:
        with _file_lease(mailbox_id) as held:
            yield held


@contextlib.contextmanager
def _advisory_lease(mailbox_id: int) -> Iterator[bool]:
    # A connection of its own, so that the lock outlives this thread's transactions (each stored message
    # commits on its own) and ends with the side transaction, or with the session if the process dies.
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        side.set_autocommit(False)
        with side.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [f"relay.imap:{mailbox_id}"]
            )
            held = bool(cursor.fetchone()[0])
        yield held
    finally:
        with contextlib.suppress(Exception):
            side.rollback()
        side.close()


_lock_dir_lock = threading.Lock()
_memory_leases: dict[int, threading.Lock] = {}


def _lock_path(mailbox_id: int) -> str:
    name = str(connection.settings_dict["NAME"])
    key = hashlib.sha256(name.encode()).hexdigest()[:16]
    folder = settings.VAR_DIR / "locks"
    with _lock_dir_lock:
        folder.mkdir(parents=True, exist_ok=True)
    return str(folder / f"imap-{key}-{mailbox_id}.lock")


@contextlib.contextmanager
def _file_lease(mailbox_id: int) -> Iterator[bool]:
    if connection.is_in_memory_db():  # type: ignore[attr-defined]
        # an in-memory database (the tests') lives in one process: a lock of this process will do
        with _lock_dir_lock:
            lock = _memory_leases.setdefault(mailbox_id, threading.Lock())
        if not lock.acquire(blocking=False):
            yield False
            return
        try:
            yield True
        finally:
            lock.release()
        return
    fd = os.open(_lock_path(mailbox_id), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # per open file: threads exclude each other too
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# --- the IMAP side -------------------------------------------------------------------------------------


def connect(mailbox: Mailbox, *, timeout: float = TIMEOUT) -> IMAPClient:
    """A logged-in client for the mailbox's server (its folder not yet selected)."""
    security = (mailbox.imap_security or "ssl").lower()
    context = ssl.create_default_context()
    client = IMAPClient(
        mailbox.imap_host,
        port=mailbox.imap_port or (993 if security == "ssl" else 143),
        ssl=security == "ssl",
        ssl_context=context if security == "ssl" else None,
        timeout=timeout,
    )
    try:
        if security == "starttls":
            client.starttls(context)
        client.login(mailbox.imap_username, mailbox.imap_password)
    except BaseException:
        with contextlib.suppress(Exception):
            client.shutdown()
        raise
    return client


def _batches(sizes: dict[int, int], limit: int) -> Iterator[list[int]]:
    batch: list[int] = []
    total = 0
    for uid in sorted(sizes):
        size = min(sizes[uid], limit + 1)
        if batch and (len(batch) >= BATCH_MESSAGES or total + size > BATCH_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def _advance(mailbox_id: int, uidvalidity: int, uid: int) -> None:
    """Bookkeeping after a message is stored: the poll goes on after `uid`."""
    from relay.channels.email.models import Mailbox

    Mailbox.objects.filter(pk=mailbox_id).update(imap_uidvalidity=uidvalidity, imap_last_uid=uid)


def _body(item: dict[bytes, Any]) -> bytes | None:
    for key, value in item.items():
        if key.startswith(b"BODY[") and isinstance(value, bytes):
            return value
    return item.get(b"RFC822")


class FolderSession:
    """An open connection with the mailbox's folder selected: `sync()` takes in what is new, `wait()`
    blocks until the server reports a change (IDLE) or the interval passes (servers without IDLE)."""

    def __init__(self, mailbox: Mailbox, client: IMAPClient) -> None:
        self.mailbox = mailbox
        self.client = client
        self.folder = mailbox.imap_folder or "INBOX"

    @property
    def can_idle(self) -> bool:
        return bool(self.client.has_capability("IDLE"))

    def sync(self) -> PollResult:
        from relay.channels.email.models import Mailbox
        from relay.channels.email.services import message_receive

        mailbox = Mailbox.objects.get(pk=self.mailbox.pk)  # the bookkeeping as committed
        self.mailbox = mailbox
        result = PollResult(address=mailbox.address, last_uid=mailbox.imap_last_uid)
        info = self.client.select_folder(self.folder, readonly=True)
        uidvalidity = int(info[b"UIDVALIDITY"])
        last = mailbox.imap_last_uid or 0
        if mailbox.imap_uidvalidity is not None and mailbox.imap_uidvalidity != uidvalidity:
            logger.warning(
                "imap: %s: UIDVALIDITY %s -> %s, re-reading the folder",
                mailbox.address,
                mailbox.imap_uidvalidity,
                uidvalidity,
            )
            result.uidvalidity_changed = True
            last = 0
            _advance(mailbox.pk, uidvalidity, 0)
        elif mailbox.imap_uidvalidity is None:
            _advance(mailbox.pk, uidvalidity, last)
        result.last_uid = last
        # "N:*" always matches the highest UID, even one below N: keep only the new ones
        uids = [uid for uid in self.client.search(["UID", f"{last + 1}:*"]) if uid > last]
        if not uids:
            return result
        limit = int(getattr(settings, "RELAY_EMAIL_MAX_BYTES", 25 * 1024 * 1024))
        sizes = {
            uid: int(item.get(b"RFC822.SIZE", 0))
            for uid, item in self.client.fetch(uids, ["RFC822.SIZE"]).items()
            if uid > last
        }
        for batch in _batches(sizes, limit):
            whole = [uid for uid in batch if sizes[uid] <= limit]
            # a message above the limit: only its first limit+1 bytes, which message_receive quarantines
            # as too large, instead of holding it all in memory
            items = dict(self.client.fetch(whole, ["BODY.PEEK[]"])) if whole else {}
            oversize = [uid for uid in batch if sizes[uid] > limit]
            if oversize:
                items.update(self.client.fetch(oversize, [f"BODY.PEEK[]<0.{limit + 1}>"]))
            for uid in batch:
                raw = _body(items[uid]) if uid in items else None
                if raw is not None:  # None: expunged meanwhile, nothing to take in
                    receipt = message_receive(mailbox=mailbox, raw=raw, via="imap")
                    result.fetched += 1
                    outcome = str(receipt.outcome)
                    result.outcomes.append(outcome)
                    if outcome == "stored":
                        result.stored += 1
                    elif outcome == "duplicate":
                        result.duplicates += 1
                    else:
                        result.quarantined += 1
                _advance(mailbox.pk, uidvalidity, uid)
                result.last_uid = uid
        return result

    def wait(self, *, timeout: float, stop: threading.Event) -> bool:
        """Until the server announces a change (True), `timeout` passes or `stop` is set (False)."""
        if not self.can_idle:
            stop.wait(timeout)
            return False
        deadline = time.monotonic() + min(timeout, IDLE_RENEW)
        self.client.idle()
        quick = 0
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                began = time.monotonic()
                responses = self.client.idle_check(timeout=1)
                if any(r and r[0] == b"BYE" for r in responses):
                    raise ConnectionError(f"the IMAP server ended the session: {responses}")
                if any(len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    return True
                # a closed connection reads as "readable, nothing": do not spin on it
                quick = quick + 1 if not responses and time.monotonic() - began < 0.5 else 0
                if quick >= 3:
                    raise ConnectionError("the IMAP server closed the connection")
            return False
        finally:
            self.client.idle_done()

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:
            with contextlib.suppress(Exception):
                self.client.shutdown()


@contextlib.contextmanager
def folder_session(mailbox: Mailbox) -> Iterator[FolderSession]:
    session = FolderSession(mailbox, connect(mailbox))
    try:
        yield session
    finally:
        session.close()


# --- polls ---------------------------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"[:1000]


def _record(mailbox_id: int, *, error: str) -> None:
    from relay.channels.email.models import Mailbox

    Mailbox.objects.filter(pk=mailbox_id).update(imap_checked_at=clock.now(), imap_error=error)


def _failed(mailbox: Mailbox, exc: BaseException) -> str:
    """Record a failed poll on the mailbox (its `imap_error`) and in the log; the error text."""
    error = _describe(exc)
    if isinstance(exc, OSError | IMAPClient.Error):  # the server or the network: expected, no traceback
        logger.warning("imap: polling %s failed: %s", mailbox.address, error)
    else:
        logger.exception("imap: polling %s failed", mailbox.address)
    _record(mailbox.pk, error=error)
    return error


def poll_mailbox(mailbox_id: int) -> PollResult:
    """Take in what is new in one mailbox's folder. Never raises for the server's faults: they are in
    the result and in `imap_error`."""
    from relay.channels.email.models import Mailbox

    mailbox = Mailbox.objects.get(pk=mailbox_id)
    if not (mailbox.imap_enabled and mailbox.is_active):  # switched off since the poll was enqueued
        return PollResult(address=mailbox.address, disabled=True, last_uid=mailbox.imap_last_uid)
    with mailbox_lease(mailbox_id) as held:
        if not held:
            return PollResult(address=mailbox.address, skipped=True)
        try:
            with folder_session(mailbox) as session:
                result = session.sync()
        except Exception as exc:
            error = _failed(mailbox, exc)
            mailbox.refresh_from_db(fields=["imap_last_uid"])
            return PollResult(address=mailbox.address, error=error, last_uid=mailbox.imap_last_uid)
        _record(mailbox_id, error="")
        return result


def start_from_now(mailbox_id: int) -> PollResult:
    """Record the folder's current UIDVALIDITY and highest UID without taking anything in: the polls
    then take in only mail that arrives from now on (for a folder with years of history). Raises for the
    server's faults, and MailboxBusy when another poller holds the mailbox."""
    from relay.channels.email.models import Mailbox

    mailbox = Mailbox.objects.get(pk=mailbox_id)
    with mailbox_lease(mailbox_id) as held:
        if not held:
            raise MailboxBusy(mailbox.address)
        with folder_session(mailbox) as session:
            info = session.client.select_folder(session.folder, readonly=True)
            uids = session.client.search(["ALL"])
            last = max(uids, default=0)
            _advance(mailbox.pk, int(info[b"UIDVALIDITY"]), last)
    _record(mailbox_id, error="")
    return PollResult(address=mailbox.address, last_uid=last)


def pollable_mailboxes() -> Iterable[Mailbox]:
    from relay.channels.email.models import Mailbox

    return Mailbox.objects.filter(imap_enabled=True, is_active=True).order_by("pk")


def poll_all() -> list[PollResult]:
    """Poll every IMAP-enabled active mailbox in turn (the periodic task enqueues one poll per mailbox
    instead, so that a slow server holds only its own)."""
    return [poll_mailbox(mailbox.pk) for mailbox in pollable_mailboxes()]


def idle(
    mailbox_id: int,
    *,
    stop: threading.Event,
    interval: float = 60.0,
    retry: float = 30.0,
    on_sync: Callable[[PollResult], None] | None = None,
) -> None:
    """Keep one mailbox up to date until `stop` is set: sync, then IDLE until the server reports new
    mail (or, on a server without IDLE, wait `interval` seconds), and again. Holds the mailbox's lease the
    whole time (the periodic polls skip it); reconnects `retry` seconds after a failure. Raises
    MailboxBusy when another poller holds the mailbox."""
    from relay.channels.email.models import Mailbox

    mailbox = Mailbox.objects.get(pk=mailbox_id)
    with mailbox_lease(mailbox_id) as held:
        if not held:
            raise MailboxBusy(mailbox.address)
        while not stop.is_set():
            try:
                with folder_session(mailbox) as session:
                    while not stop.is_set():
                        result = session.sync()
                        _record(mailbox_id, error="")
                        if on_sync is not None:
                            on_sync(result)
                        session.wait(timeout=interval if not session.can_idle else IDLE_RENEW, stop=stop)
            except Exception as exc:
                error = _failed(mailbox, exc)
                logger.info("imap: %s: reconnecting in %.0f s", mailbox.address, retry)
                if on_sync is not None:
                    on_sync(PollResult(address=mailbox.address, error=error))
                stop.wait(retry)
