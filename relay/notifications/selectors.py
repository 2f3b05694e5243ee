"""Reads of the inbox, always scoped to the actor's own rows."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from relay.core.pagination import Ordering, Page, paginate
from relay.notifications.models import Notification, NotificationPreference, NotificationQuerySet

INBOX_ORDERING = Ordering("created_at", descending=True)  # newest first; (created_at, id) is unique
PAGE_SIZE = 25


def notification_queryset(*, actor: Any) -> NotificationQuerySet:
    return Notification.objects.restrict(actor, "view")


def notification_get(*, actor: Any, pk: Any) -> Notification:
    """The actor's notification; another user's raises Notification.DoesNotExist (a 404)."""
    return notification_queryset(actor=actor).get(pk=pk)


def inbox(*, actor: Any, unread_only: bool = False, cursor: str | None = None, size: int = PAGE_SIZE) -> Page:
    """A keyset page of the actor's notifications, newest first."""
    qs = notification_queryset(actor=actor)
    if unread_only:
        qs = qs.unread()
    return paginate(qs, ordering=INBOX_ORDERING, cursor=cursor, size=size)


def unread_count(*, actor: Any) -> int:
    """One COUNT on the (recipient, read_at) index."""
    return notification_queryset(actor=actor).unread().count()


def preference_queryset(*, actor: Any) -> QuerySet[NotificationPreference]:
    return NotificationPreference.objects.restrict(actor, "view")


def preference_list(*, actor: Any) -> list[NotificationPreference]:
    return list(preference_queryset(actor=actor).order_by("kind"))


def known_kinds(*, actor: Any) -> list[str]:
    """The kinds the actor has been notified about, for the preferences page."""
    return sorted(set(notification_queryset(actor=actor).values_list("kind", flat=True).distinct()[:200]))
