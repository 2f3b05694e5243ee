"""Two agents at once: numbers never collide, a second transfer of the same version loses with a 409."""

from __future__ import annotations

import pytest
from django.db import connection

from relay.cases import services
from relay.cases.models import Case, CaseEvent
from relay.core.exceptions import ConflictError
from relay.core.testing.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database serialises threads differently; PostgreSQL only")


def test_concurrent_openings_get_distinct_numbers(open_case):
    results = run_at_once(*[open_case for _ in range(6)])
    assert all(isinstance(r, Case) for r in results), results
    numbers = [r.number for r in results]
    assert len(set(numbers)) == 6
    assert sorted(Case.objects.values_list("number", flat=True)) == sorted(numbers)


def test_two_transfers_of_one_version_one_wins_the_other_conflicts(open_case, tech_agent, billing, care):
    case = open_case()

    def transfer(department):
        return lambda: services.case_transfer(
            actor=tech_agent, case=case, department=department, reason="r", note="n", expected_version=1
        )

    results = run_at_once(transfer(billing), transfer(care))
    winners = [r for r in results if isinstance(r, Case)]
    losers = [r for r in results if isinstance(r, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].current_version == 2
    current = Case.objects.get(pk=case.pk)
    assert (current.version, current.department_id) == (2, winners[0].department_id)
    assert CaseEvent.objects.filter(case=case, kind="transferred").count() == 1
