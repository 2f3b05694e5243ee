"""`relay seed --orders N` (PostgreSQL): seeded commerce data reads like synced data to every selector."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from relay.accounts.choices import Role
from relay.commerce import selectors
from relay.commerce.models import CreditTerms, Invoice, Order, OrderLine, Payment, Subscription
from relay.core.testing.factories import PartyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def parties(db):
    return [PartyFactory() for _ in range(30)]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_orders_lines_invoices_payments_services_and_credit_for_the_parties(parties):
    out = StringIO()
    call_command("seed", "--orders", "400", "--batch", "150", stdout=out)
    assert "Seeded 400 orders with" in out.getvalue()
    assert Order.objects.count() == 400
    lines = OrderLine.objects.count()
    assert (
        400 <= lines <= 1200 and not OrderLine.objects.exclude(party_id__in=[p.pk for p in parties]).exists()
    )
    for order in Order.objects.prefetch_related("lines")[:50]:  # totals add up, lines repeat the order
        assert order.total_amount == sum(line.amount for line in order.lines.all())
        assert all(
            (line.party_id, line.ordered_at) == (order.party_id, order.ordered_at)
            for line in order.lines.all()
        )
    assert (
        Invoice.objects.count() == 200
        and Payment.objects.count() == Invoice.objects.filter(status="paid").count()
    )
    assert Subscription.objects.count() == 10  # every third party
    assert set(Subscription.objects.values_list("status", flat=True)) <= {"active", "suspended", "cancelled"}
    assert CreditTerms.objects.count() == 6
    supervisor = UserFactory(role=Role.SUPERVISOR)
    busiest = max(parties, key=lambda p: OrderLine.objects.filter(party=p).count())
    panel = selectors.party_commerce(actor=supervisor, party=busiest)
    assert panel.purchases and panel.account.has_account and panel.amounts_visible
    balance = panel.account.balances[0]
    unpaid = sum(i.amount for i in Invoice.objects.filter(party=busiest, status="open"))
    assert balance.balance == unpaid  # what is paid is paid in full, the rest open
    call_command("seed", "--orders", "10", stdout=StringIO())  # again: new rows, no clash
    assert Order.objects.count() == 410 and CreditTerms.objects.count() == 6


def test_bad_counts_and_sqlite_are_refused(parties):
    with pytest.raises(CommandError, match="must be >= 0"):
        call_command("seed", "--orders", "-1")
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL only"):
            call_command("seed", "--orders", "10")
