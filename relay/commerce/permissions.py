"""Who sees and writes the commerce data (docs/permissions.md, "Commerce").

* Every staff member reads the catalogue, and what a party bought and subscribes to, and *that* it has
  invoices, payments and credit terms, exactly as far as they may read the party's file: the row scope
  of every record with a party follows `Party.objects.restrict` (a record of a party the user may not see
  is a 404).
* The amounts of the account (balance, overdue, invoice and payment amounts, credit limit, payment terms,
  risk rating, hold) are sensitive: shown in clear only to the roles holding VIEW_SENSITIVE (supervisors,
  managers, admins, auditors), the capability that already unmasks tax and citizen numbers. Everyone
  else sees them masked, on every read path (party panel, API list and detail, account summary).
* Only the systems that own the data write it, through the sync (API bulk upsert, CSV import): the
  account they sign in as needs SYNC_COMMERCE (managers and admins; the demo's `erp.sync`).
"""

from __future__ import annotations

from typing import Any

import rules
from django.db.models import QuerySet

from relay.accounts.choices import Role
from relay.accounts.permissions import (
    VIEW_CUSTOMERS,
    can_view_sensitive,
    has_capability,
    is_staff_member,
    register_scope,
    staff_scope_key,
)

SYNC_COMMERCE = "sync_commerce"
_SYNC_ROLES: frozenset[str] = frozenset({Role.MANAGER, Role.ADMIN})

PARTY_MODELS = ("order", "orderline", "invoice", "payment", "creditterms", "subscription")
CATALOGUE_MODELS = ("product", "productcategory")


def may_sync(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.role in _SYNC_ROLES


def may_see_amounts(user: Any) -> bool:
    """The account's amounts in clear (the VIEW_SENSITIVE capability)."""
    return bool(can_view_sensitive(user))


def party_rows_scope_key(user: Any) -> bool:
    """All that the row scope of reading the catalogue and the records with a party depends on (the key
    of their prepared reads, relay.core.prepared): while the party scope is every party or none, whether
    the user reads customer files at all."""
    return staff_scope_key(user)


can_sync = rules.predicate(lambda user, obj=None: may_sync(user), name=SYNC_COMMERCE)

rules.add_perm("commerce.sync_commerce", can_sync)
rules.add_perm("commerce.view_amounts", can_view_sensitive)
for _model in PARTY_MODELS + CATALOGUE_MODELS:
    rules.add_perm(f"commerce.view_{_model}", is_staff_member)
    for _action in ("add", "change", "delete"):
        rules.add_perm(f"commerce.{_action}_{_model}", can_sync)


def _catalogue_scope(qs: QuerySet, user: Any, action: str) -> QuerySet:
    if action == "view":
        return qs if has_capability(user, VIEW_CUSTOMERS) else qs.none()
    return qs if may_sync(user) else qs.none()


def _party_scope(qs: QuerySet, user: Any, action: str) -> QuerySet:
    """The catalogue's rule, narrowed to the parties the user may see (no extra condition, and so no
    extra query cost, while that is every party)."""
    from relay.customers.models import Party

    qs = _catalogue_scope(qs, user, action)
    visible = Party.objects.restrict(user, "view")
    if visible.query.is_empty():
        return qs.none()
    if visible.query.has_filters():
        qs = qs.filter(party__in=visible.values("pk"))
    return qs


for _model in CATALOGUE_MODELS:
    register_scope(f"commerce.{_model}")(_catalogue_scope)
for _model in PARTY_MODELS:
    register_scope(f"commerce.{_model}")(_party_scope)
