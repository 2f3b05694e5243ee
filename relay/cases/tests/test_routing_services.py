"""Routing through the services: rules decide where a new case goes and who gets it, every decision is
in the case history, and the rules' own writes are checked, versioned and audited."""

from __future__ import annotations

import pytest

from relay.accounts.choices import Role
from relay.cases import services
from relay.cases.models import Case, CaseEvent, DepartmentRouting, RoutingRule
from relay.cases.services import routing
from relay.cases.services.routing import RuleInput
from relay.cases.tests.factories import CaseCategoryFactory
from relay.core.exceptions import ApplicationError, ConflictError, NotAllowed
from relay.core.testing.factories import ContactPointFactory, PartyFactory, UserFactory
from relay.customers.models import PartyRoleAssignment, Tag

pytestmark = pytest.mark.django_db


def make_rule(actor, department, name="rule", **conditions):
    """A rule made through the service, as an administrator would."""
    return routing.routing_rule_create(
        actor=actor, data=RuleInput(name=name, department=department, **conditions)
    )


def routed_texts(case):
    return [e.data["headline"] for e in CaseEvent.objects.filter(case=case, kind="routed").order_by("id")]


@pytest.fixture
def billing_team(billing):
    return [
        UserFactory(
            username=f"bill{i}", first_name="Bill", last_name=f"No{i}", role=Role.AGENT, departments=[billing]
        )
        for i in range(3)
    ]


@pytest.fixture
def unpaid(manager, billing):
    return make_rule(manager, billing, name="unpaid bill", keywords=["unpaid", "not paid"], priority="high")


# --- routing a new case ------------------------------------------------------------------------------------


def test_a_matching_rule_routes_the_case_and_the_history_says_why(agent, party, billing, unpaid):
    # given a rule sending unpaid bills to Billing with high priority
    # when care opens a case without choosing a department
    case = services.case_open(
        actor=agent, party=party, subject="Line frozen", description="The bill is unpaid."
    )
    # then Billing has it, with the rule's priority, and the history explains the decision
    assert (case.department, case.priority, case.assignee) == (billing, "high", None)
    assert [e.kind for e in case.events.order_by("id")] == ["created", "routed"]
    routed = case.events.get(kind="routed")
    assert routed.data["headline"] == "Routed to Billing by rule 'unpaid bill', priority high"
    assert (routed.data["rule_id"], routed.data["rule_name"], routed.to_department) == (
        unpaid.pk,
        "unpaid bill",
        billing,
    )
    assert routed.data["explanation"] == ["rule 'unpaid bill' matched: keyword 'unpaid' in the body"]
    created = case.events.get(kind="created")
    assert created.data["routed_by"] == "rule 'unpaid bill'"
    # one line on the party's timeline says both
    assert routed.entry == created.entry and created.entry.subject.endswith("Opened: Line frozen")
    assert created.entry.body.endswith("Routed to Billing by rule 'unpaid bill', priority high")


def test_the_first_matching_rule_in_order_wins(agent, party, manager, billing, tech):
    make_rule(manager, tech, name="technical", keywords=["line"])
    make_rule(manager, billing, name="billing", keywords=["line", "bill"])
    assert services.case_open(actor=agent, party=party, subject="Line dead").department == tech
    routing.routing_rule_move(actor=manager, rule=RoutingRule.objects.get(name="billing"), direction="up")
    assert services.case_open(actor=agent, party=party, subject="Line dead").department == billing


def test_an_explicit_department_wins_over_the_rules(agent, party, tech, unpaid):
    case = services.case_open(actor=agent, party=party, subject="Unpaid", department=tech)
    assert (case.department, case.priority) == (tech, "normal")
    assert routed_texts(case) == []  # the agent decided: nothing to explain
    assert case.events.get().data["routed_by"] == "chosen"


def test_without_rules_the_old_default_queue_holds_and_nothing_is_added(agent, party, care):
    case = services.case_open(actor=agent, party=party, subject="Unpaid bill")
    assert case.department == care and routed_texts(case) == []
    assert case.events.get().data["routed_by"] == "the originator's department"


def test_no_matching_rule_goes_to_the_default_queue_and_says_so(agent, party, care, unpaid):
    case = services.case_open(actor=agent, party=party, subject="Roaming question")
    assert case.department == care
    assert routed_texts(case) == ["No rule matched: default queue Customer Care"]
    assert case.events.get(kind="routed").data["explanation"] == [
        "rule 'unpaid bill' skipped: none of the keywords 'not paid', 'unpaid' is in the text"
    ]


