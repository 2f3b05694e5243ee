"""Fixtures shared by every app's tests: one user per role, the demo departments, identifier schemes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test import override_settings
from django.test.testcases import LiveServerThread
from hypothesis import HealthCheck, settings

from relay.core.testing import people
from relay.core.testing.concurrency import snapshot_migrated_sqlite

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


@pytest.fixture(scope="session", autouse=True)
def _migrated_sqlite(django_db_setup, django_db_blocker, tmp_path_factory) -> Path | None:
    """On SQLite: the freshly migrated test database, copied to a file before any test runs (see
    `own_sqlite`). None on PostgreSQL."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return None
    path = tmp_path_factory.mktemp("migrated") / "relay.sqlite3"
    with django_db_blocker.unblock():
        snapshot_migrated_sqlite(path)
    return path


@pytest.fixture
def own_sqlite(_migrated_sqlite, tmp_path) -> Path:
    """A SQLite file of the test's own, migrated, for the test's subprocesses (on SQLite runs: the suite's
    database is in memory, and no other process can open it)."""
    path = tmp_path / "own.sqlite3"
    if _migrated_sqlite is not None:
        shutil.copyfile(_migrated_sqlite, path)
    return path


@pytest.fixture(scope="session", autouse=True)
def _test_settings():
    """Real password hashing costs ~0.3 s a user; tests don't need it (login flows still run the same code).
    WhiteNoise finds a static file when it is asked for instead of listing them all when its middleware
    starts, which every test client's handler does (~30 ms a client, thousands of clients a run)."""
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], WHITENOISE_AUTOREFRESH=True
    ):
        yield


@pytest.fixture(autouse=True)
def _fresh_config_cache():
    """Each test starts without the configuration a previous test cached (relay.core.config_cache: a
    test's bulk writes send no signals)."""
    from relay.core import config_cache

    config_cache.clear()


@pytest.fixture
def departments(db):
    return people.departments()


@pytest.fixture
def agent(db, departments):
    return people.USERS["agent"](departments)


@pytest.fixture
def other_agent(db, departments):
    """An agent of another department."""
    return people.USERS["other_agent"](departments)


@pytest.fixture
def supervisor(db, departments):
    return people.USERS["supervisor"](departments)


@pytest.fixture
def manager(db):
    return people.USERS["manager"]({})


@pytest.fixture
def admin_user(db):
    return people.USERS["admin_user"]({})


@pytest.fixture
def auditor(db):
    return people.USERS["auditor"]({})


@pytest.fixture
def inactive_user(db):
    return people.USERS["inactive_user"]({})


@pytest.fixture
def schemes(db):
    return people.schemes()
