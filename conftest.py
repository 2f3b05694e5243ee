"""Fixtures shared by every app's tests: one user per role, the demo departments, identifier schemes."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread
from hypothesis import HealthCheck, settings

from relay.accounts.choices import Role
from relay.core.testing.factories import DepartmentFactory, IdentifierSchemeFactory, UserFactory

# Property tests judge their examples, not the machine: generating inputs or running an example is
# slower on a busy or slow CI machine, and Hypothesis' timing checks would fail the test for it.
settings.register_profile("relay", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("relay")


class _SerialWSGIServer(WSGIServer):
    """A live server that answers one request at a time."""

    def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _serial_live_server_on_sqlite():
    """On SQLite the browser tests' live server shares the test's in-memory connection between its request
    threads; two requests at once (a page and the bell's poll) on one sqlite3 connection fail with "bad
    parameter or other API misuse". PostgreSQL gives each thread its own connection and stays threaded."""
    from django.db import connection

    if connection.vendor == "sqlite":
        LiveServerThread.server_class = _SerialWSGIServer


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete_on_postgresql():
    """A transactional test ends with a flush of every table. PostgreSQL's TRUNCATE of ~100 tables costs
    ~0.4 s (a new file per table) on tables that hold a few rows each; DELETE of each costs ~0.02 s. The
    flush is one transaction with triggers off for it (`session_replication_role`, a superuser's right,
    as the test server's `postgres` is): no foreign-key order, and the audit tables' append-only trigger
    (which TRUNCATE does not fire either) stays out of it. Another role keeps TRUNCATE."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    ops = connection.ops
    truncate = ops.sql_flush
    superuser: list[bool] = []

    def sql_flush(style, tables, *, reset_sequences=False, allow_cascade=False):
        if not superuser:
            with connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                superuser.append(bool(cursor.fetchone()[0]))
        if reset_sequences or not tables or not superuser[0]:
            return truncate(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        deletes = [f"DELETE FROM {ops.quote_name(t)}" for t in tables]  # noqa: S608 (Django's table names)
        return ["SET LOCAL session_replication_role = replica", *deletes]

    ops.sql_flush = sql_flush
    yield
    ops.sql_flush = truncate


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs ~0.3 s a user; tests don't need it (login flows still run the same code)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_config_cache():
    """Each test starts without the configuration a previous test cached (relay.core.config_cache: a
    test's bulk writes send no signals)."""
    from relay.core import config_cache

    config_cache.clear()


@pytest.fixture
def departments(db):
    return {
        name: DepartmentFactory(name=name)
        for name in ("Customer Care", "Technical Support", "Billing", "Sales", "Marketing")
    }


@pytest.fixture
def agent(db, departments):
    return UserFactory(username="agent", role=Role.AGENT, departments=[departments["Customer Care"]])


@pytest.fixture
def other_agent(db, departments):
    """An agent of another department."""
    return UserFactory(username="billing_agent", role=Role.AGENT, departments=[departments["Billing"]])


@pytest.fixture
def supervisor(db, departments):
    return UserFactory(
        username="supervisor", role=Role.SUPERVISOR, departments=[departments["Customer Care"]]
    )


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=Role.MANAGER)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def auditor(db):
    return UserFactory(username="auditor", role=Role.AUDITOR)


@pytest.fixture
def inactive_user(db):
    return UserFactory(username="gone", role=Role.AGENT, is_active=False)


@pytest.fixture
def schemes(db):
    return {
        "account": IdentifierSchemeFactory(code="account", name="Account number", is_sensitive=False),
        "tax_id": IdentifierSchemeFactory(code="tax_id", name="Tax ID", is_sensitive=True),
        "citizen": IdentifierSchemeFactory(code="citizen", name="Citizen number", is_sensitive=True),
    }
