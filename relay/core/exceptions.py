"""Domain errors. Services raise these; the API and the UI map them to responses in one place each."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A domain rule was broken by the request. Maps to 400 (or `status`) with a problem+json body."""

    status = 400
    title = "The request breaks a rule"

    def __init__(
        self, message: str, *, errors: dict[str, list[str]] | None = None, status: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        if status is not None:
            self.status = status


class ConflictError(ApplicationError):
    """The record changed since the client read it (optimistic locking): 409 with the current state."""

    status = 409
    title = "The record was changed by someone else"

    def __init__(self, message: str = "", *, current: Any = None, current_version: int | None = None):
        super().__init__(message or "The record was changed since you loaded it; reload and try again.")
        self.current = current
        self.current_version = current_version


class PreconditionFailed(ConflictError):
    """An If-Match header named a version that is no longer current. Maps to 412."""

    status = 412
    title = "Precondition failed"


class NotAllowed(ApplicationError):
    """The actor may see the record but not do this to it. Maps to 403."""

    status = 403
    title = "You may not do this"
