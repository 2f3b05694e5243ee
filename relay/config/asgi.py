"""The ASGI entry point, served by `relay serve` (gunicorn + uvicorn_worker.UvicornWorker). docs/adr/0013.

Two handlers behind one router:

* the async views (the live-push stream under /push/) go to Django's ASGI handler and run on the event
  loop: an open stream costs a coroutine, not a worker;
* every other request is a plain sync view: it goes to the WSGI application (relay.core.handlers: Django's
  WSGI handler, a shorter middleware stack for bearer-token API calls), run by a2wsgi on a
  small fixed pool of sync threads (RELAY_SYNC_THREADS, 2) as a threaded gunicorn worker runs it (the
  same middleware, WhiteNoise for static files, the SQLite connection each thread keeps, psycopg's pool
  handing out one per request), and its response is streamed back through the event loop.

Why not Django's ASGI handler for everything: it gives every request a thread of its own
(ThreadSensitiveContext), so on SQLite every request opens a new connection (its pragmas included) and
pays two thread hops: /healthz fell from 3,100 to 260 requests/s on one process (bench/asgi_wsgi.sh).
asgiref's WsgiToAsgi failed under concurrent load ("CurrentThreadExecutor already quit or is broken");
a2wsgi's WSGIMiddleware is made for exactly this (a fixed thread pool, the body streamed both ways).

Sync responses carry `Connection: close` (RELAY_SYNC_CLOSE=0 turns it off): an Uvicorn worker accepts
connections whether or not its sync threads are busy, and kept-alive connections stay with the worker
that accepted them, so a few busy clients could pile onto one process while another idled (wrk on the
360 page: 44 instead of 90 requests/s on some runs). Gunicorn's sync workers close every connection
too; a reverse proxy keeps its own keep-alive with browsers either way.
"""

from __future__ import annotations

import os
from typing import Any

from a2wsgi import WSGIMiddleware
from django.core.asgi import get_asgi_application

from relay.core.handlers import RelayApplication

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")
django_asgi = get_asgi_application()
ASYNC_PREFIXES = ("/push/",)

_wsgi_app: Any = RelayApplication()
django_wsgi: Any = WSGIMiddleware(_wsgi_app, workers=int(os.environ.get("RELAY_SYNC_THREADS", "2")))
CLOSE_CONNECTIONS = os.environ.get("RELAY_SYNC_CLOSE", "1") == "1"


async def _sync(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if not CLOSE_CONNECTIONS:
        await django_wsgi(scope, receive, send)
        return

    async def closing(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
        await send(message)

    await django_wsgi(scope, receive, closing)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and not scope["path"].startswith(ASYNC_PREFIXES):
        await _sync(scope, receive, send)
    else:
        await django_asgi(scope, receive, send)
