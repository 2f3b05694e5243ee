"""Querysets compiled to SQL once, then run with each call's values (the screen pop's reads, ADR 0020).

Compiling a queryset (`SQLCompiler.as_sql`, with the filters and scopes built before it) took 40 % of
the screen pop's CPU, more than the database took to run the card's statements. `Prepared` builds its
queryset once per database connection and key, from stand-in values of the parameters it substitutes,
compiles it, and finds where the stand-ins sit among the SQL's parameters. A call puts its own values
there and runs the same SQL through the queryset's own iterable, so it returns what the queryset would
have returned: model instances with their `select_related` objects and annotations, `values()` dicts
or `values_list()` tuples, converted as the ORM converts them.

The key is the caller's promise: together with the substituted values it decides the SQL. A row scope
that depends on the user (`restrict`) is part of the query, so the key carries what the scope reads of
the user (the permission modules' `*_scope_key` functions); a test of each prepared read compiles the
queryset for users of every role and department and checks that users with one key get one SQL.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

PLANS_PER_CONNECTION = 512  # past this a connection's plans are dropped and made again as needed
_LIST_TYPES = (list, tuple, set, frozenset)


class _Plan:
    __slots__ = (
        "call_params",
        "call_sql",
        "fields",
        "iterable",
        "model",
        "params",
        "positions",
        "query",
        "queryset_class",
        "statement",
    )

    def __init__(self, queryset: Any, compiler: Any, sql: str, params: tuple[Any, ...], positions: Any):
        self.model = queryset.model
        self.queryset_class = queryset.__class__
        self.iterable = queryset._iterable_class
        self.fields = queryset._fields
        self.query = queryset.query
        self.params = list(params)  # as compiled, stand-ins included
        self.positions = positions  # (parameter, value's index, index in a list value or None, adapter)
        # the SQL's parameters of the call under way; the compiler, kept with the query, returns them
        # with its SQL instead of compiling again, and has the column plan the iterable needs
        self.call_params: list[Any] = []
        self.call_sql = sql
        self.statement: tuple[str, str] | None = None  # PostgreSQL: (name, PREPARE statement)
        compiler.as_sql = lambda *args, **kwargs: (self.call_sql, self.call_params)
        self.query.get_compiler = lambda *args, **kwargs: compiler
        if compiler.connection.vendor == "postgresql" and settings.RELAY_DB_SERVER_STATEMENTS:
            self._server_side(compiler.connection, sql)

    def _server_side(self, connection: Any, sql: str) -> None:
        """Planned once per session: PREPARE with the constant parameters inlined as the client-side
        binding would send them and $n for the substituted ones, then EXECUTE with those. PostgreSQL's
        planning was 2.6 of the card's 3.3 ms of server time."""
        params = list(self.params)
        markers = [f"relaystandin{n}x{secrets.token_hex(6)}" for n in range(len(self.positions))]
        for marker, (position, *_) in zip(markers, self.positions, strict=True):
            params[position] = marker
        text = connection.ops.compose_sql(sql, params)
        for n, marker in enumerate(markers, start=1):
            if text.count(f"'{marker}'") != 1:
                return  # not found as a plain literal: keep to client-side binding
            text = text.replace(f"'{marker}'", f"${n}")
        name, prepare, self.call_sql = _statement(text, len(markers))
        self.statement = (name, prepare)