def test_inactive_rules_are_not_tried(agent, party, manager, care, unpaid):
    routing.routing_rule_set_active(actor=manager, rule=unpaid, active=False, expected_version=unpaid.version)
    case = services.case_open(actor=agent, party=party, subject="Unpaid bill")
    assert case.department == care and routed_texts(case) == []  # no active rules: routing is off


def test_logging_from_a_call_is_routed_too(agent, party, billing, unpaid):
    ContactPointFactory(party=party, kind="phone", raw="+1 202 555 0142", normalized="+12025550142")
    result = services.case_log_from_call(actor=agent, phone="(202) 555-0142", subject="Bill not paid")
    assert result.case.department == billing
    assert [e.kind for e in result.case.events.order_by("id")] == ["created", "routed", "interaction_logged"]
    assert result.case.channel == "phone"


def test_party_attributes_category_subtree_and_originating_department(agent, manager, billing, tech, care):
    network = CaseCategoryFactory(name="Network")
    outage = CaseCategoryFactory(name="Outage", parent=network)
    gold = PartyFactory(family_name="Gold")
    gold.tags.add(Tag.objects.create(name="tier-gold", slug="tier-gold"))
    PartyRoleAssignment.objects.create(party_id=gold.pk, role="customer")
    ContactPointFactory(party=gold, kind="address", raw="", normalized="", region="CA", country="US")
    make_rule(manager, tech, name="network", categories=[network.pk])
    make_rule(
        manager,
        billing,
        name="gold customers in California",
        tiers=["gold"],
        regions=["ca"],
        roles=["customer"],
    )
    make_rule(manager, care, name="care's own", originating_departments=[care.pk], channels=["email"])
    plain = PartyFactory(family_name="Plain")
    assert services.case_open(actor=agent, party=plain, subject="x", category=outage).department == tech
    assert services.case_open(actor=agent, party=gold, subject="x").department == billing
    assert services.case_open(actor=agent, party=plain, subject="x", channel="email").department == care
    # no rule: the default queue (the agent's), and the history says so
    other = services.case_open(actor=agent, party=plain, subject="x", channel="phone")
    assert routed_texts(other) == ["No rule matched: default queue Customer Care"]


# --- assignment within the department ---------------------------------------------------------------------


def test_round_robin_is_fair_and_skips_away_inactive_and_non_working_members(
    agent, party, manager, billing, billing_team
):
    away = UserFactory(username="away", role=Role.AGENT, departments=[billing], is_away=True)
    gone = UserFactory(username="gone2", role=Role.AGENT, departments=[billing], is_active=False)
    reader = UserFactory(username="reader", role=Role.AUDITOR, departments=[billing])
    make_rule(manager, billing, name="bills", keywords=["bill"], assignment="round_robin")
    cases = [services.case_open(actor=agent, party=party, subject="Bill question") for _ in range(6)]
    assignees = [c.assignee for c in cases]
    assert assignees == billing_team + billing_team  # in turn, each twice
    assert not {away, gone, reader} & set(assignees)
    assert all(c.status_category == "open" for c in cases)  # assigned cases are open
    assert routed_texts(cases[0]) == [
        "Routed to Billing by rule 'bills'; assigned to Bill No0 by round-robin"
    ]
    assert DepartmentRouting.objects.get(department=billing).last_assigned == billing_team[2]
    # someone goes on a break: the turn wraps around without them
    billing_team[2].is_away = True
    billing_team[2].save()
    next_two = [services.case_open(actor=agent, party=party, subject="Bill").assignee for _ in range(2)]
    assert next_two == [billing_team[0], billing_team[1]]


def test_the_created_notice_reaches_the_assignee_only(agent, party, manager, billing, billing_team, outbox):
    make_rule(manager, billing, name="bills", keywords=["bill"], assignment="round_robin")
    case = services.case_open(actor=agent, party=party, subject="Bill")
    created = outbox("case.created")
    assert len(created) == 1 and billing_team[0].pk in created[0].recipients
    assert not {billing_team[1].pk, billing_team[2].pk} & set(created[0].recipients)
    assert not outbox("case.routed")  # the routing explanation is history, not a second notice
    assert case.assignee == billing_team[0]


def test_least_open_picks_the_member_with_fewest_open_cases(
    agent, party, manager, billing, billing_team, tech
):
    a, b, c = billing_team
    for who, n in ((a, 2), (b, 1)):
        for _ in range(n):
            services.case_open(actor=agent, party=party, subject="earlier", department=billing, assignee=who)
    # c has a closed case only: closed cases do not count
    done = services.case_open(actor=agent, party=party, subject="done", department=billing, assignee=c)
    services.case_resolve(
        actor=c, case=done, resolution_code="solved", resolution_summary="ok", expected_version=done.version
    )
    make_rule(manager, billing, name="bills", keywords=["bill"], assignment="least_open")
    picked = [services.case_open(actor=agent, party=party, subject="bill").assignee for _ in range(3)]
    # c has none open, then c and b have one each (the lower id first), then c is alone with one
    assert picked == [c, b, c]
    assert routed_texts(Case.objects.filter(subject="bill").order_by("id").first()) == [
        "Routed to Billing by rule 'bills'; assigned to Bill No2 by least open cases (0 open)"
    ]


