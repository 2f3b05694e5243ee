"""The inbound fax hook: filed like an e-mail on the sender's file and case, signed, all or nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, encode_multipart

from relay.activities.models import Attachment, TimelineEntry
from relay.cases.models import Case
from relay.cases.services import case_open
from relay.channels.telephony.models import Fax
from relay.channels.telephony.signing import sign
from relay.channels.telephony.tests.conftest import CALLER, LINE, SECRET
from relay.customers.models import Party

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 64


def _post(
    client, *, content=PDF, name="fax.pdf", fax_id="F-1", sender=CALLER, key=SECRET, extra=None, raw=None
):
    data = {"fax_id": fax_id, "from": sender, "to": LINE, "pages": "2", **(extra or {})}
    if content is not None:
        data["file"] = SimpleUploadedFile(name, content)
    body = raw if raw is not None else encode_multipart(BOUNDARY, data)
    if content is not None and name != data["file"].name:  # encode_multipart keeps only the basename
        body = body.replace(f'filename="{data["file"].name}"'.encode(), f'filename="{name}"'.encode())
    headers = sign(body, key=key.encode())
    return client.post(
        "/phone/hooks/fax",
        data=body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=headers,
    )


def test_a_fax_is_filed_on_the_senders_file_and_open_case(line, caller, agent, departments):
    case = case_open(actor=agent, party=caller, subject="Contract", department=departments["Sales"])
    response = _post(Client(enforce_csrf_checks=True))
    assert response.status_code == 201, response.content
    fax = Fax.objects.get()
    entry = fax.interaction
    assert (fax.party, fax.case, entry.party, entry.case) == (caller, case, caller, case)
    assert entry.channel == "fax" and entry.direction == "inbound" and "2 pages" in entry.body
    attachment = entry.attachments.get()
    assert attachment.content_type == "application/pdf" and attachment.filename == "fax.pdf"


def test_an_unknown_sender_is_put_on_file_with_fax_provenance_and_a_new_routed_case(line, departments):
    response = _post(Client(), content=TIFF, name="scan.tif", sender="+14155550777")
    assert response.status_code == 201, response.content
    party = Party.objects.get()
    assert party.source == "system" and "fax" in party.provenance_label
    assert party.contact_points.get().normalized == "+14155550777"
    case = Case.objects.get()
    assert case.party == party and case.channel == "fax" and case.department == departments["Customer Care"]
    assert Attachment.objects.get().content_type == "image/tiff"


def test_the_same_fax_twice_is_one_fax(line, caller):
    assert _post(Client()).status_code == 201
    assert _post(Client()).status_code == 200
    assert Fax.objects.count() == 1 and TimelineEntry.objects.filter(channel="fax").count() == 1


@pytest.mark.parametrize("key", ["wrong-secret", ""], ids=["forged", "empty-key"])
def test_a_forged_fax_is_refused(line, caller, key):
    response = _post(Client(), key=key or "x")
    assert response.status_code == 403 and response["Content-Type"] == "application/problem+json"
    assert not Fax.objects.exists() and not Attachment.objects.exists()


def test_an_unsigned_fax_is_refused(line):
    response = Client().post("/phone/hooks/fax", data={"fax_id": "F", "from": CALLER})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b"MZ\x90\x00" + b"\x00" * 100, "name": "fax.exe"}, 415),
        ({"content": b"just some text, not a document"}, 415),
        ({"content": b""}, 400),
        ({"content": None}, 400),
        ({"name": "../../etc/passwd.pdf"}, 400),
        ({"name": "..\\..\\boot.pdf"}, 400),
        ({"fax_id": ""}, 400),
        ({"sender": ""}, 400),
        ({"extra": {"pages": "many"}}, 400),
        ({"raw": b"not multipart at all"}, 400),
    ],
    ids=[
        "executable",
        "text",
        "empty",
        "no-file",
        "traversal",
        "backslash",
        "no-id",
        "no-sender",
        "pages",
        "raw",
    ],
)
def test_a_bad_fax_is_a_clear_4xx_and_nothing_is_written(line, caller, kwargs, status):
    response = _post(Client(), **kwargs)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert not Fax.objects.exists() and not TimelineEntry.objects.filter(channel="fax").exists()
    assert not Attachment.objects.exists() and not Case.objects.exists()


def test_an_oversized_fax_is_a_413(line, caller, settings):
    settings.RELAY_FAX_MAX_BYTES = 1024
    response = _post(Client(), content=PDF + b"0" * 4096)
    assert response.status_code == 413 and not Fax.objects.exists()
