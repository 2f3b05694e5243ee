"""Fixtures of the phone tests: the Customer Care line, a caller on file, signed webhook posts."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from relay.accounts.choices import Role
from relay.cases.tests.factories import default_statuses
from relay.channels.telephony.models import PhoneLine
from relay.channels.telephony.signing import sign
from relay.core.testing.factories import ContactPointFactory, PartyFactory, UserFactory

LINE = "+14155550100"
CALLER = "+14155550142"
TWILIO_TOKEN = "twilio-test-token-0123456789abcdef"
SECRET = "phone-test-secret"


@pytest.fixture(autouse=True)
def _default_statuses(db):
    """The default case statuses come from a data migration; a transactional test flushes them."""
    default_statuses()


PHONE_SETTINGS = {
    "RELAY_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "RELAY_PHONE_WEBHOOK_SECRET": SECRET,
    "RELAY_BASE_URL": "https://relay.example.com",
    "RELAY_PUSH": "database",
}


@pytest.fixture(autouse=True)
def _phone_settings(settings):
    for name, value in PHONE_SETTINGS.items():
        setattr(settings, name, value)


def make_line(care) -> PhoneLine:
    return PhoneLine.objects.create(number=LINE, name="Customer Care line", department=care)


def make_caller():
    party = PartyFactory(given_name="Grace", family_name="Hopper")
    ContactPointFactory(party=party, kind="phone", raw="(415) 555-0142", normalized=CALLER)
    return party


@pytest.fixture
def care(departments):
    return departments["Customer Care"]


@pytest.fixture
def line(care):
    return make_line(care)


@pytest.fixture
def caller(db):
    return make_caller()


@pytest.fixture
def care_colleague(care):
    return UserFactory(username="care2", role=Role.AGENT, departments=[care])


def post_signed(
    client: Client, path: str, payload: dict | bytes, *, timestamp: int | None = None, key: str = SECRET
):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = sign(body, timestamp=timestamp, key=key.encode())
    return client.post(path, data=body, content_type="application/json", headers=headers)


def post_twilio(
    client: Client, path: str, params: dict, *, token: str = TWILIO_TOKEN, signature: str | None = None
):
    url = "https://relay.example.com" + path
    sig = RequestValidator(token).compute_signature(url, params) if signature is None else signature
    headers = {"X-Twilio-Signature": sig} if sig else {}
    return client.post(path, data=params, headers=headers)


def ringing(call_id: str = "c-1", **extra) -> dict:
    return {"event": "ringing", "call_id": call_id, "from": CALLER, "to": LINE, **extra}


def ended(call_id: str = "c-1", **extra) -> dict:
    return {"event": "ended", "call_id": call_id, "duration": 125, "disposition": "completed", **extra}


def now() -> int:
    return int(time.time())
