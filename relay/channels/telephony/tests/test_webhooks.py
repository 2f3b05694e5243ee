"""The phone system's webhooks: signatures (Twilio's, the HMAC), problem+json refusals, idempotency,
and the call logged on the timeline and the open case when it ends."""

from __future__ import annotations

import pytest
from django.test import Client

from relay.activities.models import TimelineEntry
from relay.cases.services import case_open
from relay.channels.push.models import PushMessage
from relay.channels.telephony.models import Call, CallState
from relay.channels.telephony.tests.conftest import (
    CALLER,
    LINE,
    ended,
    now,
    post_signed,
    post_twilio,
    ringing,
)

HOOK = "/phone/hooks/call"
pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)  # the hooks are CSRF-exempt: machines sign instead


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


# --- Twilio ---------------------------------------------------------------------------------------------


def _twilio_params(**extra):
    return {
        "CallSid": "CA0001",
        "AccountSid": "AC0001",
        "From": CALLER,
        "To": LINE,
        "CallStatus": "ringing",
        "Direction": "inbound",
        **extra,
    }


def test_a_twilio_signed_call_is_recorded_and_answered_with_twiml(client, line, caller):
    response = post_twilio(client, "/phone/twilio/voice", _twilio_params())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    xml = response.content.decode()
    assert xml.startswith("<?xml") and "<Response>" in xml and "<Enqueue>" in xml and "<Say>" in xml
    call = Call.objects.get(provider="twilio", call_id="CA0001")
    assert (call.line, call.party, call.state) == (line, caller, CallState.RINGING)


def test_twilio_signature_with_the_proxy_host_is_accepted(client, line, settings):
    # Relay behind a proxy: Twilio signs the public URL, the request arrives for another host
    settings.RELAY_BASE_URL = "https://crm.example.org/"
    params = _twilio_params()
    from twilio.request_validator import RequestValidator

    sig = RequestValidator("twilio-test-token-0123456789abcdef").compute_signature(
        "https://crm.example.org/phone/twilio/voice", params
    )
    response = client.post("/phone/twilio/voice", data=params, headers={"X-Twilio-Signature": sig})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "kwargs",
    [{"signature": ""}, {"signature": "bm90IGEgc2lnbmF0dXJl"}, {"token": "another-accounts-token"}],
    ids=["missing", "forged", "other-token"],
)
def test_a_twilio_request_without_a_valid_signature_is_refused(client, line, kwargs):
    _problem(post_twilio(client, "/phone/twilio/voice", _twilio_params(), **kwargs), 403)
    _problem(
        post_twilio(client, "/phone/twilio/status", _twilio_params(CallStatus="completed"), **kwargs), 403
    )
    assert not Call.objects.exists()


def test_a_tampered_twilio_parameter_breaks_the_signature(client, line):
    from twilio.request_validator import RequestValidator

    params = _twilio_params()
    sig = RequestValidator("twilio-test-token-0123456789abcdef").compute_signature(
        "https://relay.example.com/phone/twilio/voice", params
    )
    params["From"] = "+14155559999"
    response = client.post("/phone/twilio/voice", data=params, headers={"X-Twilio-Signature": sig})
    _problem(response, 403)


def test_twilio_without_an_auth_token_refuses_everything(client, line, settings):
    settings.RELAY_TWILIO_AUTH_TOKEN = ""
    _problem(post_twilio(client, "/phone/twilio/voice", _twilio_params()), 403)


def test_the_twilio_status_callback_ends_and_logs_the_call(client, line, caller):
    post_twilio(client, "/phone/twilio/voice", _twilio_params())
    post_twilio(client, "/phone/twilio/status", _twilio_params(CallStatus="in-progress"))
    params = _twilio_params(
        CallStatus="completed", CallDuration="65", RecordingUrl="https://api.twilio.com/rec/RE1"
    )
    response = post_twilio(client, "/phone/twilio/status", params)
    assert response.status_code == 204
    post_twilio(client, "/phone/twilio/status", params)  # Twilio retries
    call = Call.objects.get()
    assert (call.state, call.duration_seconds, call.disposition) == ("ended", 65, "completed")
    assert call.answered_at is not None
    entry = TimelineEntry.objects.get(party=caller, kind="interaction")
    assert entry == call.interaction and entry.duration_seconds == 65 and entry.channel == "phone"
    assert "https://api.twilio.com/rec/RE1" in entry.body


