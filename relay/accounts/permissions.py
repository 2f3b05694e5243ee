"""The permission model, in one place. docs/permissions.md is the same matrix in prose.

* Roles grant capabilities (ROLE_CAPABILITIES).
* `rules` permissions (`user.has_perm("customers.change_party", party)`) are predicates over capabilities,
  checked by services, views and API alike.
* `scope_queryset` (reached through `Model.objects.restrict(user, action)`) decides which rows a user can
  reach at all; everything else is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rules
from django.db.models import QuerySet

from relay.accounts.choices import Role

VIEW_CUSTOMERS = "view_customers"
EDIT_CUSTOMERS = "edit_customers"
DELETE_CUSTOMERS = "delete_customers"
VIEW_SENSITIVE = "view_sensitive"
LOG_ACTIVITY = "log_activity"
EDIT_ANY_ACTIVITY = "edit_any_activity"
VIEW_HISTORY = "view_history"
MANAGE_USERS = "manage_users"

_ALL_STAFF: set[str] = {Role.AGENT, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN, Role.AUDITOR}
_WORKERS: set[str] = {Role.AGENT, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}
_LEADS: set[str] = {Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}

CAPABILITY_ROLES: dict[str, set[str]] = {
    VIEW_CUSTOMERS: _ALL_STAFF,
    EDIT_CUSTOMERS: _WORKERS,
    DELETE_CUSTOMERS: _LEADS,
    VIEW_SENSITIVE: _LEADS | {Role.AUDITOR},
    LOG_ACTIVITY: _WORKERS,
    EDIT_ANY_ACTIVITY: _LEADS,
    VIEW_HISTORY: _ALL_STAFF,
    MANAGE_USERS: {str(Role.ADMIN)},
}


def has_capability(user: Any, capability: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.role in CAPABILITY_ROLES[capability]


def _cap(capability: str) -> rules.Predicate:
    return rules.predicate(lambda user, obj=None: has_capability(user, capability), name=capability)


is_staff_member = _cap(VIEW_CUSTOMERS)
can_edit_customers = _cap(EDIT_CUSTOMERS)
can_delete_customers = _cap(DELETE_CUSTOMERS)
can_view_sensitive = _cap(VIEW_SENSITIVE)
can_log_activity = _cap(LOG_ACTIVITY)
can_edit_any_activity = _cap(EDIT_ANY_ACTIVITY)
can_manage_users = _cap(MANAGE_USERS)


@rules.predicate
def is_author(user: Any, entry: Any = None) -> bool:
    return entry is not None and getattr(entry, "actor_id", None) == user.pk


_CUSTOMER_MODELS = ("party", "contactpoint", "relationship", "externalidentifier", "tag", "lifecyclechange")
for _model in _CUSTOMER_MODELS:
    rules.add_perm(f"customers.view_{_model}", is_staff_member)
    rules.add_perm(f"customers.add_{_model}", can_edit_customers)
    rules.add_perm(f"customers.change_{_model}", can_edit_customers)
    rules.add_perm(
        f"customers.delete_{_model}", can_delete_customers if _model == "party" else can_edit_customers
    )
rules.add_perm("customers.view_sensitive", can_view_sensitive)

for _model in ("timelineentry", "interaction", "note", "attachment"):
    rules.add_perm(f"activities.view_{_model}", is_staff_member)
    rules.add_perm(f"activities.add_{_model}", can_log_activity)
    rules.add_perm(f"activities.change_{_model}", can_log_activity & (is_author | can_edit_any_activity))
    rules.add_perm(f"activities.delete_{_model}", can_edit_any_activity)

rules.add_perm("accounts.view_user", is_staff_member)
rules.add_perm("accounts.view_department", is_staff_member)
rules.add_perm("accounts.change_user", can_manage_users)
rules.add_perm("accounts.change_department", can_manage_users)
rules.add_perm("core.view_history", _cap(VIEW_HISTORY))


# --- Row scoping ---------------------------------------------------------------------------------------

Scope = Callable[[QuerySet, Any, str], QuerySet]
_scopes: dict[str, Scope] = {}


def register_scope(label: str) -> Callable[[Scope], Scope]:
    """Register the row policy of a model (`app_label.modelname`)."""

    def decorator(func: Scope) -> Scope:
        _scopes[label] = func
        return func

    return decorator


def _staff_scope(qs: QuerySet, user: Any, action: str) -> QuerySet:
    """Default: staff read everything; writes need the model's rules permission."""
    meta = qs.model._meta
    if action == "view":
        return qs if has_capability(user, VIEW_CUSTOMERS) else qs.none()
    if user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}"):
        return qs
    return qs.none()


def staff_scope_key(user: Any) -> bool:
    """All that the default scope's reading SQL depends on: the key of prepared reads through it
    (relay.core.prepared)."""
    return has_capability(user, VIEW_CUSTOMERS)


def scope_queryset(qs: QuerySet, user: Any, action: str) -> QuerySet:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    scope = _scopes.get(qs.model._meta.label_lower, _staff_scope)
    return scope(qs, user, action)


@register_scope("accounts.apitoken")
def _token_scope(qs: QuerySet, user: Any, action: str) -> QuerySet:
    return qs if has_capability(user, MANAGE_USERS) else qs.filter(user=user)
