"""Requests through the deployed WSGI application (relay.config.wsgi), not the test client's handler:
for what depends on which middleware stack a request takes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core import signals
from django.db import close_old_connections
from django.test import RequestFactory


@contextmanager
def keeping_the_test_connection() -> Iterator[None]:
    """The WSGI application closes old connections around each request; Django's test client stops that,
    and so must a test that calls the application, or the test's transaction (on PostgreSQL, its pooled
    connection) goes away mid-test."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@dataclass
class WsgiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(application: Any, method: str, path: str, **extra: Any) -> WsgiResponse:
    """One request; `extra` as RequestFactory takes it (headers={...}, data=..., content_type=...)."""
    request = getattr(RequestFactory(), method.lower())(path, **extra)
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = {k.lower(): v for k, v in headers}

    body = application(request.environ, start_response)
    try:
        content = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return WsgiResponse(answer["status"], answer["headers"], content)
