"""Model constraints validated without a query where the database's answer is known in advance (ADR 0021).

Django validates a `CheckConstraint` by asking the database (`SELECT 1 WHERE <condition>` inside a
savepoint: three statements per constraint and save). Most of Relay's checks compare a field with a
literal or with another field of the same row, which Python answers exactly as SQL does, NULL included:
`evaluate` does that in SQL's three-valued logic (a comparison with NULL is unknown, and a check passes
unless its condition is false). A condition it cannot answer exactly (an expression, a lookup across a
relation, an ordering of strings, which depends on the collation, values of different types) goes to the
database as before. relay/core/tests/test_constraints.py compares both answers for every check in Relay.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable, Collection
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, router
from django.db.models import F, Q
from django.db.models.constraints import CheckConstraint

Truth = bool | None  # None: SQL's UNKNOWN

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "exact": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


class Unsupported(Exception):
    """The condition needs the database's own answer."""


def validate_constraints(
    instance: models.Model, exclude: set[str] | None = None, checked: Collection[str] = ()
) -> None:
    """`Model.validate_constraints`, with each check that `evaluate` can answer answered here. `checked`:
    names of constraints the caller has already checked against the rows on file (the database still
    enforces them, a concurrent write included)."""
    using = router.db_for_write(type(instance), instance=instance)
    errors: dict[str, Any] = {}
    for model_class, model_constraints in instance.get_constraints():
        for constraint in model_constraints:
            if constraint.name in checked:
                continue
            try:
                if isinstance(constraint, CheckConstraint):
                    _validate_check(constraint, model_class, instance, exclude, using)
                else:
                    constraint.validate(model_class, instance, exclude=exclude, using=using)
            except ValidationError as exc:
                fields: Any = getattr(constraint, "fields", ())
                if getattr(exc, "code", None) == "unique" and len(fields) == 1:
                    errors.setdefault(fields[0], []).append(exc)
                else:
                    errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _validate_check(
    constraint: CheckConstraint,
    model: type[models.Model],
    instance: models.Model,
    exclude: set[str] | None,
    using: str,
) -> None:
    try:
        if exclude and _field_names(constraint.condition, instance) & exclude:
            return  # as Django: a check that reads a field already found invalid is not validated
        passed = evaluate(constraint.condition, instance) is not False
    except Unsupported:
        constraint.validate(model, instance, exclude=exclude, using=using)
        return
    if not passed:
        raise ValidationError(constraint.get_violation_error_message(), code=constraint.violation_error_code)


def _field_names(condition: Any, instance: models.Model) -> set[str]:
    if not isinstance(condition, Q):
        raise Unsupported(condition)
    names: set[str] = set()
    for child in condition.children:
        if isinstance(child, Q):
            names |= _field_names(child, instance)
        elif isinstance(child, tuple) and len(child) == 2:
            path, right = child
            for name in (path.split("__")[0], *([_f_name(right)] if isinstance(right, F) else [])):
                names.add(_field(instance, name).name)
        else:
            raise Unsupported(child)
    return names


def evaluate(condition: Any, instance: models.Model) -> Truth:
    """The condition's value for `instance` in SQL's three-valued logic; `Unsupported` when that cannot be
    known without the database."""
    if not isinstance(condition, Q) or condition.connector not in (Q.AND, Q.OR):
        raise Unsupported(condition)
    values = [
        evaluate(child, instance) if isinstance(child, Q) else _lookup(child, instance)
        for child in condition.children
    ]
    if condition.connector == Q.AND:
        result: Truth = False if False in values else None if None in values else True
    else:
        result = True if True in values else None if None in values else False
    if condition.negated:
        return None if result is None else not result
    return result


def _lookup(child: Any, instance: models.Model) -> Truth:
    if not isinstance(child, tuple) or len(child) != 2:
        raise Unsupported(child)
    path, right = child
    name, _, lookup = path.partition("__")
    lookup = lookup or "exact"
    left = _field_value(instance, name)
    if lookup == "isnull":
        if not isinstance(right, bool):
            raise Unsupported(child)
        return (left is None) == right
    if lookup == "in":
        if isinstance(right, (str, bytes)) or not hasattr(right, "__iter__"):
            raise Unsupported(child)
        options = [_literal(value) for value in right]
        if None in options:
            raise Unsupported(child)  # x IN (NULL, ...) has its own rules; no check of Relay's needs them
        if left is None:
            return None
        for option in options:
            _comparable(left, option, "exact")
        return left in options
    compare = _COMPARE.get(lookup)
    if compare is None:
        raise Unsupported(child)
    if lookup == "exact" and right is None:
        return left is None  # Q(field=None) is Django's IS NULL
    if isinstance(right, F):
        right = _field_value(instance, _f_name(right))
    elif _literal(right) is None:
        raise Unsupported(child)  # Django refuses None in any lookup but exact
    if left is None or right is None:
        return None
    _comparable(left, right, lookup)
    return compare(left, right)


def _f_name(reference: F) -> str:
    return str(reference.name)  # type: ignore[attr-defined]


def _field(instance: models.Model, name: str) -> models.Field:
    """A concrete field of the row itself (not across a relation), by name or attname."""
    if "__" in name:
        raise Unsupported(name)
    try:
        field = instance._meta.get_field(name)
    except FieldDoesNotExist as exc:
        raise Unsupported(name) from exc
    if not isinstance(field, models.Field) or not field.concrete or field.many_to_many:
        raise Unsupported(name)
    return field


def _field_value(instance: models.Model, name: str) -> Any:
    return getattr(instance, _field(instance, name).attname)


def _literal(value: Any) -> Any:
    if hasattr(value, "resolve_expression") or isinstance(value, models.Model):
        raise Unsupported(value)
    return value


_NUMBERS = (int, Decimal)  # bool is an int, as in SQL's comparisons of booleans with booleans only
_KINDS: tuple[tuple[type, ...], ...] = (
    (str,),
    _NUMBERS,
    (float,),
    (datetime.datetime,),
    (datetime.date,),
    (datetime.time,),
    (datetime.timedelta,),
)


def _comparable(left: Any, right: Any, lookup: str) -> None:
    """Both values of one kind, compared as the database compares them; else `Unsupported`."""
    for kind in _KINDS:
        if isinstance(left, kind) and isinstance(right, kind):
            break
    else:
        raise Unsupported((left, right))
    if isinstance(left, bool) != isinstance(right, bool):
        raise Unsupported((left, right))
    if isinstance(left, str) and lookup != "exact":
        raise Unsupported((left, right))  # the order of strings is the collation's
    if _is_nan(left) or _is_nan(right):
        raise Unsupported((left, right))  # PostgreSQL calls NaN equal to itself, and above every number
    if isinstance(left, datetime.date) and isinstance(left, datetime.datetime) != isinstance(
        right, datetime.datetime
    ):
        raise Unsupported((left, right))
    naive = [value.tzinfo is None for value in (left, right) if isinstance(value, datetime.datetime)]
    if len(set(naive)) > 1:
        raise Unsupported((left, right))  # an aware and a naive moment


def _is_nan(value: Any) -> bool:
    return (isinstance(value, float) and value != value) or (isinstance(value, Decimal) and value.is_nan())
