"""Who sees a call and its screen pop (docs/permissions.md, "Phone").

A call is seen by the agent it rang for (or who dialled it), the members and supervisor of the
department answering its line, and managers and admins; and only while its caller's file is visible
to that user (`Party.objects.restrict`). The pop is pushed to exactly these users and fetched under the
same rule, so a push can never show more than the 360 page would.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability, register_scope
from relay.cases.permissions import sees_all_cases


@register_scope("telephony.call")
def _call_scope(qs: QuerySet, user: Any, action: str) -> QuerySet:
    if not has_capability(user, VIEW_CUSTOMERS):
        return qs.none()
    if action != "view" and not user.has_perm("activities.add_interaction"):
        return qs.none()
    if sees_all_cases(user):
        return qs
    return qs.filter(
        Q(agent=user) | Q(line__department__members=user) | Q(line__department__supervisor=user)
    ).distinct()


def party_visible_to(user: Any, party_id: int | None) -> bool:
    """Whether the caller's file is in the user's scope (no query while the scope is every party)."""
    from relay.customers.models import Party

    if party_id is None:
        return has_capability(user, VIEW_CUSTOMERS)
    visible = Party.objects.restrict(user, "view")
    if visible.query.is_empty():
        return False
    if not visible.query.has_filters():
        return True
    return bool(visible.filter(pk=party_id).exists())
