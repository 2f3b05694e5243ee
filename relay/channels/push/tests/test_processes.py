"""Two real web processes (uvicorn, relay.config.asgi) on one database: a browser's stream open on
process A receives the pop of a call whose webhook process B took. With the database backend that is
the PushMessage table polled by A; with Redis, pub/sub. This is what several gunicorn workers (or
machines) do; a single process would prove nothing about the bus."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from relay.channels.push.testing import SseClient, database_url_for_servers, get, post_json, relay_servers
from relay.channels.telephony.models import PhoneLine
from relay.channels.telephony.signing import sign
from relay.core.testing.factories import ContactPointFactory, PartyFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def push_backend(request, settings):
    settings.RELAY_PUSH = "database" if request.param == "database" else REDIS_URL
    settings.RELAY_PHONE_WEBHOOK_SECRET = "e2e-secret"
    return request.param


def _world(departments, agent):
    PhoneLine.objects.create(number="+14155550100", name="Care line", department=departments["Customer Care"])
    party = PartyFactory(given_name="Grace", family_name="Hopper")
    ContactPointFactory(party=party, kind="phone", raw="+14155550142", normalized="+14155550142")
    client = Client()
    client.force_login(agent)
    return f"sessionid={client.cookies['sessionid'].value}"


def test_a_subscriber_on_one_process_receives_a_pop_published_by_another(
    push_backend, departments, agent, tmp_path
):
    cookie = _world(departments, agent)
    with relay_servers(2, database_url=database_url_for_servers(tmp_path), var_dir=tmp_path) as (a, b):
        stream = SseClient(a.url + "/push/stream", cookie=cookie)
        try:
            assert stream.status == 200 and stream.connected.wait(10)
            body = json.dumps(
                {"event": "ringing", "call_id": "e2e-1", "from": "+14155550142", "to": "+14155550100"}
            )
            status, answer = post_json(
                b.url + "/phone/hooks/call", body.encode(), sign(body.encode(), key=b"e2e-secret")
            )
            assert status == 201, answer
            event_id, kind, event = stream.next_event(timeout=10)
            assert kind == "call" and event["state"] == "ringing" and event_id.isdigit()
            # the card, fetched from process A like pop.js does
            status, html = get(a.url + event["url"], cookie=cookie)
            assert status == 200 and "Grace Hopper" in html
            # the call ends on B: A's stream hears it too
            ended = json.dumps({"event": "ended", "call_id": "e2e-1", "duration": 30}).encode()
            assert post_json(b.url + "/phone/hooks/call", ended, sign(ended, key=b"e2e-secret"))[0] == 201
            assert stream.next_event(timeout=10)[2]["state"] == "ended"
        finally:
            stream.close()


def test_the_stream_refuses_a_visitor_without_a_session(push_backend, tmp_path):
    with relay_servers(1, database_url=database_url_for_servers(tmp_path), var_dir=tmp_path) as (a,):
        status, body = get(a.url + "/push/stream")
        assert status == 401 and json.loads(body)["status"] == 401
