"""The live-push bus: `publish(topic, event)` after commit, `subscription(topics)` in an SSE stream.

Two backends, chosen by RELAY_PUSH (docs/adr/0013-telephony-and-live-push.md):

* ``database`` (the embedded mode): `publish` inserts a `PushMessage`; each web process runs one poller
  (a single thread with its own connection) that reads the rows past its watermark for the topics its
  open streams listen to, every RELAY_PUSH_POLL_MS, and hands them to the streams. Works across any
  number of processes on one SQLite file or one PostgreSQL database.
* ``redis://...``: `publish` runs one Lua script (next id, a short per-topic history for resuming,
  PUBLISH); each stream holds a pub/sub subscription (redis.asyncio).

Delivery is at most once per open stream plus a resume window: a browser that reconnects with
`Last-Event-ID` gets what it missed in the last RELAY_PUSH_KEEP_MINUTES. Pops are ephemeral; the call
itself is on the timeline, durably, whatever happens here.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction

from relay.core import clock

REDIS_PREFIXES = ("redis://", "rediss://", "unix://")
# a row may commit a little after a row with a higher id (concurrent publishers on PostgreSQL): the
# poller re-reads this window behind its watermark and skips what it delivered already
_REORDER_WINDOW_S = 2.0


@dataclass(frozen=True)
class Message:
    id: int
    topic: str
    event: dict[str, Any]


def user_topic(user_id: int) -> str:
    return f"user:{user_id}"


def _spec() -> str:
    return str(getattr(settings, "RELAY_PUSH", "database") or "database")


def uses_redis() -> bool:
    return _spec().startswith(REDIS_PREFIXES)


def poll_interval() -> float:
    return int(getattr(settings, "RELAY_PUSH_POLL_MS", 150)) / 1000


def keep_minutes() -> int:
    return int(getattr(settings, "RELAY_PUSH_KEEP_MINUTES", 10))


# --- publishing ------------------------------------------------------------------------------------------


def publish(topic: str, event: dict[str, Any]) -> None:
    """Publish now (call it after commit: see `publish_on_commit`)."""
    publish_many([(topic, event)])


def publish_many(messages: Iterable[tuple[str, dict[str, Any]]]) -> None:
    items = list(messages)
    if not items:
        return
    if uses_redis():
        _redis_publish(items)
    else:
        from relay.channels.push.models import PushMessage

        PushMessage.objects.bulk_create([PushMessage(topic=t, event=e) for t, e in items])


def publish_on_commit(messages: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Publish once the current transaction commits (nothing if it rolls back)."""
    items = list(messages)
    if items:
        transaction.on_commit(lambda: publish_many(items))


def prune() -> int:
    """Forget database-backend messages older than the resume window (a periodic task)."""
    from relay.channels.push.models import PushMessage

    cutoff = clock.now() - timedelta(minutes=keep_minutes())
    deleted, _ = PushMessage.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- subscribing -----------------------------------------------------------------------------------------


class Subscription:
    """What an SSE stream reads: `await get(timeout)` gives the next message, or None on a timeout."""

    def __init__(self, topics: list[str]) -> None:
        self.topics = topics
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=1000)
        self.last_id = 0
        self._seen: deque[int] = deque(maxlen=1000)

    def offer(self, message: Message) -> None:
        if message.id not in self._seen:  # a resumed backlog and the live feed may overlap
            self._seen.append(message.id)
            self.last_id = max(self.last_id, message.id)
            with suppress(asyncio.QueueFull):  # a stalled reader loses pops, not the process's memory
                self.queue.put_nowait(message)

    async def get(self, timeout: float) -> Message | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


@asynccontextmanager
async def subscription(topics: Iterable[str], *, last_id: int | None = None) -> AsyncIterator[Subscription]:
    """Listen to `topics` (after `last_id` when resuming) for as long as the block runs."""
    sub = Subscription(sorted(set(topics)))
    if uses_redis():
        async with _redis_subscription(sub, last_id):
            yield sub
        return
    hub = _DatabaseHub.current()
    hub.add(sub)
    try:
        await hub.ready.wait()  # from here on nothing published is missed
        if last_id:
            for message in await hub.backlog(sub.topics, last_id):
                sub.offer(message)
        yield sub
    finally:
        hub.remove(sub)


# --- database backend ------------------------------------------------------------------------------------


def _read(topics: list[str], after: int, limit: int = 500) -> list[Message]:
    from relay.channels.push.models import PushMessage

    close_old_connections()  # a broken connection is replaced before it is used
    try:
        rows = list(
            PushMessage.objects.filter(id__gt=after, topic__in=topics)
            .order_by("id")
            .values_list("id", "topic", "event")[:limit]
        )
    finally:
        close_old_connections()  # PostgreSQL (CONN_MAX_AGE=0): the connection goes back to the pool
    return [Message(id=pk, topic=topic, event=event) for pk, topic, event in rows]


def _high_watermark() -> int:
    from relay.channels.push.models import PushMessage

    close_old_connections()
    return PushMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _close() -> None:
    connections.close_all()


