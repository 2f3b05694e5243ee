"""Fixtures of the portal tests: default statuses, two customers with e-mail addresses, a signed-in client."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from relay.activities.choices import Direction
from relay.activities.services import InteractionInput
from relay.cases import services as cases
from relay.cases.tests.factories import default_statuses
from relay.channels.portal import services
from relay.channels.portal.choices import FormKind
from relay.channels.portal.models import WebForm
from relay.customers.services import ContactInput, PartyInput, party_create

LINK = re.compile(r"https?://\S+/portal/link/[\w-]+/")


@pytest.fixture(autouse=True)
def _default_statuses(db):
    default_statuses()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def make_customer(actor, given: str, family: str, *emails: str):
    return party_create(
        actor=actor,
        data=PartyInput(
            given_name=given,
            family_name=family,
            roles=["customer"],
            contact_points=[ContactInput(kind="email", raw=e) for e in emails],
        ),
    )


@pytest.fixture
def ada(agent):
    return make_customer(agent, "Ada", "Lovelace", "ada@example.com")


@pytest.fixture
def bob(agent):
    return make_customer(agent, "Bob", "Other", "bob@example.com")


@pytest.fixture
def open_case(agent, departments):
    def _open(party, subject="Cannot make calls", **kwargs):
        return cases.case_open(
            actor=agent,
            party=party,
            subject=subject,
            description="internal description",
            department=departments["Customer Care"],
            channel="phone",
            **kwargs,
        )

    return _open


def email_in(case, agent, body: str):
    """An outbound e-mail logged on the case (customer-visible)."""
    return cases.case_log_interaction(
        actor=agent,
        case=case,
        data=InteractionInput(channel="email", direction=Direction.OUTBOUND, subject="Our answer", body=body),
    )


def link_token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def sign_in(client: Client, email: str) -> Client:
    issued = services.link_issue(email=email)
    assert issued is not None
    response = client.post(f"/portal/link/{link_token(issued.url)}/")
    assert response.status_code == 302, response.content[:500]
    return client


def mailed_links() -> list[str]:
    return [m for message in mail.outbox for m in LINK.findall(message.body)]


@pytest.fixture
def ada_client(ada):
    return sign_in(Client(), "ada@example.com")


@pytest.fixture
def case_form(departments, manager):
    return services.webform_create(
        actor=manager,
        data=services.WebFormDraft(
            name="Contact us", kind=FormKind.CASE, department=departments["Customer Care"]
        ),
    )


@pytest.fixture
def lead_form(departments, manager):
    return services.webform_create(
        actor=manager,
        data=services.WebFormDraft(name="Talk to sales", kind=FormKind.LEAD, department=departments["Sales"]),
    )


__all__ = ["WebForm"]
