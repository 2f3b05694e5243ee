"""What the configuration writes of routing rules (services/routing.py) and SLA policies and calendars
(services/sla_config.py) share: the checks of condition lists, versioned saves, partial updates and the
move up/down of an ordered list. Each caller keeps its own nouns in the messages ("rule", "policy")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import fields
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Model

from relay.accounts.models import User
from relay.core import clock
from relay.core.audit import with_actor
from relay.core.exceptions import ApplicationError
from relay.core.services import lock_current

MAX_VALUES = 50  # per condition list
MAX_VALUE_LENGTH = 100
ORDER_STEP = 10

Errors = dict[str, list[str]]


# --- condition lists -------------------------------------------------------------------------------------


def unique(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def texts(name: str, values: Any, errors: Errors) -> list[str]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        errors[name] = ["A list of texts is required."]
        return []
    cleaned = unique(v.strip() for v in values if v.strip())
    if len(cleaned) > MAX_VALUES:
        errors[name] = [f"At most {MAX_VALUES} values."]
    elif any(len(v) > MAX_VALUE_LENGTH or "\x00" in v for v in cleaned):
        errors[name] = [f"Each value has at most {MAX_VALUE_LENGTH} characters and no null characters."]
    return cleaned


def choices(name: str, values: Any, allowed: list[str], errors: Errors) -> list[str]:
    cleaned = texts(name, values, errors)
    if name not in errors and any(v not in allowed for v in cleaned):
        errors[name] = [f"Choose from: {', '.join(allowed)}."]
    return cleaned


def ids(name: str, values: Any, model: Any, errors: Errors) -> list[int]:
    if not isinstance(values, list | tuple) or not all(is_int(v) for v in values):
        errors[name] = ["A list of ids is required."]
        return []
    cleaned = unique(values)
    if len(cleaned) > MAX_VALUES:
        errors[name] = [f"At most {MAX_VALUES} values."]
        return cleaned
    in_range = [v for v in cleaned if 0 < v < 2**63]
    known = set(model._default_manager.filter(pk__in=in_range).values_list("pk", flat=True))
    unknown = [v for v in cleaned if v not in known]
    if unknown:
        errors[name] = [f"Unknown: {', '.join(str(v) for v in unknown)}."]
    return cleaned


# --- writes ----------------------------------------------------------------------------------------------


def stamp(row: Any) -> None:
    """A saved row's version goes up; every save sets its update time."""
    if row.pk is not None:
        row.version += 1
    row.updated_at = clock.now()


def save_versioned[Row: Model](row: Row, actor: User, *, name_taken: str) -> Row:
    """Save a versioned, audited row whose name is unique: a concurrent write that took the name first is
    refused with `name_taken` (the constraint decides)."""
    stamp(row)
    with_actor(row, actor)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise ApplicationError(name_taken, errors={"name": [name_taken]}) from exc
    return row


def next_order(model: type[Model]) -> int:
    """The `order` of a row added after the existing ones."""
    last = model._default_manager.aggregate(last=Max("order"))["last"]
    return (last or 0) + ORDER_STEP


def locked_with_changes[Row: Model](
    model: type[Row],
    input_class: Any,
    pk: Any,
    *,
    expected_version: int | None,
    changes: dict[str, Any],
    noun: str,
) -> tuple[Row, Any]:
    """For a partial update: the row, locked at the expected version, and its input with `changes` applied.
    A name that is not a field of `input_class` is refused before anything is locked."""
    unknown = set(changes) - {f.name for f in fields(input_class)}
    if unknown:
        raise ApplicationError("Unknown fields.", errors={k: [f"Not a field of a {noun}."] for k in unknown})
    locked = lock_current(model, pk, expected_version)
    data = input_class.of(locked)
    for key, value in changes.items():
        setattr(data, key, value)
    return locked, data


def move[Row: Model](
    model: type[Row], pk: Any, direction: str, save: Callable[[Row], Any], *, noun: str
) -> Row:
    """Swap the row with its neighbour above ("up") or below ("down"), then number the rows evenly.

    Every row is locked first (the list is configuration: tens of rows), so two moves at once are applied
    one after the other. A move is relative to where the row is now, so it needs no version."""
    if direction not in ("up", "down"):
        raise ApplicationError(f"Move a {noun} up or down.", errors={"direction": ["Choose up or down."]})
    ordered = list(model._default_manager.select_for_update().order_by("order", "id"))
    index = next((i for i, r in enumerate(ordered) if r.pk == pk), None)
    if index is None:
        raise model.DoesNotExist(f"No such {noun}.")  # type: ignore[attr-defined]
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    moved = ordered[other] if 0 <= other < len(ordered) else ordered[index]
    for position, row in enumerate(ordered, start=1):
        if row.order != position * ORDER_STEP:  # type: ignore[attr-defined]
            row.order = position * ORDER_STEP  # type: ignore[attr-defined]
            save(row)
    return moved
