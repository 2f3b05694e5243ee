"""The filters of the case list. Every name and value is allow-listed here; user input never reaches
filter(**kwargs) or order_by(). The list is scoped first, so a filter never finds a case the user may
not see."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from relay.cases.choices import Priority, StatusCategory
from relay.cases.models import Case
from relay.cases.selectors import DEFAULT_QUEUE_ORDERING, QUEUE_ORDERINGS
from relay.core.filters import UtcDateTimeFilter
from relay.core.pagination import Ordering

# the sorts of the case list: the queue's, on columns of the case itself
CASE_ORDERINGS: dict[str, Ordering] = {
    key: QUEUE_ORDERINGS[key] for key in ("-opened", "opened", "-activity", "activity", "-updated", "updated")
}
DEFAULT_CASE_ORDERING = DEFAULT_QUEUE_ORDERING


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(django_filters.NumberFilter):
    """An id: a whole number that fits a 64-bit key (anything else is a 400)."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class CaseFilterSet(django_filters.FilterSet):
    department = IdFilter(field_name="department_id", label="Department (id)")
    assignee = IdFilter(field_name="assignee_id", label="Assignee (user id)")
    unassigned = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_unassigned",
        label="true: only cases nobody is assigned to; false: only assigned ones",
    )
    status_category = django_filters.MultipleChoiceFilter(
        choices=StatusCategory.choices, label="Status category (repeat for several)"
    )
    status = IdFilter(field_name="status_id", label="Status (id)")
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, label="Priority (repeat)")
    party = IdFilter(field_name="party_id", label="Customer (party id)")
    category = IdFilter(field_name="category_id", label="Category (id)")
    number = django_filters.CharFilter(method="filter_number", max_length=20, label="Case number, C-000123")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_unassigned(self, qs: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return qs.filter(assignee__isnull=value == "true")

    def filter_number(self, qs: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return qs.filter(number=value.strip().upper()) if value.strip() else qs
