"""The party filters, one definition for the list page and the API (django-filter).

Every filter and sort key is allow-listed here; user input never reaches filter(**kwargs) or order_by().
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from relay.accounts.models import User
from relay.core.filters import UtcDateTimeFilter
from relay.customers import selectors
from relay.customers.choices import LifecycleStage, PartyKind, PartyRole
from relay.customers.models import Party


class PartyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label="Search", max_length=100)
    name = django_filters.CharFilter(method="filter_text", label="Name contains", max_length=100)
    email = django_filters.CharFilter(method="filter_email", label="E-mail", max_length=254)
    phone = django_filters.CharFilter(method="filter_phone", label="Phone (any format)", max_length=40)
    role = django_filters.ChoiceFilter(choices=PartyRole.choices, method="filter_role")
    stage = django_filters.ChoiceFilter(choices=LifecycleStage.choices, field_name="lifecycle_stage")
    kind = django_filters.ChoiceFilter(choices=PartyKind.choices)
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.filter(is_active=True))
    tag = django_filters.CharFilter(method="filter_tag", max_length=50, label="Tag")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Party
        fields: list[str] = []

    def filter_text(self, qs: QuerySet[Party], name: str, value: str) -> QuerySet[Party]:
        return selectors.party_filter(qs, selectors.PartyFilters(q=value)) if value.strip() else qs

    def filter_email(self, qs: QuerySet[Party], name: str, value: str) -> QuerySet[Party]:
        return selectors.party_filter(qs, selectors.PartyFilters(email=value)) if value.strip() else qs

    def filter_phone(self, qs: QuerySet[Party], name: str, value: str) -> QuerySet[Party]:
        return selectors.party_filter(qs, selectors.PartyFilters(phone=value)) if value.strip() else qs

    def filter_role(self, qs: QuerySet[Party], name: str, value: str) -> QuerySet[Party]:
        return selectors.party_filter(qs, selectors.PartyFilters(role=value))

    def filter_tag(self, qs: QuerySet[Party], name: str, value: str) -> QuerySet[Party]:
        return selectors.party_filter(qs, selectors.PartyFilters(tag=value.strip().lower()))


def ordering_from(params: Any) -> str:
    """The allow-listed sort key from request params; unknown values fall back to the default."""
    value = params.get("ordering") or selectors.DEFAULT_PARTY_ORDERING
    return value if value in selectors.PARTY_ORDERINGS else selectors.DEFAULT_PARTY_ORDERING
