"""Timeline writes: interactions, notes, attachments."""

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from relay.activities import selectors, services
from relay.activities.models import Attachment, Interaction, Note, TimelineEntry
from relay.activities.services import InteractionInput
from relay.core import clock
from relay.core.exceptions import ApplicationError, ConflictError, NotAllowed
from relay.core.testing.factories import PartyFactory

pytestmark = pytest.mark.django_db
SHARED_DATA = Path(
    os.environ.get("RELAY_SHARED_DATA", Path(__file__).resolve().parents[4] / "shared" / "data")
)
MAIL_DIR = SHARED_DATA / "email"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\x0b\xb4\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def party(db):
    return PartyFactory(given_name="Ada", family_name="Lovelace")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize("channel", ["phone", "email", "web", "chat", "sms", "fax", "letter", "in_person"])
def test_every_channel_lands_on_the_timeline(agent, party, channel):
    entry = services.interaction_log(
        actor=agent,
        party=party,
        data=InteractionInput(
            channel=channel, direction="outbound", subject="Follow-up", duration_seconds=90
        ),
    )
    assert Interaction.objects.get() == entry
    assert (entry.kind, entry.channel, entry.actor, entry.entered_by) == (
        "interaction",
        channel,
        agent,
        agent,
    )
    page = selectors.party_timeline(actor=agent, party=party)
    assert page.items == [entry]


def test_the_timeline_is_newest_first_and_filters_by_channel(agent, party):
    now = clock.now()
    old_call = services.interaction_log(
        actor=agent, party=party, data=InteractionInput(channel="phone", occurred_at=now - timedelta(days=2))
    )
    letter = services.interaction_log(
        actor=agent, party=party, data=InteractionInput(channel="letter", occurred_at=now - timedelta(days=1))
    )
    note = services.note_add(actor=agent, party=party, body="Prefers mornings")
    assert selectors.party_timeline(actor=agent, party=party).items == [note, letter, old_call]
    assert selectors.party_timeline(actor=agent, party=party, channel="phone").items == [old_call]
    assert selectors.party_timeline(actor=agent, party=party, kind="note").items == [note]
    assert list(Note.objects.all()) == [note]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (InteractionInput(channel="pigeon"), "channel"),
        (InteractionInput(channel="phone", direction="sideways"), "direction"),
        (InteractionInput(channel="phone", duration_seconds=10**7), "duration_seconds"),
        (InteractionInput(channel="phone", occurred_at=clock.now() + timedelta(days=3)), "occurred_at"),
    ],
)
def test_bad_interactions_are_refused_with_the_field(agent, party, data, field):
    with pytest.raises(ApplicationError) as error:
        services.interaction_log(actor=agent, party=party, data=data)
    assert field in error.value.errors and not TimelineEntry.objects.exists()


def test_an_empty_note_is_refused(agent, party):
    with pytest.raises(ApplicationError) as error:
        services.note_add(actor=agent, party=party, body="   ")
    assert "body" in error.value.errors


def test_authors_edit_their_entries_leads_edit_any_and_auditors_none(
    agent, other_agent, supervisor, auditor, party
):
    entry = services.interaction_log(actor=agent, party=party, data=InteractionInput(channel="phone"))
    entry = services.entry_update(actor=agent, entry=entry, expected_version=1, changes={"subject": "Mine"})
    with pytest.raises(NotAllowed):
        services.entry_update(
            actor=other_agent, entry=entry, expected_version=2, changes={"subject": "Theirs"}
        )
    with pytest.raises(NotAllowed):
        services.interaction_log(actor=auditor, party=party, data=InteractionInput(channel="phone"))
    entry = services.entry_update(
        actor=supervisor, entry=entry, expected_version=2, changes={"body": "Checked"}
    )
    with pytest.raises(ConflictError):
        services.entry_update(actor=agent, entry=entry, expected_version=2, changes={"body": "Lost?"})
    entry.refresh_from_db()
    assert (entry.subject, entry.body, entry.version) == ("Mine", "Checked", 3)
    with pytest.raises(NotAllowed):
        services.entry_delete(actor=agent, entry=entry, expected_version=3)
    services.entry_delete(actor=supervisor, entry=entry, expected_version=3)
    assert not TimelineEntry.objects.exists()


def test_the_shared_e_mail_corpus_is_there():
    assert len(list(MAIL_DIR.glob("msg_*.txt"))) >= 30, (
        f"expected ../shared/data/email beside the checkout ({MAIL_DIR})"
    )


@pytest.mark.parametrize("path", sorted(MAIL_DIR.glob("msg_*.txt")), ids=lambda p: p.name)
def test_real_emails_attach_intact(agent, party, path):
    raw = path.read_bytes()
    entry = services.interaction_log(actor=agent, party=party, data=InteractionInput(channel="email"))
    attachment = services.attachment_add(
        actor=agent, entry=entry, upload=SimpleUploadedFile(path.name, raw, content_type="text/plain")
    )
    assert attachment.content_type in {"message/rfc822", "text/plain"}
    assert attachment.size == len(raw) and attachment.sha256 == hashlib.sha256(raw).hexdigest()
    with attachment.file.open("rb") as stored:
        assert stored.read() == raw


def test_attachment_type_comes_from_the_bytes_not_the_name(agent, party):
    entry = services.note_add(actor=agent, party=party, body="scan")
    png = services.attachment_add(
        actor=agent, entry=entry, upload=SimpleUploadedFile("scan.pdf", PNG, content_type="application/pdf")
    )
    assert png.content_type == "image/png" and png.filename == "scan.pdf"
    with pytest.raises(ApplicationError) as error:
        services.attachment_add(
            actor=agent, entry=entry, upload=SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 200)
        )
    assert error.value.status == 415


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        (".htaccess", "htaccess"),
        ("...", "attachment"),
        ("rapport final (2).txt", "rapport_final_2.txt"),
    ],
)
def test_path_traversal_names_are_neutralised(agent, party, name, expected, settings):
    entry = services.note_add(actor=agent, party=party, body="x")
    attachment = services.attachment_add(
        actor=agent, entry=entry, upload=SimpleUploadedFile(name, b"plain text")
    )
    assert attachment.filename == expected
    assert Path(attachment.file.path).resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())


def test_empty_and_oversize_files_are_refused_and_nothing_is_written(agent, party, settings):
    settings.RELAY_ATTACHMENT_MAX_BYTES = 1024
    entry = services.note_add(actor=agent, party=party, body="x")
    with pytest.raises(ApplicationError) as empty:
        services.attachment_add(actor=agent, entry=entry, upload=SimpleUploadedFile("a.txt", b""))
    with pytest.raises(ApplicationError) as large:
        services.attachment_add(actor=agent, entry=entry, upload=SimpleUploadedFile("a.txt", b"x" * 1025))
    assert (empty.value.status, large.value.status) == (400, 413)
    assert not Attachment.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_attachments_are_visible_exactly_when_their_entry_is(agent, auditor, inactive_user, party):
    entry = services.note_add(actor=agent, party=party, body="x")
    attachment = services.attachment_add(
        actor=agent, entry=entry, upload=SimpleUploadedFile("a.txt", b"hello")
    )
    assert selectors.attachment_get(actor=auditor, pk=attachment.pk) == attachment
    with pytest.raises(Attachment.DoesNotExist):
        selectors.attachment_get(actor=inactive_user, pk=attachment.pk)
