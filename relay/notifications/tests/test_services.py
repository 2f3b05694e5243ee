"""The inbox's services and selectors: own rows only, read state, preferences, keyset pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from relay.core import clock
from relay.core.exceptions import ApplicationError
from relay.core.testing.queries import count_queries
from relay.notifications import selectors, services
from relay.notifications.models import Notification, NotificationPreference
from relay.notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_marking_read_sets_the_time_once(agent):
    notification = NotificationFactory(recipient=agent)
    first = services.notification_mark_read(actor=agent, notification=notification)
    assert first.read_at is not None
    again = services.notification_mark_read(actor=agent, notification=notification)
    assert again.read_at == first.read_at


def test_nobody_marks_someone_elses_notification(agent, supervisor):
    notification = NotificationFactory(recipient=agent)
    with pytest.raises(Notification.DoesNotExist):
        services.notification_mark_read(actor=supervisor, notification=notification)
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_touches_only_the_actors_unread(agent, supervisor):
    mine = NotificationFactory.create_batch(3, recipient=agent)
    services.notification_mark_read(actor=agent, notification=mine[0])
    theirs = NotificationFactory(recipient=supervisor)
    assert services.notification_mark_all_read(actor=agent) == 2
    assert selectors.unread_count(actor=agent) == 0
    assert selectors.unread_count(actor=supervisor) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_unread_count_is_one_count_query(agent):
    NotificationFactory.create_batch(4, recipient=agent)
    n, sql, count = count_queries(lambda: selectors.unread_count(actor=agent))
    assert count == 4 and n == 1 and "COUNT" in sql[0].upper()


def test_the_inbox_shows_own_notifications_newest_first_in_keyset_pages(agent, supervisor):
    now = clock.now()
    made = [NotificationFactory(recipient=agent, created_at=now - timedelta(minutes=i)) for i in range(7)]
    NotificationFactory(recipient=supervisor)
    seen, cursor = [], None
    while True:
        page = selectors.inbox(actor=agent, cursor=cursor, size=3)
        seen += [n.pk for n in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [n.pk for n in made], "newest first, no gaps, no repeats, nobody else's"


def test_the_inbox_can_show_only_unread(agent):
    read, unread = NotificationFactory(recipient=agent), NotificationFactory(recipient=agent)
    services.notification_mark_read(actor=agent, notification=read)
    assert [n.pk for n in selectors.inbox(actor=agent, unread_only=True).items] == [unread.pk]


def test_a_forged_cursor_is_an_application_error(agent):
    with pytest.raises(ApplicationError):
        selectors.inbox(actor=agent, cursor="forged")


def test_anonymous_and_inactive_users_see_nothing(agent, inactive_user):
    NotificationFactory(recipient=inactive_user)
    assert selectors.unread_count(actor=AnonymousUser()) == 0
    assert selectors.unread_count(actor=inactive_user) == 0
    assert list(Notification.objects.restrict(inactive_user, "view")) == []


def test_preference_set_creates_then_replaces(agent):
    first = services.preference_set(actor=agent, kind="case.", in_app=True, email=False)
    again = services.preference_set(actor=agent, kind=" case. ", in_app=False, email=False)
    assert first.pk == again.pk and (again.in_app, again.email) == (False, False)
    assert NotificationPreference.objects.filter(user=agent).count() == 1
    assert again.history.count() == 2 and again.history.first().history_user == agent


def test_preferences_belong_to_their_user(agent, supervisor):
    services.preference_set(actor=agent, kind="case.", in_app=True, email=False)
    assert selectors.preference_list(actor=supervisor) == []
    assert [p.kind for p in selectors.preference_list(actor=agent)] == ["case."]


@pytest.mark.parametrize("kind", ["", "Case.", "case..transferred", "case.*", "x" * 101, "a b"])
def test_a_preference_needs_a_real_kind(agent, kind):
    with pytest.raises(ApplicationError) as caught:
        services.preference_set(actor=agent, kind=kind, in_app=True, email=True)
    assert "kind" in caught.value.errors
    assert NotificationPreference.objects.count() == 0


def test_known_kinds_come_from_the_actors_notifications(agent, supervisor):
    NotificationFactory(recipient=agent, kind="case.assigned")
    NotificationFactory(recipient=agent, kind="case.transferred")
    NotificationFactory(recipient=supervisor, kind="case.escalated")
    assert selectors.known_kinds(actor=agent) == ["case.assigned", "case.transferred"]


def test_every_inbox_model_has_its_own_row_scope():
    """Guard: without a registered scope a model falls back to "all staff read everything"."""
    from django.apps import apps

    from relay.accounts import permissions
    from relay.core.models import RestrictedQuerySet

    for model in apps.get_app_config("notifications").get_models():
        if model.__name__.startswith("Historical"):
            continue
        assert isinstance(model._default_manager.all(), RestrictedQuerySet), model
        assert model._meta.label_lower in permissions._scopes, model
