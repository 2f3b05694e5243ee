"""The default SQLite set-up under concurrent writers: no error, no lost write (TESTING.md)."""

from pathlib import Path

import pytest

from relay.core.checks import sqlite_concurrency_settings
from relay.core.testing.concurrency import run_on_own_sqlite


@pytest.mark.slow
def test_twenty_writer_threads_lose_nothing(own_sqlite: Path):
    summary = run_on_own_sqlite("relay.core.tests.sqlite_writers", own_sqlite, timeout=300)
    assert summary["errors"] == []
    assert summary["created"] == summary["parties"] == 20 * 15
    assert summary["interactions"] == 20 * 15
    # every update that reported success is counted in the version: none was silently overwritten
    assert summary["shared_version"] == 1 + summary["updated"]
    assert summary["journal_mode"] == "wal"


@pytest.mark.django_db
def test_start_up_check_passes_with_the_shipped_settings():
    from django.db import connection

    assert connection.vendor in {"sqlite", "postgresql"}
    assert sqlite_concurrency_settings(databases=["default"]) == []
