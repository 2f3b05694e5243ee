"""Start-up checks: SQLite must run with WAL, a busy timeout and BEGIN IMMEDIATE (see docs/adr/0002)."""

from typing import Any

from django.core.checks import Error, Tags, register
from django.db import connections


@register(Tags.database, deploy=False)
def sqlite_concurrency_settings(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    for alias in databases or []:
        conn = connections[alias]
        if conn.vendor != "sqlite":
            continue
        options = conn.settings_dict.get("OPTIONS", {})
        if options.get("transaction_mode") != "IMMEDIATE":
            errors.append(Error("SQLite must use transaction_mode=IMMEDIATE", id="relay.E001"))
        with conn.cursor() as cursor:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            timeout = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
        if mode.lower() not in {"wal", "memory"}:
            errors.append(Error(f"SQLite journal_mode is {mode}, expected WAL", id="relay.E002"))
        if int(timeout) < 1000:
            errors.append(Error(f"SQLite busy_timeout is {timeout} ms, expected >= 1000", id="relay.E003"))
    return errors
