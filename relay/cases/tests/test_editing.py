"""case_update: subject, description, category and priority, with a version and an `edited` event."""

import pytest

from relay.cases import services
from relay.cases.models import CaseEvent
from relay.cases.tests.factories import CaseCategoryFactory
from relay.core.exceptions import ApplicationError, ConflictError, NotAllowed

pytestmark = pytest.mark.django_db


def test_an_edit_is_a_new_version_with_an_event_listing_before_and_after(open_case, tech_agent):
    case = open_case(priority="normal")
    billing = CaseCategoryFactory(name="Billing")
    # when the handler raises the priority and files it under Billing
    updated = services.case_update(
        actor=tech_agent,
        case=case,
        changes={"priority": "urgent", "category": billing, "subject": "  No calls at all "},
        expected_version=case.version,
    )
    # then the case has a new version and its history says what changed
    assert (updated.version, updated.priority, updated.category, updated.subject) == (
        case.version + 1,
        "urgent",
        billing,
        "No calls at all",
    )
    event = CaseEvent.objects.get(case=case, kind="edited")
    assert event.actor == tech_agent
    assert event.data["changes"] == {
        "priority": ["normal", "urgent"],
        "category": [None, {"id": billing.pk, "name": "Billing"}],
        "subject": ["Cannot make calls", "No calls at all"],
    }
    assert event.entry.party_id == case.party_id and "Edited" in event.entry.subject
    assert updated.history.latest().history_user == tech_agent


def test_sending_the_values_already_there_changes_nothing(open_case, tech_agent):
    case = open_case()
    same = services.case_update(
        actor=tech_agent, case=case, changes={"subject": case.subject}, expected_version=case.version
    )
    assert same.version == case.version
    assert not CaseEvent.objects.filter(case=case, kind="edited").exists()


def test_a_stale_version_is_a_conflict_and_changes_nothing(open_case, tech_agent):
    case = open_case()
    services.case_update(actor=tech_agent, case=case, changes={"priority": "high"}, expected_version=1)
    with pytest.raises(ConflictError) as caught:
        services.case_update(actor=tech_agent, case=case, changes={"priority": "low"}, expected_version=1)
    assert caught.value.current_version == 2
    case.refresh_from_db()
    assert case.priority == "high"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 256}, "subject"),
        ({"priority": "whenever"}, "priority"),
        ({"status_category": "closed"}, "status_category"),
    ],
)
def test_bad_values_are_field_errors(open_case, tech_agent, changes, field):
    case = open_case()
    with pytest.raises(ApplicationError) as caught:
        services.case_update(actor=tech_agent, case=case, changes=changes, expected_version=1)
    assert field in caught.value.errors
    case.refresh_from_db()
    assert case.version == 1


def test_an_inactive_category_is_refused(open_case, tech_agent):
    case = open_case()
    old = CaseCategoryFactory(is_active=False)
    with pytest.raises(ApplicationError) as caught:
        services.case_update(actor=tech_agent, case=case, changes={"category": old}, expected_version=1)
    assert "category" in caught.value.errors


def test_auditors_cannot_edit(open_case, auditor):
    case = open_case()
    with pytest.raises(NotAllowed):
        services.case_update(actor=auditor, case=case, changes={"priority": "low"}, expected_version=1)
