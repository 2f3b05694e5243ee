"""relay.core.constraints: a check constraint answered in Python says what the database says, for every
check in Relay and every combination of edge values of the fields it reads, NULL included."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.db.models.constraints import CheckConstraint
from django.test.utils import CaptureQueriesContext

from relay.commerce.models import Invoice
from relay.core.constraints import Unsupported, evaluate, validate_constraints
from relay.customers.models import ContactPoint, Party

pytestmark = pytest.mark.django_db

_MOMENTS = [
    datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC),
    datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
]


def _relay_checks() -> list[tuple[type[models.Model], CheckConstraint]]:
    return [
        (model, constraint)
        for model in apps.get_models()
        if model.__module__.startswith("relay.")
        for constraint in model._meta.constraints
        if isinstance(constraint, CheckConstraint)
    ]


def _references(condition: Q) -> tuple[set[str], list[Any]]:
    """The fields a condition reads and the literals it compares them with."""
    names: set[str] = set()
    literals: list[Any] = []
    for child in condition.children:
        if isinstance(child, Q):
            more, values = _references(child)
            names |= more
            literals += values
            continue
        path, value = child  # type: ignore[misc]
        names.add(path.split("__")[0])
        if isinstance(value, F):
            names.add(value.name)
        elif isinstance(value, (list, tuple)):
            literals += list(value)
        else:
            literals.append(value)
    return names, literals


def _edge_values(field: models.Field, literals: list[Any]) -> list[Any]:
    if isinstance(field, (models.CharField, models.TextField)):
        return [None, "", "a", *{str(v) for v in literals if isinstance(v, str)}]
    if isinstance(field, models.BooleanField):
        return [None, True, False]
    if isinstance(field, models.DecimalField):
        return [None, Decimal("-0.01"), Decimal("0"), Decimal("0.01"), Decimal("12.50")]
    if isinstance(field, (models.IntegerField, models.ForeignKey, models.AutoField)):
        numbers = {
            n + d for n in literals if isinstance(n, int) and not isinstance(n, bool) for d in (-1, 0, 1)
        }
        return [None, 0, 1, 2, *sorted(numbers)]
    if isinstance(field, models.DateTimeField):
        return [None, *_MOMENTS]
    if isinstance(field, models.DateField):
        return [None, datetime.date(2026, 1, 1), datetime.date(2026, 1, 2)]
    raise AssertionError(f"no edge values for {field!r}: add them here")


@pytest.mark.parametrize(
    ("model", "constraint"), _relay_checks(), ids=lambda v: getattr(v, "name", getattr(v, "__name__", ""))
)
def test_every_check_of_relay_is_answered_in_python_as_the_database_answers_it(model, constraint):
    names, literals = _references(constraint.condition)
    fields = [model._meta.get_field(name) for name in sorted(names)]
    grid = [_edge_values(field, literals) for field in fields]
    compared = 0
    for values in itertools.product(*grid):
        instance = model()
        for field, value in zip(fields, values, strict=True):
            setattr(instance, field.attname, value)
        in_python = evaluate(constraint.condition, instance) is not False  # never Unsupported for these
        try:
            constraint.validate(model, instance)
            in_database = True
        except ValidationError:
            in_database = False
        assert in_python == in_database, dict(zip(names, values, strict=False))
        compared += 1
    assert compared >= 3


def test_three_valued_logic_unknown_passes_and_none_is_is_null():
    party = Party(display_name=None)  # type: ignore[misc]
    assert evaluate(~Q(display_name=""), party) is None  # NULL <> '' is unknown: the check passes
    assert evaluate(Q(display_name=None), party) is True  # Django's IS NULL
    assert evaluate(Q(display_name__isnull=False) | ~Q(display_name=""), party) is None
    assert evaluate(Q(display_name__isnull=False) & ~Q(display_name=""), party) is False
    party.display_name = "Ada"
    assert evaluate(Q(display_name__in=["Ada", "Bob"]), party) is True


@pytest.mark.parametrize(
    "condition",
    [
        Q(display_name__startswith="A"),  # not a lookup answered here
        Q(display_name__gt="A"),  # the order of strings is the collation's
        Q(owner__username="ada"),  # across a relation
        Q(version=F("version") + 1),  # an expression
        Q(version="1"),  # a string compared with a number
        Q(display_name__in=["A", None]),
    ],
)
def test_what_python_cannot_answer_exactly_is_left_to_the_database(condition):
    with pytest.raises(Unsupported):
        evaluate(condition, Party(display_name="Ada", version=1))


def test_checks_are_validated_without_a_query_and_fail_with_their_message():
    invoice = Invoice(
        amount=Decimal("-1"), issued_on=datetime.date(2026, 1, 2), due_on=datetime.date(2026, 1, 1)
    )
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError) as raised:
        validate_constraints(invoice, exclude={"party", "number"})
    assert not [q for q in queries.captured_queries if "_check" in q["sql"]]
    messages = " ".join(raised.value.messages)
    assert "invoice_amount_not_negative" in messages and "invoice_due_after_issue" in messages


def test_a_constraint_the_caller_has_checked_is_left_to_the_database():
    party = Party.objects.create(display_name="Ada", name_key="ada")
    ContactPoint.objects.create(party=party, kind="phone", raw="+14155550100", normalized="+14155550100")
    again = ContactPoint(party=party, kind="phone", raw="+14155550100", normalized="+14155550100")

    with pytest.raises(ValidationError, match="already has that contact point"):
        validate_constraints(again)
    with CaptureQueriesContext(connection) as queries:
        validate_constraints(again, checked={"contact_unique_per_party"})
    assert not queries.captured_queries
    with pytest.raises(IntegrityError), transaction.atomic():
        again.save()  # the database still refuses it


def test_a_check_python_cannot_answer_is_asked_of_the_database(monkeypatch):
    constraint = CheckConstraint(condition=Q(display_name__startswith="A"), name="starts_with_a")
    monkeypatch.setattr(Party._meta, "constraints", [constraint])
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError):
        validate_constraints(Party(display_name="Bob"))
    assert [q for q in queries.captured_queries if "_check" in q["sql"]]
    validate_constraints(Party(display_name="Ada"))


def test_a_check_reading_a_field_found_invalid_is_not_validated():
    invoice = Invoice(
        amount=Decimal("-1"), issued_on=datetime.date(2026, 1, 2), due_on=datetime.date(2026, 1, 1)
    )
    with pytest.raises(ValidationError) as raised:
        validate_constraints(invoice, exclude={"party", "number", "amount"})
    assert raised.value.messages == ["Constraint “invoice_due_after_issue” is violated."]
    validate_constraints(invoice, exclude={"party", "number", "amount", "due_on"})
