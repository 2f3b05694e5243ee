"""`GET /push/stream`: the signed-in user's live events as Server-Sent Events (docs/adr/0013).

An async view: under ASGI an open stream costs a coroutine and a queue, not a worker. The browser's
EventSource reconnects by itself (after the `retry:` hint) and sends `Last-Event-ID`, from which the
bus replays what the tab missed. A stream ends after RELAY_PUSH_STREAM_SECONDS so that a signed-out or
deactivated user stops receiving at the next reconnect at the latest.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability
from relay.channels.push import bus

HEARTBEAT_SECONDS = 15
RETRY_MS = 2000


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )


def _last_event_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or ""
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def format_event(message: bus.Message) -> str:
    kind = str(message.event.get("type", "message")).replace("\n", "")
    data = json.dumps(message.event, separators=(",", ":"))
    return f"id: {message.id}\nevent: {kind}\ndata: {data}\n\n"


async def _events(topics: list[str], last_id: int | None, lifetime: float) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lifetime
    async with bus.subscription(topics, last_id=last_id) as sub:
        yield f"retry: {RETRY_MS}\n: connected\n\n"  # subscribed: nothing published from now on is missed
        while (left := deadline - loop.time()) > 0:
            message = await sub.get(timeout=min(HEARTBEAT_SECONDS, left))
            yield format_event(message) if message is not None else ": heartbeat\n\n"


@require_GET
async def stream(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    if not isinstance(request, ASGIRequest):
        # under a WSGI server (runserver, `relay serve --wsgi`, the tests' live server) a stream would
        # hold a worker for its whole life: 204 tells EventSource to stop reconnecting
        return HttpResponse(status=204)
    user = await request.auser()
    if not user.is_authenticated:
        return _problem(401, "Not signed in", "Sign in to receive live events.")
    if not has_capability(user, VIEW_CUSTOMERS):
        return _problem(403, "Not allowed", "Your account has no staff role.")
    # the stream holds no database connection (nor a pool slot) while it is open: the bus has its own
    await sync_to_async(connections.close_all)()
    lifetime = float(getattr(settings, "RELAY_PUSH_STREAM_SECONDS", 600))
    response = StreamingHttpResponse(
        _events([bus.user_topic(user.pk)], _last_event_id(request), lifetime),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response
