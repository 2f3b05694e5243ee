"""Staff sessions (relay.accounts.sessions): one query for the session and its user, and every check of
Django's own session authentication still made."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from relay.accounts.models import StaffSession
from relay.accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_signed_in_request_loads_session_and_user_in_one_query(agent, django_assert_num_queries):
    client = _signed_in(agent)
    with django_assert_num_queries(2):  # the session with its user, and the health check's SELECT 1
        assert client.get("/healthz").status_code == 200  # its middleware reads the user's time zone
    session = StaffSession.objects.get(pk=client.cookies["sessionid"].value)
    assert session.user_id == agent.pk


def test_the_session_row_names_its_user_and_logging_out_deletes_it(agent):
    client = Client()
    response = client.post("/login/", {"username": agent.username, "password": "relay-test-pass"})
    assert response.status_code == 302
    key = client.cookies["sessionid"].value
    assert StaffSession.objects.get(pk=key).user_id == agent.pk
    client.post("/logout/")
    assert not StaffSession.objects.filter(pk=key).exists()


def test_a_changed_password_ends_other_sessions(agent):
    client = _signed_in(agent)
    assert client.get("/parties/").status_code == 200
    agent.set_password("a-new-password-for-the-test")
    agent.save()
    assert client.get("/parties/").status_code == 302  # the session hash no longer matches: signed out


def test_a_deactivated_user_is_signed_out(agent):
    client = _signed_in(agent)
    agent.is_active = False
    agent.save()
    assert client.get("/parties/").status_code == 302


def test_an_expired_or_unknown_session_is_anonymous(agent):
    client = _signed_in(agent)
    StaffSession.objects.update(expire_date="2000-01-01T00:00:00Z")
    assert client.get("/parties/").status_code == 302
    client.cookies["sessionid"] = "x" * 32
    assert client.get("/parties/").status_code == 302


def test_a_session_without_a_user_keeps_its_data():
    store = SessionStore()
    store["basket"] = [1, 2]
    store.create()
    loaded = SessionStore(store.session_key)
    assert loaded["basket"] == [1, 2] and loaded.loaded_user is None
    assert StaffSession.objects.get(pk=store.session_key).user_id is None
    assert SESSION_KEY not in loaded
