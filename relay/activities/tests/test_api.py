"""Timeline endpoints: interactions, notes, attachments, a party's timeline."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from relay.activities import services
from relay.activities.models import Attachment, TimelineEntry
from relay.activities.services import InteractionInput
from relay.core.testing.api import (
    APIViewTests,
    CreateTests,
    ReadTests,
    assert_problem,
    client_for,
    hidden_from_everyone,
)
from relay.core.testing.factories import PartyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


class TestInteractionAPI(APIViewTests):
    endpoint = "/api/v1/interactions/"
    model = TimelineEntry
    deleters = {"supervisor", "manager", "admin"}
    invalid_fields = ("channel", "duration_seconds")

    def make(self, ctx):
        return services.interaction_log(
            actor=ctx["agent"],
            party=PartyFactory(),
            data=InteractionInput(channel="phone", subject="No dial tone"),
        )

    def create_data(self, ctx):
        return {
            "party": PartyFactory().pk,
            "channel": "fax",
            "direction": "inbound",
            "subject": "Signed form",
        }

    def update_data(self, ctx):
        return {"body": "Customer confirmed by phone."}

    def invalid_data(self, ctx):
        return {"party": PartyFactory().pk, "channel": "pigeon", "duration_seconds": -5}


class TestNoteAPI(APIViewTests):
    endpoint = "/api/v1/notes/"
    model = TimelineEntry
    deleters = {"supervisor", "manager", "admin"}
    invalid_fields = ("body",)

    def make(self, ctx):
        return services.note_add(actor=ctx["agent"], party=PartyFactory(), body="Prefers mornings")

    def create_data(self, ctx):
        return {"party": PartyFactory().pk, "body": "Called back twice"}

    def update_data(self, ctx):
        return {"body": "Prefers afternoons"}

    def invalid_data(self, ctx):
        return {"party": PartyFactory().pk}


def test_another_agents_entry_cannot_be_edited(agent, other_agent):
    entry = services.note_add(actor=agent, party=PartyFactory(), body="mine")
    response = client_for(other_agent).patch(
        f"/api/v1/notes/{entry.pk}/", {"body": "x", "version": 1}, format="json"
    )
    assert_problem(response, 403)


def test_notes_and_interactions_do_not_leak_into_each_other(agent):
    note = services.note_add(actor=agent, party=PartyFactory(), body="n")
    client = client_for(agent)
    assert client.get(f"/api/v1/interactions/{note.pk}/").status_code == 404
    assert client.get(f"/api/v1/notes/{note.pk}/").status_code == 200


def test_party_timeline_is_newest_first_filterable_and_paged(agent):
    party = PartyFactory()
    for channel in ("phone", "letter", "phone"):
        services.interaction_log(actor=agent, party=party, data=InteractionInput(channel=channel))
    note = services.note_add(actor=agent, party=party, body="n")
    client = client_for(agent)
    body = client.get(f"/api/v1/parties/{party.pk}/timeline/", {"page_size": 2}).json()
    assert body["results"][0]["id"] == note.pk and len(body["results"]) == 2 and body["next"]
    rest = client.get(body["next"]).json()
    assert len(rest["results"]) == 2 and rest["next"] is None
    phones = client.get(f"/api/v1/parties/{party.pk}/timeline/", {"channel": "phone"}).json()["results"]
    assert [e["channel"] for e in phones] == ["phone", "phone"]
    assert_problem(client.get(f"/api/v1/parties/{party.pk}/timeline/", {"channel": "pigeon"}), 400, "channel")


def upload(client, entry_id, name, content):
    return client.post(
        "/api/v1/attachments/",
        {"entry": entry_id, "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def test_attachment_upload_and_download(agent, auditor):
    entry = services.note_add(actor=agent, party=PartyFactory(), body="scan")
    response = upload(client_for(agent), entry.pk, "../../letter.txt", b"Dear Sir,\nthe line is dead.\n")
    assert response.status_code == 201, response.json()
    meta = response.json()
    assert (meta["filename"], meta["content_type"], meta["size"]) == ("letter.txt", "text/plain", 28)
    download = client_for(auditor).get(f"/api/v1/attachments/{meta['id']}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"Dear Sir,\nthe line is dead.\n"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [("empty.txt", b"", 400), ("virus.pdf", b"MZ\x90\x00" + b"\x00" * 64, 415)],
)
def test_bad_attachments_are_refused_and_nothing_is_stored(agent, name, content, status):
    entry = services.note_add(actor=agent, party=PartyFactory(), body="x")
    assert_problem(upload(client_for(agent), entry.pk, name, content), status, "file")
    assert not Attachment.objects.exists()


def test_oversize_attachment_is_413(agent, settings):
    settings.RELAY_ATTACHMENT_MAX_BYTES = 10
    entry = services.note_add(actor=agent, party=PartyFactory(), body="x")
    assert_problem(upload(client_for(agent), entry.pk, "big.txt", b"x" * 11), 413, "file")


def test_attachment_refusals(agent, auditor, inactive_user):
    entry = services.note_add(actor=agent, party=PartyFactory(), body="x")
    assert_problem(upload(client_for(auditor), entry.pk, "a.txt", b"hello"), 403)
    assert_problem(upload(client_for(agent), 999999, "a.txt", b"hello"), 400, "entry")
    attachment = services.attachment_add(
        actor=agent, entry=entry, upload=SimpleUploadedFile("a.txt", b"hello")
    )
    assert client_for(None).get(f"/api/v1/attachments/{attachment.pk}/download/").status_code == 401
    assert_problem(client_for(agent).get("/api/v1/attachments/999999/download/"), 404)


class TestAttachmentAPI(ReadTests, CreateTests):
    """Attachments are listed, read and uploaded (multipart); their visibility is their entry's."""

    endpoint = "/api/v1/attachments/"
    model = Attachment
    scope_model = TimelineEntry
    invalid_fields = ("entry", "file")

    def scope_pk(self, obj):
        return obj.entry_id

    def make(self, ctx):
        entry = services.note_add(actor=ctx["agent"], party=PartyFactory(), body="scan attached")
        return services.attachment_add(
            actor=ctx["agent"], entry=entry, upload=SimpleUploadedFile("scan.txt", b"scanned letter")
        )

    def post(self, client, data, **extra):
        return client.post(self.url(), data, format="multipart", **extra)

    def create_data(self, ctx):
        entry = services.note_add(actor=ctx["agent"], party=PartyFactory(), body="x")
        return {"entry": entry.pk, "file": SimpleUploadedFile("letter.txt", b"Dear Sir,\n")}

    def create_data_again(self, data):
        data["file"].seek(0)
        return data

    def invalid_data(self, ctx):
        return {"entry": "first", "file": "not a file"}

    def test_download_is_refused_when_the_entry_is_out_of_scope(self, ctx):
        attachment = self.make(ctx)
        client = client_for(ctx["supervisor"])
        url = f"{self.url(attachment)}download/"
        assert client.get(url).status_code == 200
        with self.hidden(attachment):
            assert_problem(client.get(url), 404)

    def test_upload_onto_an_entry_out_of_scope_is_refused(self, ctx):
        entry = services.note_add(actor=ctx["agent"], party=PartyFactory(), body="x")
        with hidden_from_everyone(TimelineEntry, entry.pk):
            assert_problem(upload(client_for(ctx["agent"]), entry.pk, "a.txt", b"hello"), 400, "entry")
        assert not Attachment.objects.exists()


def test_party_timeline_query_count_does_not_grow_with_entries(agent):
    from relay.core.testing.queries import assert_flat_query_count

    party = PartyFactory()
    client = client_for(agent)

    def add(n):
        for i in range(n):
            entry = services.interaction_log(actor=agent, party=party, data=InteractionInput(channel="phone"))
            services.attachment_add(
                actor=agent, entry=entry, upload=SimpleUploadedFile(f"{i}.txt", b"call log")
            )
            services.note_add(actor=agent, party=party, body=f"note {i}")

    assert_flat_query_count(
        lambda: client.get(f"/api/v1/parties/{party.pk}/timeline/", {"page_size": 100}), add, at_most=8
    )
