"""The party list's pages compiled once (relay.core.prepared): for every sort, the choice filters alone
and together, forward and back through every page, and users who may and may not read the file, each
page is the page the ORM query gives."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from relay.core.pagination import keyset, page_of, read_cursor
from relay.core.testing.factories import PartyFactory, UserFactory
from relay.customers import selectors
from relay.customers.models import Party, PartyRoleAssignment, Tag

pytestmark = pytest.mark.django_db

FILTERS = [
    {},
    {"stage": "use"},
    {"kind": "organisation"},
    {"role": "customer"},
    {"tag": "vip"},
    {"stage": "use", "role": "customer", "tag": "vip"},
]


@pytest.fixture
def parties(agent):
    vip = Tag.objects.create(name="VIP", slug="vip")
    start = timezone.now() - timedelta(days=30)
    made = []
    for n in range(11):
        kind = "organisation" if n % 3 == 0 else "person"
        names = (
            {"organisation_name": f"Org {n % 4}"} if kind == "organisation" else {"given_name": f"P{n % 4}"}
        )
        party: Any = PartyFactory(
            kind=kind, lifecycle_stage="use" if n % 2 else "consider", owner=agent, **names
        )
        Party.objects.filter(pk=party.pk).update(  # ties on the sort value: the id decides
            updated_at=start + timedelta(days=n // 3), created_at=start + timedelta(hours=n // 2)
        )
        if n % 2:
            PartyRoleAssignment.objects.create(party=party, role="customer")
        if n % 3 != 1:
            party.tags.add(vip)
        made.append(party)
    return made


def _orm_page(actor, filters, ordering, cursor, size):
    qs = selectors.party_filter(selectors.party_queryset(actor=actor), filters).values(
        *selectors.LIST_ROW_FIELDS
    )
    order = selectors.PARTY_ORDERINGS[ordering]
    window = read_cursor(qs, order, cursor)
    return page_of(list(keyset(qs, order, window)[: size + 1]), ordering=order, window=window, size=size)


def _walk(actor, filters, ordering, size=3):
    """Every page forward, then back from the last one: (ids of each page, its cursors)."""
    seen, cursor, last = [], None, None
    for _ in range(20):
        page = selectors.party_list_rows(
            actor=actor, filters=filters, ordering=ordering, cursor=cursor, size=size
        )
        assert page == _orm_page(actor, filters, ordering, cursor, size), (filters, ordering, cursor)
        seen.append([r["id"] for r in page.items])
        last = page
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    back = last.previous_cursor if last else None
    while back:
        page = selectors.party_list_rows(
            actor=actor, filters=filters, ordering=ordering, cursor=back, size=size
        )
        assert page == _orm_page(actor, filters, ordering, back, size), (filters, ordering, back)
        back = page.previous_cursor
    return seen


@pytest.mark.parametrize("ordering", sorted(selectors.PARTY_ORDERINGS))
def test_every_page_of_every_sort_and_choice_filter_is_the_orm_page(parties, agent, ordering):
    owner = {"owner": agent.pk}
    for chosen in [*FILTERS, owner]:
        pages = _walk(agent, selectors.PartyFilters(**chosen), ordering)
        ids = list(itertools.chain.from_iterable(pages))
        assert len(ids) == len(set(ids)) and ids, chosen  # no row twice, something to compare


def test_a_user_who_may_not_read_the_file_gets_empty_pages(parties, inactive_user):
    auditor = UserFactory(username="aud", role="auditor")
    assert selectors.party_list_rows(actor=inactive_user, filters=selectors.PartyFilters()).items == []
    assert len(selectors.party_list_rows(actor=auditor, filters=selectors.PartyFilters()).items) == 11
