"""Two agents at once: numbers never collide, a second transfer of the same version loses with a 409."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from relay.cases import services
from relay.cases.models import Case, CaseEvent
from relay.core.exceptions import ConflictError

pytestmark = pytest.mark.django_db(transaction=True)


def _run_at_once(*jobs):
    """Run the jobs in threads released together; return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i, job):
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database serialises threads differently; PostgreSQL only")


def test_concurrent_openings_get_distinct_numbers(open_case):
    results = _run_at_once(*[open_case for _ in range(6)])
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

    results = _run_at_once(transfer(billing), transfer(care))
    winners = [r for r in results if isinstance(r, Case)]
    losers = [r for r in results if isinstance(r, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].current_version == 2
    current = Case.objects.get(pk=case.pk)
    assert (current.version, current.department_id) == (2, winners[0].department_id)
    assert CaseEvent.objects.filter(case=case, kind="transferred").count() == 1
