"""The permission matrix (docs/permissions.md), generated: every role by every permission."""

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser

from relay.accounts.choices import Role
from relay.accounts.permissions import CAPABILITY_ROLES
from relay.core.models import RestrictedQuerySet
from relay.core.testing.factories import InteractionFactory, PartyFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL = {"agent", "supervisor", "manager", "admin", "auditor"}
WORKERS = ALL - {"auditor"}
LEADS = {"supervisor", "manager", "admin"}

# permission -> roles that hold it (docs/permissions.md is this table in prose)
MATRIX = {
    "customers.view_party": ALL,
    "customers.add_party": WORKERS,
    "customers.change_party": WORKERS,
    "customers.delete_party": LEADS,
    "customers.view_contactpoint": ALL,
    "customers.change_contactpoint": WORKERS,
    "customers.delete_contactpoint": WORKERS,
    "customers.change_externalidentifier": WORKERS,
    "customers.change_relationship": WORKERS,
    "customers.view_sensitive": LEADS | {"auditor"},
    "activities.view_timelineentry": ALL,
    "activities.add_interaction": WORKERS,
    "activities.add_note": WORKERS,
    "activities.add_attachment": WORKERS,
    "activities.delete_interaction": LEADS,
    "accounts.view_user": ALL,
    "accounts.change_user": {"admin"},
    "accounts.change_department": {"admin"},
    "core.view_history": ALL,
    # commerce (relay/commerce/permissions.py): all staff read, amounts in clear as sensitive fields,
    # only sync accounts write
    "commerce.view_invoice": ALL,
    "commerce.view_product": ALL,
    "commerce.view_amounts": LEADS | {"auditor"},
    "commerce.sync_commerce": {"manager", "admin"},
    "commerce.change_invoice": {"manager", "admin"},
}


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize("perm", sorted(MATRIX))
def test_role_permission_matrix(role, perm):
    user = UserFactory(username=f"u-{role}", role=role)
    assert user.has_perm(perm) is (role in MATRIX[perm])


@pytest.mark.parametrize("perm", sorted(MATRIX))
def test_anonymous_and_inactive_users_hold_nothing(perm):
    inactive = UserFactory(username="inactive", role=Role.ADMIN, is_active=False, is_superuser=False)
    assert not AnonymousUser().has_perm(perm)
    assert not inactive.has_perm(perm)


@pytest.mark.parametrize("role", sorted(ALL))
def test_change_on_an_entry_needs_authorship_or_a_lead_role(role):
    author = UserFactory(username="author", role=Role.AGENT)
    entry = InteractionFactory(actor=author)
    user = UserFactory(username=f"u-{role}", role=role)
    assert user.has_perm("activities.change_interaction", entry) is (role in LEADS)
    assert author.has_perm("activities.change_interaction", entry)


@pytest.mark.parametrize("role", sorted(ALL))
def test_restrict_scopes_rows_by_action(role):
    party = PartyFactory()
    user = UserFactory(username=f"u-{role}", role=role)
    from relay.customers.models import Party

    assert list(Party.objects.restrict(user, "view")) == [party]
    assert list(Party.objects.restrict(user, "change")) == ([party] if role in WORKERS else [])
    assert list(Party.objects.restrict(user, "delete")) == ([party] if role in LEADS else [])
    assert list(Party.objects.restrict(AnonymousUser(), "view")) == []


def test_every_capability_is_granted_to_known_roles_only():
    for roles in CAPABILITY_ROLES.values():
        assert set(roles) <= set(Role.values)


def test_every_concrete_relay_model_is_scoped_through_restrict():
    """Guard: a new model must use RestrictedQuerySet so reads can be scoped in one place."""
    unscoped = [
        m._meta.label
        for label in ("customers", "activities", "accounts", "commerce", "recommendations")
        for m in apps.get_app_config(label).get_models()
        if not m.__name__.startswith("Historical")
        # read only through its party; read only by the session engine
        and m._meta.label not in {"customers.PartyRoleAssignment", "accounts.StaffSession"}
        and not isinstance(m._default_manager.all(), RestrictedQuerySet)
    ]
    assert unscoped == []
