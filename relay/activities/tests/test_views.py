import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from relay.activities import services
from relay.activities.models import TimelineEntry
from relay.activities.services import InteractionInput
from relay.core.testing.factories import PartyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_logging_a_call_with_htmx_returns_the_entry_for_the_timeline(agent):
    party = PartyFactory()
    response = login(agent).post(
        f"/parties/{party.pk}/log/",
        {
            "channel": "fax",
            "direction": "inbound",
            "subject": "Signed form",
            "body": "<b>bold</b>",
            "file": SimpleUploadedFile("form.txt", b"signed"),
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'hx-swap-oob="afterbegin:#timeline"' in body
    assert "Signed form" in body and "&lt;b&gt;bold&lt;/b&gt;" in body and "form.txt" in body
    entry = TimelineEntry.objects.get()
    assert (entry.channel, entry.actor, entry.attachments.count()) == ("fax", agent, 1)


def test_a_bad_log_shows_errors_and_writes_nothing(agent):
    party = PartyFactory()
    response = login(agent).post(
        f"/parties/{party.pk}/log/",
        {"channel": "pigeon", "direction": "inbound", "subject": "kept"},
        HTTP_HX_REQUEST="true",
    )
    assert b"Select a valid choice" in response.content and b'value="kept"' in response.content
    assert not TimelineEntry.objects.exists()


def test_a_rejected_attachment_rolls_back_the_entry(agent):
    party = PartyFactory()
    response = login(agent).post(
        f"/parties/{party.pk}/note/",
        {"body": "see file", "file": SimpleUploadedFile("x.exe", b"MZ\x90\x00" + b"\x00" * 50)},
        HTTP_HX_REQUEST="true",
    )
    assert b"not accepted" in response.content
    assert not TimelineEntry.objects.exists()


def test_timeline_pages_and_channel_filter(agent):
    party = PartyFactory()
    for n in range(25):
        services.interaction_log(
            actor=agent, party=party, data=InteractionInput(channel="phone", subject=f"call {n}")
        )
    services.interaction_log(
        actor=agent, party=party, data=InteractionInput(channel="letter", subject="letter")
    )
    client = login(agent)
    first = client.get(f"/parties/{party.pk}/").content.decode()
    assert first.count('class="timeline-entry') == 20 and "Load older entries" in first
    letters = client.get(f"/parties/{party.pk}/?channel=letter").content.decode()
    assert letters.count('class="timeline-entry') == 1
    assert client.get(f"/parties/{party.pk}/timeline/", {"cursor": "bad"}).status_code == 404


def test_attachment_download_only_for_staff_who_see_the_entry(agent, auditor, inactive_user):
    party = PartyFactory()
    entry = services.note_add(actor=agent, party=party, body="x")
    attachment = services.attachment_add(
        actor=agent, entry=entry, upload=SimpleUploadedFile("<script>.txt", b"hello")
    )
    response = login(auditor).get(f"/attachments/{attachment.pk}/")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert Client().get(f"/attachments/{attachment.pk}/").status_code == 302
    assert login(agent).get("/attachments/999999/").status_code == 404
