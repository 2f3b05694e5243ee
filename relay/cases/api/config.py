"""What the configuration endpoints (routing rules, SLA policies, business calendars) share: the list
fields, with the same bounds as the services' own checks (relay/cases/services/_config.py), so the schema
says what a write accepts; and the reads of a configuration list."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from relay.api.base import VersionedViewSet
from relay.cases.services._config import MAX_VALUE_LENGTH, MAX_VALUES


def id_list(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), max_length=MAX_VALUES, **kwargs
    )


def text_list(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=MAX_VALUE_LENGTH), max_length=MAX_VALUES, **kwargs
    )


def choice_list(choices: Any, **kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=choices), max_length=MAX_VALUES, **kwargs
    )


class ConfigViewSet(VersionedViewSet):
    """A configuration list that every staff member reads with `serializer_class`, a page at a time; the
    subclasses write it (managers and admins only)."""

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            self.get_serializer_class()(page, many=True, context=self.get_serializer_context()).data
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(self.row(pk), self.get_serializer_class())

    def row(self, pk: Any) -> Any:
        """The row, as the list shows it (a 404 when there is none)."""
        return self.get_object_or_404(self.get_queryset().get, pk=pk)
