"""The screen pop's reads, and the party list's, are compiled once per key (relay.core.prepared, ADR
0020). For users of every role, in and out of the departments involved, inactive, and with a confidential
case on the file, each read returns what its queryset returns, and users that share a key compile the
same SQL: the keys cover what the row scopes read of the user."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import EmptyResultSet
from django.db.models import Model
from django.test import override_settings

from relay.accounts.choices import Role
from relay.accounts.models import User
from relay.cases.services import case_open, case_watch
from relay.cases.tests.factories import CaseCategoryFactory, default_statuses
from relay.channels.telephony import selectors as telephony
from relay.channels.telephony.tests import conftest as phone
from relay.channels.telephony.tests.test_pop import _ring, _sync_account
from relay.commerce import selectors as commerce
from relay.commerce.models import Product
from relay.commerce.services import commerce_sync
from relay.commerce.tests import conftest as shop
from relay.core.prepared import Prepared
from relay.core.testing import people
from relay.core.testing.factories import (
    ExternalIdentifierFactory,
    InteractionFactory,
    PartyFactory,
    RelationshipFactory,
    UserFactory,
)
from relay.customers import selectors as customers
from relay.recommendations import selectors as recommendations
from relay.recommendations.models import RunStatus, TrainingRun
from relay.recommendations.services import train

pytestmark = pytest.mark.django_db

MODULES = (telephony, commerce, recommendations, customers)
PREPARED = sorted(
    (
        (f"{m.__name__}.{name}", value)
        for m in MODULES
        for name, value in vars(m).items()
        if isinstance(value, Prepared)
    ),
    key=lambda item: item[0],
)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The caller's file and the users, built once for the module (`shared_data`: each test's writes roll
    back, the world with the module)."""
    with override_settings(**phone.PHONE_SETTINGS), people.shared_data(django_db_blocker):
        with django_db_blocker.unblock():
            default_statuses()
            departments = people.departments()
            schemes = people.schemes()
            care = departments["Customer Care"]
            phone.make_line(care)
            caller = phone.make_caller()
            manager = people.USERS["manager"](departments)
            file = _file(caller, care, departments, manager, schemes)
            users = _users(file, care, departments, people.USERS["inactive_user"](departments))
        yield {"file": file, "caller": caller, "users": users}


@pytest.fixture
def file(world):
    return world["file"]


@pytest.fixture
def caller(world):
    return world["caller"]


@pytest.fixture
def users(world):
    return world["users"]


def _file(
    caller: Any, care: Any, departments: dict[str, Any], manager: Any, schemes: dict[str, Any]
) -> dict[str, Any]:
    """The caller's file with something for every read: an account, a case in Care and a confidential
    one in Billing, an interaction of each, an identifier, an employer, a trained recommender."""
    _sync_account(caller)
    ExternalIdentifierFactory(party=caller, scheme=schemes["tax_id"], value="123-45-6789")
    RelationshipFactory(person=caller, organisation__organisation_name="Navy Labs")
    secret = CaseCategoryFactory(name="Fraud", is_confidential=True)
    billing = departments["Billing"]
    hidden = case_open(
        actor=manager, party=caller, subject="Suspected fraud", department=billing, category=secret
    )
    case_open(actor=manager, party=caller, subject="No dial tone", department=care)
    InteractionFactory(party=caller, case=hidden, subject="About the fraud")
    InteractionFactory(party=caller, subject="Asked about the bill")
    erp = User.objects.get(username="erp.sync")
    for n in range(4):  # other customers who bought what the caller did, and a case with it
        row = {**shop.order_rows()[0], "external_id": f"O-other-{n}", "party": PartyFactory().pk}
        row["lines"] = [
            {"product": sku, "quantity": 1, "unit_price": "1.00"} for sku in ("HS-PIXEL", "AC-CASE")
        ]
        commerce_sync(actor=erp, kind="orders", source="erp", records=[row])
    train(trigger="test")
    return {"call": _ring(), "secret": hidden, "other": PartyFactory()}


