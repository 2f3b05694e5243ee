"""The portal pages: only the customer's own cases, only what is visible to the customer, opening a case
with files (bad files refused, nothing half-written), replies, limits, CSRF."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from relay.activities.models import Attachment, TimelineEntry
from relay.cases import services as cases
from relay.cases.choices import StatusCategory
from relay.cases.models import Case
from relay.core import clock

from .conftest import email_in

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def _pdf(name="invoice.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _counts():
    return (Case.objects.count(), TimelineEntry.objects.count(), Attachment.objects.count())


def _files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


CUSTOMER_URLS = ["/portal/cases/", "/portal/cases/new/", "/portal/cases/{case}/", "/portal/files/{file}/"]


def test_every_portal_page_refuses_anonymous_visitors(ada, open_case, agent):
    case = open_case(ada)
    event = email_in(case, agent, "hello")
    attachment = cases_attachment(agent, event)
    for url in CUSTOMER_URLS:
        response = Client().get(url.format(case=case.pk, file=attachment.pk))
        assert response.status_code == 302 and response["Location"].startswith("/portal/?next="), url
    assert Client().post(f"/portal/cases/{case.pk}/reply/", {"message": "x"}).status_code == 302
    assert Client().post("/portal/cases/new/", {"subject": "x", "message": "y"}).status_code == 302
    assert TimelineEntry.objects.filter(channel="web").count() == 0


def cases_attachment(agent, event):
    from relay.activities.services import attachment_add

    return attachment_add(actor=agent, entry=event.entry, upload=_pdf("answer.pdf"))


def test_another_customers_case_and_files_are_404(ada, bob, open_case, agent, ada_client):
    theirs = open_case(bob, "Bob's private case")
    event = email_in(theirs, agent, "for bob only")
    attachment = cases_attachment(agent, event)
    assert ada_client.get(f"/portal/cases/{theirs.pk}/").status_code == 404
    assert ada_client.post(f"/portal/cases/{theirs.pk}/reply/", {"message": "mine now"}).status_code == 404
    assert ada_client.get(f"/portal/files/{attachment.pk}/").status_code == 404
    assert b"Bob&#x27;s private case" not in ada_client.get("/portal/cases/").content
    assert ada_client.get("/portal/cases/999999/").status_code == 404


def test_only_customer_visible_events_are_shown(ada, open_case, agent, ada_client):
    case = open_case(ada, "Router broken")
    cases.case_add_note(
        actor=agent, case=case, body="SECRET-internal-remark about credit", visibility="internal"
    )
    cases.case_add_note(actor=agent, case=case, body="We are sending a technician.", visibility="customer")
    email_in(case, agent, "Our answer by e-mail")
    html = ada_client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert "SECRET-internal-remark" not in html and "internal description" not in html
    assert "We are sending a technician." in html and "Our answer by e-mail" in html
    assert agent.username not in html and agent.last_name not in html  # no staff names
    assert "Router broken" in ada_client.get("/portal/cases/").content.decode()


def test_a_file_on_an_internal_entry_is_not_downloadable(ada, open_case, agent, ada_client):
    from relay.activities.services import InteractionInput, attachment_add, interaction_log

    case = open_case(ada)
    internal = interaction_log(actor=agent, party=ada, data=InteractionInput(channel="phone", subject="x"))
    TimelineEntry.objects.filter(pk=internal.pk).update(case=case)  # on the case, but no visible event
    attachment = attachment_add(actor=agent, entry=internal, upload=_pdf("internal.pdf"))
    assert ada_client.get(f"/portal/files/{attachment.pk}/").status_code == 404
    visible = cases_attachment(agent, email_in(case, agent, "with a file"))
    response = ada_client.get(f"/portal/files/{visible.pk}/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF


def test_open_a_case_with_an_attachment(ada, ada_client, departments):
    response = ada_client.post(
        "/portal/cases/new/",
        {
            "party": ada.pk,
            "subject": "Bill too high",
            "message": "Please check my bill.",
            "attachments": [_pdf()],
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(subject="Bill too high")
    assert case.party == ada and case.channel == "web" and case.department == departments["Customer Care"]
    assert case.originator.username == "relay-portal"
    entry = TimelineEntry.objects.get(case=case, channel="web")
    assert (entry.channel, entry.direction, entry.body) == ("web", "inbound", "Please check my bill.")
    assert [a.filename for a in entry.attachments.all()] == ["invoice.pdf"]
    page = ada_client.get(response["Location"]).content.decode()
    assert "Please check my bill." in page and "invoice.pdf" in page and case.number in page


def test_routing_rules_route_portal_cases(ada, ada_client, departments, admin_user):
    from relay.cases.services import routing

    routing.routing_rule_create(
        actor=admin_user,
        data=routing.RuleInput(name="bills", department=departments["Billing"], keywords=["bill"]),
    )
    ada_client.post("/portal/cases/new/", {"party": ada.pk, "subject": "My bill", "message": "Too high."})
    assert Case.objects.get().department == departments["Billing"]


@pytest.mark.parametrize(
    ("upload", "status", "message"),
    [
        (SimpleUploadedFile("tool.exe", EXE, content_type="application/pdf"), 415, "kind of file"),
        (SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"), 400, "empty"),
        (SimpleUploadedFile(".htaccess", b"Deny from all\n", content_type="text/plain"), 400, "name"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(ada, ada_client, settings, upload, status, message):
    before = _counts()
    response = ada_client.post(
        "/portal/cases/new/",
        {
            "party": ada.pk,
            "subject": "With a file",
            "message": "See attached.",
            "attachments": [_pdf(), upload],
        },
    )
    assert response.status_code in {status, 400}
    assert message in response.content.decode()
    assert _counts() == before and _files(settings) == []


def test_an_oversize_file_is_refused(ada, ada_client, settings):
    settings.RELAY_ATTACHMENT_MAX_BYTES = 1024
    response = ada_client.post(
        "/portal/cases/new/",
        {
            "party": ada.pk,
            "subject": "Big",
            "message": "Big file.",
            "attachments": [_pdf(content=PDF + b"0" * 2000)],
        },
    )
    assert response.status_code == 413 and "too large" in response.content.decode()
    assert Case.objects.count() == 0 and _files(settings) == []


def test_a_traversal_name_never_becomes_a_path(ada, ada_client, settings):
    ada_client.post(
        "/portal/cases/new/",
        {
            "party": ada.pk,
            "subject": "Path",
            "message": "x",
            "attachments": [_pdf("../../../etc/passwd.pdf")],
        },
    )
    attachment = Attachment.objects.get()
    assert attachment.filename == "passwd.pdf" and attachment.file.name.startswith("attachments/")
    assert all(Path(settings.MEDIA_ROOT) in p.parents for p in _files(settings))


def test_a_failure_after_the_files_are_stored_leaves_nothing(ada, ada_client, settings, monkeypatch):
    from relay.channels.portal import services

    real = services.attachment_add
    calls = []

    def failing(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(services, "attachment_add", failing)
    with pytest.raises(RuntimeError):
        ada_client.post(
            "/portal/cases/new/",
            {
                "party": ada.pk,
                "subject": "Two",
                "message": "x",
                "attachments": [_pdf("a.pdf"), _pdf("b.pdf", PDF + b"%")],
            },
        )
    assert _counts() == (0, 0, 0) and _files(settings) == []


def test_too_many_files_are_refused(ada, ada_client, settings):
    settings.RELAY_PORTAL_MAX_FILES = 1
    response = ada_client.post(
        "/portal/cases/new/",
        {"party": ada.pk, "subject": "S", "message": "M", "attachments": [_pdf(), _pdf("b.pdf")]},
    )
    assert response.status_code == 400 and "At most 1 files" in response.content.decode()


def test_a_customer_cannot_open_a_case_for_another_party(ada, bob, ada_client):
    response = ada_client.post("/portal/cases/new/", {"party": bob.pk, "subject": "S", "message": "M"})
    assert response.status_code == 400 and Case.objects.count() == 0


def test_reply_on_an_open_case(ada, open_case, ada_client):
    case = open_case(ada)
    response = ada_client.post(
        f"/portal/cases/{case.pk}/reply/", {"message": "Still broken.", "attachments": [_pdf("photo.pdf")]}
    )
    assert response.status_code == 302 and "replied=1" in response["Location"]
    entry = TimelineEntry.objects.get(case=case, channel="web")
    assert entry.direction == "inbound" and entry.body == "Still broken." and entry.attachments.count() == 1
    assert "Still broken." in ada_client.get(f"/portal/cases/{case.pk}/").content.decode()


def test_a_reply_reopens_a_resolved_case(ada, open_case, agent, ada_client):
    case = open_case(ada)
    cases.case_resolve(
        actor=agent,
        case=case,
        resolution_code="solved",
        resolution_summary="Fixed the line.",
        expected_version=None,
    )
    assert "Fixed the line." in ada_client.get(f"/portal/cases/{case.pk}/").content.decode()
    response = ada_client.post(f"/portal/cases/{case.pk}/reply/", {"message": "It broke again."})
    assert "replied=reopened" in response["Location"]
    case.refresh_from_db()
    assert case.status_category != StatusCategory.RESOLVED and case.reopened_count == 1


def test_a_reply_to_a_case_closed_too_long_ago_is_refused(ada, open_case, agent, ada_client, settings):
    case = open_case(ada)
    cases.case_resolve(
        actor=agent, case=case, resolution_code="solved", resolution_summary="ok", expected_version=None
    )
    cases.case_close(actor=agent, case=case, expected_version=None)
    Case.objects.filter(pk=case.pk).update(
        closed_at=clock.now() - timedelta(days=settings.RELAY_CASE_REOPEN_DAYS + 1)
    )
    page = ada_client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert "closed too long ago" in page
    response = ada_client.post(f"/portal/cases/{case.pk}/reply/", {"message": "Hello?"})
    assert response.status_code == 400 and "can no longer be reopened" in response.content.decode()
    assert not TimelineEntry.objects.filter(case=case, channel="web").exists()


def test_case_creation_is_rate_limited(ada, ada_client, settings):
    settings.RELAY_PORTAL_CASES_PER_PARTY_HOUR = 2
    for n in range(2):
        assert (
            ada_client.post(
                "/portal/cases/new/", {"party": ada.pk, "subject": f"S{n}", "message": "M"}
            ).status_code
            == 302
        )
    assert (
        ada_client.post("/portal/cases/new/", {"party": ada.pk, "subject": "S3", "message": "M"}).status_code
        == 429
    )
    assert Case.objects.count() == 2


def test_replies_are_rate_limited(ada, open_case, ada_client, settings):
    settings.RELAY_PORTAL_REPLIES_PER_PARTY_HOUR = 1
    case = open_case(ada)
    assert ada_client.post(f"/portal/cases/{case.pk}/reply/", {"message": "one"}).status_code == 302
    assert ada_client.post(f"/portal/cases/{case.pk}/reply/", {"message": "two"}).status_code == 429


def test_csrf_is_enforced_on_portal_forms(ada, open_case):
    case = open_case(ada)
    # sign in with a valid CSRF token, then post without one
    from relay.channels.portal import services

    from .conftest import link_token

    strict = Client(enforce_csrf_checks=True)
    token = link_token(services.link_issue(email="ada@example.com").url)
    csrf = str(strict.get(f"/portal/link/{token}/").context["csrf_token"])
    assert strict.post(f"/portal/link/{token}/", {"csrfmiddlewaretoken": csrf}).status_code == 302
    assert (
        strict.post("/portal/cases/new/", {"party": ada.pk, "subject": "S", "message": "M"}).status_code
        == 403
    )
    assert strict.post(f"/portal/cases/{case.pk}/reply/", {"message": "M"}).status_code == 403
    assert Case.objects.count() == 1
    csrf = str(strict.get("/portal/cases/new/").context["csrf_token"])
    ok = strict.post(
        "/portal/cases/new/", {"party": ada.pk, "subject": "S", "message": "M", "csrfmiddlewaretoken": csrf}
    )
    assert ok.status_code == 302
