"""Bulk writes without instances (relay.core.bulk): the rows they write are the rows Django's own
create and bulk methods write, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from simple_history.utils import bulk_create_with_history

from relay.activities.choices import Direction, EntryKind
from relay.activities.models import TimelineEntry
from relay.core import bulk, clock
from relay.core.choices import Channel
from relay.core.models import Source
from relay.core.origin import Origin
from relay.core.outbox_models import OutboxEvent
from relay.core.testing.factories import PartyFactory

pytestmark = pytest.mark.django_db

SHARED = {"kind": EntryKind.INTERACTION, "channel": Channel.PHONE, "direction": Direction.INBOUND}


def _rows(parties, at):
    return [
        {"party_id": p.pk, "occurred_at": at + timedelta(minutes=i), "subject": f"Call {i}"}
        for i, p in enumerate(parties)
    ]


def _values(obj, *, drop=("id", "created_at", "updated_at")):
    values = {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}
    return {k: v for k, v in values.items() if k not in drop}


def test_insert_writes_what_create_writes_and_returns_the_keys_in_order(django_assert_num_queries):
    parties = PartyFactory.create_batch(3)
    at = clock.now()
    with django_assert_num_queries(1):
        pks = bulk.insert(TimelineEntry, _rows(parties, at), same=SHARED)
    assert len(pks) == 3
    written = TimelineEntry.objects.in_bulk(pks)
    for pk, row in zip(pks, _rows(parties, at), strict=True):
        created = TimelineEntry.objects.create(**row, **SHARED)
        assert _values(written[pk]) == _values(created)  # defaults too: version 1, source "user", ""
    # one value for the whole batch of each default that is a function (the time stamps)
    assert len({written[pk].created_at for pk in pks}) == 1
    assert [written[pk].subject for pk in pks] == ["Call 0", "Call 1", "Call 2"]


def test_insert_with_history_writes_the_rows_bulk_create_with_history_writes():
    parties = PartyFactory.create_batch(2)
    at = clock.now()
    same = {**SHARED, "source": Source.SYSTEM}
    pks = bulk.insert_with_history(TimelineEntry, _rows(parties, at), same=same, origin=Origin.JOB)
    theirs = [TimelineEntry(**row, **same) for row in _rows(parties, at)]
    bulk_create_with_history(theirs, TimelineEntry, custom_historical_attrs={"history_origin": Origin.JOB})
    ignore = ("id", "created_at", "updated_at", "history_id", "history_date")
    for pk, other in zip(pks, theirs, strict=True):
        mine, its = TimelineEntry.history.get(id=pk), TimelineEntry.history.get(id=other.pk)
        assert _values(mine, drop=ignore) == _values(its, drop=ignore)
        assert mine.history_type == "+" and mine.history_origin == Origin.JOB
        assert mine.history_user_id is None
        # the history row holds exactly the row written, time stamps included
        entry = TimelineEntry.objects.get(pk=pk)
        assert model_to_dict(mine.instance) == model_to_dict(entry)
        assert (mine.created_at, mine.updated_at) == (entry.created_at, entry.updated_at)


def test_rows_of_nothing_but_their_key_take_the_next_keys(django_assert_num_queries):
    from relay.cases.models import CaseNumber

    last = CaseNumber.objects.create().pk
    with django_assert_num_queries(1):
        pks = bulk.insert(CaseNumber, [{}, {}, {}])
    assert pks == sorted(pks) and len(set(pks)) == 3 and pks[0] > last
    assert CaseNumber.objects.filter(pk__in=pks).count() == 3


def test_create_with_history_writes_what_save_writes_naming_the_actor(django_assert_num_queries):
    from relay.core.audit import with_actor
    from relay.core.origin import origin
    from relay.core.testing.factories import UserFactory

    user = UserFactory()
    parties = PartyFactory.create_batch(2)
    at = clock.now()
    mine = [TimelineEntry(**row, **SHARED) for row in _rows(parties, at)]
    theirs = [TimelineEntry(**row, **SHARED) for row in _rows(parties, at)]
    with origin(Origin.API):
        with django_assert_num_queries(2):
            bulk.create_with_history(mine, actor=user)
        for entry in theirs:
            with_actor(entry, user).save()
    ignore = ("id", "created_at", "updated_at", "history_id", "history_date")
    for entry, other in zip(mine, theirs, strict=True):
        assert entry.pk is not None
        mine_h, its_h = entry.history.get(), other.history.get()
        assert _values(mine_h, drop=ignore) == _values(its_h, drop=ignore)
        assert (mine_h.history_type, mine_h.history_user_id, mine_h.history_origin) == (
            "+",
            user.pk,
            Origin.API,
        )


def test_json_values_and_conflicts_are_skipped_on_request():
    rows: list[dict[str, Any]] = [
        {"name": "case.sla.breached", "payload": {"title": "A", "n": [1, 2]}, "recipients": [3], "key": "k1"},
        {"name": "case.sla.breached", "payload": {"title": "B"}, "recipients": [], "key": "k2"},
    ]
    bulk.insert(OutboxEvent, rows, returning=False, ignore_conflicts=True)
    again = [{**rows[0], "payload": {"title": "changed"}}, {**rows[1], "key": "k3"}]
    bulk.insert(OutboxEvent, again, returning=False, ignore_conflicts=True)
    events = {str(e.key): e for e in OutboxEvent.objects.all()}
    assert sorted(events) == ["k1", "k2", "k3"]
    assert events["k1"].payload == {"title": "A", "n": [1, 2]}  # the first one recorded stays
    assert events["k1"].recipients == [3] and events["k2"].recipients == []
    assert events["k1"].dispatched_at is None and events["k1"].attempts == 0


def test_a_skipped_row_has_no_key_to_return():
    rows = [{"name": "x", "key": "k1"}, {"name": "y", "key": "k2"}]
    with pytest.raises(ValueError, match="returning=False"):  # the keys would not line up with the rows
        bulk.insert(OutboxEvent, rows, ignore_conflicts=True)
    if connection.vendor != "postgresql":
        with pytest.raises(ValueError, match="returning=False"):
            bulk.insert(OutboxEvent, rows[:1], ignore_conflicts=True)
        return
    first = bulk.insert(OutboxEvent, rows[:1], ignore_conflicts=True)  # one row: its key, or none
    assert first == [OutboxEvent.objects.get(key="k1").pk]
    assert bulk.insert(OutboxEvent, rows[:1], ignore_conflicts=True) == []


def test_nothing_to_write_asks_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk.insert(TimelineEntry, [], same=SHARED) == []
        assert bulk.insert_with_history(TimelineEntry, [], same=SHARED, origin=Origin.JOB) == []
        bulk.update([], ["subject"])


def test_update_writes_the_named_fields_only(django_assert_num_queries):
    parties = PartyFactory.create_batch(2)
    entries = [
        TimelineEntry.objects.get(pk=pk)
        for pk in bulk.insert(TimelineEntry, _rows(parties, clock.now()), same=SHARED)
    ]
    for i, entry in enumerate(entries):
        entry.subject, entry.body = f"Renamed {i}", "not written"
    with django_assert_num_queries(1):
        bulk.update(entries, ["subject"])
    assert list(
        TimelineEntry.objects.filter(pk__in=[e.pk for e in entries])
        .order_by("pk")
        .values_list("subject", "body")
    ) == [
        ("Renamed 0", ""),
        ("Renamed 1", ""),
    ]


def test_insert_once_writes_a_new_row_as_save_would_and_skips_one_the_constraint_refuses():
    from django.test.utils import CaptureQueriesContext

    first = OutboxEvent(name="case.created", payload={"title": "t"}, recipients=[1], key="k-1")
    assert bulk.insert_once(first) is True
    assert first.pk is not None and not first._state.adding
    assert model_to_dict(OutboxEvent.objects.get(pk=first.pk)) == model_to_dict(first)

    again = OutboxEvent(name="case.created", payload={"title": "other"}, recipients=[2], key="k-1")
    with CaptureQueriesContext(connection) as queries:
        assert bulk.insert_once(again) is False
    assert again.pk is None and OutboxEvent.objects.filter(key="k-1").count() == 1
    assert OutboxEvent.objects.get(key="k-1").payload == {"title": "t"}  # nothing of the second written
    statements = len(queries.captured_queries)
    # SQLite: SAVEPOINT, INSERT, ROLLBACK TO SAVEPOINT, RELEASE
    assert statements == (1 if connection.vendor == "postgresql" else 4)
    assert bulk.insert_once(OutboxEvent(name="case.created", payload={"title": "t"}, key="k-2"))  # usable
