"""message_receive: storing, threading, idempotency, quarantine, loop rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relay.activities.models import TimelineEntry
from relay.cases.models import Case, SlaClock
from relay.channels.email.models import EmailMessage, QuarantinedMessage
from relay.channels.email.services import mailbox_for_address, message_receive
from relay.core import clock

pytestmark = pytest.mark.django_db


def test_a_new_message_opens_a_case_for_a_new_party(mailbox, make_mail):
    receipt = message_receive(mailbox=mailbox, raw=make_mail(), via="http")
    assert receipt.outcome == "stored"
    case = receipt.case
    assert case is not None and case.channel == "email"
    assert case.department == mailbox.department
    assert case.party.display_name == "Grace Hopper"
    assert case.party.source == "system" and case.party.source_detail == "e-mail"
    entry = receipt.message.entry
    assert entry.case_id == case.pk and entry.channel == "email" and entry.direction == "inbound"
    assert "has not worked since Monday" in entry.body


def test_the_same_message_three_times_is_one_interaction(mailbox, make_mail):
    raw = make_mail(message_id="<once@example.com>")
    receipts = [message_receive(mailbox=mailbox, raw=raw, via="imap") for _ in range(3)]
    assert [r.outcome for r in receipts] == ["stored", "duplicate", "duplicate"]
    assert EmailMessage.objects.count() == 1 + 1  # the message and its acknowledgement
    assert TimelineEntry.objects.filter(channel="email", direction="inbound").count() == 1
    assert Case.objects.count() == 1
    assert receipts[2].case == receipts[0].case


def test_a_message_without_message_id_gets_a_stable_synthetic_one(mailbox, make_mail):
    raw = make_mail().replace(b"Message-ID:", b"X-Old-Id:")
    first = message_receive(mailbox=mailbox, raw=raw, via="smtp")
    again = message_receive(mailbox=mailbox, raw=raw, via="smtp")
    assert first.message.synthetic_id and first.message.message_id.startswith("sha256.")
    assert again.outcome == "duplicate"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"", "empty"), (b"   \r\n", "empty"), (b"\x00\x01\x02 not mail at all", "unparseable")],
)
def test_bad_input_is_quarantined_with_the_reason(mailbox, raw, reason):
    receipt = message_receive(mailbox=mailbox, raw=raw, via="http")
    assert receipt.outcome == "quarantined"
    assert receipt.quarantined.reason in (reason, "no sender")
    assert QuarantinedMessage.objects.count() == 1


def test_oversize_input_is_quarantined_and_kept(mailbox, make_mail, settings):
    settings.RELAY_EMAIL_MAX_BYTES = 200
    raw = make_mail(body="x" * 500)
    receipt = message_receive(mailbox=mailbox, raw=raw, via="http")
    assert receipt.outcome == "quarantined" and receipt.quarantined.reason == "too large"
    assert receipt.quarantined.raw.read() == raw


def test_mailbox_for_address(mailbox):
    assert mailbox_for_address("Support Team <SUPPORT@relay.localhost>") == mailbox
    assert mailbox_for_address("support@relay.localhost") == mailbox
    assert mailbox_for_address("nobody@relay.localhost") is None
    mailbox.is_active = False
    mailbox.save()
    assert mailbox_for_address("support@relay.localhost") is None


def test_the_case_opens_at_the_received_time(mailbox, make_mail):
    received = clock.now() - timedelta(hours=2)
    receipt = message_receive(mailbox=mailbox, raw=make_mail(), via="imap", received_at=received)
    case = receipt.case
    assert case.opened_at == received
    for c in SlaClock.objects.filter(case=case):
        assert c.started_at == received
