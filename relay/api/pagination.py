"""Cursor pagination for the API, on the same keyset paginator as the UI (relay.core.pagination)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from relay.core.pagination import Ordering, paginate


class CursorPagination(BasePagination):
    page_size = 50
    max_page_size = 200
    cursor_query_param = "cursor"

    def get_ordering(self, request: Request, view: Any) -> Ordering:
        chooser = getattr(view, "get_keyset_ordering", None)
        return chooser(request) if chooser else Ordering("id")

    def get_page_size(self, request: Request) -> int:
        try:
            size = int(request.query_params.get("page_size", self.page_size))
        except ValueError:
            size = self.page_size
        return max(1, min(size, self.max_page_size))

    def paginate_queryset(  # type: ignore[override]
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        page = paginate(
            queryset,
            ordering=self.get_ordering(request, view),
            cursor=request.query_params.get(self.cursor_query_param),
            size=self.get_page_size(request),
        )
        self.page = page
        return page.items

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "next": self._link(self.page.next_cursor),
                "previous": self._link(self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": ["string", "null"], "format": "uri"},
                "previous": {"type": ["string", "null"], "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "Opaque cursor from `next` or `previous`.",
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
