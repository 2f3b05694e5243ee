"""`relay demo` leaves the agent console with work in it: cases at every stage, made through the services."""

import pytest

from relay.accounts.models import User
from relay.cases import selectors
from relay.cases.models import Case, CaseEvent
from relay.core.demo import load_demo

pytestmark = pytest.mark.django_db


def test_the_demo_opens_cases_in_the_telecom_and_the_public_office():
    load_demo(parties=20)
    story = Case.objects.get(subject="Cannot make calls")
    assert (story.department.name, story.assignee.username, story.status_category) == (
        "Billing",
        "billing.agent",
        "open",
    )
    kinds = list(CaseEvent.objects.filter(case=story).order_by("at", "id").values_list("kind", flat=True))
    assert kinds.count("transferred") == 2 and "note_added" in kinds and "interaction_logged" in kinds
    leak = Case.objects.get(subject="Water leak in the street")
    assert (leak.department.name, leak.assignee.username, leak.acknowledged_at is not None) == (
        "Water",
        "water.expert",
        True,
    )
    categories = set(Case.objects.values_list("status_category", flat=True))
    assert {"new", "open", "waiting_third_party", "resolved", "closed"} <= categories
    # every department of the telecom has something in its queue, and the confidential case stays hidden
    billing_agent = User.objects.get(username="billing.agent")
    tech_queue = selectors.department_queue(actor=billing_agent, department=story.department)
    assert tech_queue.items
    assert not Case.objects.restrict(billing_agent, "view").filter(subject="Suspected SIM swap").exists()
    assert (
        Case.objects.restrict(User.objects.get(username="care.agent"), "view")
        .filter(subject="Suspected SIM swap")
        .exists()
    )
