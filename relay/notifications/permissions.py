"""Row scopes of the inbox: everyone sees only their own notifications and preferences (others' are a
404). Registered with relay.accounts.permissions when the app is ready."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability, register_scope


@register_scope("notifications.notification")
def _own_notifications(qs: QuerySet, user: Any, action: str) -> QuerySet:
    return qs.filter(recipient=user) if has_capability(user, VIEW_CUSTOMERS) else qs.none()


@register_scope("notifications.notificationpreference")
def _own_preferences(qs: QuerySet, user: Any, action: str) -> QuerySet:
    return qs.filter(user=user) if has_capability(user, VIEW_CUSTOMERS) else qs.none()
