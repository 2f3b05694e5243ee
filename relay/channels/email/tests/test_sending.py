"""Replies from the case page: queued in the transaction, sent once after commit, threaded back."""

from __future__ import annotations

import pytest
from django.core import mail

from relay.activities.models import TimelineEntry
from relay.channels.email.models import EmailMessage, SendStatus
from relay.channels.email.services import email_reply, email_retry, message_receive
from relay.channels.email.tests.factories import EmailTemplateFactory, SignatureFactory
from relay.core import outbox
from relay.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")


@pytest.fixture
def inbound(mailbox, make_mail):
    receipt = message_receive(mailbox=mailbox, raw=make_mail(message_id="<first@example.com>"), via="http")
    outbox.drain()
    mail.outbox.clear()
    return receipt


def test_a_reply_is_sent_once_with_threading_headers_and_the_case_reference(inbound, agent, care):
    case = inbound.case
    SignatureFactory(department=care, body="{{ agent_name }}, {{ department }}")
    sent = email_reply(actor=agent, case=case, body="We are sending a technician.")
    assert sent.status == SendStatus.QUEUED and mail.outbox == []
    outbox.drain()
    outbox.drain()  # a second drain (a retried delivery) sends nothing more
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert f"[{case.number}]" in message.subject
    assert message.to == ["grace@example.com"]
    assert message.extra_headers["Message-ID"] == f"<{sent.message_id}>"
    assert message.extra_headers["In-Reply-To"] == "<first@example.com>"
    assert "<first@example.com>" in message.extra_headers["References"]
    assert message.body.endswith(f"{agent.display_name}, Customer Care")
    sent.refresh_from_db()
    assert sent.status == SendStatus.SENT and sent.sent_at is not None
    # the reply is an outbound e-mail interaction on the case, and it is the first response
    assert TimelineEntry.objects.filter(case=case, channel="email", direction="outbound").count() == 1
    case.refresh_from_db()
    assert case.first_response_at is not None


def test_the_customers_answer_to_a_reply_threads_back_into_the_case(inbound, agent, mailbox, make_mail):
    sent = email_reply(actor=agent, case=inbound.case, body="Is the light on the box green?")
    outbox.drain()
    answer = make_mail(
        subject=f"Re: {sent.subject}",
        in_reply_to=f"<{sent.message_id}>",
        references=f"<first@example.com> <{sent.message_id}>",
        body="Yes it is green.\n\nOn Monday, Support wrote:\n> Is the light on the box green?",
    )
    receipt = message_receive(mailbox=mailbox, raw=answer, via="smtp")
    assert receipt.outcome == "stored" and receipt.case == inbound.case


def test_a_failed_send_shows_the_error_and_a_retry_sends_it_once(inbound, agent, settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FailingBackend"}}
    sent = email_reply(actor=agent, case=inbound.case, body="Hello")
    outbox.drain()
    sent.refresh_from_db()
    assert sent.status == SendStatus.FAILED and "mail server is down" in sent.error
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    email_retry(actor=agent, message=sent)
    outbox.drain()
    outbox.drain()
    sent.refresh_from_db()
    assert sent.status == SendStatus.SENT and len(mail.outbox) == 1
    with pytest.raises(ApplicationError):
        email_retry(actor=agent, message=sent)  # only a failed e-mail is retried


def test_templates_fill_placeholders_as_plain_text(inbound, agent, care):
    case = inbound.case
    case.party.given_name = "<script>alert(1)</script>"
    template = EmailTemplateFactory(department=care)
    sent = email_reply(actor=agent, case=case, body="", template=template, with_signature=False)
    assert sent.text.startswith(f"Dear {case.party.display_name},")
    assert case.subject in sent.text and agent.display_name in sent.text
    assert f"About your case {case.number}" in sent.subject


def test_an_agent_of_another_department_cannot_use_a_template_of_this_one(inbound, agent, departments):
    template = EmailTemplateFactory(department=departments["Billing"])
    with pytest.raises(ApplicationError):
        email_reply(actor=agent, case=inbound.case, body="", template=template)


def test_an_auditor_cannot_send(inbound, auditor):
    with pytest.raises(ApplicationError):
        email_reply(actor=auditor, case=inbound.case, body="Hello")
    assert EmailMessage.objects.filter(direction="outbound", is_auto_reply=False).count() == 0
