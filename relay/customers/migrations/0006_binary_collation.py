"""PostgreSQL: the sort and lookup keys compare byte by byte (COLLATE "C"), as SQLite's BINARY does.

`Party.name_key` is already folded by `normalize.fold`, and `ContactPoint.kind`/`normalized` are only ever
compared for equality, so the database locale's collation gave them nothing but cost: it sorts through
strcoll() without abbreviated keys (building the lookup and uniqueness indexes took 2-4 times longer),
and a list sorted by name came out in a different order on the two databases. Django's `db_collation`
cannot name one collation for both (SQLite has no "C"), so this is SQL for PostgreSQL only; an AlterField
on these columns must keep it (see the fields' comments)."""

from django.db import migrations

COLUMNS = [
    ("customers_party", "name_key", 255),
    ("customers_contactpoint", "kind", 10),
    ("customers_contactpoint", "normalized", 255),
]


def _collate(collation: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, column, length in COLUMNS:
            schema_editor.execute(
                f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length}) COLLATE "{collation}"'
            )

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_history_indexes")]

    operations = [migrations.RunPython(_collate("C"), _collate("default"))]
