"""Bulk writes without model instances, for the few paths that write thousands of rows a transaction (the
SLA sweep's breaches: ADR 0010). Django's `bulk_create` builds an instance a row and runs its insert
compiler over every field of every row; under a sweep of 100,000 breaches that was most of the time.

* `insert(model, rows, same=...)`: one INSERT of many rows. `rows` gives each row's own values by field
  attname (`party_id`, not `party`; the same fields in every row), `same` the values every row shares;
  every other field takes its model default, evaluated once for the batch (one `created_at` for all), or
  its database default. Returns the new primary keys in the order of `rows` (unless `returning=False`).
* `insert_with_history(...)`: the same, and the django-simple-history row of each new row (as
  `bulk_create_with_history` writes it: type "+", the batch's date, no user, our `history_origin`).
* `create(objs)`: `bulk_create` of unsaved instances (their primary keys set) through `insert`;
  `create_with_history(objs, actor=...)` also their history rows naming the actor, as `save()` after
  `with_actor` writes them: two inserts for many rows (a batch of openings,
  relay/cases/services/opening.py).
* `update(objs, fields)`: UPDATE each instance's `fields` by primary key.
* `insert_once(instance)`: insert one unsaved instance unless a unique constraint says its row exists
  (`INSERT … ON CONFLICT DO NOTHING RETURNING` on PostgreSQL, one statement; an insert in a savepoint
  on SQLite).

On PostgreSQL each is one statement over `unnest(...)` of one typed array a column that varies; the
shared values are plain parameters. SQLite (the laptop set-up) goes through Django's own bulk methods.
No signal is sent (as with `bulk_create`), and values are not validated: callers pass what their service
already checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from relay.core.origin import current_origin


def _defaults(model: type[models.Model], given: set[str]) -> dict[str, Any]:
    """The model default of each concrete field not in `given` (the auto primary key aside)."""
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.attname in given or (field.primary_key and isinstance(field, models.AutoField)):
            continue
        if field.has_db_default() and not field.has_default():
            continue  # the database fills it in
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values[field.attname] = timezone.now()
        else:
            values[field.attname] = field.get_default()
    return values


def _preparer(field: Any) -> Callable[[Any], Any]:
    """`field.get_db_prep_save`, skipped for the values it would hand back unchanged: an int for an
    integer column (a foreign key's too), a str for a text one, an aware datetime for a timestamp. Those
    calls were a tenth of a sweep; anything else (a choice member, a naive datetime, JSON) goes through
    Django, and everything on SQLite (Django stores its timestamps as naive UTC text there)."""
    target = field.target_field if field.is_relation else field
    if connection.vendor != "postgresql":
        return lambda value: field.get_db_prep_save(value, connection)
    if isinstance(target, models.DateTimeField):
        plain: type = datetime
    elif isinstance(target, models.IntegerField):
        plain = int
    elif isinstance(target, models.CharField | models.TextField):
        plain = str
    else:
        return lambda value: field.get_db_prep_save(value, connection)

    def prepare(value: Any) -> Any:
        if value is None or (type(value) is plain and getattr(value, "tzinfo", True) is not None):
            return value
        return field.get_db_prep_save(value, connection)

    return prepare


def insert(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    same: Mapping[str, Any] | None = None,
    returning: bool = True,
    ignore_conflicts: bool = False,
) -> list[Any]:
    """INSERT `rows` of `model` in one statement; the new primary keys, in order (see the module)."""
    if not rows:
        return []
    if returning and ignore_conflicts and (len(rows) != 1 or connection.vendor != "postgresql"):
        # the keys would not line up with the rows: only one row on PostgreSQL (no key back: skipped)
        raise ValueError("a skipped row has no key to return: ignore_conflicts needs returning=False")
    varying = list(rows[0])
    shared = dict(same or {})
    shared.update(_defaults(model, set(varying) | set(shared)))
    if connection.vendor != "postgresql":
        objs = [model(**row, **shared) for row in rows]
        model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return [obj.pk for obj in objs] if returning else []
    fields: dict[str, Any] = {f.attname: f for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    arrays = []
    for name in varying:
        prepare = _preparer(fields[name])
        arrays.append([prepare(row[name]) for row in rows])
    select = [f"%s::{fields[name].db_type(connection)}" for name in shared]
    select += [f"v.{quote(fields[name].column)}" for name in varying]
    columns = [quote(fields[name].column) for name in [*shared, *varying]]
    # names and types from the model's meta, values as parameters
    table = quote(model._meta.db_table)
    if not columns:  # rows of nothing but their key (a counter: CaseNumber): the key's own sequence
        key = fields[model._meta.pk.attname].column
        columns = [quote(key)]
        select = [f"nextval(pg_get_serial_sequence('{table}', '{key}'))"]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(select)}"
    if varying:
        unnest = ", ".join(f"%s::{fields[name].db_type(connection)}[]" for name in varying)
        names = ", ".join(quote(fields[name].column) for name in varying)
        sql += f" FROM unnest({unnest}) AS v({names})"
    else:
        sql += f" FROM generate_series(1, {len(rows):d})"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {quote(fields[model._meta.pk.attname].column)}"
    params = [fields[name].get_db_prep_save(value, connection) for name, value in shared.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *arrays])
        return [pk for (pk,) in cursor.fetchall()] if returning else []


def _created_history(*, user_id: int | None, origin: str) -> dict[str, Any]:
    """The history columns of a row's "+" record, as django-simple-history writes them on `save()`."""
    return {
        "history_date": timezone.now(),
        "history_type": "+",
        "history_user_id": user_id,
        "history_change_reason": None,
        "history_origin": origin,
    }


def insert_with_history(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    same: Mapping[str, Any],
    origin: str,
) -> list[Any]:
    """`insert`, then one historical row a new row, holding the same values (see the module)."""
    if not rows:
        return []
    shared = {**same, **_defaults(model, set(rows[0]) | set(same))}
    pks = insert(model, rows, same=shared)
    history: type[models.Model] = model.history.model  # type: ignore[attr-defined]
    pk_name = model._meta.pk.attname
    insert(
        history,
        [{**row, pk_name: pk} for row, pk in zip(rows, pks, strict=True)],
        same={**shared, **_created_history(user_id=None, origin=origin)},
        returning=False,
    )
    return pks


def _values(obj: models.Model, fields: Sequence[Any]) -> dict[str, Any]:
    """An unsaved instance's row by attname, as its insert would write it: auto_now(_add) times taken, a
    foreign key to an object saved since it was assigned taking that object's key."""
    row = {}
    for field in fields:
        value = field.pre_save(obj, add=True)
        if value is None and field.is_relation and field.is_cached(obj):
            related = field.get_cached_value(obj)
            value = related.pk if related is not None else None
            setattr(obj, field.attname, value)
        row[field.attname] = value
    return row


def create(objs: Sequence[models.Model]) -> None:
    """Insert the unsaved `objs` of one model in one statement and set their primary keys: what
    `bulk_create` writes, without its per-value compilation on PostgreSQL (`insert`)."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    fields = [
        f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))
    ]
    pks = insert(model, [_values(obj, fields) for obj in objs])
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias


def create_with_history[M: models.Model](objs: Sequence[M], *, actor: Any) -> Sequence[M]:
    """Insert the unsaved `objs` of one model (primary keys set) and a "+" history row each, by `actor`,
    with the current origin: what `save()` after `with_actor` writes, in two statements (see the
    module)."""
    if not objs:
        return objs
    create(objs)
    history: type[models.Model] = type(objs[0]).history.model  # type: ignore[attr-defined]
    tracked = [f.attname for f in history.tracked_fields]  # type: ignore[attr-defined]
    insert(
        history,
        [{name: getattr(obj, name) for name in tracked} for obj in objs],
        same=_created_history(user_id=actor.pk if actor is not None else None, origin=current_origin()),
        returning=False,
    )
    return objs


def insert_once(instance: models.Model) -> bool:
    """Insert the unsaved `instance`; False, and nothing written, when a unique constraint says the row is
    there already (the database decides: safe under concurrency). When inserted its primary key is set.
    For models no signal receiver listens to: none is sent on PostgreSQL."""
    if connection.vendor != "postgresql":
        try:
            with transaction.atomic():
                instance.save(force_insert=True)
        except IntegrityError:
            return False
        return True
    model = type(instance)
    row = {
        field.attname: field.pre_save(instance, add=True)  # auto_now_add fields take their time here
        for field in model._meta.concrete_fields
        if not (field.primary_key and getattr(instance, field.attname) is None)
    }
    inserted = insert(model, [row], ignore_conflicts=True)
    if not inserted:
        return False
    instance.pk = inserted[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return True


def update(objs: Sequence[Any], fields: Sequence[str]) -> None:
    """UPDATE each row's `fields` by primary key. On PostgreSQL one statement joins the rows to the new
    values as arrays (UPDATE ... FROM unnest(...)); on SQLite an executemany. Django's bulk_update builds
    a CASE per field and row, which had cost the SLA sweep most of its time."""
    if not objs:
        return
    meta = type(objs[0])._meta
    columns: list[Any] = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    prepare = [_preparer(f) for f in columns]
    values = [[p(getattr(obj, f.attname)) for f, p in zip(columns, prepare, strict=True)] for obj in objs]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in columns)
            names = ", ".join(quote(f.column) for f in columns)
            sql = (  # names and types from the model's own meta, values as parameters
                f"UPDATE {table} AS t SET "  # noqa: S608
                + ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
                + f" FROM unnest(%s::bigint[], {arrays}) AS v(id, {names}) WHERE t.{pk} = v.id"
            )
            cursor.execute(sql, [[obj.pk for obj in objs], *map(list, zip(*values, strict=True))])
        else:
            sql = (
                f"UPDATE {table} SET "  # noqa: S608
                + ", ".join(f"{quote(f.column)} = %s" for f in columns)
                + f" WHERE {pk} = %s"
            )
            cursor.executemany(sql, [[*row, obj.pk] for row, obj in zip(values, objs, strict=True)])
