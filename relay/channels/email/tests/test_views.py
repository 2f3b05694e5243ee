"""The inbound endpoint, the staff pages and their refusals; a guard that every URL is in ACCESS."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse

from relay.cases.models import CaseCategory
from relay.channels.email import urls, views
from relay.channels.email.models import EmailMessage, QuarantinedMessage
from relay.channels.email.services import message_receive
from relay.channels.email.tests.factories import EmailTemplateFactory

pytestmark = pytest.mark.django_db


def test_every_email_url_is_in_the_access_table():
    names = {p.name for p in urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == set(views.ACCESS)


# --- the inbound endpoint ----------------------------------------------------------------------------------


def _post(client, secret, raw, content_type="message/rfc822"):
    return client.post(f"/mail/inbound/{secret}/", data=raw, content_type=content_type)


def test_inbound_takes_a_raw_message(client, mailbox, make_mail):
    response = _post(client, mailbox.inbound_secret, make_mail())
    assert response.status_code == 202
    body = response.json()
    assert body["outcome"] == "stored" and body["case"].startswith("C-")
    again = _post(client, mailbox.inbound_secret, make_mail(message_id=f"<{body['message_id']}>"))
    assert again.json()["outcome"] == "duplicate"


def test_inbound_takes_a_form_field(client, mailbox, make_mail):
    response = client.post(f"/mail/inbound/{mailbox.inbound_secret}/", {"message": make_mail().decode()})
    assert response.status_code == 202 and response.json()["outcome"] == "stored"


def test_inbound_refusals_are_problem_json(client, mailbox, make_mail, settings):
    bad = _post(client, "not-the-secret", make_mail())
    assert bad.status_code == 404 and bad["Content-Type"] == "application/problem+json"
    assert bad.json()["status"] == 404
    assert _post(client, mailbox.inbound_secret, b"").status_code == 400
    settings.RELAY_EMAIL_MAX_BYTES = 100
    big = _post(client, mailbox.inbound_secret, make_mail(body="x" * 1000))
    assert big.status_code == 413 and big.json()["title"]
    assert client.get(f"/mail/inbound/{mailbox.inbound_secret}/").status_code == 405
    assert EmailMessage.objects.count() == 0


def test_inbound_garbage_is_quarantined_not_a_500(client, mailbox):
    response = _post(client, mailbox.inbound_secret, b"\x00\xff\xfe garbage")
    assert response.status_code == 202 and response.json()["outcome"] == "quarantined"


def test_an_inactive_mailbox_is_not_found(client, mailbox, make_mail):
    mailbox.is_active = False
    mailbox.save()
    assert _post(client, mailbox.inbound_secret, make_mail()).status_code == 404


# --- staff pages and refusals ------------------------------------------------------------------------------


@pytest.fixture
def world(mailbox, make_mail, care):
    receipt = message_receive(mailbox=mailbox, raw=make_mail(html="<p>Hi <b>there</b></p>"), via="http")
    quarantined = message_receive(mailbox=mailbox, raw=b"\x00 junk", via="http").quarantined
    template = EmailTemplateFactory(department=care)
    return {"receipt": receipt, "quarantined": quarantined, "template": template}


def _urls(world, mailbox, care):
    m, q, t = world["receipt"].message, world["quarantined"], world["template"]
    return {
        "mailboxes": reverse("email:mailboxes"),
        "mailbox_new": reverse("email:mailbox_new"),
        "mailbox_edit": reverse("email:mailbox_edit", args=[mailbox.pk]),
        "mailbox_messages": reverse("email:mailbox_messages", args=[mailbox.pk]),
        "quarantine": reverse("email:quarantine"),
        "quarantine_detail": reverse("email:quarantine_detail", args=[q.pk]),
        "quarantine_raw": reverse("email:quarantine_raw", args=[q.pk]),
        "message_raw": reverse("email:message_raw", args=[m.pk]),
        "templates": reverse("email:templates"),
        "template_new": reverse("email:template_new"),
        "template_edit": reverse("email:template_edit", args=[t.pk]),
        "template_delete": reverse("email:template_delete", args=[t.pk]),
        "signature_edit": reverse("email:signature_edit", args=[care.pk]),
    }


# page -> the status each actor gets on GET (manager, agent, auditor, supervisor of Customer Care)
EXPECTED = {
    "mailboxes": (200, 200, 200, 200),
    "mailbox_new": (200, 403, 403, 403),
    "mailbox_edit": (200, 403, 403, 403),
    "mailbox_messages": (200, 200, 200, 200),
    "quarantine": (200, 403, 200, 200),
    "quarantine_detail": (200, 404, 200, 200),
    "quarantine_raw": (200, 404, 200, 200),
    "message_raw": (200, 200, 200, 200),
    "templates": (200, 200, 200, 200),
    "template_new": (200, 403, 403, 200),
    "template_edit": (200, 403, 403, 200),
    "template_delete": (200, 403, 403, 200),
    "signature_edit": (200, 403, 403, 200),
}


def test_each_staff_page_answers_each_role(client, world, mailbox, care, manager, agent, auditor, supervisor):
    care.supervisor = supervisor
    care.save()
    pages = _urls(world, mailbox, care)
    for index, user in enumerate((manager, agent, auditor, supervisor)):
        client.force_login(user)
        for name, url in pages.items():
            assert client.get(url).status_code == EXPECTED[name][index], (user.role, name)
    client.logout()
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], name


def test_unknown_ids_are_404(client, manager):
    client.force_login(manager)
    for url in (
        "/mail/mailboxes/999999/",
        "/mail/quarantine/999999/",
        "/mail/messages/999999/raw/",
        "/mail/templates/999999/",
        "/mail/signatures/999999/",
    ):
        assert client.get(url).status_code == 404, url


def test_an_agent_of_another_department_cannot_see_a_confidential_cases_email(
    client, world, other_agent, agent, departments
):
    secret = CaseCategory.objects.create(name="Fraud", is_confidential=True)
    case = world["receipt"].case
    case.category = secret
    case.save()
    message = world["receipt"].message
    client.force_login(other_agent)
    assert client.get(reverse("email:message_raw", args=[message.pk])).status_code == 404
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
    listing = client.get(reverse("email:mailbox_messages", args=[message.mailbox_id]))
    assert f"message-{message.pk}" not in listing.content.decode()
    client.force_login(agent)  # the handling department's agent still can
    assert client.get(reverse("email:message_raw", args=[message.pk])).status_code == 200


def test_auditors_cannot_act(client, world, auditor, mailbox):
    client.force_login(auditor)
    q = world["quarantined"]
    assert client.post(reverse("email:quarantine_action", args=[q.pk, "delete"])).status_code == 403
    assert (
        client.post(reverse("email:reply", args=[world["receipt"].case.pk]), {"body": "x"}).status_code == 403
    )
    assert client.post(reverse("email:mailbox_new"), {"name": "x"}).status_code == 403
    assert QuarantinedMessage.objects.filter(pk=q.pk).exists()


def test_the_case_page_shows_the_email_and_the_composer(client, world, agent):
    client.force_login(agent)
    case = world["receipt"].case
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert 'id="reply-form"' in page and "View original" in page
    assert "has not worked since Monday" in page
    party_page = client.get(reverse("customers:party_detail", args=[case.party_id])).content.decode()
    assert "View original" in party_page


def test_the_party_timeline_reads_its_emails_in_one_query(client, mailbox, make_mail, agent):
    for n in range(4):  # four e-mails from one customer: four cases on one party's timeline
        receipt = message_receive(mailbox=mailbox, raw=make_mail(subject=f"Problem {n}"), via="http")
    client.force_login(agent)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("customers:party_detail", args=[receipt.case.party_id]))
    assert page.status_code == 200
    assert page.content.decode().count("View original") == 4
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "email_emailmessage"')]
    assert len(reads) == 1


def test_a_reply_from_the_case_page(client, world, agent, settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    client.force_login(agent)
    case = world["receipt"].case
    response = client.post(
        reverse("email:reply", args=[case.pk]), {"body": "On our way", "with_signature": "on"}
    )
    assert response.status_code == 302
    assert EmailMessage.objects.filter(case=case, direction="outbound", is_auto_reply=False).count() == 1
    empty = client.post(reverse("email:reply", args=[case.pk]), {"body": ""})
    assert empty.status_code == 400


def test_quarantine_actions(client, world, manager, mailbox, make_mail):
    client.force_login(manager)
    q = world["quarantined"]
    client.post(reverse("email:quarantine_action", args=[q.pk, "resolve"]))
    q.refresh_from_db()
    assert q.status == "resolved"


def test_a_quarantined_message_is_taken_in_on_retry(client, manager, mailbox, make_mail, settings):
    settings.RELAY_EMAIL_MAX_BYTES = 300
    q = message_receive(mailbox=mailbox, raw=make_mail(body="x" * 400), via="smtp").quarantined
    assert q.reason == "too large"
    client.force_login(manager)
    assert client.post(reverse("email:quarantine_action", args=[q.pk, "retry"])).status_code == 302
    q.refresh_from_db()
    assert q.status == "pending"  # still too large: kept, with the reason
    settings.RELAY_EMAIL_MAX_BYTES = 10_000
    response = client.post(reverse("email:quarantine_action", args=[q.pk, "retry"]))
    q.refresh_from_db()
    assert q.status == "retried" and q.message is not None
    assert response["Location"] == reverse("cases:case_detail", args=[q.message.case_id])
    assert QuarantinedMessage.objects.count() == 1


def test_a_manager_creates_a_mailbox_and_a_supervisor_a_template(client, manager, supervisor, care):
    client.force_login(manager)
    response = client.post(
        reverse("email:mailbox_new"),
        {
            "name": "Billing",
            "address": "Billing@Relay.localhost",
            "department": care.pk,
            "is_active": "on",
            "imap_security": "ssl",
        },
    )
    assert response.status_code == 302
    care.supervisor = supervisor
    care.save()
    client.force_login(supervisor)
    created = client.post(
        reverse("email:template_new"),
        {"department": care.pk, "name": "Visit", "body": "Hi {{ customer_name }}"},
    )
    assert created.status_code == 302


def test_the_case_page_reads_its_emails_once_however_many_there_are(client, agent, mailbox, make_mail):
    from relay.core.testing.queries import assert_flat_query_count

    first = message_receive(mailbox=mailbox, raw=make_mail(message_id="<q-0@example.com>"), via="http")
    case = first.case
    client.force_login(agent)

    def add(n):
        for i in range(n):
            mid = f"<q-{case.pk}-{i}-{EmailMessage.objects.count()}@example.com>"
            got = message_receive(
                mailbox=mailbox,
                raw=make_mail(message_id=mid, subject=f"Re: [{case.number}] more", in_reply_to=mid),
                via="http",
            )
            assert got.case == case

    def call():
        response = client.get(f"/cases/{case.pk}/")
        assert response.status_code == 200

    assert_flat_query_count(call, add, few=2, many=8, at_most=22)


def test_pointing_a_mailbox_at_another_imap_folder_forgets_the_old_uids(manager, mailbox):
    from relay.channels.email.services import config

    Mailbox = type(mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_host="imap.example.com", imap_username="care", imap_uidvalidity=7, imap_last_uid=420
    )
    mailbox.refresh_from_db()
    config.mailbox_save(actor=manager, mailbox=mailbox, data={"name": "Care, renamed"})
    mailbox.refresh_from_db()
    assert (mailbox.imap_uidvalidity, mailbox.imap_last_uid) == (7, 420)  # same folder: kept

    config.mailbox_save(actor=manager, mailbox=mailbox, data={"imap_folder": "Support"})
    mailbox.refresh_from_db()
    assert (mailbox.imap_uidvalidity, mailbox.imap_last_uid) == (None, 0)
