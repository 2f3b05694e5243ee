"""The ASGI entry point, served by `relay serve` (gunicorn + uvicorn_worker.UvicornWorker). docs/adr/0013.

Two handlers behind one router:

* the async views (the live-push stream under /push/) go to Django's ASGI handler and run on the event
  loop: an open stream costs a coroutine, not a worker;
* every other request is a plain sync view: it goes to Django's WSGI handler, run on a small fixed
  pool of sync threads (RELAY_SYNC_THREADS, 2) as a threaded gunicorn worker runs it (the same
  middleware, WhiteNoise for static files, the SQLite connection each thread keeps, psycopg's pool
  handing out one per request), and its response is streamed back through the event loop.

Why not Django's ASGI handler for everything: it gives every request a thread of its own
(ThreadSensitiveContext), so on SQLite every request opens a new connection (its pragmas included) and
pays two thread hops: /healthz fell from 3,100 to 260 requests/s on one process (bench/asgi_wsgi.sh).
asgiref's WsgiToAsgi failed under concurrent load ("CurrentThreadExecutor already quit or is broken").

Sync responses carry `Connection: close` (RELAY_SYNC_CLOSE=0 turns it off): an Uvicorn worker accepts
connections whether or not its sync threads are busy, and kept-alive connections stay with the worker
that accepted them, so a few busy clients could pile onto one process while another idled (wrk on the
360 page: 44 instead of 90 requests/s on some runs). Gunicorn's sync workers close every connection
too; a reverse proxy keeps its own keep-alive with browsers either way.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from tempfile import SpooledTemporaryFile
from typing import Any

from asgiref.wsgi import WsgiToAsgiInstance
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")
ASYNC_PREFIXES = ("/push/",)


class SyncThreadWsgi:
    """A WSGI application served from an ASGI server on a fixed pool of threads."""

    def __init__(self, app: Any, threads: int = 1, close_connections: bool = False) -> None:
        self.app = app
        self.close_connections = close_connections
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="relay-sync")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (closed below)
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body.write(message.get("body", b""))
                if not message.get("more_body"):
                    break
            body.seek(0)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self.executor, self._run, scope, body, send, loop)
        finally:
            body.close()

    def _run(self, scope: dict[str, Any], body: Any, send: Any, loop: asyncio.AbstractEventLoop) -> None:
        builder = WsgiToAsgiInstance(self.app)
        builder.scope = scope
        environ = builder.build_environ(scope, body)
        state: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            state["status"] = int(status.split(" ", 1)[0])
            state["headers"] = [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers]
            if self.close_connections:
                state["headers"].append((b"connection", b"close"))
            return lambda data: None

        def emit(message: dict[str, Any]) -> None:
            asyncio.run_coroutine_threadsafe(send(message), loop).result()

        result = self.app(environ, start_response)
        started = False
        try:
            for chunk in result:
                if not started:
                    emit(
                        {
                            "type": "http.response.start",
                            "status": state["status"],
                            "headers": state["headers"],
                        }
                    )
                    started = True
                if chunk:
                    emit({"type": "http.response.body", "body": chunk, "more_body": True})
            if not started:
                emit({"type": "http.response.start", "status": state["status"], "headers": state["headers"]})
            emit({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


django_asgi = get_asgi_application()
django_wsgi = SyncThreadWsgi(
    get_wsgi_application(),
    threads=int(os.environ.get("RELAY_SYNC_THREADS", "2")),
    close_connections=os.environ.get("RELAY_SYNC_CLOSE", "1") == "1",
)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and not scope["path"].startswith(ASYNC_PREFIXES):
        await django_wsgi(scope, receive, send)
    else:
        await django_asgi(scope, receive, send)
