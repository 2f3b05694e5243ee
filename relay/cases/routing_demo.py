"""The demo organisation's routing rules (relay/core/demo.py calls this), made through the services."""

from __future__ import annotations

from relay.accounts.models import Department, User
from relay.cases.models import RoutingRule
from relay.cases.services import routing
from relay.cases.services.routing import RuleInput


def load_demo_routing(*, admin: User, departments: dict[str, Department]) -> list[RoutingRule]:
    """A few sensible rules: unpaid bills to Billing, lines that cannot call to Technical Support (high
    priority), water problems the official's office logs to Water. Cases land in the department's queue
    (each department's own setting, manual in the demo); cases logged with a department are not routed."""
    office = departments["Official's Office"]
    rules = [
        RuleInput(
            name="unpaid bill",
            description="Payment problems are for Billing.",
            department=departments["Billing"],
            keywords=["unpaid", "not paid", "overdue", "line frozen", "payment reminder"],
        ),
        RuleInput(
            name="no dial tone / cannot make calls",
            description="A line that cannot call is an outage: Technical Support, high priority.",
            department=departments["Technical Support"],
            keywords=["no dial tone", "cannot make calls", "can't make calls", "no signal", "no network"],
            priority="high",
        ),
        RuleInput(
            name="water",
            description="Citizens' water problems, logged by the official's office, go to Water.",
            department=departments["Water"],
            keywords=["water", "leak", "pipe", "flooding"],
            originating_departments=[office.pk],
        ),
    ]
    return [routing.routing_rule_create(actor=admin, data=data) for data in rules]
