"""Training from the commerce data: what counts as owned, the atomic swap of the active rule set, pruning,
failures that change nothing the card reads."""

from __future__ import annotations

import pytest
from django.db import connection

from relay.recommendations import services
from relay.recommendations.models import ProductRule, RunStatus, TrainingRun
from relay.recommendations.rules import Parameters
from relay.recommendations.tests import factories as f

pytestmark = pytest.mark.django_db


def _rules(run):
    return {
        (r.antecedent.sku, r.consequent.sku): r
        for r in ProductRule.objects.filter(run=run).select_related("antecedent", "consequent")
    }


def test_training_learns_the_shops_rules_with_their_counts(shop):
    run = services.train()
    assert run.status == RunStatus.ACTIVE and run.trained_at is not None
    assert (run.customers, run.products, run.purchases) == (16, 5, 10 + 8 + 5 + 12)
    rules = _rules(run)
    phone_case = rules[("PHONE", "CASE")]
    assert (phone_case.both_customers, phone_case.antecedent_customers, phone_case.customers) == (8, 10, 16)
    assert phone_case.confidence == 0.8 and phone_case.support == 0.5
    assert phone_case.lift == pytest.approx(1.6)
    assert rules[("FIBRE", "ROUTER")].confidence == 1.0
    assert ("PHONE", "FIBRE") not in rules  # nobody bought both
    assert run.rule_count == len(rules)
    assert run.parameters == Parameters().as_dict()
    assert run.duration_ms is not None and run.error == ""


def test_cancelled_and_returned_orders_are_not_owned_and_subscriptions_are(catalogue):
    c = catalogue
    for _ in range(5):
        who = f.party()
        f.buy(who, c["FIBRE"])
        f.subscribe(who, c["TV"], status="suspended")  # held: owned
        f.buy(who, c["ROUTER"], status="cancelled")
        f.buy(who, c["CASE"], status="returned")
        f.subscribe(who, c["GLASS"], status="cancelled")
    run = services.train()
    assert set(_rules(run)) == {("FIBRE", "TV"), ("TV", "FIBRE")}
    assert run.products == 2


def test_a_new_run_replaces_the_active_one_and_old_runs_are_pruned(shop):
    first = services.train()
    runs = [first] + [services.train() for _ in range(4)]
    assert TrainingRun.objects.filter(status=RunStatus.ACTIVE).get() == runs[-1]
    kept = list(TrainingRun.objects.order_by("id").values_list("id", "status"))
    assert kept == [
        (runs[2].pk, RunStatus.SUPERSEDED),
        (runs[3].pk, RunStatus.SUPERSEDED),
        (runs[4].pk, RunStatus.ACTIVE),
    ]
    assert set(ProductRule.objects.values_list("run_id", flat=True)) == {r.pk for r in runs[2:]}


def test_a_failed_swap_leaves_the_previous_rules_active_and_writes_none(shop, monkeypatch):
    before = services.train()
    rules_before = ProductRule.objects.filter(run=before).count()

    def broken(**kwargs):
        raise RuntimeError("disk full, customer 42")

    monkeypatch.setattr(services, "_prune", broken)  # the last step of the swap transaction
    with pytest.raises(RuntimeError):
        services.train()
    failed = TrainingRun.objects.get(status=RunStatus.FAILED)
    assert failed.error == "RuntimeError"  # the class, never the message
    assert TrainingRun.objects.get(status=RunStatus.ACTIVE) == before
    assert ProductRule.objects.filter(run=failed).count() == 0
    assert ProductRule.objects.filter(run=before).count() == rules_before


def test_a_second_active_run_is_refused_by_the_database(shop):
    from django.db import IntegrityError, transaction

    services.train()
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingRun.objects.create(started_at=services.clock.now(), status=RunStatus.ACTIVE)


def test_no_purchase_history_trains_an_empty_active_run(db):
    run = services.train()
    assert run.status == RunStatus.ACTIVE and run.rule_count == 0 and run.customers == 0


def test_training_with_evaluation_stores_the_figures(shop):
    run = services.train(with_evaluation=True)
    assert set(run.evaluation) >= {
        "k",
        "cutoff",
        "customers_evaluated",
        "model",
        "baseline",
        "beats_baseline",
    }
    run.refresh_from_db()
    assert run.evaluation is not None and run.evaluation["k"] == 5


def test_the_nightly_job_trains(shop):
    from relay.config.huey import recommendations_train
    from relay.recommendations.tasks import train_recommender

    run_id = recommendations_train.call_local()
    assert TrainingRun.objects.get(pk=run_id).trigger == "job"
    assert train_recommender.call() != run_id


def test_the_worker_schedules_it_nightly():
    from datetime import datetime

    from relay.config.huey import HUEY

    names = lambda minute: [t.name for t in HUEY.read_periodic(minute)]  # noqa: E731
    assert "relay.recommendations_train" in names(datetime(2026, 12, 7, 2, 41))
    assert "relay.recommendations_train" not in names(datetime(2026, 12, 7, 14, 41))


def test_the_demo_trains_on_the_demo_history(shop):
    from relay.recommendations.demo import load_demo_recommendations

    run = load_demo_recommendations()
    assert run.trigger == "demo" and run.status == RunStatus.ACTIVE and run.rule_count > 0


def test_two_trainings_at_once_leave_exactly_one_active_run(transactional_db, shop):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is one connection; PostgreSQL only")
    from relay.core.testing.concurrency import run_at_once

    results = run_at_once(services.train, services.train)
    assert all(isinstance(r, TrainingRun) for r in results), results
    assert TrainingRun.objects.filter(status=RunStatus.ACTIVE).count() == 1
    assert TrainingRun.objects.filter(status=RunStatus.SUPERSEDED).count() == 1
