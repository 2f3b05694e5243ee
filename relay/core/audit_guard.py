"""Audit history is append-only, enforced by the database (docs/adr/0005-audit.md).

PostgreSQL: a trigger refuses UPDATE and DELETE on every historical table (TRUNCATE, used by test
flushes, is a table operation and is not affected). Only `history_user_id` may change, because deleting
a user sets it to NULL. SQLite: a trigger refuses UPDATE of any other column; row DELETEs are refused by
the application (`pre_delete`), since SQLite has no way to tell a test flush from a delete.
Installed after every migrate because SQLite drops triggers when it rebuilds a table.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import pre_delete

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION relay_history_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit history is append-only (%)', TG_TABLE_NAME USING ERRCODE = '42501';
  END IF;
  IF (to_jsonb(NEW) - 'history_user_id') IS DISTINCT FROM (to_jsonb(OLD) - 'history_user_id') THEN
    RAISE EXCEPTION 'audit history is append-only (%)', TG_TABLE_NAME USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
"""


class AuditHistoryIsImmutable(Exception):
    pass


def historical_models() -> list[Any]:
    return [m for m in apps.get_models() if m.__name__.startswith("Historical") and hasattr(m, "history_id")]


def install_guards(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
        for model in historical_models():
            table = model._meta.db_table
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
                cursor.execute(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION relay_history_append_only()"
                )
            elif connection.vendor == "sqlite":
                quote = connection.ops.quote_name  # a column may be a keyword, such as "order"
                fields = model._meta.concrete_fields
                columns = [quote(f.column) for f in fields if f.column != "history_user_id"]
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_append_only BEFORE UPDATE OF {', '.join(columns)} "
                    f"ON {table} BEGIN SELECT RAISE(ABORT, 'audit history is append-only'); END"
                )


def _refuse_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    raise AuditHistoryIsImmutable(f"{sender.__name__} rows cannot be deleted")


def connect_delete_guards() -> None:
    for model in historical_models():
        pre_delete.connect(_refuse_delete, sender=model, dispatch_uid=f"audit-guard-{model._meta.label}")
