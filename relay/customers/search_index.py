"""The substring index behind search-as-you-type: pg_trgm on PostgreSQL, FTS5 trigram on SQLite.

`ensure_search_index` is idempotent. It runs in a migration and after every migrate, because SQLite
rebuilds a table on many ALTERs and drops its triggers with it (docs/adr/0003-search.md).
"""

from __future__ import annotations

from typing import Any

SQLITE_FTS = "customers_party_fts"

_SQLITE_STATEMENTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS customers_party_fts USING fts5("
    "search_text, content='customers_party', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS customers_party_fts_ai AFTER INSERT ON customers_party BEGIN "
    "INSERT INTO customers_party_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS customers_party_fts_ad AFTER DELETE ON customers_party BEGIN "
    "INSERT INTO customers_party_fts(customers_party_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS customers_party_fts_au AFTER UPDATE OF search_text ON customers_party "
    "BEGIN "
    "INSERT INTO customers_party_fts(customers_party_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO customers_party_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]

_POSTGRES_STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS party_search_trgm_idx ON customers_party "
    "USING gin (search_text gin_trgm_ops)",
    # names are in search_text too; a trigram index of its own served no query and slowed every write
    "DROP INDEX IF EXISTS party_name_key_trgm_idx",
]


def ensure_search_index(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='trigger' AND name LIKE %s",
                [f"{SQLITE_FTS}_%"],
            )
            had_triggers = cursor.fetchone()[0] == 3
            for statement in _SQLITE_STATEMENTS:
                cursor.execute(statement)
            if not had_triggers:
                rebuild_search_index(connection)
        elif connection.vendor == "postgresql":
            for statement in _POSTGRES_STATEMENTS:
                cursor.execute(statement)


def rebuild_search_index(connection: Any) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO customers_party_fts(customers_party_fts) VALUES ('rebuild')")


def drop_search_index(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for suffix in ("ai", "ad", "au"):
                cursor.execute("DROP TRIGGER IF EXISTS customers_party_fts_" + suffix)
            cursor.execute("DROP TABLE IF EXISTS customers_party_fts")
        elif connection.vendor == "postgresql":
            cursor.execute("DROP INDEX IF EXISTS party_search_trgm_idx")
