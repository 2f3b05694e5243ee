"""The inbox in the staff UI: the bell, the inbox page, marking read, preferences."""

from __future__ import annotations

import pytest
from django.test import Client

from relay.notifications import selectors, services
from relay.notifications.models import NotificationPreference
from relay.notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_page_has_the_bell_which_polls_the_badge(agent):
    html = login(agent).get("/parties/").content.decode()
    assert 'href="/inbox/"' in html and "bi-bell" in html
    assert 'hx-get="/inbox/badge/"' in html and 'hx-trigger="load, every 10s"' in html


def test_the_badge_shows_the_unread_count(agent, supervisor):
    client = login(agent)
    assert client.get("/inbox/badge/").content.decode().strip() == ""
    NotificationFactory.create_batch(3, recipient=agent)
    NotificationFactory(recipient=supervisor)
    response = client.get("/inbox/badge/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert ">3<" in response.content.decode() and "unread" in response.content.decode()


def test_the_badge_stops_polling_when_signed_out(client):
    response = client.get("/inbox/badge/")
    assert response.status_code == 286 and response.content == b""


def test_the_inbox_lists_only_ones_own_notifications_with_the_text_escaped(agent, supervisor):
    NotificationFactory(recipient=agent, title="<script>alert(1)</script> transferred")
    NotificationFactory(recipient=supervisor, title="Not for the agent")
    html = login(agent).get("/inbox/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; transferred" in html and "<script>alert" not in html
    assert "Not for the agent" not in html
    assert "Mark all read" in html


def test_the_inbox_says_what_to_expect_when_empty(agent):
    html = login(agent).get("/inbox/").content.decode()
    assert "No notifications yet" in html
    assert "Nothing unread" in login(agent).get("/inbox/?show=unread").content.decode()


def test_the_unread_tab_and_pages(agent):
    read = NotificationFactory(recipient=agent, title="Old news")
    services.notification_mark_read(actor=agent, notification=read)
    for i in range(30):
        NotificationFactory(recipient=agent, title=f"Fresh {i}")
    client = login(agent)
    html = client.get("/inbox/?show=unread").content.decode()
    assert "Old news" not in html and 'rel="next"' in html
    page = selectors.inbox(actor=agent, unread_only=True)
    partial = client.get(f"/inbox/?show=unread&cursor={page.next_cursor}", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert "Fresh 0" in partial.content.decode()
    assert client.get("/inbox/?cursor=forged").status_code == 200, "a stale link shows the first page"


def test_mark_read_with_htmx_returns_the_row_and_the_new_badge(agent):
    first, _ = NotificationFactory.create_batch(2, recipient=agent)
    response = login(agent).post(f"/inbox/{first.pk}/read/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="notification-{first.pk}"' in body and "Mark read" not in body
    assert 'id="notification-count" hx-swap-oob="innerHTML"' in body and ">1<" in body
    first.refresh_from_db()
    assert first.read_at is not None


def test_mark_read_without_htmx_goes_back_to_the_inbox(agent):
    notification = NotificationFactory(recipient=agent)
    response = login(agent).post(f"/inbox/{notification.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"


def test_someone_elses_notification_is_404_and_stays_unread(agent, supervisor):
    theirs = NotificationFactory(recipient=supervisor)
    client = login(agent)
    assert client.post(f"/inbox/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/inbox/{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_needs_a_post(agent):
    notification = NotificationFactory(recipient=agent)
    assert login(agent).get(f"/inbox/{notification.pk}/read/").status_code == 405
    assert login(agent).get("/inbox/read-all/").status_code == 405


def test_open_marks_read_and_goes_only_to_a_local_path(agent):
    local = NotificationFactory(recipient=agent, url="/parties/12/")
    client = login(agent)
    response = client.post(f"/inbox/{local.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/parties/12/"
    local.refresh_from_db()
    assert local.read_at is not None
    for url in ("https://evil.example/", "//evil.example/x", "/\\evil.example", ""):
        sneaky = NotificationFactory(recipient=agent, url=url)
        assert client.post(f"/inbox/{sneaky.pk}/open/")["Location"] == "/inbox/", url


def test_mark_all_read(agent, supervisor):
    NotificationFactory.create_batch(2, recipient=agent)
    theirs = NotificationFactory(recipient=supervisor)
    client = login(agent)
    response = client.post("/inbox/read-all/", follow=True)
    assert "2 notifications marked read." in response.content.decode()
    assert selectors.unread_count(actor=agent) == 0 and selectors.unread_count(actor=supervisor) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_signed_out_users_are_sent_to_the_login(client):
    for path in ("/inbox/", "/inbox/preferences/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_preferences_page_saves_and_shows_errors_next_to_the_field(agent):
    client = login(agent)
    page = client.get("/inbox/preferences/").content.decode()
    assert 'list="kind-suggestions"' in page and '<option value="case.">' in page
    response = client.post("/inbox/preferences/", {"kind": "case.", "in_app": "on"})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=agent)
    assert (preference.kind, preference.in_app, preference.email) == ("case.", True, False)
    bad = client.post("/inbox/preferences/", {"kind": "Not a kind!", "email": "on"})
    assert bad.status_code == 400 and 'id="id_kind-errors"' in bad.content.decode()
    assert NotificationPreference.objects.count() == 1


def test_preferences_are_ones_own(agent, supervisor):
    services.preference_set(actor=supervisor, kind="case.secret.", in_app=True, email=True)
    assert "case.secret." not in login(agent).get("/inbox/preferences/").content.decode()


def test_the_pages_keep_to_the_csp(agent):
    NotificationFactory(recipient=agent)
    client = login(agent)
    for path in ("/inbox/", "/inbox/preferences/"):
        html = client.get(path).content.decode()
        assert "<script>" not in html.replace(" ", "") and "style=" not in html, path
