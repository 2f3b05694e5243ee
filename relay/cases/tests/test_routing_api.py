"""/api/v1/routing-rules/: the generic CRUD and refusal tests, the sample test endpoint, and what agents
may not do."""

from __future__ import annotations

from typing import Any

import pytest

from relay.cases.models import Case, CaseEvent, RoutingRule
from relay.cases.services import routing
from relay.cases.services.routing import RuleInput
from relay.core.testing.api import APIViewTests, assert_problem, client_for
from relay.core.testing.factories import DepartmentFactory, PartyFactory
from relay.customers.models import Tag

pytestmark = pytest.mark.django_db


class TestRoutingRuleAPI(APIViewTests):
    """Rules are written by managers and admins only. The generic cases write as `ctx["agent"]` and, for a
    second writer, `ctx["supervisor"]`; here those two are a manager and an admin, and the real agent's and
    supervisor's refusals are the tests below the class (and the access matrix)."""

    endpoint = "/api/v1/routing-rules/"
    model = RoutingRule
    invalid_fields = ("name", "channels.0", "department")
    deleters = frozenset({"agent", "supervisor"})  # the manager and the admin, see above

    @pytest.fixture
    def ctx(self, agent, other_agent, supervisor, manager, admin_user, auditor, inactive_user, schemes):
        return {
            "agent": manager,
            "other_agent": other_agent,
            "supervisor": admin_user,
            "manager": manager,
            "admin": admin_user,
            "auditor": auditor,
            "inactive": inactive_user,
            "schemes": schemes,
            "real_agent": agent,
        }

    def make(self, ctx: dict[str, Any]) -> RoutingRule:
        n = RoutingRule.objects.count()
        department = DepartmentFactory(name=f"Queue {n}")
        return routing.routing_rule_create(
            actor=ctx["manager"],
            data=RuleInput(name=f"rule {n} {department.pk}", department=department, keywords=["unpaid"]),
        )

    def create_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        department = DepartmentFactory()
        return {
            "name": f"to {department.name}",
            "department": department.pk,
            "keywords": ["no dial tone"],
            "channels": ["phone"],
            "assignment": "round_robin",
        }

    def update_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"keywords": ["unpaid", "arrears"], "priority": "high"}

    def invalid_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"name": "", "channels": ["pigeon"], "department": 999999999}


@pytest.fixture
def rule(manager, departments):
    return routing.routing_rule_create(
        actor=manager,
        data=RuleInput(name="unpaid bill", department=departments["Billing"], keywords=["unpaid"]),
    )


@pytest.mark.parametrize("who", ["agent", "other_agent", "supervisor", "auditor"])
def test_agents_supervisors_and_auditors_read_but_may_not_change_rules(request, who, rule, departments):
    client = client_for(request.getfixturevalue(who))
    assert client.get(f"/api/v1/routing-rules/{rule.pk}/").status_code == 200
    body = {"name": "mine", "department": departments["Sales"].pk}
    assert_problem(client.post("/api/v1/routing-rules/", body, format="json"), 403)
    assert_problem(
        client.patch(f"/api/v1/routing-rules/{rule.pk}/", {"name": "x", "version": 1}, format="json"), 403
    )
    assert_problem(client.delete(f"/api/v1/routing-rules/{rule.pk}/?version=1"), 403)
    assert_problem(client.post("/api/v1/routing-rules/test/", {"subject": "unpaid"}, format="json"), 403)
    assert list(RoutingRule.objects.values_list("name", "version")) == [("unpaid bill", 1)]


def test_the_sample_endpoint_explains_the_decision_and_writes_nothing(manager, rule, departments, agent):
    party = PartyFactory()
    party.tags.add(Tag.objects.create(name="vip", slug="vip"))
    before = (Case.objects.count(), CaseEvent.objects.count(), RoutingRule.history.count())
    response = client_for(manager).post(
        "/api/v1/routing-rules/test/",
        {"subject": "Bill UNPAID", "channel": "phone", "party": party.pk, "originator": agent.pk},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["rule"], body["rule_name"], body["department_name"]) == (rule.pk, "unpaid bill", "Billing")
    assert body["text"] == "routed to Billing by rule 'unpaid bill'"
    assert body["explanation"] == ["rule 'unpaid bill' matched: keyword 'unpaid' in the subject"]
    assert body["checks"] == [
        {
            "rule": rule.pk,
            "name": "unpaid bill",
            "is_active": True,
            "matched": True,
            "reasons": ["keyword 'unpaid' in the subject"],
        }
    ]
    assert (Case.objects.count(), CaseEvent.objects.count(), RoutingRule.history.count()) == before


def test_no_matching_rule_is_the_default_queue_of_the_originator(manager, rule, agent):
    response = client_for(manager).post(
        "/api/v1/routing-rules/test/", {"subject": "roaming", "originator": agent.pk}, format="json"
    )
    body = response.json()
    assert (body["rule"], body["department_name"]) == (None, "Customer Care")
    assert body["text"] == "no rule matched: default queue Customer Care"


@pytest.mark.parametrize(
    "body",
    [
        {"party": 2457994227352299363273859626172416},
        {"category": 2457994227352299363273859626172416},
        {"originator": 2457994227352299363273859626172416},
        {"originating_department": 2457994227352299363273859626172416},
        {"party": 999999},
        {"category": 999999},
        {"channel": "pigeon"},
        {"originator": "x"},
        {"subject": "a\x00b"},
        {"subject": "x" * 300},
    ],
)
def test_bad_samples_are_400(manager, rule, body):
    assert_problem(client_for(manager).post("/api/v1/routing-rules/test/", body, format="json"), 400)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "department": 1, "keywords": "unpaid"},
        {"name": "x", "department": 1, "keywords": ["   "]},
        {"name": "x", "department": 1, "keywords": ["k" * 101]},
        {"name": "x", "department": 1, "keywords": ["a"] * 51},
        {"name": "x", "department": 1, "categories": [2457994227352299363273859626172416]},
        {"name": "x", "department": 1, "categories": [999999]},
        {"name": "x", "department": 1, "originators": ["me"]},
        {"name": "x", "department": 1, "tags": ["***"]},
        {"name": "x", "department": 1, "roles": ["emperor"]},
        {"name": "x", "department": 1, "order": -1},
        {"name": "x", "department": 1, "assignment": "lottery"},
        {"name": "x", "department": 1, "priority": "whenever"},
        {"name": "x\x00", "department": 1},
        {"name": "unpaid BILL", "department": 1},
    ],
)
def test_bad_rules_are_400_and_write_nothing(manager, rule, body):
    body = {**body, "department": rule.department_id}
    count = RoutingRule.objects.count()
    assert_problem(client_for(manager).post("/api/v1/routing-rules/", body, format="json"), 400)
    assert RoutingRule.objects.count() == count


def test_rules_are_listed_in_the_order_they_are_tried(manager, rule, departments):
    client = client_for(manager)
    first = client.post(
        "/api/v1/routing-rules/",
        {"name": "first", "department": departments["Sales"].pk, "order": 1},
        format="json",
    )
    assert first.status_code == 201
    names = [r["name"] for r in client.get("/api/v1/routing-rules/").json()["results"]]
    assert names == ["first", "unpaid bill"]


def test_an_out_of_range_department_is_400(manager):
    body = {"name": "x", "department": 2457994227352299363273859626172416}
    assert_problem(client_for(manager).post("/api/v1/routing-rules/", body, format="json"), 400, "department")
