from django.db import migrations


def forwards(apps, schema_editor):
    from relay.customers.search_index import ensure_search_index

    ensure_search_index(schema_editor.connection)


def backwards(apps, schema_editor):
    from relay.customers.search_index import drop_search_index

    drop_search_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
