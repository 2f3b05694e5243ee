"""The demo's commerce data: the telecom story (John's unpaid November bill, his suspended line), a
catalogue, purchase history with co-purchase structure, and loading it twice changes nothing."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
import time_machine

from relay.accounts.models import Department, User
from relay.commerce.demo import load_demo_commerce
from relay.commerce.models import CreditTerms, Invoice, Order, OrderLine, Product, Subscription
from relay.commerce.selectors import party_account
from relay.commerce.tests.test_services import snapshot
from relay.core.demo import load_demo
from relay.core.testing import people
from relay.customers.models import Party

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Loaded once for the module's tests (`shared_data`: each test's writes roll back)."""
    with people.shared_data(django_db_blocker):
        with django_db_blocker.unblock(), time_machine.travel("2026-12-01T09:00:00Z", tick=False):
            load_demo(parties=60)
            john = Party.objects.get(display_name="John Carter")
        yield john


def test_john_owes_the_november_bill_and_his_line_is_suspended(demo):
    john = demo
    november = Invoice.objects.get(party=john, number="INV-2026-11-100100")
    assert (november.status, november.due_on.isoformat(), november.amount) == (
        "open",
        "2026-11-21",
        Decimal("52.99"),
    )
    assert november.source == "billing" and november.department.name == "Billing"
    assert Invoice.objects.filter(party=john, status="paid").count() == 2
    line = Subscription.objects.get(party=john, service_id="+14155550100")
    assert (line.status, line.status_reason) == ("suspended", "non_payment")
    terms = CreditTerms.objects.get(party=john)
    assert terms.on_hold and terms.department.name == "Credit Control"
    with time_machine.travel("2026-12-01T09:00:00Z", tick=False):
        (usd,) = party_account(actor=User.objects.get(username="billing.lead"), party=john).balances
    assert (usd.balance, usd.overdue, usd.overdue_invoices) == (Decimal("52.99"), Decimal("52.99"), 1)
    assert {li.product.sku for li in OrderLine.objects.filter(party=john)} >= {
        "HS-APL-15",
        "AC-CASE",
        "PL-MOB-U",
    }


def test_the_catalogue_and_a_purchase_history_a_recommender_can_learn_from(demo):
    assert Product.objects.count() >= 20
    assert set(Product.objects.values_list("category__code", flat=True)) >= {
        "mobile-plans",
        "handsets",
        "accessories",
        "broadband",
        "tv",
    }
    assert Order.objects.values("party").distinct().count() >= 25
    baskets: dict[int, set[str]] = {}
    for order_id, sku in OrderLine.objects.values_list("order_id", "product__sku"):
        baskets.setdefault(order_id, set()).add(sku)
    with_handset = [b for b in baskets.values() if b & {"HS-APL-15", "HS-SAM-S24", "HS-PIX-8"}]
    assert len(with_handset) >= 10
    share = Counter(sku for b in with_handset for sku in b)
    assert share["AC-CASE"] / len(with_handset) > 0.5
    overall = sum(1 for b in baskets.values() if "AC-CASE" in b) / len(baskets)
    assert share["AC-CASE"] / len(with_handset) > 2 * overall  # lift: a case goes with a handset
    assert Department.objects.get(name="Credit Control").supervisor is not None


def test_loading_it_again_changes_nothing(demo):
    before = snapshot()
    with time_machine.travel("2026-12-01T09:00:00Z", tick=False):
        staff = {u.username: u for u in User.objects.all()}
        departments = {d.name: d for d in Department.objects.all()}
        # the parties the demo passed: the telecom's, made before the public office's citizens
        first_citizen = Party.objects.filter(entered_by__username="office.agent").order_by("id").first()
        parties = list(Party.objects.filter(pk__lt=first_citizen.pk).order_by("id"))
        load_demo_commerce(staff=staff, departments=departments, parties=parties, john=demo)
    assert snapshot() == before  # the same rows, no new history row
