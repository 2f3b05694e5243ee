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


def test_on_the_demo_john_pops_with_his_unpaid_bill_and_suspended_line_and_buyers_get_suggestions():
    """Issue 6's story: the telecom customer who cannot make calls pops with what he owes and why his line
    is frozen; a customer with purchase history pops with explained recommendations."""
    from relay.channels.actors import channel_actor
    from relay.channels.telephony import selectors as phone
    from relay.channels.telephony.demo import DEMO_LINE
    from relay.channels.telephony.services import call_ring
    from relay.commerce.models import OrderLine

    load_demo(parties=40)
    billing = User.objects.get(username="billing.lead")

    def pop(number: str, call_id: str) -> phone.PopCard:
        call = call_ring(
            actor=channel_actor("relay-phone"),
            provider="generic",
            call_id=call_id,
            from_number=number,
            to_number=DEMO_LINE,
        ).call
        return phone.pop_card(actor=billing, call=call)

    john = pop("+14155550100", "demo-john")
    assert john.party is not None and john.party.display_name == "John Carter"
    (balance,) = john.account.balances
    assert balance.overdue_invoices >= 1 and balance.overdue and balance.overdue > 0
    assert any(s.status == "suspended" and s.status_reason == "non_payment" for s in john.services)
    buyers = OrderLine.objects.exclude(party=john.party).values_list("party", flat=True).distinct()
    suggested = []
    for n, party in enumerate(Party.objects.filter(pk__in=buyers).prefetch_related("contact_points")):
        phones = [c.normalized for c in party.contact_points.all() if c.kind == "phone"]
        if phones:
            card = pop(phones[0], f"demo-{n}")
            suggested += card.recommendations
    assert suggested and all("% of customers who bought" in r.explanation for r in suggested)
