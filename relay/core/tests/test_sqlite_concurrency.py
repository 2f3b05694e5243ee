"""The default SQLite set-up under concurrent writers: no error, no lost write (TESTING.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relay.core.checks import sqlite_concurrency_settings


@pytest.mark.slow
def test_twenty_writer_threads_lose_nothing(tmp_path: Path):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("its own SQLite file, whatever the suite's database: make test runs it in the SQLite run")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'writers.sqlite3'}",
        "RELAY_VAR_DIR": str(tmp_path),
    }
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-m", "relay.core.tests.sqlite_writers"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
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
