from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability


class IsStaffMember(BasePermission):
    """Any active user with a staff role; finer rules are applied by restrict() and the services."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_capability(request.user, VIEW_CUSTOMERS)