def _users(file: dict[str, Any], care: Any, departments: dict[str, Any], inactive_user: Any) -> list[Any]:
    billing = departments["Billing"]
    everyone = [inactive_user]
    for role in Role.values:
        for department in (care, billing, None):
            name = f"{role}-{department.slug if department else 'none'}"
            everyone.append(
                UserFactory(username=name, role=role, departments=[department] if department else [])
            )
    watcher = UserFactory(username="watcher", role=Role.AGENT, departments=[care])
    case_watch(actor=UserFactory(username="lead", role=Role.MANAGER), case=file["secret"], user=watcher)
    return [*everyone, watcher]


def _values(prepared: Prepared, user: Any, party: Any, context: dict[str, Any]) -> dict[str, Any]:
    products = sorted(Product.objects.values_list("pk", flat=True))
    known = {
        "actor": user,
        "pk": context["call"].pk if prepared is telephony._CALL else party.pk,
        "party_id": party.pk,
        "on": datetime.date(2026, 12, 2),
        "limit": 5,
        "run_id": TrainingRun.objects.get(status=RunStatus.ACTIVE).pk,
        "owned": [Product.objects.get(sku="HS-PIXEL").pk],
        "ids": products,
        "user_id": user.pk,
        "department_id": context["call"].line.department_id,
        "order": customers.PARTY_ORDERINGS["name"],  # the party list's first page
        "backwards": False,
        "size": 25,
        "after": "a",  # a page after a cursor
        "after_pk": 1,
    }
    names = prepared.build.__code__.co_varnames[: prepared.build.__code__.co_kwonlyargcount]
    return {name: known[name] for name in names}


def _snapshot(row: Any) -> Any:
    """A row as data: a model instance's fields and the related objects loaded with it."""
    if isinstance(row, Model):
        fields = {k: v for k, v in vars(row).items() if k != "_state"}
        related = {k: _snapshot(v) for k, v in row._state.fields_cache.items()}
        return (type(row).__name__, fields, related)
    return row


@pytest.mark.parametrize(("name", "prepared"), PREPARED, ids=[name for name, _ in PREPARED])
def test_each_read_returns_what_its_queryset_returns_for_every_user(name, prepared, file, caller, users):
    seen_rows = False
    for user in users:
        for party in (caller, file["other"]):  # the second party runs the plan the first one made
            values = _values(prepared, user, party, file)
            expected = [_snapshot(r) for r in prepared.build(**values)]
            assert [_snapshot(r) for r in prepared.fetch(**values)] == expected, (name, user.username)
            seen_rows = seen_rows or bool(expected)
    assert seen_rows, f"{name} found nothing for anyone: the test would not notice a wrong row"


@pytest.mark.parametrize(("name", "prepared"), PREPARED, ids=[name for name, _ in PREPARED])
def test_users_with_one_key_compile_one_sql(name, prepared, file, caller, users):
    by_key: dict[Any, set[Any]] = {}
    first = _values(prepared, users[0], caller, file)
    for user in users:  # the substituted values are one user's: the rest of the SQL is the question
        values = {
            **_values(prepared, user, caller, file),
            **{n: first[n] for n in prepared.names if n in first},
        }
        try:
            sql = prepared.build(**values).query.sql_with_params()
        except EmptyResultSet:
            sql = "empty"
        by_key.setdefault(prepared.key_of(values), set()).add(str(sql))
    assert all(len(sqls) == 1 for sqls in by_key.values()), name


def test_the_keys_tell_apart_users_the_confidential_case_is_hidden_from(file, caller, users):
    """An agent outside Billing does not see the fraud case; the watcher, Billing's agent and a manager do."""
    seen = {}
    for user in users:
        found = telephony._OPEN_CASES.fetch(actor=user, party_id=caller.pk)
        seen[user.username] = any(c.pk == file["secret"].pk for c in found)
    assert seen["agent-customer-care"] is False and seen["agent-none"] is False
    assert seen["agent-billing"] is True and seen["watcher"] is True and seen["manager-none"] is True
    assert not any(seen[u.username] for u in users if not u.is_active)