def test_nobody_available_leaves_the_case_in_the_queue_and_says_why(agent, party, manager, tech):
    UserFactory(username="t1", role=Role.AGENT, departments=[tech], is_away=True)
    make_rule(manager, tech, name="tech", keywords=["line"], assignment="round_robin")
    case = services.case_open(actor=agent, party=party, subject="Line dead")
    assert case.assignee is None and case.status_category == "new"
    assert routed_texts(case) == [
        "Routed to Technical Support by rule 'tech'; nobody in Technical Support is available for "
        "round-robin (away or inactive): left in the queue"
    ]


def test_an_explicit_department_with_auto_assignment_uses_the_departments_strategy(
    agent, party, manager, billing, billing_team
):
    routing.department_routing_set(actor=manager, department=billing, strategy="round_robin")
    manual = services.case_open(actor=agent, party=party, subject="x", department=billing)
    assert manual.assignee is None  # the agent did not ask for it
    auto = services.case_open(actor=agent, party=party, subject="x", department=billing, auto_assign=True)
    assert auto.assignee == billing_team[0]
    assert routed_texts(auto) == ["Assigned to Bill No0 by round-robin"]
    chosen = services.case_open(
        actor=agent, party=party, subject="x", department=billing, assignee=billing_team[2], auto_assign=True
    )
    assert chosen.assignee == billing_team[2] and routed_texts(chosen) == []


def test_a_rule_may_defer_to_the_departments_own_setting(agent, party, manager, billing, billing_team):
    make_rule(manager, billing, name="bills", keywords=["bill"])  # assignment: the department's setting
    assert services.case_open(actor=agent, party=party, subject="bill").assignee is None
    routing.department_routing_set(actor=manager, department=billing, strategy="least_open")
    assert services.case_open(actor=agent, party=party, subject="bill").assignee == billing_team[0]


# --- testing a sample -------------------------------------------------------------------------------------


def test_testing_a_sample_writes_nothing_and_moves_no_pointer(
    agent, party, manager, billing, billing_team, unpaid
):
    routing.routing_rule_update(
        actor=manager, rule=unpaid, expected_version=1, changes={"assignment": "round_robin"}
    )
    counts = (Case.objects.count(), CaseEvent.objects.count(), DepartmentRouting.objects.count())
    for _ in range(2):
        result = routing.routing_test(actor=manager, party=party, subject="Unpaid bill", channel="phone")
        assert result.decision.rule == RoutingRule.objects.get(pk=unpaid.pk)
        assert result.decision.assignee == billing_team[0]  # the same each time: the pointer did not move
        assert (
            result.decision.text
            == "routed to Billing by rule 'unpaid bill', priority high; assigned to Bill No0 by round-robin"
        )
    assert [c.matched for c in result.checks] == [True]
    assert (Case.objects.count(), CaseEvent.objects.count(), DepartmentRouting.objects.count()) == counts


def test_testing_shows_inactive_rules_verdicts_but_routes_by_active_ones(
    manager, party, billing, tech, unpaid
):
    other = make_rule(manager, tech, name="anything")
    routing.routing_rule_set_active(actor=manager, rule=unpaid, active=False, expected_version=1)
    result = routing.routing_test(actor=manager, party=party, subject="unpaid")
    assert [(c.rule.name, c.matched) for c in result.checks] == [("unpaid bill", True), ("anything", True)]
    assert result.decision.rule == other


def test_agents_may_not_test_or_edit_rules(agent, supervisor, party, billing, unpaid):
    for who in (agent, supervisor):
        with pytest.raises(NotAllowed):
            routing.routing_test(actor=who, party=party, subject="x")
        with pytest.raises(NotAllowed):
            make_rule(who, billing, name="mine")
        with pytest.raises(NotAllowed):
            routing.routing_rule_update(actor=who, rule=unpaid, expected_version=1, changes={"name": "x"})
        with pytest.raises(NotAllowed):
            routing.routing_rule_delete(actor=who, rule=unpaid, expected_version=1)
        with pytest.raises(NotAllowed):
            routing.routing_rule_move(actor=who, rule=unpaid, direction="down")
        with pytest.raises(NotAllowed):
            routing.department_routing_set(actor=who, department=billing, strategy="round_robin")
    assert RoutingRule.objects.get().version == 1


