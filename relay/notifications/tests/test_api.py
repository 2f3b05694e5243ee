"""The inbox through the API: only one's own notifications and preferences; everyone else's are 404."""

from __future__ import annotations

import itertools

import pytest

from relay.core.testing.api import (
    STAFF_ROLES,
    CreateTests,
    ReadOnlyTests,
    ReadTests,
    assert_problem,
    client_for,
)
from relay.notifications import services
from relay.notifications.models import Notification, NotificationPreference
from relay.notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

_kinds = itertools.count()


class TestNotificationAPI(ReadOnlyTests):
    endpoint = "/api/v1/notifications/"
    model = Notification

    def make(self, ctx):
        return NotificationFactory(recipient=ctx["agent"])

    @pytest.mark.parametrize("role", STAFF_ROLES)
    def test_every_staff_role_lists_and_reads(self, ctx, role):
        """Each role reads its own notifications (the generic version reads one shared record)."""
        obj = NotificationFactory(recipient=ctx[role])
        client = client_for(ctx[role])
        assert self.ids(client.get(self.url())) == [obj.pk]
        detail = client.get(self.url(obj))
        assert detail.status_code == 200 and detail.json()["id"] == obj.pk

    def test_a_record_outside_the_users_scope_is_404_and_not_listed(self, ctx):
        obj = NotificationFactory(recipient=ctx["supervisor"])
        client = client_for(ctx["supervisor"])
        with self.hidden(obj):
            assert_problem(client.get(self.url(obj)), 404)
            assert obj.pk not in self.ids(client.get(self.url()))


class TestNotificationPreferenceAPI(ReadTests, CreateTests):
    endpoint = "/api/v1/notification-preferences/"
    model = NotificationPreference
    invalid_fields = ("kind",)

    def make(self, ctx):
        return services.preference_set(
            actor=ctx["agent"], kind=f"case.k{next(_kinds)}", in_app=True, email=False
        )

    def create_data(self, ctx):
        return {"kind": f"case.c{next(_kinds)}", "in_app": False, "email": True}

    def invalid_data(self, ctx):
        return {"kind": "Not a kind!", "in_app": True, "email": True}

    @pytest.mark.parametrize("role", STAFF_ROLES)
    def test_every_staff_role_lists_and_reads(self, ctx, role):
        obj = services.preference_set(actor=ctx[role], kind="case.", in_app=True, email=False)
        client = client_for(ctx[role])
        assert self.ids(client.get(self.url())) == [obj.pk]
        assert client.get(self.url(obj)).json()["kind"] == "case."

    def test_a_record_outside_the_users_scope_is_404_and_not_listed(self, ctx):
        obj = services.preference_set(actor=ctx["supervisor"], kind="case.", in_app=True, email=True)
        client = client_for(ctx["supervisor"])
        with self.hidden(obj):
            assert_problem(client.get(self.url(obj)), 404)
            assert obj.pk not in self.ids(client.get(self.url()))

    def test_auditors_cannot_create(self, ctx):
        """Not so here: everyone, auditors included, chooses how they are told."""
        before = self.count()
        response = self.post(client_for(ctx["auditor"]), self.create_data(ctx))
        assert response.status_code == 201 and self.count() == before + 1


# --- explicit refusals and the actions -------------------------------------------------------------------


def test_another_users_notification_is_404_everywhere(agent, supervisor):
    theirs = NotificationFactory(recipient=supervisor)
    client = client_for(agent)
    assert_problem(client.get(f"/api/v1/notifications/{theirs.pk}/"), 404)
    assert_problem(client.post(f"/api/v1/notifications/{theirs.pk}/read/"), 404)
    assert client.get("/api/v1/notifications/").json()["results"] == []
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_another_users_preference_is_404_and_setting_mine_never_touches_theirs(agent, supervisor):
    theirs = services.preference_set(actor=supervisor, kind="case.", in_app=True, email=True)
    client = client_for(agent)
    assert_problem(client.get(f"/api/v1/notification-preferences/{theirs.pk}/"), 404)
    mine = client.post(
        "/api/v1/notification-preferences/", {"kind": "case.", "in_app": False, "email": False}, format="json"
    )
    assert mine.status_code == 201 and mine.json()["id"] != theirs.pk
    theirs.refresh_from_db()
    assert (theirs.in_app, theirs.email) == (True, True)


def test_post_read_marks_one_read(agent):
    notification = NotificationFactory(recipient=agent)
    client = client_for(agent)
    response = client.post(f"/api/v1/notifications/{notification.pk}/read/")
    assert response.status_code == 200
    body = response.json()
    assert body["is_read"] is True and body["read_at"]
    again = client.post(f"/api/v1/notifications/{notification.pk}/read/")
    assert again.json()["read_at"] == body["read_at"]


def test_post_read_all_marks_only_ones_own(agent, supervisor):
    NotificationFactory.create_batch(3, recipient=agent)
    theirs = NotificationFactory(recipient=supervisor)
    response = client_for(agent).post("/api/v1/notifications/read-all/")
    assert response.status_code == 200 and response.json() == {"marked": 3, "unread": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_list_filters_unread(agent):
    read, unread = NotificationFactory(recipient=agent), NotificationFactory(recipient=agent)
    services.notification_mark_read(actor=agent, notification=read)
    client = client_for(agent)
    assert [r["id"] for r in client.get("/api/v1/notifications/?unread=true").json()["results"]] == [
        unread.pk
    ]
    assert len(client.get("/api/v1/notifications/?unread=false").json()["results"]) == 2
    assert_problem(client.get("/api/v1/notifications/?unread=maybe"), 400, "unread")


def test_anonymous_and_inactive_are_401(inactive_user):
    for path in ("/api/v1/notifications/", "/api/v1/notification-preferences/"):
        assert_problem(client_for(None).get(path), 401)
        assert_problem(client_for(None).post("/api/v1/notifications/read-all/"), 401)
