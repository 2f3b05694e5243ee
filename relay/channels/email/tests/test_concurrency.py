"""The same message delivered by two transports at once is one message and one interaction."""

from __future__ import annotations

import pytest
from django.db import connection

from relay.activities.models import TimelineEntry
from relay.cases.models import Case
from relay.channels.email.models import EmailMessage
from relay.channels.email.services import message_receive
from relay.core.testing.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is one connection; PostgreSQL only")


def test_concurrent_delivery_of_one_message_is_one_interaction(mailbox, make_mail):
    raw = make_mail(message_id="<race@example.com>")
    vias = ["smtp", "imap", "http", "smtp"]
    results = run_at_once(*[lambda v=v: message_receive(mailbox=mailbox, raw=raw, via=v) for v in vias])
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == ["duplicate", "duplicate", "duplicate", "stored"], results
    assert EmailMessage.objects.filter(direction="inbound").count() == 1
    assert TimelineEntry.objects.filter(channel="email", direction="inbound").count() == 1
    assert Case.objects.count() == 1
    assert EmailMessage.objects.filter(is_auto_reply=True).count() == 1
