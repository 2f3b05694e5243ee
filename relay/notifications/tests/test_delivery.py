"""Delivering an outbox event to people: in the app and by e-mail, as each prefers, once."""

from __future__ import annotations

from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from huey.storage import MemoryStorage

from relay.config.huey import HUEY
from relay.core import clock, outbox
from relay.core.outbox_models import DeliveryChannel, OutboxDelivery, OutboxEvent
from relay.core.testing.factories import UserFactory
from relay.core.testing.queries import count_queries
from relay.notifications.models import Notification
from relay.notifications.services import preference_set

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def queue(settings):
    settings.TASKS = {"default": {"BACKEND": "relay.core.tasks_backend.HueyTaskBackend"}}
    original = HUEY.storage
    HUEY.storage = MemoryStorage("relay-delivery-test")
    yield HUEY
    HUEY.storage = original


class FlakyBackend(EmailBackend):
    """locmem, but refuses messages to the addresses in `refuse`."""

    refuse: set[str] = set()

    def send_messages(self, messages):
        for message in messages:
            if set(message.to) & self.refuse:
                raise SMTPException(f"421 try again later ({message.to[0]})")
        return super().send_messages(messages)


def emit(recipients, *, actor=None, name="case.transferred", **extra) -> OutboxEvent:
    payload = {
        "title": "Case 42 transferred to Billing",
        "body": "Check the bill.",
        "url": "/parties/",
        "case_id": 42,
        **extra,
    }
    if actor is not None:
        payload["actor_id"] = actor.pk
    with transaction.atomic():
        return outbox.emit(name, payload=payload, recipients=[u.pk for u in recipients])


def test_in_app_once_per_recipient_and_e_mail_as_each_prefers(agent, supervisor, manager, admin_user):
    # given: the supervisor wants no case e-mail; the manager wants transfers only by e-mail
    preference_set(actor=supervisor, kind="case.", in_app=True, email=False)
    preference_set(actor=manager, kind="case.", in_app=True, email=False)
    preference_set(actor=manager, kind="case.transferred", in_app=False, email=True)
    # when the admin transfers a case and everyone involved is told
    event = emit([agent, supervisor, manager, admin_user], actor=admin_user)
    outbox.drain()
    outbox.drain()
    # then
    notified = Notification.objects.order_by("recipient__username")
    assert [n.recipient for n in notified] == sorted([agent, supervisor], key=lambda u: u.username)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([agent.email, manager.email])
    first = notified.first()
    assert (first.kind, first.title, first.body, first.url, first.case_id) == (
        "case.transferred",
        "Case 42 transferred to Billing",
        "Check the bill.",
        "/parties/",
        42,
    )
    assert first.event_id == event.pk and first.read_at is None
    assert OutboxDelivery.objects.filter(channel=DeliveryChannel.IN_APP).count() == 2
    assert OutboxDelivery.objects.filter(channel=DeliveryChannel.EMAIL).count() == 2


def test_the_actor_is_never_told_about_their_own_action(agent):
    emit([agent], actor=agent)
    outbox.drain()
    assert Notification.objects.count() == 0 and mail.outbox == []


def test_inactive_users_are_skipped(agent, inactive_user):
    emit([agent, inactive_user])
    outbox.drain()
    assert list(Notification.objects.values_list("recipient", flat=True)) == [agent.pk]
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert not OutboxDelivery.objects.filter(recipient_id=inactive_user.pk).exists()


def test_a_user_without_an_address_is_told_in_the_app_only(agent):
    nomail = UserFactory(username="nomail", email="")
    emit([agent, nomail])
    outbox.drain()
    assert Notification.objects.filter(recipient_id=nomail.pk).count() == 1
    assert [m.to for m in mail.outbox] == [[agent.email]]


def test_unknown_user_ids_are_ignored(agent):
    emit([agent])
    OutboxEvent.objects.update(recipients=[agent.pk, 987654])
    outbox.drain()
    assert Notification.objects.count() == 1


def test_the_e_mail(agent, settings):
    settings.RELAY_BASE_URL = "https://relay.example.org"
    event = emit([agent], title="Case 42\ntransferred")
    outbox.drain()
    [message] = mail.outbox
    assert message.subject == "[Relay] Case 42 transferred", "one line, whatever the title holds"
    assert "Check the bill." in message.body
    assert "https://relay.example.org/parties/" in message.body
    assert message.extra_headers["Message-ID"].startswith(f"<relay.outbox.{event.pk}.{agent.pk}@")
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"


def test_a_failed_send_is_retried_and_only_the_missing_message_is_sent(settings, agent, supervisor):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FlakyBackend"}}
    FlakyBackend.refuse = {supervisor.email}
    try:
        event = emit([agent, supervisor])
        assert outbox.drain().failed == 1
        event.refresh_from_db()
        assert event.dispatched_at is None and "421 try again later" in event.last_error
        assert Notification.objects.count() == 2, "the inbox does not wait for e-mail"
        assert [m.to for m in mail.outbox] == [[agent.email]]

        FlakyBackend.refuse = set()
        OutboxEvent.objects.filter(pk=event.pk).update(available_at=clock.now())  # the back-off ends
        assert outbox.drain().dispatched == 1
    finally:
        FlakyBackend.refuse = set()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([agent.email, supervisor.email])
    assert Notification.objects.count() == 2
    assert OutboxDelivery.objects.filter(channel=DeliveryChannel.EMAIL).count() == 2


def test_preferences_are_read_at_delivery_time(agent):
    emit([agent])
    preference_set(actor=agent, kind="case.transferred", in_app=False, email=False)
    outbox.drain()
    assert Notification.objects.count() == 0 and mail.outbox == []
    assert OutboxEvent.objects.get().dispatched_at is not None


def test_delivery_queries_do_not_grow_with_recipients():
    people = [UserFactory() for _ in range(12)]
    emit(people[:2])
    emit(people)
    token, events = outbox.claim(limit=2)
    few, _, _ = count_queries(lambda: outbox.deliver(events[0], token))
    many, sql, _ = count_queries(lambda: outbox.deliver(events[1], token))
    # e-mail: one insert per message sent (committed after each send, by design); the rest is flat
    assert many - 12 == few - 2, "\n".join(sql)


class TakeoverBackend(EmailBackend):
    """locmem; after the first message another worker takes the event over (its lease ran out)."""

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        OutboxEvent.objects.update(claimed_by="another-worker")
        return sent


def test_a_worker_that_lost_its_lease_stops_sending(settings, agent, supervisor, manager):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.TakeoverBackend"}}
    settings.RELAY_OUTBOX_LEASE_SECONDS = 0  # every e-mail re-checks the claim
    event = emit([agent, supervisor, manager])
    token, [claimed] = outbox.claim(limit=1)
    assert outbox.deliver(claimed, token) is False
    assert len(mail.outbox) == 1, "the other worker sends the rest, not both"
    event.refresh_from_db()
    assert event.dispatched_at is None and event.claimed_by == "another-worker" and event.last_error == ""
    assert Notification.objects.count() == 3