class Prepared:
    """`build(**values)` (a queryset) compiled once per connection and key; `fetch(**values)` runs it.

    The values named in `params` are substituted (ints, dates, datetimes, strings, or lists of them,
    whose length becomes part of the key); one not given is not passed to `build`, and which were given
    is part of the key too. The others are passed to `build` as they are, and
    `key(**others)` must return everything of them that the SQL depends on (default: the values
    themselves, which must then be hashable)."""

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        params: tuple[str, ...],
        key: Callable[..., Hashable] | None = None,
        using: str = "default",
    ):
        self.build = build
        self.names = params
        self.key = key
        self.using = using

    def key_of(self, values: dict[str, Any]) -> Hashable:
        fixed = {name: value for name, value in values.items() if name not in self.names}
        return self.key(**fixed) if self.key else tuple(sorted(fixed.items()))

    def fetch(self, **values: Any) -> list[Any]:
        connection = connections[self.using]
        key = self.key_of(values)
        given = tuple(name for name in self.names if name in values)  # one not given is not passed
        substituted = [_listed(values[name]) for name in given]
        shape = (given, tuple(len(v) if isinstance(v, list) else -1 for v in substituted))
        plans = connection.__dict__.setdefault("relay_prepared", {})
        plan = plans.get((self, key, shape))
        if plan is None:
            if len(plans) >= PLANS_PER_CONNECTION:
                plans.clear()
            plan = plans[(self, key, shape)] = self._plan(connection, values, given, substituted)
        if plan is False:
            return []  # the queryset is empty whatever the values (a scope that shows nothing)
        params = plan.call_params
        if plan.statement is None:
            params[:] = plan.params
            for position, index, item, adapt in plan.positions:
                value = substituted[index] if item is None else substituted[index][item]
                params[position] = adapt(value) if adapt else value
        else:
            params[:] = [
                substituted[i] if item is None else substituted[i][item] for _, i, item, _ in plan.positions
            ]
            _ensure_statement(connection, *plan.statement)
        queryset = plan.queryset_class(model=plan.model, query=plan.query, using=self.using)
        queryset._iterable_class, queryset._fields = plan.iterable, plan.fields
        return list(plan.iterable(queryset))

    def _plan(
        self, connection: Any, values: dict[str, Any], given: tuple[str, ...], substituted: list[Any]
    ) -> _Plan | bool:
        stand_ins = [_stand_in(v, i) for i, v in enumerate(substituted)]
        queryset: Any = self.build(**{**values, **dict(zip(given, stand_ins, strict=True))})
        if queryset._prefetch_related_lookups or queryset.db != self.using:
            raise ValueError("A prepared queryset reads one database and prefetches nothing.")
        if queryset.query.is_empty():
            return False
        compiler = queryset.query.get_compiler(using=self.using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return False
        forms = _forms(connection, stand_ins)
        positions = []
        for position, param in enumerate(params):
            try:
                found = forms.get((type(param), param))
            except TypeError:  # unhashable: not a stand-in
                continue
            if found is not None:
                positions.append((position, *found))
        expected = sum(len(s) if isinstance(s, list) else 1 for s in stand_ins)
        if len({(index, item) for _, index, item, _ in positions}) != expected:
            raise ValueError(f"Not every parameter of {given} is a parameter of the SQL: {sql}")
        return _Plan(queryset, compiler, sql, params, positions)


STATEMENTS_PER_SESSION = 2000  # past this a session's statements are deallocated and prepared again


def _ensure_statement(connection: Any, name: str, prepare: str) -> None:
    """The statement exists in the session of the connection in use (pooled sessions outlive Django's
    connections; a new session has none). PREPARE outlasts a rollback."""
    connection.ensure_connection()
    session = connection.connection
    names = getattr(session, "relay_statements", None)
    if names is None:
        names = session.relay_statements = set()
    if name in names:
        return
    with connection.cursor() as cursor:
        if len(names) >= STATEMENTS_PER_SESSION:
            cursor.execute("DEALLOCATE ALL")
            names.clear()
        cursor.execute(prepare)
    names.add(name)


def execute(connection: Any, cursor: Any, sql: str, params: list[Any]) -> None:
    """`cursor.execute(sql, params)` for constant hand-written SQL with `%s` placeholders only; on
    PostgreSQL as a statement prepared once per session (the caller lookup's join planned in 0.3 ms of
    its 0.35 ms of server time)."""
    if connection.vendor != "postgresql" or not settings.RELAY_DB_SERVER_STATEMENTS:
        cursor.execute(sql, params)
        return
    count = iter(range(1, len(params) + 1))
    text = _PLACEHOLDER.sub(lambda m: "%" if m.group(0) == "%%" else f"${next(count)}", sql)
    name, prepare, call = _statement(text, len(params))
    _ensure_statement(connection, name, prepare)
    cursor.execute(call, params)


def _statement(text: str, n_params: int) -> tuple[str, str, str]:
    """A server-side statement for SQL with $1..$n: its name (from its text), PREPARE and EXECUTE."""
    name = "relay_" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:20]
    call = f"EXECUTE {name}({', '.join(['%s'] * n_params)})" if n_params else f"EXECUTE {name}"
    return name, f"PREPARE {name} AS {text}", call


_PLACEHOLDER = re.compile(r"%%|%s")


def forget() -> None:
    """Drop this thread's plans: after the row scopes themselves changed (a test that swaps one)."""
    for connection in connections.all(initialized_only=True):
        connection.__dict__.pop("relay_prepared", None)


def _listed(value: Any) -> Any:
    return list(value) if isinstance(value, _LIST_TYPES) else value


def _stand_in(value: Any, index: int) -> Any:
    if isinstance(value, list):
        return [_stand_in(v, index * 1000 + i) for i, v in enumerate(value)]
    if isinstance(value, bool) or value is None:
        raise TypeError("Booleans and None change the SQL: make them part of the key.")
    if isinstance(value, int):
        return -(1 << 52) - index
    if isinstance(value, datetime.datetime):
        return datetime.datetime(1001, 1, 1, tzinfo=value.tzinfo) + datetime.timedelta(minutes=index)
    if isinstance(value, datetime.date):
        return datetime.date(1001, 1, 1) + datetime.timedelta(days=index)
    if isinstance(value, str):
        return f"\x1frelay-stand-in-{index}\x1f"
    raise TypeError(f"No stand-in for a {type(value).__name__}.")


def _forms(connection: Any, stand_ins: list[Any]) -> dict[tuple[type, Any], tuple[int, int | None, Any]]:
    """Each stand-in as it may appear among the SQL's parameters: itself, or adapted for the database
    (SQLite's dates are strings) -> (its parameter, its place in a list, the adapter)."""
    ops = connection.ops
    forms: dict[tuple[type, Any], tuple[int, int | None, Any]] = {}
    for index, stand_in in enumerate(stand_ins):
        items = enumerate(stand_in) if isinstance(stand_in, list) else [(None, stand_in)]
        for item, value in items:
            forms[(type(value), value)] = (index, item, None)
            if isinstance(value, datetime.datetime):
                adapt = ops.adapt_datetimefield_value
            elif isinstance(value, datetime.date):
                adapt = ops.adapt_datefield_value
            else:
                continue
            adapted = adapt(value)
            forms[(type(adapted), adapted)] = (index, item, adapt)
    return forms
