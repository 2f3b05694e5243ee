"""Two agents transfer the same case at once through the API (issue 3): one wins, the other gets a 409
with the current state, and nothing is lost."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from relay.cases.models import Case, CaseEvent
from relay.core.testing.api import assert_problem, client_for


def _transfer(client, case, department, note):
    body = {"department": department.pk, "reason": "Not ours", "note": note, "version": 1}
    return client.post(f"/api/v1/cases/{case.pk}/transfer/", body, format="json")


def _assert_one_won(case, responses, targets):
    winners = [r for r in responses if r.status_code == 200]
    losers = [r for r in responses if r.status_code == 409]
    assert len(winners) == 1 and len(losers) == 1, [(r.status_code, r.content[:300]) for r in responses]
    won = winners[0].json()
    lost = assert_problem(losers[0], 409)
    # the loser sees the winner's change: the case as it is now
    assert lost["current_version"] == 2 and lost["current"]["version"] == 2
    assert lost["current"]["department"] == won["department"] != targets[responses.index(losers[0])].pk
    # nothing lost: the case is where the winner put it, and the winner's transfer is on its history
    current = Case.objects.get(pk=case.pk)
    assert (current.version, current.department_id) == (2, won["department"])
    transfers = CaseEvent.objects.filter(case=case, kind="transferred")
    assert [e.to_department_id for e in transfers] == [won["department"]]
    assert transfers.get().entry.party_id == case.party_id
    assert current.history.count() == 2  # opened, transferred


@pytest.mark.django_db
def test_the_second_of_two_transfers_of_one_version_gets_409_with_the_current_state(
    open_case, tech_agent, tech_colleague, billing, care
):
    """Sequentially (both databases): the second request names a version that is no longer current."""
    case = open_case()
    first = _transfer(client_for(tech_agent), case, billing, "Check the bill")
    second = _transfer(client_for(tech_colleague), case, care, "Back to care")
    _assert_one_won(case, [first, second], [billing, care])
    assert first.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_agents_transferring_at_once_one_wins_the_other_gets_409(
    open_case, tech_agent, tech_colleague, billing, care
):
    """At the same moment, in two threads with their own connections (PostgreSQL's row lock decides)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database serialises threads differently; PostgreSQL only")
    case = open_case()
    tokens = [client_for(user)._credentials["HTTP_AUTHORIZATION"] for user in (tech_agent, tech_colleague)]
    targets = [billing, care]
    barrier = threading.Barrier(2)
    responses: list = [None, None]

    def run(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=tokens[i])
        barrier.wait()
        try:
            responses[i] = _transfer(client, case, targets[i], f"from thread {i}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in responses), responses
    _assert_one_won(case, responses, targets)
