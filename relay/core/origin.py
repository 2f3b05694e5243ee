"""Where a change came from (ui, api, command, job, system). Importable before Django is set up."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from enum import StrEnum

_origin: ContextVar[str] = ContextVar("relay_audit_origin", default="system")


class Origin(StrEnum):
    UI = "ui"
    API = "api"
    COMMAND = "command"
    JOB = "job"
    SYSTEM = "system"


ORIGIN_LABELS = {
    Origin.UI: "Staff UI",
    Origin.API: "REST API",
    Origin.COMMAND: "Command",
    Origin.JOB: "Background job",
    Origin.SYSTEM: "System",
}


def current_origin() -> str:
    return _origin.get()


def set_origin(value: str) -> None:
    _origin.set(value)


@contextlib.contextmanager
def origin(value: str) -> Iterator[None]:
    token = _origin.set(value)
    try:
        yield
    finally:
        _origin.reset(token)