def test_twilios_recording_callback_adds_the_recording_during_or_after_the_call(client, line, caller):
    def recording(status="completed", url="https://api.twilio.com/rec/RE9"):
        return {"CallSid": "CA0001", "AccountSid": "AC0001", "RecordingStatus": status, "RecordingUrl": url}

    post_twilio(client, "/phone/twilio/voice", _twilio_params())
    assert post_twilio(client, "/phone/twilio/status", recording("in-progress")).status_code == 204
    assert post_twilio(client, "/phone/twilio/status", recording()).status_code == 204  # mid-call
    ended = _twilio_params(CallStatus="completed", CallDuration="30")  # the end brings no URL
    assert post_twilio(client, "/phone/twilio/status", ended).status_code == 204
    entry = Call.objects.select_related("interaction").get().interaction
    assert "https://api.twilio.com/rec/RE9" in entry.body  # logged with the call

    _problem(post_twilio(client, "/phone/twilio/status", recording(url="ftp://x/y")), 400)
    other = recording() | {"CallSid": "CA-unknown"}
    _problem(post_twilio(client, "/phone/twilio/status", other), 400)


def test_a_bad_twilio_duration_is_a_400(client, line):
    _problem(
        post_twilio(client, "/phone/twilio/status", _twilio_params(CallStatus="completed", CallDuration="x")),
        400,
    )


# --- the generic JSON hook -----------------------------------------------------------------------------


def test_a_signed_ringing_event_records_the_call(client, line, caller, agent):
    response = post_signed(client, HOOK, ringing(agent="agent"))
    assert response.status_code == 201
    call = Call.objects.get(call_id="c-1")
    assert (call.party, call.agent, call.line, call.from_number) == (caller, agent, line, CALLER)


def test_a_forged_signature_is_refused(client, line):
    body = _problem(post_signed(client, HOOK, ringing(), key="not-the-secret"), 403)
    assert "signature" in body["detail"].lower()
    assert not Call.objects.exists()


def test_a_missing_signature_is_refused(client, line):
    _problem(client.post(HOOK, data=b"{}", content_type="application/json"), 403)


def test_a_replayed_request_older_than_five_minutes_is_refused(client, line):
    _problem(post_signed(client, HOOK, ringing(), timestamp=now() - 301), 403)
    assert post_signed(client, HOOK, ringing(), timestamp=now() - 200).status_code == 201


def test_a_body_changed_after_signing_is_refused(client, line):
    from relay.channels.telephony.signing import sign

    headers = sign(b'{"event": "ringing"}', key=b"phone-test-secret")
    response = client.post(HOOK, data=b'{"event": "ended"}', content_type="application/json", headers=headers)
    _problem(response, 403)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        b'{"event": "ringing"}',
        b'{"event": "ringing", "call_id": "c", "from": ""}',
        b'{"event": "ringing", "call_id": "c", "from": 12}',
        b'{"event": "hangup", "call_id": "c"}',
        b'{"event": "ended", "call_id": "c", "duration": "long", "from": "+14155550142"}',
        b'{"event": "ended", "call_id": "c", "duration": -5, "from": "+14155550142"}',
        b'{"event": "ended", "call_id": "c", "recording_url": "javascript:alert(1)", "from": "+1415"}',
        b'{"event": "ended", "call_id": "never-rang"}',
        b'{"event": "ringing", "call_id": "c", "from": "+14155550142", "direction": "sideways"}',
        b"\xff\xfe",
    ],
)
def test_a_malformed_body_is_a_400_problem(client, line, payload):
    _problem(post_signed(client, HOOK, payload), 400)
    assert not Call.objects.exists()


