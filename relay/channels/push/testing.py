"""Real Relay web processes for end-to-end tests and benchmarks of the live push.

pytest-django's live server is WSGI (and serial on SQLite): it cannot hold an SSE stream open while it
answers other requests. These helpers start real ASGI servers (uvicorn subprocesses) on the test's
database instead: on PostgreSQL the test database itself (the test must commit: transaction=True);
on SQLite, whose test database lives in memory, a file copy of it made with SQLite's backup API once
the test has written what the servers need (so the servers' writes are not seen by the test's ORM).
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url_for_servers(directory: Path) -> str:
    """A DATABASE_URL for server processes that see what the test committed (see the module doc)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        path = directory / "relay-e2e.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        return f"sqlite:///{path}"
    s = connection.settings_dict
    auth = quote(s["USER"] or "") + (":" + quote(s["PASSWORD"]) if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]


@contextmanager
def relay_server(*, database_url: str, var_dir: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RELAY_VAR_DIR": str(var_dir),
        "RELAY_DB_POOL_MIN": "1",
        "RELAY_PUSH": str(getattr(settings, "RELAY_PUSH", "database")),
        "RELAY_PHONE_WEBHOOK_SECRET": str(settings.RELAY_PHONE_WEBHOOK_SECRET),
        "RELAY_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(var_dir / f"server-{port}.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(  # noqa: S603
        [
            *(sys.executable, "-m", "uvicorn", "relay.config.asgi:application", "--host", "127.0.0.1"),
            *("--port", str(port), "--log-level", "warning", "--no-access-log"),
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(url=f"http://127.0.0.1:{port}", process=process)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError((var_dir / f"server-{port}.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(server.url + "/healthz", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def relay_servers(n: int, **kwargs: Any) -> Iterator[list[Server]]:
    with ExitStack() as stack:
        yield [stack.enter_context(relay_server(**kwargs)) for _ in range(n)]


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get(url: str, *, cookie: str = "", timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class SseClient:
    """A minimal EventSource: reads `url` in a thread; `next_event()` gives (id, event, data) tuples."""

    def __init__(self, url: str, *, cookie: str = "", last_event_id: str = "") -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        headers = {"Accept": "text/event-stream", "Cookie": cookie}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.connection.request("GET", parts.path, headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.events: queue.Queue[tuple[str, str, dict[str, Any]]] = queue.Queue()
        self.connected = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            while line := self.response.readline():
                text = line.decode().rstrip("\r\n")
                if text.startswith(": connected"):
                    self.connected.set()
                if text == "":
                    if "data" in fields:
                        self.events.put(
                            (fields.get("id", ""), fields.get("event", "message"), json.loads(fields["data"]))
                        )
                    fields = {}
                elif not text.startswith(":") and ":" in text:
                    key, _, value = text.partition(":")
                    fields[key] = value.removeprefix(" ")
        except (OSError, ValueError, AttributeError):  # closed under the reader: the stream is over
            pass

    def next_event(self, timeout: float = 5) -> tuple[str, str, dict[str, Any]]:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        with suppress(OSError):
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()
