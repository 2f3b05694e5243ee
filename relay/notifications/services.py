"""Writes of the inbox: reading notifications and choosing how to be told."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from relay.core import clock
from relay.core.audit import with_actor
from relay.core.exceptions import ApplicationError
from relay.notifications.models import Notification, NotificationPreference
from relay.notifications.preferences import is_valid_kind


@transaction.atomic
def notification_mark_read(*, actor: Any, notification: Notification) -> Notification:
    """Mark one of the actor's notifications read (the first time counts; again changes nothing).
    Another user's notification raises Notification.DoesNotExist: it does not exist for the actor."""
    locked = Notification.objects.restrict(actor, "change").select_for_update().get(pk=notification.pk)
    if locked.read_at is None:
        locked.read_at = clock.now()
        locked.save(update_fields=["read_at"])
    return locked


@transaction.atomic
def notification_mark_all_read(*, actor: Any) -> int:
    """Mark every unread notification of the actor read; returns how many changed."""
    return Notification.objects.restrict(actor, "change").unread().update(read_at=clock.now())


@transaction.atomic
def preference_set(*, actor: Any, kind: str, in_app: bool, email: bool) -> NotificationPreference:
    """Choose the channels for a kind of event (`case.transferred`) or a family (`case.`)."""
    kind = kind.strip()
    if not is_valid_kind(kind):
        raise ApplicationError(
            "Not a kind of notification.",
            errors={"kind": ['Use an event name such as "case.transferred", or a family such as "case.".']},
        )
    existing = NotificationPreference.objects.filter(user=actor, kind=kind).select_for_update().first()
    if existing is None:
        try:
            with transaction.atomic():
                preference = NotificationPreference(user=actor, kind=kind, in_app=in_app, email=email)
                with_actor(preference, actor)
                preference.save()
                return preference
        except IntegrityError:  # a concurrent first choice for the same kind committed first
            existing = NotificationPreference.objects.select_for_update().get(user=actor, kind=kind)
    if (existing.in_app, existing.email) != (in_app, email):
        existing.in_app, existing.email, existing.updated_at = in_app, email, clock.now()
        with_actor(existing, actor)
        existing.save()
    return existing
