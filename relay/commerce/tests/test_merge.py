"""The guard of the party merge (TESTING.md, "Merge"): every foreign key to Party in the commerce app has
its handling, and the handling moves the records to the survivor, audited."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models, transaction

from relay.commerce import services
from relay.commerce.merge import PARTY_MERGE_HANDLING, commerce_move_party
from relay.commerce.models import CreditTerms, Invoice, OrderLine, Subscription
from relay.commerce.selectors import party_account
from relay.commerce.tests.conftest import credit_rows
from relay.customers.models import Party

pytestmark = pytest.mark.django_db


def _foreign_keys_to_party():
    found = set()
    for model in apps.get_app_config("commerce").get_models():
        if model.__name__.startswith("Historical"):
            continue
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is Party:
                found.add((model._meta.label_lower, field.name))
            if isinstance(field, models.ManyToManyField) and field.related_model is Party:
                found.add((model._meta.label_lower, field.name))
    return found


def test_every_foreign_key_to_party_has_merge_handling():
    assert _foreign_keys_to_party() == set(PARTY_MERGE_HANDLING)


def test_no_commerce_record_points_at_a_case():
    from relay.cases.models import Case

    for model in apps.get_app_config("commerce").get_models():
        assert not any(f.is_relation and f.related_model is Case for f in model._meta.get_fields()), model


def test_the_records_move_to_the_survivor(shop, bob, erp, supervisor):
    bobs_terms = {**credit_rows()[0], "external_id": "C-2", "party": "account:ACC-2"}
    services.commerce_sync(actor=erp, kind="credit-terms", source="erp", records=[bobs_terms])
    with transaction.atomic():
        moved = commerce_move_party(actor=supervisor, duplicate=shop, survivor=bob)
    assert moved["invoice"] == 2 and moved["orderline"] == 2 and moved["creditterms"] == 0
    assert (
        Invoice.objects.filter(party=bob).count() == 2 and not OrderLine.objects.filter(party=shop).exists()
    )
    assert Subscription.objects.get().party == bob
    assert CreditTerms.objects.get().external_id == "C-2"  # the survivor's own stay
    assert party_account(actor=supervisor, party=bob).balances[0].balance is not None
    latest = Invoice.history.filter(party_id=bob.pk).latest("history_date")
    assert latest.history_user == supervisor
