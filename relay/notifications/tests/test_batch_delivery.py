"""A drain delivers the in-app notices of a whole claimed batch at once; if that fails, event by event."""

from __future__ import annotations

from django.core import mail

from relay.accounts.models import User
from relay.core import outbox
from relay.core.models import OutboxEvent
from relay.core.testing.factories import UserFactory
from relay.notifications import delivery
from relay.notifications.models import Notification, NotificationPreference


def _user() -> User:
    return User.objects.get(pk=UserFactory().pk)


def _emit(recipients, name="case.note_added", actor=None):
    from django.db import transaction

    with transaction.atomic():
        return outbox.emit(
            name,
            payload={"title": "A note", "url": "/cases/1/", "actor_id": actor.pk if actor else None},
            recipients=[u.pk for u in recipients],
        )


def test_a_batch_tells_each_recipient_once_by_their_preferences(db):
    actor, quiet, mailed = _user(), _user(), _user()
    NotificationPreference.objects.create(user=quiet, kind="case.", in_app=False, email=False)
    NotificationPreference.objects.create(user=mailed, kind="case.closed", in_app=False, email=True)
    _emit([actor, quiet, mailed], actor=actor)
    _emit([actor, quiet, mailed], name="case.closed", actor=actor)
    assert outbox.drain(batch_size=10).dispatched == 2
    assert outbox.drain().claimed == 0
    notices = sorted(Notification.objects.values_list("recipient_id", "kind"))
    assert notices == [(mailed.pk, "case.note_added")]
    assert sorted(m.to[0] for m in mail.outbox) == sorted([mailed.email, mailed.email])


def test_a_failed_batch_insert_falls_back_to_event_by_event(db, monkeypatch):
    people = [UserFactory() for _ in range(3)]
    for _ in range(3):
        _emit(people)

    def broken(events):
        raise RuntimeError("batch insert failed")

    monkeypatch.setitem(outbox._preparers, "notifications", broken)
    assert outbox.drain().dispatched == 3
    assert Notification.objects.count() == 9 and len(mail.outbox) == 9
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_a_redelivered_batch_repeats_nothing(db):
    people = [UserFactory() for _ in range(2)]
    events = [_emit(people) for _ in range(2)]
    delivery.prepare_batch(list(OutboxEvent.objects.filter(pk__in=[e.pk for e in events])))
    assert Notification.objects.count() == 4
    assert outbox.drain().dispatched == 2  # as after a worker died before marking the batch
    assert Notification.objects.count() == 4 and len(mail.outbox) == 4
