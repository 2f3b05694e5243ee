"""`instance.history` (relay.core.audit): every audited model's history manager is made once per model,
and reads and writes the history as django-simple-history's does."""

from typing import Any

import pytest
from django.apps import apps
from simple_history.manager import HistoryManager

from relay.core.audit import _HistoryDescriptor
from relay.core.testing.factories import PartyFactory

pytestmark = pytest.mark.django_db


def test_every_audited_model_has_the_descriptor_that_makes_its_manager_once():
    audited = {
        model: model._meta.simple_history_manager_attribute
        for model in apps.get_models()
        if hasattr(model._meta, "simple_history_manager_attribute")
    }
    assert len(audited) > 10
    for model, name in audited.items():
        assert isinstance(model.__dict__[name], _HistoryDescriptor), model


def test_the_manager_reads_the_records_history():
    party: Any = PartyFactory(family_name="Lovelace")
    party.family_name = "Byron"
    party.save()
    first, second = party.history, party.history
    assert type(first) is type(second) and isinstance(first, HistoryManager)
    assert [h.family_name for h in party.history.order_by("history_id")] == ["Lovelace", "Byron"]
    assert party.history.first().history_object.pk == party.pk
    assert type(party).history.filter(id=party.pk).count() == 2
