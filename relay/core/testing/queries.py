"""Query-count pins: an endpoint's number of queries must not grow with the number of rows it shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from relay.core import config_cache

# a PostgreSQL session prepares each of the screen pop's statements once (relay.core.prepared): a cost
# of the session's first use, not of the rows a call shows
_SESSION_STATEMENTS = ("PREPARE ", "DEALLOCATE ")


def count_queries(call: Callable[[], Any]) -> tuple[int, list[str], Any]:
    """Run `call()`; return the number of queries, their SQL and what it returned. The call counts as the
    first of its transaction (in production each request and job has its own; a test runs in one): it
    reads the configuration generation again (relay.core.config_cache)."""
    config_cache.forget_generation()
    with CaptureQueriesContext(connection) as captured:
        result = call()
    sql = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(_SESSION_STATEMENTS)]
    return len(sql), sql, result


def assert_flat_query_count(
    call: Callable[[], Any],
    add_rows: Callable[[int], Any],
    *,
    few: int = 3,
    many: int = 30,
    at_most: int,
) -> int:
    """`call()` with `few` rows and again with `many` rows costs the same number of queries, at most
    `at_most`. `add_rows(n)` adds n more rows of what the call shows. Returns the count."""
    add_rows(few)
    call()  # warm-up: first-use bookkeeping (a token's last_used_at) is not what is being pinned
    n_few, sql_few, _ = count_queries(call)
    add_rows(many - few)
    call()  # again: rows of configuration (categories, statuses) refill the configuration cache
    n_many, sql_many, _ = count_queries(call)
    assert n_many == n_few, f"{n_few} queries with {few} rows, {n_many} with {many}:\n" + "\n".join(sql_many)
    assert n_few <= at_most, f"{n_few} queries, pinned at {at_most}:\n" + "\n".join(sql_few)
    return n_few
