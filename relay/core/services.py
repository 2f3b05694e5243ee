"""Building blocks every app's services share: optimistic locking and audited saves."""

from __future__ import annotations

from collections.abc import Collection
from functools import partial
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from relay.core import clock
from relay.core.audit import with_actor
from relay.core.constraints import validate_constraints
from relay.core.exceptions import ConflictError


def lock_current[M: models.Model](model: type[M], pk: Any, expected_version: int | None) -> M:
    """Load a row for update and refuse the write when the client edited an older version.

    `expected_version=None` means the caller does not do optimistic locking (internal jobs only).
    """
    current = model._default_manager.select_for_update().get(pk=pk)
    version = getattr(current, "version", None)
    if expected_version is not None and version != expected_version:
        raise ConflictError(current=current, current_version=version)
    return current


def apply_changes[M: models.Model](instance: M, changes: dict[str, Any], *, allowed: set[str]) -> list[str]:
    """Set the allowed fields that really change; return their names."""
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    changed = []
    for name, value in changes.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def full_clean(instance: models.Model, checked: Collection[str] = ()) -> None:
    """`Model.full_clean`, except that a foreign key set to a loaded, saved object is not looked up again
    (Django checks each one with a query; the service had the object in hand). Unique and check
    constraints are still validated over every field, the check constraints that Python can answer
    without a query (relay.core.constraints), except the `checked` ones the service has already checked
    against the rows on file."""
    loaded = [
        field.name
        for field in instance._meta.concrete_fields
        if isinstance(field, models.ForeignKey)
        and field.is_cached(instance)
        and (related := field.get_cached_value(instance)) is not None
        and not related._state.adding
        and related.pk == getattr(instance, field.attname)
    ]
    errors: dict[str, Any] = {}
    for check in (lambda: instance.clean_fields(exclude=loaded), instance.clean):
        try:
            check()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    invalid = {name for name in errors if name != NON_FIELD_ERRORS}
    for check in (instance.validate_unique, partial(validate_constraints, instance, checked=checked)):
        try:
            check(exclude=invalid)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def save_audited[M: models.Model](instance: M, *, actor: Any, checked: Collection[str] = ()) -> M:
    """Full-clean (but for the `checked` constraints, see `full_clean`) and save with a new version and a
    history row naming the actor."""
    if hasattr(instance, "version") and instance.pk is not None:
        instance.version += 1
    if hasattr(instance, "updated_at"):
        instance.updated_at = clock.now()
    full_clean(instance, checked)
    with_actor(instance, actor)
    instance.save()
    return instance


def delete_audited[M: models.Model](instance: M, *, actor: Any) -> None:
    with_actor(instance, actor)
    instance.delete()
