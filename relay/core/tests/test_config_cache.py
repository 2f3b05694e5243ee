"""The per-process configuration cache: reused while nothing changed, read again after any write to a
watched model, never serving what a rolled-back transaction or another connection left behind."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from relay.accounts.models import Department
from relay.cases.choices import StatusCategory
from relay.cases.models import CaseStatus, RoutingRule
from relay.cases.services import routing
from relay.cases.services._base import default_status
from relay.core import config_cache
from relay.core.models import ConfigGeneration
from relay.core.testing.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


class Loader:
    """A load function that counts its calls and returns that count."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def _names() -> list[str]:
    return config_cache.cached("names", lambda: sorted(Department.objects.values_list("name", flat=True)))


def test_a_value_is_loaded_once_while_the_configuration_is_unchanged():
    load = Loader()
    assert [config_cache.cached("k", load) for _ in range(3)] == [1, 1, 1]
    assert load.calls == 1


def test_saving_deleting_or_a_many_to_many_change_of_a_watched_model_loads_it_again():
    load = Loader()
    config_cache.cached("k", load)
    department = DepartmentFactory(name="Water")  # a save
    assert config_cache.cached("k", load) == 2
    department.delete()
    assert config_cache.cached("k", load) == 3
    assert config_cache.cached("k", load) == 3


def test_a_rolled_back_change_is_not_served_afterwards():
    department = Department.objects.get(pk=DepartmentFactory(name="Water").pk)
    assert _names() == ["Water"]
    with pytest.raises(RuntimeError), transaction.atomic():
        department.name = "Sewage"
        department.save()
        assert _names() == ["Sewage"]  # inside the transaction: its own write
        raise RuntimeError
    assert _names() == ["Water"]


def test_without_the_generation_row_nothing_is_cached_until_a_write_puts_it_back():
    ConfigGeneration.objects.all().delete()
    load = Loader()
    config_cache.cached("k", load)
    config_cache.cached("k", load)
    assert load.calls == 2
    config_cache.bump()
    assert ConfigGeneration.objects.count() == 1
    config_cache.cached("k", load)
    config_cache.cached("k", load)
    assert load.calls == 3


def _commit_a_department_elsewhere() -> None:
    """A watched write committed by another connection (a thread has its own)."""

    def elsewhere() -> None:
        try:
            DepartmentFactory(name="Water")
        finally:
            connection.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_is_seen():
    config_cache.bump()  # a flush between tests removed the row
    assert _names() == []

    _commit_a_department_elsewhere()
    assert _names() == ["Water"]


def test_the_case_services_see_a_new_rule_and_a_new_default_status_at_once(departments, manager):
    assert routing.active_rules() == []
    rule = routing.routing_rule_create(
        actor=manager,
        data=routing.RuleInput(name="bills", department=departments["Billing"], keywords=["bill"]),
    )
    assert [r.name for r in routing.active_rules()] == ["bills"]
    routing.routing_rule_set_active(actor=manager, rule=rule, active=False, expected_version=rule.version)
    assert routing.active_rules() == []

    first = default_status(StatusCategory.NEW)
    CaseStatus.objects.filter(pk=first.pk).update(is_default=False)  # no signal: the writer must bump
    replacement = CaseStatus.objects.create(
        name="Triage", category=StatusCategory.NEW, is_default=True, order=1
    )
    assert default_status(StatusCategory.NEW).pk == replacement.pk


def test_callers_get_their_own_copies_of_cached_rows():
    status = default_status(StatusCategory.NEW)
    status.name = "changed by a caller"
    assert default_status(StatusCategory.NEW).name != "changed by a caller"
    assert RoutingRule.objects.count() == 0


def _token_reads(queries) -> int:
    return sum("core_configgeneration" in q["sql"] and q["sql"].startswith("SELECT") for q in queries)


def test_a_transaction_reads_the_generation_once_and_sees_its_own_changes():
    from django.test.utils import CaptureQueriesContext

    load = Loader()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        assert [config_cache.cached("k", load) for _ in range(3)] == [1, 1, 1]
        DepartmentFactory(name="Water")  # a watched write: a new generation, known without a read
        assert config_cache.cached("k", load) == 2
        assert config_cache.cached("k", load) == 2
    assert _token_reads(queries.captured_queries) == 1


def test_a_rolled_back_savepoint_takes_its_generation_with_it():
    with transaction.atomic():
        assert _names() == []
        before = config_cache.token()
        with pytest.raises(RuntimeError), transaction.atomic():
            DepartmentFactory(name="Water")
            assert config_cache.token() != before and _names() == ["Water"]
            raise RuntimeError
        assert config_cache.token() == before
        assert _names() == []


@pytest.mark.django_db(transaction=True)
def test_the_next_transaction_reads_the_generation_again():
    config_cache.bump()  # a flush between tests removed the row
    with transaction.atomic():
        assert _names() == []

    _commit_a_department_elsewhere()
    with transaction.atomic():
        assert _names() == ["Water"]
