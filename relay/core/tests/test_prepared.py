"""relay.core.prepared: a queryset compiled once, run with each call's values, returns what the queryset
returns, on both databases."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relay.accounts.models import Department
from relay.core import prepared as prepared_module
from relay.core.prepared import Prepared
from relay.core.testing.factories import ContactPointFactory, PartyFactory
from relay.customers.models import ContactPoint, Party

pytestmark = pytest.mark.django_db


def _counting(build):
    calls = []

    def counted(**values):
        calls.append(values)
        return build(**values)

    return counted, calls


def test_model_rows_with_their_related_objects_are_the_querysets_and_cost_one_query_each():
    ada, bob = PartyFactory(given_name="Ada"), PartyFactory(given_name="Bob")
    for party in (ada, ada, bob):
        ContactPointFactory(
            party=party, kind="email", raw=f"{party.pk}-{ContactPoint.objects.count()}@x.test"
        )
    build, calls = _counting(
        lambda *, party_id: (
            ContactPoint.objects.select_related("party").filter(party_id=party_id).order_by("pk")
        )
    )
    points = Prepared(build, params=("party_id",))
    for party in (ada, bob, ada):
        with CaptureQueriesContext(connection) as queries:
            rows = points.fetch(party_id=party.pk)
        assert len(_run(queries)) == 1
        with CaptureQueriesContext(connection) as queries:
            assert [(p.pk, p.party.given_name) for p in rows] == [
                (p.pk, p.party.given_name) for p in build(party_id=party.pk)
            ]
        assert len(queries) == 1  # the queryset's; the prepared rows' parties came with them
    assert len(calls) == 4  # built once for the plan, then only by this test


def _run(queries):
    """The statements that read (PostgreSQL prepares each statement once per session first)."""
    return [q for q in queries.captured_queries if not q["sql"].startswith("PREPARE ")]


def test_values_and_dates_are_substituted_not_frozen_in_the_plan():
    PartyFactory(given_name="Old")
    cut = timezone.now() + datetime.timedelta(seconds=1)
    names = Prepared(
        lambda *, since: (
            Party.objects.filter(created_at__gte=since).order_by("pk").values_list("given_name", flat=True)
        ),
        params=("since",),
    )
    day = Prepared(
        lambda *, on: Party.objects.filter(created_at__date__lt=on).values("given_name"),
        params=("on",),
    )
    assert names.fetch(since=cut - datetime.timedelta(days=1)) == ["Old"]
    assert names.fetch(since=cut) == []
    assert day.fetch(on=datetime.date.today() + datetime.timedelta(days=2)) == [{"given_name": "Old"}]
    assert day.fetch(on=datetime.date(2000, 1, 1)) == []


def test_lists_of_any_length_get_a_plan_of_their_own():
    parties = [PartyFactory() for _ in range(3)]
    build, calls = _counting(
        lambda *, ids: Party.objects.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)
    )
    some = Prepared(build, params=("ids",))
    ids = [p.pk for p in parties]
    assert some.fetch(ids=ids[:1]) == ids[:1]
    assert some.fetch(ids=set(ids)) == ids
    assert some.fetch(ids=ids[1:2]) == ids[1:2]
    assert len(calls) == 2  # one plan for one id, one for three


def test_the_key_keeps_apart_what_changes_the_sql():
    PartyFactory(kind="person")
    PartyFactory(kind="organisation", organisation_name="Acme")
    build, calls = _counting(
        lambda *, kind, party_id: Party.objects.filter(kind=kind, pk__gte=party_id).values_list(
            "kind", flat=True
        )
    )
    kinds = Prepared(build, params=("party_id",))
    assert kinds.fetch(kind="person", party_id=0) == ["person"]
    assert kinds.fetch(kind="organisation", party_id=0) == ["organisation"]
    assert kinds.fetch(kind="person", party_id=0) == ["person"]
    assert len(calls) == 2


def test_an_empty_queryset_costs_no_query():
    nothing = Prepared(lambda *, party_id: Party.objects.none().filter(pk=party_id), params=("party_id",))
    with CaptureQueriesContext(connection) as queries:
        assert nothing.fetch(party_id=1) == []
        assert nothing.fetch(party_id=2) == []
    assert len(queries) == 0


def test_a_value_that_is_not_itself_a_parameter_of_the_sql_is_refused():
    changed = Prepared(lambda *, n: Party.objects.filter(pk=abs(n)), params=("n",))  # not n itself
    with pytest.raises(ValueError, match="Not every parameter"):
        changed.fetch(n=3)


@pytest.mark.parametrize("value", [None, True])
def test_none_and_booleans_must_be_part_of_the_key(value):
    flagged = Prepared(lambda *, flag: Department.objects.filter(is_active=flag), params=("flag",))
    with pytest.raises(TypeError):
        flagged.fetch(flag=value)


def test_a_prefetching_queryset_is_refused():
    prefetching = Prepared(
        lambda *, party_id: Party.objects.filter(pk=party_id).prefetch_related("contact_points"),
        params=("party_id",),
    )
    with pytest.raises(ValueError, match="prefetches nothing"):
        prefetching.fetch(party_id=1)


def test_plans_are_bounded_per_connection_and_forgotten_on_demand(monkeypatch):
    monkeypatch.setattr(prepared_module, "PLANS_PER_CONNECTION", 2)
    build, calls = _counting(lambda *, kind, pk: Party.objects.filter(kind=kind, pk=pk))
    by_kind = Prepared(build, params=("pk",))
    for kind in ("person", "organisation", "other", "person"):  # "other" drops the two before
        by_kind.fetch(kind=kind, pk=1)
        assert len(connections["default"].__dict__["relay_prepared"]) <= 2
    prepared_module.forget()
    by_kind.fetch(kind="person", pk=1)
    assert [c["kind"] for c in calls] == ["person", "organisation", "other", "person", "person"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side statements are PostgreSQL's")
def test_postgresql_plans_a_statement_once_per_session_and_again_in_a_new_one(monkeypatch):
    ada, bob = PartyFactory(given_name="Ada"), PartyFactory(given_name="Bob")
    names = Prepared(
        lambda *, pk: Party.objects.filter(pk=pk).values_list("given_name", flat=True), params=("pk",)
    )
    kinds = Prepared(lambda *, pk: Party.objects.filter(pk=pk).values_list("kind", flat=True), params=("pk",))
    with CaptureQueriesContext(connection) as queries:
        assert names.fetch(pk=ada.pk) == ["Ada"]
        assert names.fetch(pk=bob.pk) == ["Bob"]
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["PREPARE", "EXECUTE", "EXECUTE"]
    monkeypatch.setattr(prepared_module, "STATEMENTS_PER_SESSION", 1)
    with CaptureQueriesContext(connection) as queries:
        assert kinds.fetch(pk=ada.pk) == ["person"]  # a second statement: the session drops the first
        assert names.fetch(pk=ada.pk) == ["Ada"]  # which is prepared again
    assert [q["sql"].split()[0] for q in queries.captured_queries] == [
        "DEALLOCATE",
        "PREPARE",
        "EXECUTE",
        "DEALLOCATE",
        "PREPARE",
        "EXECUTE",
    ]
    connections["default"].connection.relay_statements.clear()  # as a new session would start
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert names.fetch(pk=bob.pk) == ["Bob"]


def test_without_server_statements_postgresql_binds_on_the_client_as_sqlite_does(settings):
    settings.RELAY_DB_SERVER_STATEMENTS = False
    ada = PartyFactory(given_name="Ada")
    names = Prepared(
        lambda *, pk: Party.objects.filter(pk=pk).values_list("given_name", flat=True), params=("pk",)
    )
    with CaptureQueriesContext(connection) as queries:
        assert names.fetch(pk=ada.pk) == ["Ada"]
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT"]


def test_hand_written_sql_runs_as_it_reads_and_on_postgresql_is_prepared_once():
    ada = PartyFactory(given_name="Ada", family_name="Lovelace")
    sql = "SELECT given_name || %s FROM customers_party WHERE id = %s AND given_name LIKE 'A%%'"
    with CaptureQueriesContext(connection) as queries:
        for suffix in ("!", "?"):
            with connection.cursor() as cursor:
                prepared_module.execute(connection, cursor, sql, [suffix, ada.pk])
                assert cursor.fetchall() == [(f"Ada{suffix}",)]
    kinds = [q["sql"].split()[0] for q in queries.captured_queries]
    assert kinds == (
        ["PREPARE", "EXECUTE", "EXECUTE"] if connection.vendor == "postgresql" else ["SELECT"] * 2
    )
