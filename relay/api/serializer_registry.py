"""Which serializer shows a record's current state in a 409 body. Each API module registers its own."""

from __future__ import annotations

from typing import Any

_registry: dict[type, type] = {}


def register(model: type, serializer: type) -> None:
    _registry[model] = serializer


def serialize_current(instance: Any, request: Any) -> Any:
    serializer = _registry.get(type(instance))
    if serializer is None:
        return {"id": instance.pk, "version": getattr(instance, "version", None)}
    return serializer(instance, context={"request": request}).data