def test_retried_webhooks_change_nothing(client, line, caller, agent):
    assert post_signed(client, HOOK, ringing()).status_code == 201
    again = post_signed(client, HOOK, ringing())
    assert again.status_code == 200 and again.json()["changed"] is False
    assert post_signed(client, HOOK, ended()).status_code == 201
    retried = post_signed(client, HOOK, ended(duration=999))
    assert retried.status_code == 200 and retried.json()["changed"] is False
    call = Call.objects.get()
    assert call.duration_seconds == 125
    assert TimelineEntry.objects.filter(party=caller, kind="interaction").count() == 1


def test_the_ended_call_is_logged_on_the_timeline_and_the_open_case(client, line, caller, agent, care):
    case = case_open(actor=agent, party=caller, subject="Bill too high", department=care)
    post_signed(client, HOOK, ringing(agent="agent"))
    post_signed(client, HOOK, ended(recording_url="https://pbx.example.com/r/1.mp3", disposition="completed"))
    call = Call.objects.select_related("interaction").get()
    entry = call.interaction
    assert entry.party == caller and entry.channel == "phone" and entry.direction == "inbound"
    assert entry.duration_seconds == 125 and entry.actor == agent
    assert "https://pbx.example.com/r/1.mp3" in entry.body and "completed" in entry.body
    assert entry.case == case and call.case == case
    assert case.events.filter(entry=entry).exists()


def test_an_end_without_a_ring_still_records_and_logs_the_call(client, line, caller):
    response = post_signed(client, HOOK, ended("late", **{"from": CALLER, "to": LINE}))
    assert response.status_code == 201 and response.json()["logged"] is True


def test_an_unknown_callers_call_is_kept_but_not_on_any_timeline(client, line):
    post_signed(client, HOOK, ringing(**{"from": "+14155550999"}))
    post_signed(client, HOOK, ended())
    call = Call.objects.get()
    assert call.state == "ended" and call.party is None and call.interaction is None


def test_the_pop_is_pushed_to_the_line_departments_agents_only(
    client, line, caller, agent, care_colleague, other_agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, HOOK, ringing())
    topics = set(PushMessage.objects.values_list("topic", flat=True))
    assert topics == {f"user:{agent.pk}", f"user:{care_colleague.pk}"}  # not the Billing agent
    event = PushMessage.objects.first().event
    call = Call.objects.get()
    assert event == {"type": "call", "state": "ringing", "call": call.pk, "url": f"/phone/pops/{call.pk}/"}


def test_a_named_agent_alone_gets_the_pop(
    client, line, caller, agent, care_colleague, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, HOOK, ringing(agent=care_colleague.username))
    assert list(PushMessage.objects.values_list("topic", flat=True)) == [f"user:{care_colleague.pk}"]


def test_nothing_is_pushed_when_the_webhook_fails(client, line, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, HOOK, b'{"event": "ringing", "call_id": "c"}')
    assert not PushMessage.objects.exists()


def test_a_recording_sent_after_the_end_is_added_to_the_logged_call(client, line, caller, agent):
    post_signed(client, HOOK, ringing(agent="agent"))
    post_signed(client, HOOK, ended())  # no recording yet
    later = post_signed(client, HOOK, ended(recording_url="https://pbx.example.com/r/7.mp3"))
    assert later.status_code == 200 and later.json()["changed"] is False
    call = Call.objects.select_related("interaction").get()
    assert call.recording_url == "https://pbx.example.com/r/7.mp3"
    assert call.interaction.body.endswith("Recording: https://pbx.example.com/r/7.mp3")
    assert call.interaction.history.count() == 2  # logged, then the recording added (audited)
    again = post_signed(client, HOOK, ended(recording_url="https://pbx.example.com/r/8.mp3"))
    assert again.status_code == 200
    call.refresh_from_db()
    assert call.recording_url == "https://pbx.example.com/r/7.mp3"  # the first recording stays
    assert TimelineEntry.objects.filter(party=caller, kind="interaction").count() == 1
