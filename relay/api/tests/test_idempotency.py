"""Idempotency-Key is enforced by the unique constraint, not by the look-up before it."""

import threading

import pytest
from django.db import connection

from relay.api.models import IdempotencyKey
from relay.core.testing.api import client_for
from relay.customers.models import Party


def test_a_retry_that_loses_the_race_replays_the_winners_response(agent, monkeypatch):
    client = client_for(agent)
    body = {"family_name": "Racer"}
    first = client.post("/api/v1/parties/", body, format="json", HTTP_IDEMPOTENCY_KEY="race")
    assert first.status_code == 201

    # the retry's look-up runs before the first request committed: it sees no key ...
    real_filter = IdempotencyKey.objects.filter

    class NotYet:
        def first(self):
            return None

    monkeypatch.setattr(IdempotencyKey.objects, "filter", lambda **kw: NotYet(), raising=False)
    again = client.post("/api/v1/parties/", body, format="json", HTTP_IDEMPOTENCY_KEY="race")
    monkeypatch.setattr(IdempotencyKey.objects, "filter", real_filter, raising=False)
    # ... so the unique constraint refuses its key row, its work is rolled back and it replays
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Party.objects.filter(family_name="Racer").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_one_record(agent):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database serialises threads differently; PostgreSQL only")
    barrier = threading.Barrier(4)
    results: list[int] = []
    token = client_for(agent)._credentials["HTTP_AUTHORIZATION"]

    def retry():
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        barrier.wait()
        response = client.post(
            "/api/v1/parties/", {"family_name": "Concurrent"}, format="json", HTTP_IDEMPOTENCY_KEY="same"
        )
        results.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [201] * 4
    assert Party.objects.filter(family_name="Concurrent").count() == 1
    assert IdempotencyKey.objects.filter(key="same").count() == 1
