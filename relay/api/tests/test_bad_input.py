"""Bad input is always a 4xx problem, never a 500: a corpus of the inputs that broke APIs before."""

import base64
import json

import pytest

from relay.core.testing.api import PROBLEM, client_for
from relay.core.testing.factories import NoteFactory, PartyFactory

pytestmark = pytest.mark.django_db

BIG = "2457994227352299363273859626172416"  # beyond any 64-bit key


def forged_cursor(value, pk=1, backwards=0):
    raw = json.dumps([value, pk, backwards]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def assert_4xx(response):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/parties/?owner={BIG}",
        f"/api/v1/contact-points/?party={BIG}",
        "/api/v1/identifiers/?party=-1",
        f"/api/v1/relationships/?party={BIG}",
        f"/api/v1/notes/?party={BIG}",
        "/api/v1/interactions/?party=1.5",
        f"/api/v1/attachments/?entry={BIG}",
        "/api/v1/parties/?updated_since=99999-01-01",
        "/api/v1/parties/?kind=alien",
        "/api/v1/parties/?q=" + "x" * 500,
        "/api/v1/parties/?cursor=" + forged_cursor([1, 2]),
        "/api/v1/parties/?cursor=" + forged_cursor({"t": "not a date"}),
        "/api/v1/parties/?cursor=" + forged_cursor("a", pk="b"),
        "/api/v1/parties/?ordering=-updated&cursor=" + forged_cursor("yesterday"),
        "/api/v1/notes/?cursor=" + forged_cursor({"t": "2026-01-01T00:00:00"}, pk=BIG),
        "/api/v1/parties/1/timeline/?kind=everything",
        "/api/v1/parties/1/timeline/?cursor=" + forged_cursor(17),
        "/api/v1/parties/search/?q=a&limit=-5e3",
        f"/api/v1/cases/?party={BIG}",
        "/api/v1/cases/?department=1.5",
        "/api/v1/cases/?assignee=-1",
        "/api/v1/cases/?status_category=everything",
        "/api/v1/cases/?priority=asap",
        "/api/v1/cases/?unassigned=perhaps",
        "/api/v1/cases/?updated_since=99999-01-01",
        "/api/v1/cases/?ordering=subject",
        "/api/v1/cases/?number=" + "C" * 500,
        "/api/v1/cases/?cursor=" + forged_cursor([1, 2]),
        "/api/v1/cases/?ordering=-activity&cursor=" + forged_cursor("yesterday"),
        f"/api/v1/cases/{BIG}/",
        f"/api/v1/cases/{BIG}/events/",
        "/api/v1/cases/by-number/" + "C" * 100 + "/",
        f"/api/v1/case-categories/{BIG}/",
        "/api/v1/case-statuses/?cursor=" + forged_cursor("x", pk=BIG),
    ],
)
def test_bad_query_parameters_are_4xx(agent, path):
    PartyFactory(id=1)
    assert_4xx(client_for(agent).get(path))


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/parties/?q=a%00b",
        "/api/v1/parties/?name=%00",
        "/api/v1/parties/search/?q=ab%00cd",
        "/api/v1/parties/search/?q=%00",
        "/api/v1/parties/lookup/?phone=%00415",
        "/api/v1/parties/?tag=%00",
        "/api/v1/parties/?email=a%00@b.c",
        "/api/v1/parties/?cursor=" + forged_cursor("\x00"),
        "/api/v1/parties/?q=%FF%FE",
        "/api/v1/cases/?number=%00",
        "/api/v1/cases/by-number/C-1%00/",
        "/api/v1/cases/?ordering=%00",
    ],
)
def test_nul_characters_and_broken_encodings_never_reach_the_database(agent, path):
    response = client_for(agent).get(path)
    assert response.status_code in (200, 400), (response.status_code, response.content[:300])
    if response.status_code == 400:
        assert response["Content-Type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/contact-points/", {"party": int(BIG), "kind": "phone", "raw": "1"}),
        ("/api/v1/contact-points/", {"party": 1, "kind": "phone", "raw": "not a number"}),
        ("/api/v1/contact-points/", {"party": 1, "kind": "email", "raw": "a@"}),
        ("/api/v1/notes/", {"party": int(BIG), "body": "x"}),
        ("/api/v1/notes/", {"party": 1, "body": "a\x00b"}),
        ("/api/v1/notes/", {"party": 1, "body": "x", "occurred_at": "3000-01-01T00:00:00Z"}),
        ("/api/v1/parties/", {"family_name": "x", "owner": int(BIG)}),
        ("/api/v1/parties/", {"family_name": "x", "tags": ["!!!"]}),
        ("/api/v1/parties/", {"family_name": "x", "tags": "vip"}),
        ("/api/v1/parties/", {"family_name": "x", "contact_points": [{"kind": "phone", "raw": "12"}]}),
        ("/api/v1/parties/", {"family_name": "x", "identifiers": [{"scheme": "nope", "value": "1"}]}),
        ("/api/v1/parties/", {"kind": "organisation"}),
        ("/api/v1/parties/", {"family_name": {"nested": True}}),
        ("/api/v1/parties/", {"family_name": "x" * 10_000}),
        ("/api/v1/interactions/", {"party": 1, "channel": "phone", "duration_seconds": int(BIG)}),
        (
            "/api/v1/interactions/",
            {"party": 1, "channel": "phone", "occurred_at": "0001-01-01T00:00:00+14:00"},
        ),
        ("/api/v1/relationships/", {"person": 1, "organisation": 1}),
        ("/api/v1/identifiers/", {"party": 1, "scheme": "account", "value": ""}),
        ("/api/v1/cases/", {"party": int(BIG), "subject": "x"}),
        ("/api/v1/cases/", {"party": 1, "subject": "a\x00b"}),
        ("/api/v1/cases/", {"party": 1, "subject": "x", "category": int(BIG)}),
        ("/api/v1/cases/", {"party": 1, "subject": "x", "department": "Billing"}),
        ("/api/v1/cases/", {"party": 1, "subject": "x", "watcher_users": "everyone"}),
        ("/api/v1/cases/", {"party": 1, "subject": {"nested": True}}),
        ("/api/v1/cases/", {"party": 1, "subject": "x" * 10_000}),
        (
            "/api/v1/cases/log-from-call/",
            {"phone": "\x00", "subject": "x", "new_caller": {"family_name": "x"}},
        ),
        ("/api/v1/cases/log-from-call/", {"phone": "12", "subject": "x", "new_caller": {"family_name": "x"}}),
        ("/api/v1/cases/log-from-call/", {"phone": "+1 415 555 0100", "subject": "x", "new_caller": "x"}),
        (
            "/api/v1/cases/log-from-call/",
            {
                "phone": "+1 415 555 0100",
                "subject": "x",
                "new_caller": {"family_name": "x"},
                "call": {"duration_seconds": -1},
            },
        ),
        ("/api/v1/cases/bulk/", {"action": "close", "cases": [{"id": int(BIG), "version": 1}]}),
        ("/api/v1/cases/bulk/", {"action": "close", "cases": "all"}),
        ("/api/v1/cases/bulk/", {"action": "close", "cases": [{"id": 1, "version": 2**40}]}),
    ],
)
def test_bad_bodies_are_4xx_and_write_nothing(agent, schemes, path, body):
    from relay.customers.models import Party

    PartyFactory(id=1)
    parties = Party.objects.count()
    response = client_for(agent).post(path, body, format="json")
    assert_4xx(response)
    assert Party.objects.count() == parties


