"""Factories for the cases domain. Cases themselves are opened through the services (`open_case`
fixture in conftest.py): a case is never valid without its span, event and timeline entry."""

from __future__ import annotations

import importlib

import factory
from django.apps import apps
from django.utils.text import slugify

from relay.cases.models import CaseCategory, CaseStatus


class CaseCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseCategory

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    parent = None
    is_confidential = False


class CaseStatusFactory(factory.django.DjangoModelFactory):
    """An extra configurable status (the defaults come from the data migration)."""

    class Meta:
        model = CaseStatus

    name = factory.Sequence(lambda n: f"Status {n}")
    category = "waiting_third_party"
    order = 100
    is_default = False


def status_of(category: str) -> CaseStatus:
    return CaseStatus.objects.get(category=category, is_default=True)


def default_statuses() -> None:
    """The default case statuses, as the data migration writes them (its own function, idempotent): a
    transactional test anywhere in the suite flushes them with every other table."""
    migration = importlib.import_module("relay.cases.migrations.0002_default_statuses")
    migration.create_default_statuses(apps, None)
