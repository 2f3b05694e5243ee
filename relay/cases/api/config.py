"""The list fields of the configuration endpoints (routing rules, SLA policies): the same bounds as the
services' own checks (relay/cases/services/_config.py), so the schema says what a write accepts."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

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
