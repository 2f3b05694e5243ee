import pytest
from django.core.management import call_command

from relay.accounts.models import Department, User
from relay.activities.models import TimelineEntry
from relay.core.demo import load_demo
from relay.customers import selectors
from relay.customers.models import Party

pytestmark = pytest.mark.django_db


def test_demo_creates_departments_roles_users_and_customers_with_history():
    result = load_demo(parties=30)
    assert set(Department.objects.values_list("name", flat=True)) >= {
        "Customer Care",
        "Technical Support",
        "Billing",
        "Sales",
        "Marketing",
        "Official's Office",
        "Water",
    }
    assert all(d.supervisor for d in Department.objects.all())
    assert set(User.objects.values_list("role", flat=True)) == {
        "agent",
        "supervisor",
        "manager",
        "admin",
        "auditor",
    }
    assert User.objects.get(username="care.agent").check_password("relay-demo")
    assert result.parties == Party.objects.count() >= 30
    assert TimelineEntry.objects.count() >= result.interactions > 0
    john = selectors.party_lookup_by_phone(
        actor=User.objects.get(username="care.agent"), raw="(415) 555-0100"
    )
    assert [p.display_name for p in john] == ["John Carter"]
    created = john[0].history.get(history_type="+")
    assert (created.history_user.username, created.history_origin) == ("care.agent", "command")


def test_demo_if_empty_loads_once():
    call_command("demo", "--parties", "12")
    count = Party.objects.count()
    call_command("demo", "--if-empty")
    assert Party.objects.count() == count