def test_an_identifier_used_twice_is_a_4xx_even_with_an_idempotency_key(agent, schemes):
    party = PartyFactory()
    client = client_for(agent)
    body = {"party": party.pk, "scheme": "account", "value": "ACC-1"}
    assert client.post("/api/v1/identifiers/", body, format="json").status_code == 201
    response = client.post("/api/v1/identifiers/", body, format="json", HTTP_IDEMPOTENCY_KEY="fresh")
    assert_4xx(response)
    # the failed request did not use the key up
    other = {"party": party.pk, "scheme": "account", "value": "ACC-2"}
    assert (
        client.post("/api/v1/identifiers/", other, format="json", HTTP_IDEMPOTENCY_KEY="fresh").status_code
        == 201
    )


@pytest.mark.parametrize("key", ["", " ", "k" * 201])
def test_a_bad_idempotency_key_is_400(agent, key):
    response = client_for(agent).post(
        "/api/v1/parties/", {"family_name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert_4xx(response)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"family_name": "x"'),
        ("application/json", b"\xff\xfe\x00"),
        ("application/xml", b"<party/>"),
        ("multipart/form-data", b"garbage"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n--x--"),
        ("application/x-www-form-urlencoded", b"family_name=x&kind=%FF"),
    ],
)
def test_malformed_and_unsupported_bodies_are_4xx(agent, content_type, body):
    response = client_for(agent).generic("POST", "/api/v1/parties/", body, content_type=content_type)
    assert_4xx(response)


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("../../../etc/passwd", b"root:x:0:0", 201),
        ("..\\..\\windows\\system32\\evil.txt", b"evil", 201),
        ("/absolute/path.txt", b"abs", 201),
        (".htaccess", b"Options +ExecCGI", 201),
        ("nul\x00byte.txt", b"nul", 201),
        ("empty.txt", b"", 400),
        ("fake.pdf", b"MZ\x90\x00" + b"\x00" * 64, 415),
        ("page.html", b"<html><script>alert(1)</script></html>", 201),
    ],
)
def test_attachment_names_and_contents(agent, settings, tmp_path, name, content, status):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from relay.activities.models import Attachment

    settings.MEDIA_ROOT = tmp_path / "media"
    entry = NoteFactory(party=PartyFactory())
    response = client_for(agent).post(
        "/api/v1/attachments/",
        {"entry": entry.pk, "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )
    assert response.status_code == status, response.content
    if status != 201:
        assert response["Content-Type"].startswith(PROBLEM)
        assert not Attachment.objects.exists()
        return
    stored = Attachment.objects.get()
    assert "/" not in stored.filename and "\\" not in stored.filename and not stored.filename.startswith(".")
    assert (tmp_path / "media").resolve() in (tmp_path / "media" / stored.file.name).resolve().parents
    download = client_for(agent).get(f"/api/v1/attachments/{stored.pk}/download/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] != "text/html"


def test_an_oversize_body_is_a_413_problem(agent, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"family_name": "x", "about": "y" * 5000})
    response = client_for(agent).generic("POST", "/api/v1/parties/", body, content_type="application/json")
    assert response.status_code == 413 and response["Content-Type"].startswith(PROBLEM)


def test_a_record_read_without_get_object_or_404_is_a_404_problem_not_a_500():
    from relay.api.errors import problem_exception_handler
    from relay.customers.models import Party

    response = problem_exception_handler(Party.DoesNotExist("gone"), {})
    assert response is not None and response.status_code == 404
    assert response.content_type == PROBLEM and response.data["title"] == "Not found"


def test_an_unknown_path_is_a_404_problem_that_points_at_the_missing_slash(agent):
    client = client_for(agent)
    response = client.get("/api/v1/routing-rules/test")
    assert response.status_code == 404 and response["Content-Type"].startswith(PROBLEM)
    assert response.json()["detail"] == "API paths end in a slash: /api/v1/routing-rules/test/"
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and "OpenAPI document" in response.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/api/v1/parties/", "/api/v1/cases/", "/api/v1/sla-alerts/", "/api/v1/sla-alerts/?until="]
)
def test_an_iso_offset_beyond_what_postgresql_takes_is_converted_not_a_500(agent, path):
    """ISO 8601 allows +19:43; PostgreSQL refuses offsets beyond ±15:59 (found by the fuzzer)."""
    param = "updated_since" if "sla-alerts" not in path else "since"
    sep = "&" if "?" in path else "?"
    response = client_for(agent).get(f"{path}{sep}{param}=2026-01-01T00:00:00%2B19:43")
    assert response.status_code == 200, response.content[:300]
