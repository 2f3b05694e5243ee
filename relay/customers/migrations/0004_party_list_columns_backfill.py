"""Fill the list columns of existing parties (the services keep them current from now on).

Set-based (one UPDATE with correlated subqueries), so a million parties take seconds, not hours."""

from django.db import migrations
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    from django.db.models import StringAgg

    Party = apps.get_model("customers", "Party")
    ContactPoint = apps.get_model("customers", "ContactPoint")
    Role = apps.get_model("customers", "PartyRoleAssignment")
    Through = Party.tags.through

    def first(kind):
        contacts = ContactPoint.objects.filter(party_id=OuterRef("pk"), kind=kind).order_by("-is_primary", "id")
        return Coalesce(Subquery(contacts.values("normalized")[:1]), Value(""))

    # sorted like the services sort them, where the database can order inside an aggregate
    ordered = schema_editor.connection.features.supports_aggregate_order_by_clause

    def joined(model, field):
        rows = (
            model.objects.filter(party_id=OuterRef("pk"))
            .values("party_id")
            .annotate(text=StringAgg(field, delimiter=Value(","), order_by=field if ordered else None))
            .values("text")
        )
        return Coalesce(Subquery(rows[:1]), Value(""))

    Party.objects.update(
        primary_phone=first("phone"),
        primary_email=first("email"),
        role_codes=joined(Role, "role"),
        tag_names=joined(Through, "tag__name"),
    )


def clear(apps, schema_editor):
    Party = apps.get_model("customers", "Party")
    Party.objects.update(primary_phone="", primary_email="", role_codes="", tag_names="")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_party_list_columns")]

    operations = [migrations.RunPython(backfill, clear)]
