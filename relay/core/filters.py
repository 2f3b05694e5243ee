"""Filter fields the list endpoints and screens share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, in UTC for the database: PostgreSQL refuses offsets beyond ±15:59, which ISO
    allows (+19:43), and an instant near year 1 or 9999 may not convert at all (a 400, not a 500)."""

    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(UTC)
        except (OverflowError, ValueError) as exc:
            raise forms.ValidationError("This instant is out of range.") from exc


@extend_schema_field(OpenApiTypes.DATETIME)
class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField
