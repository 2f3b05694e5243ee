"""Letters and faxes logged by hand with their scan: on the party page (already there) and in the case
page's "Log a call, e-mail or letter" dialog (the scan field added for issue 5)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from relay.activities.models import Attachment, TimelineEntry
from relay.cases.services import case_open

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def case(caller, agent, care):
    return case_open(actor=agent, party=caller, subject="Contract change", department=care)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_case_dialog_offers_a_scan_field(case, agent):
    html = _client(agent).get(f"/cases/{case.pk}/log/", headers={"HX-Request": "true"}).content.decode()
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html


@pytest.mark.parametrize("channel", ["fax", "letter"])
def test_an_outgoing_fax_or_letter_with_its_scan_is_logged_on_the_case(case, agent, channel):
    response = _client(agent).post(
        f"/cases/{case.pk}/log/",
        {
            "version": case.version,
            "channel": channel,
            "direction": "outbound",
            "subject": "Signed contract sent",
            "body": "",
            "file": SimpleUploadedFile("contract.pdf", PDF),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = TimelineEntry.objects.get(kind="interaction", case=case)
    assert entry.channel == channel and entry.direction == "outbound"
    assert entry.attachments.get().content_type == "application/pdf"


def test_a_refused_scan_logs_nothing(case, agent):
    response = _client(agent).post(
        f"/cases/{case.pk}/log/",
        {
            "version": case.version,
            "channel": "letter",
            "direction": "inbound",
            "subject": "A letter",
            "file": SimpleUploadedFile("x.exe", b"MZ\x90\x00" + b"\x00" * 64),
        },
    )
    assert response.status_code == 400 and "not accepted" in response.content.decode()
    assert not TimelineEntry.objects.filter(kind="interaction", case=case).exists()
    assert not Attachment.objects.exists()


def test_the_party_page_log_form_takes_a_scan_too(caller, agent):
    html = _client(agent).get(f"/parties/{caller.pk}/").content.decode()
    assert 'type="file"' in html and 'value="letter"' in html and 'value="fax"' in html
