"""The live-push bus, both backends, and the SSE stream on top of it.

The database backend is exercised on whichever database the suite runs on (SQLite or PostgreSQL); the
Redis one against the local server (`-m redis`). A poller thread with its own connection must see the
rows, so these tests commit (transaction=True). Across OS processes: see test_processes.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from relay.channels.push import bus
from relay.channels.push.models import PushMessage
from relay.core import clock

pytestmark = pytest.mark.django_db(transaction=True)
REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request, settings):
    settings.RELAY_PUSH = "database" if request.param == "database" else REDIS_URL
    settings.RELAY_PUSH_POLL_MS = 50
    if request.param == "redis":
        import redis

        bus._redis_client = None
        redis.Redis.from_url(REDIS_URL).flushdb()
    yield request.param
    bus._redis_client = None


def _publish_many(items):
    """Publish from a worker thread, and give its connection back (the test owns the threads)."""
    try:
        bus.publish_many(items)
    finally:
        connections.close_all()


publish_many = sync_to_async(_publish_many, thread_sensitive=False)


async def publish(topic, event):
    await publish_many([(topic, event)])


async def _collect(sub: bus.Subscription, n: int, timeout: float = 5.0) -> list[bus.Message]:
    got: list[bus.Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        message = await sub.get(timeout=deadline - time.monotonic())
        if message is not None:
            got.append(message)
    return got


def test_a_subscriber_receives_what_is_published_on_its_topics_only(backend):
    async def scenario():
        async with bus.subscription(["user:1", "user:2"]) as sub:
            await asyncio.sleep(0.2)  # the subscription is live
            await publish_many(
                [
                    ("user:1", {"type": "call", "n": 1}),
                    ("user:3", {"type": "call", "n": 3}),
                    ("user:2", {"n": 2}),
                ]
            )
            got = await _collect(sub, 2)
            extra = await sub.get(timeout=0.5)
        return got, extra

    got, extra = asyncio.run(scenario())
    assert [(m.topic, m.event) for m in got] == [("user:1", {"type": "call", "n": 1}), ("user:2", {"n": 2})]
    assert got[0].id < got[1].id and extra is None


def test_a_reconnecting_subscriber_resumes_after_its_last_event_id(backend):
    async def scenario():
        async with bus.subscription(["user:7"]) as sub:
            await asyncio.sleep(0.2)
            await publish("user:7", {"n": 1})
            first = await _collect(sub, 1)
        await publish("user:7", {"n": 2})  # published while the tab was reconnecting
        await publish("user:7", {"n": 3})
        async with bus.subscription(["user:7"], last_id=first[0].id) as sub:
            return first, await _collect(sub, 2)

    first, resumed = asyncio.run(scenario())
    assert [m.event["n"] for m in first] == [1] and [m.event["n"] for m in resumed] == [2, 3]


def test_publish_on_commit_publishes_nothing_when_the_transaction_rolls_back(settings):
    from django.db import transaction

    settings.RELAY_PUSH = "database"
    with pytest.raises(RuntimeError), transaction.atomic():
        bus.publish_on_commit([("user:1", {"n": 1})])
        raise RuntimeError
    with transaction.atomic():
        bus.publish_on_commit([("user:1", {"n": 2})])
    assert list(PushMessage.objects.values_list("event", flat=True)) == [{"n": 2}]


def test_prune_forgets_messages_older_than_the_resume_window(settings):
    settings.RELAY_PUSH = "database"
    settings.RELAY_PUSH_KEEP_MINUTES = 10
    old = PushMessage.objects.create(topic="user:1", event={})
    PushMessage.objects.filter(pk=old.pk).update(created_at=clock.now() - timedelta(minutes=11))
    fresh = PushMessage.objects.create(topic="user:1", event={})
    assert bus.prune() == 1
    assert list(PushMessage.objects.values_list("pk", flat=True)) == [fresh.pk]


# --- the SSE endpoint ----------------------------------------------------------------------------------


def test_the_stream_needs_a_signed_in_staff_member(settings):
    async def scenario():
        return await AsyncClient().get("/push/stream")

    response = asyncio.run(scenario())
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"


def test_the_stream_sends_the_users_events_with_ids_and_a_retry_hint(agent, other_agent, backend, settings):
    settings.RELAY_PUSH_STREAM_SECONDS = 3

    async def scenario():
        client = AsyncClient()
        await client.aforce_login(agent)
        response = await client.get("/push/stream")
        chunks = aiter(response.streaming_content)
        first = await anext(chunks)
        await asyncio.sleep(0.3)
        await publish_many(
            [
                (bus.user_topic(other_agent.pk), {"type": "call", "secret": 1}),
                (bus.user_topic(agent.pk), {"type": "call", "call": 5}),
            ]
        )
        body = b""
        async for chunk in chunks:  # to the end of the stream's lifetime: it closes cleanly
            body += chunk
        await sync_to_async(connections.close_all)()  # the sign-in's thread gives its connection back
        return response, first, body

    response, first, body = asyncio.run(scenario())
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"].startswith("no-cache")
    assert first.startswith(b"retry: 2000\n")
    text = body.decode()
    events = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    assert events == [{"type": "call", "call": 5}] and "id: " in text and "event: call" in text


def test_the_stream_resumes_from_last_event_id(agent, settings):
    settings.RELAY_PUSH = "database"
    settings.RELAY_PUSH_STREAM_SECONDS = 2
    seen = PushMessage.objects.create(topic=bus.user_topic(agent.pk), event={"type": "call", "n": 1})
    PushMessage.objects.create(topic=bus.user_topic(agent.pk), event={"type": "call", "n": 2})

    async def scenario():
        client = AsyncClient()
        await client.aforce_login(agent)
        response = await client.get("/push/stream", headers={"Last-Event-ID": str(seen.pk)})
        body = b""
        async for chunk in response.streaming_content:
            body += chunk
        await sync_to_async(connections.close_all)()
        return body.decode()

    text = asyncio.run(scenario())
    events = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    assert [e["n"] for e in events] == [2]


def test_under_wsgi_the_stream_tells_the_browser_not_to_reconnect(agent):
    from django.test import Client

    client = Client()  # WSGI: a stream would hold the worker (and the serial live server of the tests)
    client.force_login(agent)
    assert client.get("/push/stream").status_code == 204
