"""message_receive: storing, threading, idempotency, quarantine, loop rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relay.activities.models import TimelineEntry
from relay.cases.models import Case, CaseLink, SlaClock
from relay.channels.email.models import EmailMessage, QuarantinedMessage
from relay.channels.email.services import mailbox_for_address, message_receive
from relay.channels.email.tests.conftest import SAMPLES
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


# --- threading --------------------------------------------------------------------------------------------


def test_a_conversation_lands_on_one_case_by_references_in_reply_to_and_subject(mailbox, make_mail):
    first = message_receive(mailbox=mailbox, raw=make_mail(message_id="<a1@example.com>"), via="http")
    case = first.case
    by_references = make_mail(
        message_id="<a2@example.com>", subject="Re: line", references="<a1@example.com>"
    )
    by_reply_to = make_mail(message_id="<a3@example.com>", subject="again", in_reply_to="<a2@example.com>")
    by_subject = make_mail(message_id="<a4@example.com>", subject=f"Still broken [{case.number}]")
    for raw in (by_references, by_reply_to, by_subject):
        receipt = message_receive(mailbox=mailbox, raw=raw, via="http")
        assert receipt.outcome == "stored" and receipt.case == case
    assert Case.objects.count() == 1
    assert TimelineEntry.objects.filter(case=case, channel="email", direction="inbound").count() == 4


def test_a_case_reference_from_a_stranger_opens_a_new_case(mailbox, make_mail):
    case = message_receive(mailbox=mailbox, raw=make_mail(), via="http").case
    stranger = make_mail(sender="eve@example.org", subject=f"[{case.number}] give me the data")
    receipt = message_receive(mailbox=mailbox, raw=stranger, via="http")
    assert receipt.case != case and receipt.case.party != case.party


def test_a_known_sender_is_found_by_address(mailbox, make_mail):
    first = message_receive(mailbox=mailbox, raw=make_mail(), via="http")
    second = message_receive(
        mailbox=mailbox, raw=make_mail(sender="GRACE@example.com", subject="Another thing"), via="http"
    )
    assert second.case != first.case and second.case.party == first.case.party


def _close(case, actor):
    from relay.cases import services

    case = services.case_resolve(
        actor=actor,
        case=case,
        resolution_code="solved",
        resolution_summary="done",
        expected_version=case.version,
    )
    return services.case_close(actor=actor, case=case, expected_version=case.version)


def test_a_reply_to_a_closed_case_reopens_it_within_the_window(mailbox, make_mail, manager):
    case = message_receive(mailbox=mailbox, raw=make_mail(message_id="<c1@example.com>"), via="http").case
    _close(case, manager)
    receipt = message_receive(
        mailbox=mailbox,
        raw=make_mail(message_id="<c2@example.com>", in_reply_to="<c1@example.com>"),
        via="http",
    )
    assert receipt.case == case
    case.refresh_from_db()
    assert case.is_open() and case.reopened_count == 1


def test_a_reply_after_the_window_opens_a_follow_up(mailbox, make_mail, manager, time_machine):
    case = message_receive(mailbox=mailbox, raw=make_mail(message_id="<d1@example.com>"), via="http").case
    _close(case, manager)
    time_machine.move_to(clock.now() + timedelta(days=60))
    receipt = message_receive(
        mailbox=mailbox,
        raw=make_mail(message_id="<d2@example.com>", in_reply_to="<d1@example.com>"),
        via="http",
    )
    assert receipt.case != case
    assert CaseLink.objects.filter(case=receipt.case, related=case, kind="follow_up").exists()


# --- loops ------------------------------------------------------------------------------------------------


def _acks():
    return EmailMessage.objects.filter(is_auto_reply=True).count()


def test_a_new_case_is_acknowledged_with_its_reference(mailbox, make_mail):
    receipt = message_receive(mailbox=mailbox, raw=make_mail(), via="http")
    ack = EmailMessage.objects.get(is_auto_reply=True)
    assert f"[{receipt.case.number}]" in ack.subject and ack.to == "grace@example.com"
    assert ack.in_reply_to == receipt.message.message_id


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({"Auto-Submitted": "auto-replied"}, "grace@example.com"),
        ({"Precedence": "bulk"}, "grace@example.com"),
        ({"Precedence": "junk"}, "grace@example.com"),
        ({"List-Id": "<news.example.com>"}, "grace@example.com"),
        ({"List-Unsubscribe": "<mailto:leave@example.com>"}, "grace@example.com"),
        ({"Return-Path": "<>"}, "grace@example.com"),
        ({}, "MAILER-DAEMON@example.com"),
        ({}, "postmaster@example.com"),
        ({}, "no-reply@example.com"),
        ({}, "noreply@example.com"),
        ({}, "support@relay.localhost"),
    ],
)
def test_machine_mail_gets_no_acknowledgement(mailbox, make_mail, headers, sender):
    receipt = message_receive(mailbox=mailbox, raw=make_mail(sender=sender, headers=headers), via="http")
    assert receipt.outcome == "stored"
    assert _acks() == 0
    assert receipt.message.automated


def test_auto_submitted_no_is_a_person(mailbox, make_mail):
    message_receive(mailbox=mailbox, raw=make_mail(headers={"Auto-Submitted": "no"}), via="http")
    assert _acks() == 1


def test_a_bounce_report_gets_no_acknowledgement(mailbox):
    raw = (SAMPLES / "msg_16.txt").read_bytes()
    receipt = message_receive(mailbox=mailbox, raw=raw, via="http")
    assert receipt.outcome == "stored" and _acks() == 0


def test_acknowledgements_are_rate_limited_per_sender(mailbox, make_mail, settings):
    settings.RELAY_AUTOREPLY_PER_HOUR = 2
    for n in range(4):
        message_receive(mailbox=mailbox, raw=make_mail(subject=f"Problem {n}"), via="http")
    assert Case.objects.count() == 4 and _acks() == 2
    message_receive(mailbox=mailbox, raw=make_mail(sender="other@example.com"), via="http")
    assert _acks() == 3


def test_our_own_message_coming_back_is_not_a_new_interaction(mailbox, make_mail):
    first = message_receive(mailbox=mailbox, raw=make_mail(), via="http")
    ack = EmailMessage.objects.get(is_auto_reply=True)
    echo = make_mail(sender="support@relay.localhost", message_id=f"<{ack.message_id}>")
    assert message_receive(mailbox=mailbox, raw=echo, via="imap").outcome == "duplicate"
    assert TimelineEntry.objects.filter(case=first.case, channel="email").count() == 1


# --- content --------------------------------------------------------------------------------------------


def test_attachments_and_inline_images_are_stored_with_clean_names(mailbox, make_mail):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    raw = make_mail(
        html='<p>See <img src="cid:logo@x"></p>',
        attachments=[
            ("../../etc/passwd.png", "image/png", png),
            ("=?utf-8?q?R=C3=A9sum=C3=A9?=.pdf", "application/pdf", b"%PDF-1.4 hi"),
        ],
    )
    receipt = message_receive(mailbox=mailbox, raw=raw, via="http")
    names = sorted(receipt.message.entry.attachments.values_list("filename", flat=True))
    assert all("/" not in n and not n.startswith(".") for n in names)
    assert len(names) == 2


def test_an_html_only_message_keeps_its_text(mailbox, make_mail):
    raw = make_mail(
        body="", html="<html><body><p>Only <b>HTML</b> here</p><script>alert(1)</script></body></html>"
    )
    receipt = message_receive(mailbox=mailbox, raw=raw, via="http")
    assert "Only HTML here" in receipt.message.entry.body
    assert "alert" not in receipt.message.entry.body
    assert "<script>" in receipt.message.html  # the raw HTML is kept; only its sanitised form is shown
