"""`relay phone ring|end|fax`: the signed webhooks a phone system would send, accepted by Relay."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from relay.activities.models import TimelineEntry
from relay.channels.telephony.models import Call, Fax, PhoneLine
from relay.channels.telephony.tests.conftest import CALLER

pytestmark = pytest.mark.django_db


@pytest.fixture
def through_test_client(monkeypatch):
    """The command posts over HTTP; here its requests go to the test client instead."""
    client = Client()

    def post_json(url, body, headers, timeout=10):
        response = client.post(
            urlsplit(url).path, data=body, content_type="application/json", headers=headers
        )
        return response.status_code, response.content

    monkeypatch.setattr("relay.channels.telephony.management.commands.phone.post_json", post_json)


def test_ring_then_end_from_the_command_line(care, caller, agent, through_test_client, capsys):
    PhoneLine.objects.create(number="+14155550199", name="Hotline", department=care)
    call_command("phone", "ring", "--from", CALLER, "--call-id", "cli-1", "--agent", "agent")
    assert "201" in capsys.readouterr().out
    call = Call.objects.get(call_id="cli-1")
    assert (call.party, call.agent, call.line.number) == (caller, agent, "+14155550199")
    call_command("phone", "end", "--call-id", "cli-1", "--duration", "95")
    call.refresh_from_db()
    assert call.state == "ended" and call.interaction is not None
    assert TimelineEntry.objects.get(pk=call.interaction.pk).duration_seconds == 95


def test_fax_from_the_command_line(care, caller, tmp_path, monkeypatch, capsys):
    client = Client()

    def urlopen(request, timeout=30):
        response = client.post(
            urlsplit(request.full_url).path,
            data=request.data,
            content_type=request.get_header("Content-type"),
            headers={k: v for k, v in request.header_items() if k.lower().startswith("x-relay")},
        )

        class Answer:
            status = response.status_code

            def read(self):
                return response.content

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

        return Answer()

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    call_command("phone", "fax", "--from", CALLER, "--file", str(scan))
    assert "201" in capsys.readouterr().out
    assert Fax.objects.get().party == caller