class _DatabaseHub:
    """One poller per process and event loop, shared by every open stream of that process."""

    _hubs: dict[int, _DatabaseHub] = {}
    _lock = threading.Lock()

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.subs: set[Subscription] = set()
        self.task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        # one thread, so one database connection, for every poll of this process
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-push")

    @classmethod
    def current(cls) -> _DatabaseHub:
        loop = asyncio.get_running_loop()
        with cls._lock:
            hub = cls._hubs.get(id(loop))
            if hub is None or hub.loop is not loop:
                hub = cls._hubs[id(loop)] = cls(loop)
            return hub

    def add(self, sub: Subscription) -> None:
        self.subs.add(sub)
        if self.task is None or self.task.done():
            self.ready = asyncio.Event()
            self.task = self.loop.create_task(self._run())

    def remove(self, sub: Subscription) -> None:
        self.subs.discard(sub)

    async def backlog(self, topics: list[str], after: int) -> list[Message]:
        return await self.loop.run_in_executor(self.executor, _read, topics, after)

    async def _run(self) -> None:
        interval = poll_interval()
        delivered: set[int] = set()
        recent: deque[tuple[float, int]] = deque()
        try:
            while True:
                try:
                    floor = await self.loop.run_in_executor(self.executor, _high_watermark)
                    break
                except Exception:  # the database is away for a moment: the streams wait
                    if not self.subs:
                        return
                    await asyncio.sleep(interval)
            self.ready.set()
            while self.subs:
                topics = sorted({t for sub in self.subs for t in sub.topics})
                try:
                    rows = await self.loop.run_in_executor(self.executor, _read, topics, floor)
                except Exception:  # the database is away for a moment: try again at the next tick
                    rows = []
                now = time.monotonic()
                for message in rows:
                    if message.id in delivered:
                        continue
                    delivered.add(message.id)
                    recent.append((now, message.id))
                    for sub in list(self.subs):
                        if message.topic in sub.topics:
                            sub.offer(message)
                while recent and recent[0][0] < now - _REORDER_WINDOW_S:
                    _, pk = recent.popleft()
                    delivered.discard(pk)
                    floor = max(floor, pk)
                await asyncio.sleep(interval)
        finally:
            self.ready.set()
            await self.loop.run_in_executor(self.executor, _close)


# --- Redis backend ---------------------------------------------------------------------------------------

_PUBLISH_LUA = """
local id = redis.call('INCR', KEYS[1])
for i = 1, #ARGV, 2 do
  local topic = ARGV[i]
  local payload = id .. ' ' .. ARGV[i + 1]
  local log = KEYS[2] .. topic
  redis.call('ZADD', log, id, payload)
  redis.call('ZREMRANGEBYRANK', log, 0, -201)
  redis.call('EXPIRE', log, tonumber(KEYS[3]))
  redis.call('PUBLISH', KEYS[4] .. topic, payload)
  if i + 2 <= #ARGV then id = redis.call('INCR', KEYS[1]) end
end
return id
"""
_SEQ_KEY = "relay:push:seq"
_LOG_PREFIX = "relay:push:log:"
_CHANNEL_PREFIX = "relay:push:"
_redis_client: Any = None
_redis_lock = threading.Lock()


def _redis() -> Any:
    global _redis_client
    with _redis_lock:
        if _redis_client is None:
            import redis

            _redis_client = redis.Redis.from_url(_spec())
        return _redis_client


def _redis_publish(items: list[tuple[str, dict[str, Any]]]) -> None:
    args: list[str] = []
    for topic, event in items:
        args += [topic, json.dumps(event, separators=(",", ":"))]
    keys = [_SEQ_KEY, _LOG_PREFIX, str(keep_minutes() * 60), _CHANNEL_PREFIX]
    _redis().eval(_PUBLISH_LUA, len(keys), *keys, *args)


def _parse(topic: str, payload: bytes | str) -> Message:
    text = payload.decode() if isinstance(payload, bytes) else payload
    pk, _, body = text.partition(" ")
    return Message(id=int(pk), topic=topic, event=json.loads(body))


@asynccontextmanager
async def _redis_subscription(sub: Subscription, last_id: int | None) -> AsyncIterator[None]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(_spec())
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(*[_CHANNEL_PREFIX + t for t in sub.topics])
    if last_id:
        missed: list[Message] = []
        for topic in sub.topics:
            for payload in await client.zrangebyscore(_LOG_PREFIX + topic, f"({last_id}", "+inf"):
                missed.append(_parse(topic, payload))  # type: ignore[arg-type]
        for message in sorted(missed, key=lambda m: m.id):
            sub.offer(message)

    async def pump() -> None:
        async for raw in pubsub.listen():
            if raw.get("type") != "message":
                continue
            channel = raw["channel"].decode() if isinstance(raw["channel"], bytes) else raw["channel"]
            sub.offer(_parse(channel.removeprefix(_CHANNEL_PREFIX), bytes(raw["data"])))

    task = asyncio.create_task(pump())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError, Exception):  # the pump ends with its connection
            await task
        await pubsub.aclose()
        await client.aclose()
