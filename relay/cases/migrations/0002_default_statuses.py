"""The default statuses: one per category, each the default of its category. Admins may rename them
or add more (e.g. "Waiting on parts" in waiting_third_party); the workflow reads only the category."""

from django.db import migrations

DEFAULT_STATUSES = [
    ("New", "new", 10),
    ("Open", "open", 20),
    ("Waiting on customer", "waiting_customer", 30),
    ("Waiting on third party", "waiting_third_party", 40),
    ("Resolved", "resolved", 50),
    ("Closed", "closed", 60),
]


def create_default_statuses(apps, schema_editor):
    CaseStatus = apps.get_model("cases", "CaseStatus")
    for name, category, order in DEFAULT_STATUSES:
        has_default = CaseStatus.objects.filter(category=category, is_default=True).exists()
        CaseStatus.objects.get_or_create(
            name=name, defaults={"category": category, "order": order, "is_default": not has_default}
        )


def remove_default_statuses(apps, schema_editor):
    CaseStatus = apps.get_model("cases", "CaseStatus")
    CaseStatus.objects.filter(
        name__in=[name for name, _, _ in DEFAULT_STATUSES], cases__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(create_default_statuses, remove_default_statuses)]
