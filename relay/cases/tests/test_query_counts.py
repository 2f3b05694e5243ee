"""Query-count pins of the hot paths (issue 3, point 9): opening a case and draining the outbox. A new
query per case or per event (an N+1, a lookup the database constraints make redundant) fails here;
the rates themselves are measured in bench/cases.py, never asserted in tests."""

from __future__ import annotations

import pytest

from relay.accounts.choices import Role
from relay.cases import services
from relay.cases.models import RoutingRule
from relay.cases.services.routing import RuleInput, routing_rule_create
from relay.core import outbox
from relay.core.models import OutboxEvent
from relay.core.testing.factories import UserFactory
from relay.core.testing.queries import count_queries
from relay.notifications.models import Notification

# queries of one case_open; the transaction's BEGIN/COMMIT (or the test's savepoint) included
# each opening also reads the active SLA policies (none here: no clock, no calendar); the rules, the
# default status and the policies come from the per-process configuration cache, for one primary-key
# read of the configuration generation per transaction (relay.core.config_cache). The keyed outbox row:
# an insert that skips a key already recorded (ON CONFLICT DO NOTHING, INSERT OR IGNORE)
OPEN_IN_A_CHOSEN_DEPARTMENT = 14
# routed by a rule: the created and routed events in one insert
OPEN_ROUTED_BY_A_ROUND_ROBIN_RULE = 16
# a drain of one batch: claim (in its transaction), read the batch, the recipients and their preferences,
# every notice and delivery row in one transaction, mark the batch dispatched, the last (empty) claim.
# Nothing per event delivered in the app (was 8 a event); e-mail adds one row per message sent,
# committed after each send by design (relay/notifications/tests/test_delivery.py pins that)
DRAIN_FIXED = 15
DRAIN_PER_EVENT = 0


@pytest.fixture
def tech_team(tech):
    return [UserFactory(role=Role.AGENT, departments=[tech], email="") for _ in range(3)]


def test_opening_a_case_in_a_chosen_department(open_case, tech_team):
    open_case()  # warm-up: content types and the like are cached per process
    n, sql, _ = count_queries(lambda: open_case())
    assert n == OPEN_IN_A_CHOSEN_DEPARTMENT, "\n".join(sql)


def test_opening_a_case_routed_by_a_rule(agent, party, tech, tech_team, manager):
    routing_rule_create(
        actor=manager,
        data=RuleInput(name="calls", department=tech, keywords=["calls"], assignment="round_robin"),
    )
    assert RoutingRule.objects.count() == 1

    def open_routed():
        return services.case_open(actor=agent, party=party, subject="Cannot make calls", channel="phone")

    open_routed()
    n, sql, case = count_queries(open_routed)
    assert case.department == tech and case.assignee in tech_team
    assert n == OPEN_ROUTED_BY_A_ROUND_ROBIN_RULE, "\n".join(sql)


@pytest.mark.parametrize("size", [1, 25])
def test_a_batch_of_openings_costs_the_queries_of_one(agent, party, tech, tech_team, manager, size):
    """Routed by a round-robin rule, each case with a watcher: a statement a table, whatever the size."""
    routing_rule_create(
        actor=manager,
        data=RuleInput(name="calls", department=tech, keywords=["calls"], assignment="round_robin"),
    )
    drafts = [
        services.CaseDraft(party=party, subject=f"Cannot make calls {i}", watchers=[manager])
        for i in range(size)
    ]
    services.case_open_many(actor=agent, drafts=drafts[:1])  # warm-up
    n, sql, cases = count_queries(lambda: services.case_open_many(actor=agent, drafts=drafts))
    assert len(cases) == size and {c.assignee for c in cases} <= set(tech_team)
    assert OutboxEvent.objects.filter(name="case.created").count() == size + 1
    assert n == OPEN_ROUTED_BY_A_ROUND_ROBIN_RULE + 1, "\n".join(sql)  # + the watchers' insert


@pytest.mark.parametrize("events", [1, 4])
def test_a_drain_costs_a_fixed_number_of_queries_per_event(agent, party, tech, tech_team, events):
    agent.email = ""
    agent.save()
    for _ in range(events):
        services.case_open(actor=agent, party=party, subject="Cannot make calls", department=tech)
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == events
    n, sql, result = count_queries(lambda: outbox.drain(batch_size=50))
    assert result.dispatched == events
    assert Notification.objects.count() == events * len(tech_team)
    assert n == DRAIN_FIXED + DRAIN_PER_EVENT * events, "\n".join(sql)
