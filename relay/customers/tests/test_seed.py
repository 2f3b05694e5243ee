"""`relay seed` writes what the services would: seeded parties are found like entered ones."""

import pytest
from django.core.management import CommandError, call_command

from relay.activities.models import TimelineEntry
from relay.customers import selectors
from relay.customers.models import ContactPoint, Party
from relay.customers.seed import phone_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_seeded_parties_are_found_by_phone_search_and_list(agent):
    call_command("seed", "--parties", "60", "--interactions", "150", "--batch", "7")
    assert Party.objects.count() == 60 and TimelineEntry.objects.count() == 150
    assert 120 <= ContactPoint.objects.count() <= 180
    # every party: a main phone and an e-mail (the primary ones), maybe a mobile, maybe a home address
    shapes = set(ContactPoint.objects.values_list("kind", "label", "is_primary"))
    assert shapes == {
        ("phone", "main", True),
        ("email", "main", True),
        ("phone", "mobile", False),
        ("address", "home", False),
    }
    assert not ContactPoint.objects.filter(kind="address", street="").exists()
    assert ContactPoint.objects.filter(is_primary=True).count() == 120
    party = Party.objects.order_by("id")[17]
    _, national = phone_of(2 * party.pk)
    for typed in (f"({national[:3]}) {national[3:6]}-{national[6:]}", f"+1 {national}", f"001{national}"):
        assert selectors.party_lookup_by_phone(actor=agent, raw=typed) == [party]
    assert party in selectors.party_search(actor=agent, query=party.family_name, limit=60)
    email = party.contact_points.get(kind="email").normalized
    assert selectors.party_search(actor=agent, query=email) == [party]
    assert selectors.party_search(actor=agent, query=national) == [party]
    assert len(selectors.party_list(actor=agent, filters=selectors.PartyFilters(), size=100).items) == 60
    assert all(
        e.party_id in set(Party.objects.values_list("id", flat=True)) for e in TimelineEntry.objects.all()
    )


def test_seeding_twice_appends_without_clashes(agent):
    call_command("seed", "--parties", "10")
    call_command("seed", "--parties", "10", "--interactions", "5")
    assert Party.objects.count() == 20
    phones = list(ContactPoint.objects.filter(kind="phone").values_list("normalized", flat=True))
    assert len(phones) == len(set(phones))
    new = Party.objects.order_by("-id").first()
    assert selectors.party_lookup_by_phone(actor=agent, raw=phone_of(2 * new.pk)[0]) == [new]


def test_seed_refuses_negative_counts():
    with pytest.raises(CommandError):
        call_command("seed", "--parties", "-1")
