"""Factories for the inbox. Notifications are normally written only by the outbox delivery."""

from __future__ import annotations

import factory

from relay.core.outbox_models import OutboxEvent
from relay.core.testing.factories import UserFactory
from relay.notifications.models import Notification


class OutboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxEvent

    name = "case.transferred"
    payload = factory.LazyAttribute(lambda o: {"title": "Case transferred", "url": "/parties/"})
    recipients = factory.LazyFunction(list)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    event = factory.SubFactory(OutboxEventFactory)
    kind = factory.LazyAttribute(lambda o: o.event.name)
    title = factory.Sequence(lambda n: f"Case {n} transferred to Billing")
    body = "Check the bill."
    url = "/parties/"
