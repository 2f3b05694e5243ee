"""Keyset pagination visits every row exactly once, in order, both ways, whatever the ties."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from relay.core.exceptions import ApplicationError
from relay.core.pagination import Ordering, keyset, paginate, read_cursor
from relay.core.testing.factories import PartyFactory
from relay.customers.models import Party

BASE = datetime(2026, 1, 1, tzinfo=UTC)


class KeysetPaginationTest(TestCase):
    @settings(max_examples=25)
    @given(
        offsets=st.lists(st.integers(min_value=0, max_value=4), min_size=0, max_size=14),
        size=st.integers(min_value=1, max_value=5),
        descending=st.booleans(),
    )
    def test_walks_every_row_once_in_order_forwards_and_backwards(self, offsets, size, descending):
        Party.objects.all().delete()
        for minutes in offsets:  # few distinct values: many ties on the sort key
            PartyFactory(updated_at=BASE + timedelta(minutes=minutes))
        ordering = Ordering("updated_at", descending=descending)
        expected = list(Party.objects.order_by(*ordering.order_by).values_list("pk", flat=True))

        pages, cursor = [], None
        while True:
            page = paginate(Party.objects.all(), ordering=ordering, cursor=cursor, size=size)
            pages.append([p.pk for p in page.items])
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert [pk for p in pages for pk in p] == expected
        assert all(len(p) == size for p in pages[:-1])

        # and back again from the last page
        back, cursor = (
            [],
            paginate(Party.objects.all(), ordering=ordering, cursor=cursor, size=size).previous_cursor,
        )
        while cursor:
            page = paginate(Party.objects.all(), ordering=ordering, cursor=cursor, size=size)
            back = [p.pk for p in page.items] + back
            cursor = page.previous_cursor
        if len(pages) > 1:
            assert back + pages[-1] == expected


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjoxfQ", "W251bGwsIm5vdC1hbi1pbnQiLDBd", "%%%"])
def test_a_forged_cursor_is_a_clear_error(cursor):
    with pytest.raises(ApplicationError) as error:
        paginate(Party.objects.all(), ordering=Ordering("name_key"), cursor=cursor, size=10)
    assert "cursor" in error.value.errors


@pytest.mark.django_db
@pytest.mark.parametrize("descending", [False, True])
def test_a_page_after_a_cursor_seeks_the_index_by_key_and_id(descending):
    """A row comparison, (name_key, id) > (value, pk), so that PostgreSQL's (name_key, id) index starts at the
    cursor instead of at the first row of its name (a name shared by hundreds is read past on every page)."""
    from django.db import connection

    parties = [PartyFactory(display_name="Same Name") for _ in range(3)]
    ordering = Ordering("name_key", descending=descending)
    first = paginate(Party.objects.all(), ordering=ordering, cursor=None, size=1)
    qs = keyset(Party.objects.all(), ordering, read_cursor(Party.objects.all(), ordering, first.next_cursor))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            sql, params = qs.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Index Cond: (ROW(" in plan, plan
        else:
            sql, params = qs.query.sql_with_params()
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "USING INDEX party_name_key_idx" in plan, plan  # SQLite 3.40 seeks by the first column
    assert [p.pk for p in qs] == [p.pk for p in (parties[1:] if not descending else parties[-2::-1])]
