"""Case reads: queues, counts, the party's cases, the case timeline, reopen candidates."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relay.cases import selectors, services
from relay.cases.models import Case
from relay.cases.selectors import QueueFilters
from relay.cases.tests.factories import status_of
from relay.core import clock
from relay.core.exceptions import ApplicationError
from relay.core.testing.factories import PartyFactory

pytestmark = pytest.mark.django_db


def _resolve(case, actor):
    return services.case_resolve(
        actor=actor,
        case=case,
        resolution_code="solved",
        resolution_summary="ok",
        expected_version=case.version,
    )


def _close(case, actor):
    case = _resolve(case, actor)
    return services.case_close(actor=actor, case=case, expected_version=case.version)


@pytest.fixture
def queue(open_case, tech_agent):
    """Five Technical Support cases opened an hour apart: new, assigned, urgent, waiting, resolved."""
    start = clock.now() - timedelta(hours=10)
    cases = {}
    for i, name in enumerate(["new", "mine", "urgent", "waiting", "done"]):
        with time_machine.travel(start + timedelta(hours=i), tick=False):
            cases[name] = open_case(subject=name, priority="urgent" if name == "urgent" else "normal")
    cases["mine"] = services.case_assign(
        actor=tech_agent, case=cases["mine"], assignee=tech_agent, expected_version=1
    )
    cases["waiting"] = services.case_set_status(
        actor=tech_agent, case=cases["waiting"], status=status_of("waiting_customer"), expected_version=1
    )
    cases["done"] = _resolve(cases["done"], tech_agent)
    return cases


def _subjects(page):
    return [c.subject for c in page.items]


def test_the_queue_shows_open_cases_newest_first(queue, tech_agent, tech):
    page = selectors.department_queue(actor=tech_agent, department=tech)
    assert _subjects(page) == ["waiting", "urgent", "mine", "new"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (QueueFilters(status_category=["new"]), ["urgent", "new"]),
        (QueueFilters(status_category=["resolved", "waiting_customer"]), ["done", "waiting"]),
        (QueueFilters(priority=["urgent"]), ["urgent"]),
        (QueueFilters(unassigned=True), ["waiting", "urgent", "new"]),
    ],
)
def test_the_queue_filters(queue, tech_agent, tech, filters, expected):
    assert (
        _subjects(selectors.department_queue(actor=tech_agent, department=tech, filters=filters)) == expected
    )


def test_the_queue_filters_by_assignee_and_sorts_by_allow_listed_keys(queue, tech_agent, tech):
    mine = selectors.department_queue(
        actor=tech_agent, department=tech, filters=QueueFilters(assignee=tech_agent)
    )
    assert _subjects(mine) == ["mine"]
    oldest = selectors.department_queue(actor=tech_agent, department=tech, ordering="opened")
    assert _subjects(oldest) == ["new", "mine", "urgent", "waiting"]
    for bad in ("subject; DROP TABLE cases_case", "-party__display_name", "password"):
        with pytest.raises(ApplicationError) as excinfo:
            selectors.department_queue(actor=tech_agent, department=tech, ordering=bad)
        assert "ordering" in excinfo.value.errors
    with pytest.raises(ApplicationError) as excinfo:
        selectors.department_queue(
            actor=tech_agent, department=tech, filters=QueueFilters(status_category=["status_category__gt"])
        )
    assert "status_category" in excinfo.value.errors
    with pytest.raises(ApplicationError):
        selectors.department_queue(
            actor=tech_agent, department=tech, filters=QueueFilters(assignee=tech_agent, unassigned=True)
        )


def test_the_queue_pages_with_a_keyset_cursor(queue, tech_agent, tech):
    first = selectors.department_queue(actor=tech_agent, department=tech, size=3)
    assert _subjects(first) == ["waiting", "urgent", "mine"] and first.next_cursor
    second = selectors.department_queue(actor=tech_agent, department=tech, size=3, cursor=first.next_cursor)
    assert _subjects(second) == ["new"] and second.next_cursor is None
    back = selectors.department_queue(
        actor=tech_agent, department=tech, size=3, cursor=second.previous_cursor
    )
    assert _subjects(back) == _subjects(first)


def test_queue_counts_group_the_open_cases_and_cap_the_resolved_and_closed(
    queue, tech_agent, tech, billing, monkeypatch
):
    selectors.queue_counts(actor=tech_agent, department=tech)  # the category tree is cached after this
    with CaptureQueriesContext(connection) as queries:
        counts = selectors.queue_counts(actor=tech_agent, department=tech)
    assert counts == {
        "new": 2,
        "open": 1,
        "waiting_customer": 1,
        "waiting_third_party": 0,
        "resolved": 1,
        "closed": 0,
    }
    sqls = [q["sql"].upper() for q in queries.captured_queries]
    grouped = [sql for sql in sqls if "GROUP BY" in sql]
    assert len(grouped) == 1 and "'RESOLVED'" not in grouped[0] and "'CLOSED'" not in grouped[0]
    # resolved and closed are counted with a LIMIT, never in full
    assert sum("LIMIT 1000" in sql for sql in sqls) == 2
    # the only other query reads the configuration generation (the category tree, for the
    # confidentiality rule, is cached)
    assert len(sqls) <= 4
    assert sum(selectors.queue_counts(actor=tech_agent, department=billing).values()) == 0

    monkeypatch.setattr(selectors, "COUNT_CAP", 1)
    _resolve(queue["new"], tech_agent)
    assert selectors.queue_counts(actor=tech_agent, department=tech)["resolved"] == 1  # 2 resolved, capped


def test_the_department_s_own_people_count_without_the_per_row_rule_and_outsiders_with_it(
    open_case, tech_agent, tech_supervisor, agent, tech
):
    from relay.cases.tests.factories import CaseCategoryFactory
    from relay.core.testing.factories import UserFactory

    secret = CaseCategoryFactory(name="Fraud", is_confidential=True)
    open_case(subject="secret", category=secret)
    open_case(subject="plain")
    for insider in (tech_agent, tech_supervisor):
        with CaptureQueriesContext(connection) as queries:
            assert selectors.queue_counts(actor=insider, department=tech)["new"] == 2
        grouped = next(q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"])
        assert "JOIN" not in grouped  # no confidentiality join: an index-only count
    # the care agent who logged them is the originator of both: an agent of no department instead
    outsider = UserFactory(username="outsider", role="agent")
    assert selectors.queue_counts(actor=outsider, department=tech)["new"] == 1


def test_the_counts_subtract_exactly_the_confidential_cases_each_user_may_not_see(
    open_case, tech, billing, tech_agent, tech_supervisor, agent, other_agent, manager, auditor
):
    """Counts by subtraction (all rows less the hidden ones) equal counting what `restrict` keeps, for
    insiders, outsiders, watchers, assignees, originators, with and without an assignee."""
    from relay.cases.permissions import hidden_rule, visible_count, visible_counts
    from relay.cases.services import case_watch
    from relay.cases.tests.factories import CaseCategoryFactory
    from relay.core.testing.factories import UserFactory

    secret = CaseCategoryFactory(name="Fraud", is_confidential=True)
    below = CaseCategoryFactory(name="Card fraud", parent=secret)
    outsider = UserFactory(username="outsider", role="agent")
    watcher = UserFactory(username="watcher", role="agent")
    open_case(subject="plain")
    open_case(subject="secret, unassigned", category=secret)
    open_case(subject="secret, assigned", category=below, assignee=tech_agent)
    watched = open_case(subject="secret, watched", category=secret)
    case_watch(actor=manager, case=watched, user=watcher)
    open_case(subject="secret, billing", category=secret, department=billing)
    users = (tech_agent, tech_supervisor, agent, other_agent, manager, auditor, outsider, watcher)
    for user in users:
        visible = Case.objects.restrict(user, "view")
        hidden = hidden_rule(user)
        for department in (tech, billing):
            expected = dict(
                Counter(visible.filter(department=department).values_list("status_category", flat=True))
            )
            cases = Case.objects.filter(department=department)
            assert dict(visible_counts(cases, hidden, "status_category")) == expected, (user, department)
            total = sum(expected.values())
            assert visible_count(cases, hidden, 1000) == total
            assert visible_count(cases, hidden, 1) == min(total, 1)


def test_my_cases_are_the_open_cases_assigned_to_me(queue, tech_agent):
    assert _subjects(selectors.my_cases(actor=tech_agent)) == ["mine"]
    services.case_assign(actor=tech_agent, case=queue["urgent"], assignee=tech_agent, expected_version=1)
    assert _subjects(selectors.my_cases(actor=tech_agent)) == ["urgent", "mine"]  # most recently active first


def test_party_cases_list_open_cases_first(queue, tech_agent, party):
    other = services.case_open(actor=tech_agent, party=PartyFactory(), subject="someone else")
    cases = selectors.party_cases(actor=tech_agent, party=party)
    assert [c.subject for c in cases] == ["waiting", "urgent", "mine", "new", "done"]
    assert other not in cases


def test_case_events_are_the_case_timeline_in_order(queue, tech_agent, agent):
    case = queue["mine"]
    services.case_add_note(actor=agent, case=case, body="Customer called back")
    events = selectors.case_events(actor=tech_agent, case=case)
    assert [e.kind for e in events] == ["created", "assigned", "note_added"]
    assert all(e.entry is not None and e.entry.case_id == case.pk for e in events)


def test_case_get_finds_by_id_and_number(queue, agent):
    case = queue["new"]
    assert selectors.case_get(actor=agent, pk=case.pk) == case
    assert selectors.case_get_by_number(actor=agent, number=case.number.lower()) == case


def test_reopen_candidates_are_recently_closed_or_resolved_cases(open_case, tech_agent, party, settings):
    settings.RELAY_CASE_REOPEN_DAYS = 30
    with time_machine.travel(clock.now() - timedelta(days=40), tick=False):
        old = _close(open_case(subject="old"), tech_agent)
    with time_machine.travel(clock.now() - timedelta(days=10), tick=False):
        recent = _close(open_case(subject="recent"), tech_agent)
    with time_machine.travel(clock.now() - timedelta(days=5), tick=False):
        resolved = _resolve(open_case(subject="resolved"), tech_agent)
    still_open = open_case(subject="open")
    candidates = selectors.reopen_candidates(actor=tech_agent, party=party)
    assert candidates == [resolved, recent]
    assert old not in candidates and still_open not in candidates
    assert services.can_reopen(recent) and not services.can_reopen(old)
