"""Configuration every case reads (routing rules, default statuses, SLA policies, templates), kept per
process while the database's configuration generation is unchanged (docs/adr/0018-config-cache.md).

A write to a watched model (`watch`) stores a new random token in the one `ConfigGeneration` row, in the
writer's transaction; a read compares the token it cached the value under with the database's (one
primary-key read instead of the ORM query and the model instances it replaces). Random tokens, not
counters: a rolled-back write takes its token back with it, and a later write never reuses it, so no
process can match a value read under a token that did not last. Cached model instances are shared:
callers hand out copies (`copy.copy`) where a caller could change them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.db import connections, models, router
from django.db.models.signals import m2m_changed, post_delete, post_save

from relay.core.models import ConfigGeneration

_values: dict[str, tuple[str, Any]] = {}


def _connection() -> Any:
    return connections[router.db_for_read(ConfigGeneration)]


class _Generation:
    """The token a transaction read or wrote, kept as a no-op on-commit callback: Django drops it when the
    transaction ends, and with the savepoint it was registered in when that is rolled back."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self) -> None:
        pass


def token() -> str | None:
    """The current generation (None when its row is missing: nothing is cached then). One primary-key
    read, hand-written: a fraction of the ORM query it saves; in a transaction, once (a service reads
    several cached values in one operation), as if all of them had been read at its first."""
    connection = _connection()
    if connection.in_atomic_block:
        for _, func, _ in reversed(connection.run_on_commit):
            if isinstance(func, _Generation):
                return func.token
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {ConfigGeneration._meta.db_table} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    if row:
        _remember(connection, row[0])
    return row[0] if row else None


def _remember(connection: Any, generation: str) -> None:
    if connection.in_atomic_block:
        connection.on_commit(_Generation(generation))


def cached[T](key: str, load: Callable[[], T]) -> T:
    """`load()`'s value, read again only when the configuration changed since it was cached."""
    current = token()
    hit = _values.get(key)
    if current is not None and hit is not None and hit[0] == current:
        return hit[1]
    value = load()
    if current is not None:
        _values[key] = (current, value)
    return value


def bump(**_: Any) -> None:
    """The configuration changed (in the current transaction): a new generation."""
    new = secrets.token_hex(8)
    table = ConfigGeneration._meta.db_table
    connection = _connection()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, token) VALUES (1, %s) ON CONFLICT (id) DO UPDATE SET token = %s",  # noqa: S608
            [new, new],
        )
    _remember(connection, new)


def forget_generation() -> None:
    """Tests (query-count pins): the next read in this transaction asks the database again, as the first
    read of a new transaction does."""
    connection = _connection()
    connection.run_on_commit = [
        entry for entry in connection.run_on_commit if not isinstance(entry[1], _Generation)
    ]


def clear() -> None:
    """Forget every cached value (tests; a cached value is otherwise only ever replaced)."""
    _values.clear()


def watch(*models_: type[models.Model]) -> None:
    """Every save and delete of these models, and changes of their many-to-many fields, bump the
    generation. Bulk writes that send no signals (`update`, `bulk_create`) must call `bump` themselves."""
    for model in models_:
        post_save.connect(bump, sender=model, dispatch_uid=f"config-cache-save-{model._meta.label}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"config-cache-delete-{model._meta.label}")
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                bump,
                sender=field.remote_field.through,
                dispatch_uid=f"config-cache-m2m-{model._meta.label}-{field.name}",
            )