# --- the rules' own writes --------------------------------------------------------------------------------


def test_a_rule_is_validated_field_by_field(manager, billing, departments):
    inactive = departments["Marketing"]
    inactive.is_active = False
    inactive.save()
    with pytest.raises(ApplicationError) as excinfo:
        routing.routing_rule_create(
            actor=manager,
            data=RuleInput(
                name=" ",
                department=inactive,
                channels=["pigeon"],
                keywords=["  ", "!!!"],
                roles=["emperor"],
                categories=[999999],
                originators=[True],  # a bool is no id
                priority="whenever",
                assignment="lottery",
                tags=["***"],
            ),
        )
    assert set(excinfo.value.errors) == {
        "name",
        "department",
        "channels",
        "keywords",
        "roles",
        "categories",
        "originators",
        "priority",
        "assignment",
        "tags",
    }
    assert not RoutingRule.objects.exists()


def test_rule_names_are_unique_ignoring_case(manager, billing, unpaid):
    with pytest.raises(ApplicationError) as excinfo:
        make_rule(manager, billing, name="Unpaid Bill")
    assert "name" in excinfo.value.errors


def test_values_are_normalised(manager, billing):
    rule = make_rule(
        manager, billing, name="n", keywords=[" unpaid ", "unpaid"], tags=["Late Payer"], tiers=["Gold"]
    )
    assert (rule.keywords, rule.tags, rule.tiers, rule.order) == (["unpaid"], ["late-payer"], ["gold"], 10)


def test_updates_are_versioned_and_audited(manager, admin_user, billing, tech, unpaid):
    updated = routing.routing_rule_update(
        actor=admin_user,
        rule=unpaid,
        expected_version=1,
        changes={"department": tech, "keywords": ["arrears"]},
    )
    assert (updated.version, updated.department, updated.keywords) == (2, tech, ["arrears"])
    with pytest.raises(ConflictError) as excinfo:
        routing.routing_rule_update(actor=manager, rule=unpaid, expected_version=1, changes={"name": "stale"})
    assert excinfo.value.current_version == 2
    history = list(unpaid.history.order_by("history_id"))
    assert [(h.history_type, h.history_user) for h in history] == [("+", manager), ("~", admin_user)]
    changed = set(history[-1].diff_against(history[0]).changed_fields)
    assert {"department", "keywords"} <= changed and "name" not in changed
    with pytest.raises(ApplicationError):
        routing.routing_rule_update(actor=manager, rule=unpaid, expected_version=2, changes={"colour": "red"})


def test_moving_rules_up_and_down_renumbers_them(manager, billing, tech, care):
    a, _, c = (make_rule(manager, d, name=n) for n, d in (("a", billing), ("b", tech), ("c", care)))
    routing.routing_rule_move(actor=manager, rule=c, direction="up")
    assert list(RoutingRule.objects.values_list("name", flat=True)) == ["a", "c", "b"]
    routing.routing_rule_move(actor=manager, rule=a, direction="up")  # already first: stays
    routing.routing_rule_move(actor=manager, rule=a, direction="down")
    assert list(RoutingRule.objects.values_list("name", "order")) == [("c", 10), ("a", 20), ("b", 30)]
    with pytest.raises(ApplicationError):
        routing.routing_rule_move(actor=manager, rule=a, direction="sideways")


def test_deleting_a_rule_keeps_the_cases_it_routed_and_their_explanation(
    agent, party, manager, billing, unpaid
):
    case = services.case_open(actor=agent, party=party, subject="unpaid")
    with pytest.raises(ConflictError):
        routing.routing_rule_delete(actor=manager, rule=unpaid, expected_version=7)
    routing.routing_rule_delete(actor=manager, rule=unpaid, expected_version=1)
    assert not RoutingRule.objects.exists() and RoutingRule.history.filter(history_type="-").count() == 1
    assert routed_texts(case) == ["Routed to Billing by rule 'unpaid bill', priority high"]


def test_a_department_in_use_by_a_rule_cannot_be_deleted(billing, unpaid):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        billing.delete()


def test_department_strategy_is_validated_versioned_and_audited(manager, billing):
    with pytest.raises(ApplicationError):
        routing.department_routing_set(actor=manager, department=billing, strategy="department")
    setting = routing.department_routing_set(actor=manager, department=billing, strategy="round_robin")
    assert (setting.strategy, setting.version) == ("round_robin", 2)
    with pytest.raises(ConflictError):
        routing.department_routing_set(
            actor=manager, department=billing, strategy="manual", expected_version=1
        )
    assert [h.strategy for h in setting.history.order_by("history_id")] == ["manual", "round_robin"]
