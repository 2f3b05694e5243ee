"""Running jobs at the same instant, for the tests of what happens when two writers race."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection


def run_at_once(*jobs: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run the jobs in threads released together; return what each returned or raised. Each thread
    closes its own database connection at the end."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results


def snapshot_migrated_sqlite(path: Path) -> None:
    """Copy the suite's SQLite test database, freshly migrated, into the file `path` (`VACUUM INTO`):
    the tests that need a SQLite file of their own start from a copy instead of migrating one (half a
    minute each on a slow machine). Taken before any test runs: a transactional test's flush also
    deletes what the data migrations wrote."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(path)])


def run_on_own_sqlite(module: str, database: Path, *, timeout: float = 600) -> dict[str, Any]:
    """Run `python -m module` in a fresh process on the SQLite file `database` (the `own_sqlite`
    fixture: a copy of the migrated test database; the suite's own is in memory: one connection, no other
    process can share it). The module migrates that file (nothing left to do on the copy), does its work
    (in more processes, if it likes) and prints a JSON summary as its last line, which is returned. Skips
    the test unless the suite itself runs on SQLite: `make test` runs it there."""
    import pytest

    if connection.vendor != "sqlite":
        pytest.skip("its own SQLite file, whatever the suite's database: make test runs it in the SQLite run")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "RELAY_VAR_DIR": str(database.parent),
    }
    out = subprocess.run(  # noqa: S603 (our own module, named by the test)
        [sys.executable, "-m", module],
        cwd=Path(__file__).resolve().parents[3],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])
