"""`relay seed --cases N`: seeded cases look like opened ones to every selector (both databases)."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from relay.accounts.choices import Role
from relay.activities.models import TimelineEntry
from relay.cases import selectors, services
from relay.cases.choices import OPEN_CATEGORIES, StatusCategory
from relay.cases.models import Case, CaseEvent, CaseNumber, CaseStatusSpan
from relay.core.testing.factories import PartyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# the status categories a case passes through to reach each one, in order
PATHS = {
    StatusCategory.NEW: ["new"],
    StatusCategory.OPEN: ["open"],
    StatusCategory.WAITING_CUSTOMER: ["open", "waiting_customer"],
    StatusCategory.WAITING_THIRD_PARTY: ["open", "waiting_third_party"],
    StatusCategory.RESOLVED: ["open", "resolved"],
    StatusCategory.CLOSED: ["open", "resolved", "closed"],
}


@pytest.fixture
def staffed(departments):
    """Two agents in each of three departments, parties to open cases on."""
    people = {}
    for name in ("Customer Care", "Technical Support", "Billing"):
        people[name] = [UserFactory(role=Role.AGENT, departments=[departments[name]]) for _ in range(2)]
    for _ in range(15):
        PartyFactory()
    return people


def _seeded(count: int) -> list[Case]:
    return list(Case.objects.order_by("-id")[:count])


def test_seeded_cases_have_numbers_spans_events_and_timeline_entries(staffed):
    call_command("seed", "--cases", "240", "--open-share", "0.25", "--batch", "70")
    cases = _seeded(240)
    assert len(cases) == 240 and Case.objects.count() == 240
    numbers = [c.number for c in cases]
    assert all(re.fullmatch(r"C-\d{6}", n) for n in numbers) and len(set(numbers)) == 240
    assert set(CaseNumber.objects.values_list("id", flat=True)) == {int(n[2:]) for n in numbers}
    by_category = Counter(c.status_category for c in cases)
    still_open = sum(n for category, n in by_category.items() if category in OPEN_CATEGORIES)
    assert 20 <= still_open <= 100, by_category  # about a quarter
    assert by_category[StatusCategory.CLOSED] > by_category[StatusCategory.RESOLVED] > 0
    spans: dict[int, list[CaseStatusSpan]] = {}
    for span in CaseStatusSpan.objects.select_related("status").order_by("entered_at", "id"):
        spans.setdefault(span.case_id, []).append(span)
    events = {e.case_id: e for e in CaseEvent.objects.select_related("entry")}
    for case in cases:
        assert case.status.category == case.status_category and case.status.is_default
        if case.status_category in OPEN_CATEGORIES:  # nobody assigned: new, as case_open leaves it
            assert (case.assignee_id is None) == (case.status_category == StatusCategory.NEW)
        if case.assignee is not None:
            assert case.department_id in set(case.assignee.departments.values_list("pk", flat=True))
        chain = spans[case.pk]
        expected = PATHS[StatusCategory(case.status_category)]
        if case.assignee_id is None:
            expected = ["new", *expected[1:]]
        assert [s.category for s in chain] == expected
        assert all(a.left_at == b.entered_at for a, b in itertools.pairwise(chain))
        assert chain[-1].left_at is None and chain[-1].status_id == case.status_id
        assert (case.resolved_at is not None) == (case.status_category in ("resolved", "closed"))
        assert (case.closed_at is not None) == (case.status_category == "closed")
        assert (case.resolution_code != "") == (case.resolved_at is not None)
        assert case.last_activity_at >= case.opened_at
        event = events[case.pk]
        assert event.kind == "created" and event.to_department_id == case.department_id
        assert event.data["headline"] == f"Opened: {case.subject}"
        entry = event.entry
        assert entry.case_id == case.pk and entry.party_id == case.party_id and entry.kind == "case"
        assert entry.subject == f"{case.number} · Opened: {case.subject}"
    assert CaseEvent.objects.count() == TimelineEntry.objects.filter(kind="case").count() == 240


def test_selectors_find_seeded_cases_like_opened_ones(staffed, departments):
    call_command("seed", "--cases", "150", "--open-share", "0.5")
    care = departments["Customer Care"]
    reader = staffed["Technical Support"][0]
    expected = set(
        Case.objects.filter(department=care, status_category__in=OPEN_CATEGORIES).values_list("pk", flat=True)
    )
    assert expected
    page = selectors.department_queue(actor=reader, department=care, size=200)
    assert {c.pk for c in page.items} == expected
    worker = staffed["Customer Care"][0]
    mine = set(
        Case.objects.filter(assignee=worker, status_category__in=OPEN_CATEGORIES).values_list("pk", flat=True)
    )
    assert {c.pk for c in selectors.my_cases(actor=worker, size=200).items} == mine
    party = Case.objects.order_by("id").first().party
    listed = selectors.party_cases(actor=reader, party=party)
    assert sorted(c.pk for c in listed) == sorted(
        Case.objects.filter(party=party).values_list("pk", flat=True)
    )
    # a seeded case is worked like any other; a case opened afterwards takes the next number
    case = page.items[0]
    events = len(selectors.case_events(actor=reader, case=case))
    assert events == 1
    opened = services.case_open(actor=worker, party=party, subject="After the seed", department=care)
    assert int(opened.number[2:]) == CaseNumber.objects.order_by("-id").first().pk
    assert opened.number not in set(Case.objects.exclude(pk=opened.pk).values_list("number", flat=True))
    assert selectors.party_cases(actor=reader, party=party)[0].pk == opened.pk


def test_seeding_twice_appends_and_refuses_bad_input(staffed):
    call_command("seed", "--cases", "20")
    call_command("seed", "--cases", "20", "--open-share", "1")
    assert Case.objects.count() == 40
    assert all(c.status_category in OPEN_CATEGORIES for c in _seeded(20))
    with pytest.raises(CommandError):
        call_command("seed", "--cases", "-1")
    with pytest.raises(CommandError):
        call_command("seed", "--cases", "5", "--open-share", "1.5")


def test_seeding_cases_needs_parties(departments):
    with pytest.raises(CommandError, match="parties"):
        call_command("seed", "--cases", "5")
    assert not Case.objects.exists()
