"""Hand-written SQL on the hottest paths, returned as model instances converted as the ORM would.

`Model.objects.raw()` works out on every call which column is which field and which converters apply
(SQLite's dates and booleans): about 0.15 ms for the one-row queries that authenticate each request,
more than the query takes PostgreSQL. Here that plan is made once per statement and connection, and
PostgreSQL plans the statement once per session (`relay.core.prepared.execute`).
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Model
from django.db.models.sql import Query

from relay.core import prepared


def _plan(model: type[Model], columns: list[str]) -> tuple[Any, ...]:
    by_column = {f.column: f for f in model._meta.concrete_fields}
    fields = [by_column.get(c) for c in columns]
    names = [f.attname for f in fields if f is not None]
    positions = [i for i, f in enumerate(fields) if f is not None]
    extra = [(c, i) for i, (c, f) in enumerate(zip(columns, fields, strict=True)) if f is None]
    compiler = connection.ops.compiler("SQLCompiler")(Query(model), connection, connection.alias)
    columns_as_expressions: list[Any] = [f.get_col(model._meta.db_table) if f else None for f in fields]
    converters = compiler.get_converters(columns_as_expressions)
    return names, positions, extra, converters, compiler


def fetch_one[M: Model](model: type[M], sql: str, params: list[Any]) -> M | None:
    """The first row of `sql` as a `model` instance; columns that are not the model's become attributes.
    `sql` selects all the model's columns (`t.*`) and is a constant: it keys the plan."""
    with connection.cursor() as cursor:
        prepared.execute(connection, cursor, sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        # kept on the connection (one a thread): (model, sql) -> names, positions, extras, converters
        plans = connection.__dict__.setdefault("relay_raw_plans", {})
        plan = plans.get((model, sql))
        if plan is None:
            plan = plans[(model, sql)] = _plan(model, [c[0] for c in cursor.description])
    names, positions, extra, converters, compiler = plan
    if converters:
        row = next(iter(compiler.apply_converters([row], converters)))
    instance = model.from_db(connection.alias, names, [row[i] for i in positions])
    for column, i in extra:
        setattr(instance, column, row[i])
    return instance
