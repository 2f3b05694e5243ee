"""The demo's routing rules route the demo's own stories."""

from __future__ import annotations

import pytest

from relay.accounts.models import User
from relay.cases import services
from relay.cases.models import RoutingRule
from relay.core.demo import load_demo
from relay.customers.models import Party

pytestmark = pytest.mark.django_db


def test_the_demo_rules_send_bills_outages_and_water_to_the_right_department():
    load_demo(parties=12)
    assert list(RoutingRule.objects.values_list("name", "department__name")) == [
        ("unpaid bill", "Billing"),
        ("no dial tone / cannot make calls", "Technical Support"),
        ("water", "Water"),
    ]
    care, office = User.objects.get(username="care.agent"), User.objects.get(username="office.agent")
    john = Party.objects.get(display_name="John Carter")
    outage = services.case_open(actor=care, party=john, subject="No dial tone", description="Since 8 am.")
    assert (outage.department.name, outage.priority) == ("Technical Support", "high")
    bill = services.case_open(actor=care, party=john, subject="Line frozen", description="Bill not paid?")
    assert bill.department.name == "Billing"
    leak = services.case_open(actor=office, party=john, subject="Water leak in the street")
    assert leak.department.name == "Water"
    assert leak.events.get(kind="routed").data["headline"] == "Routed to Water by rule 'water'"
    # care logging "water" is no public-office case: no rule, care's own queue
    assert services.case_open(actor=care, party=john, subject="Water damage to my phone").department.name == (
        "Customer Care"
    )
