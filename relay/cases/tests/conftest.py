"""Fixtures of the cases tests: the telecom departments, their people, a customer and `open_case`."""

from __future__ import annotations

import pytest

from relay.accounts.choices import Role
from relay.cases import services
from relay.cases.choices import Priority
from relay.cases.models import BusinessCalendar, SlaPolicy
from relay.cases.tests.factories import default_statuses
from relay.core.models import OutboxEvent
from relay.core.testing.factories import PartyFactory, UserFactory


@pytest.fixture(autouse=True)
def _default_statuses(db):
    """The default statuses come from a data migration; a transactional test anywhere in the suite
    flushes them with every other table, so put them back (the migration's own function, idempotent)."""
    default_statuses()


@pytest.fixture
def care(departments):
    return departments["Customer Care"]


@pytest.fixture
def tech(departments):
    return departments["Technical Support"]


@pytest.fixture
def billing(departments):
    return departments["Billing"]


@pytest.fixture
def tech_agent(tech):
    return UserFactory(username="tech_agent", role=Role.AGENT, departments=[tech])


@pytest.fixture
def tech_colleague(tech):
    return UserFactory(username="tech_colleague", role=Role.AGENT, departments=[tech])


@pytest.fixture
def tech_supervisor(tech):
    user = UserFactory(username="tech_lead", role=Role.SUPERVISOR, departments=[tech])
    tech.supervisor = user
    tech.save()
    return user


@pytest.fixture
def party(db):
    return PartyFactory(given_name="Ada", family_name="Lovelace")


@pytest.fixture
def open_case(agent, party, tech):
    """Open a case as the care agent for Technical Support (keywords override)."""

    def _open(**kwargs):
        params = {
            "actor": agent,
            "party": party,
            "subject": "Cannot make calls",
            "description": "Since this morning every call fails.",
            "department": tech,
            "channel": "phone",
            **kwargs,
        }
        return services.case_open(**params)

    return _open


@pytest.fixture
def outbox():
    """The outbox events written so far, oldest first (optionally only one event name)."""

    def _events(name: str | None = None):
        qs = OutboxEvent.objects.order_by("id")
        return list(qs.filter(name=name) if name else qs)

    return _events


# --- SLA (issue 4): a Mon-Fri 09:00-17:00 Berlin calendar, and policies on it ----------------------------


@pytest.fixture
def sla_calendar(db):
    hours = {str(day): [["09:00", "17:00"]] for day in range(5)}
    return BusinessCalendar.objects.create(name="Office hours", time_zone="Europe/Berlin", hours=hours)


@pytest.fixture
def sla_policy(sla_calendar):
    return SlaPolicy.objects.create(
        name="High priority",
        order=10,
        priorities=[Priority.HIGH],
        acknowledge_minutes=60,
        resolve_minutes=8 * 60,
        update_minutes=4 * 60,
        warn_percent=80,
        calendar=sla_calendar,
    )


@pytest.fixture
def sla_normal_policy(sla_calendar):
    return SlaPolicy.objects.create(
        name="Everything else", order=20, resolve_minutes=3 * 8 * 60, calendar=sla_calendar
    )


@pytest.fixture
def sla_team(tech_agent, tech_colleague, tech_supervisor):
    return {"agent": tech_agent, "colleague": tech_colleague, "supervisor": tech_supervisor}
