"""Automatic assignment under concurrent openings (PostgreSQL): the department's routing row is locked
while the next member is chosen, so round-robin never skips or repeats a turn and least-open counts the
cases the other openings just assigned."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection

from relay.accounts.choices import Role
from relay.cases import services
from relay.cases.models import Case, DepartmentRouting
from relay.cases.services import routing
from relay.cases.services.routing import RuleInput
from relay.core.testing.concurrency import run_at_once
from relay.core.testing.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database serialises threads differently; PostgreSQL only")


@pytest.fixture
def team(billing):
    return [UserFactory(username=f"rr{i}", role=Role.AGENT, departments=[billing]) for i in range(3)]


@pytest.mark.parametrize("strategy", ["round_robin", "least_open"])
def test_concurrent_openings_share_the_work_evenly(agent, party, manager, billing, team, strategy):
    routing.routing_rule_create(
        actor=manager,
        data=RuleInput(name="bills", department=billing, keywords=["bill"], assignment=strategy),
    )

    def open_one():
        return services.case_open(actor=agent, party=party, subject="Bill question")

    results = run_at_once(*[open_one for _ in range(9)])
    assert all(isinstance(r, Case) for r in results), results
    per_member = Counter(Case.objects.values_list("assignee_id", flat=True))
    assert per_member == {member.pk: 3 for member in team}
    assert DepartmentRouting.objects.filter(department=billing).count() == 1


def test_the_first_openings_of_a_department_create_one_routing_row(agent, party, manager, billing, team):
    # nobody has configured Billing: its routing row is created by whichever opening comes first
    assert not DepartmentRouting.objects.exists()
    routing.routing_rule_create(
        actor=manager,
        data=RuleInput(name="bills", department=billing, keywords=["bill"], assignment="round_robin"),
    )
    results = run_at_once(*[lambda: services.case_open(actor=agent, party=party, subject="bill")] * 4)
    assert all(isinstance(r, Case) for r in results), results
    assert DepartmentRouting.objects.count() == 1
    assert len({r.assignee_id for r in results}) == 3
