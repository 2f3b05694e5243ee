"""The people of the shared test fixtures (conftest.py): the demo departments, one user per role, the
identifier schemes. Built here so that a module-scoped fixture (`shared_data`) can make the same ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from relay.accounts.choices import Role
from relay.core.testing.factories import DepartmentFactory, IdentifierSchemeFactory, UserFactory

DEPARTMENTS = ("Customer Care", "Technical Support", "Billing", "Sales", "Marketing")

# fixture name -> the user it makes, given the departments
USERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "agent": lambda d: UserFactory(username="agent", role=Role.AGENT, departments=[d["Customer Care"]]),
    # an agent of another department
    "other_agent": lambda d: UserFactory(
        username="billing_agent", role=Role.AGENT, departments=[d["Billing"]]
    ),
    "supervisor": lambda d: UserFactory(
        username="supervisor", role=Role.SUPERVISOR, departments=[d["Customer Care"]]
    ),
    "manager": lambda d: UserFactory(username="manager", role=Role.MANAGER),
    "admin_user": lambda d: UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True),
    "auditor": lambda d: UserFactory(username="auditor", role=Role.AUDITOR),
    "inactive_user": lambda d: UserFactory(username="gone", role=Role.AGENT, is_active=False),
}


def departments() -> dict[str, Any]:
    return {name: DepartmentFactory(name=name) for name in DEPARTMENTS}


def schemes() -> dict[str, Any]:
    return {
        "account": IdentifierSchemeFactory(code="account", name="Account number", is_sensitive=False),
        "tax_id": IdentifierSchemeFactory(code="tax_id", name="Tax ID", is_sensitive=True),
        "citizen": IdentifierSchemeFactory(code="citizen", name="Citizen number", is_sensitive=True),
    }


@contextmanager
def shared_data(django_db_blocker: Any) -> Iterator[None]:
    """For a module-scoped fixture whose records every test of the module reads: they are written once,
    in a transaction left open around the module's tests and rolled back after the last one. Each test's
    own transaction (pytest-django's `db`) is then a savepoint inside it, rolled back as usual, so no test
    sees another's writes. Only for modules without transactional tests."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic._from_testcase = True  # type: ignore[attr-defined]  # as TestCase marks its own
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
