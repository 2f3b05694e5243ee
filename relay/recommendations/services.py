"""Training the recommender from the commerce data and making the new rule set active.

`train()` reads the purchase history (relay/recommendations/history.py), learns the rules
(relay/recommendations/rules.py) and, in ONE transaction, writes them, makes the run active and
supersedes the previous one: the 360 card reads the old rule set or the new one, never a mix, never
none. Old runs are pruned (their rules with them); the newest KEEP_RUNS stay. The run row records the
parameters, the counts, the duration and, when asked, the held-out evaluation; the log says only counts
(no customer is named anywhere).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any, cast

from django.db import IntegrityError, transaction

from relay.core import clock
from relay.core.origin import current_origin
from relay.recommendations import history
from relay.recommendations import rules as rules_model
from relay.recommendations.evaluation import Evaluation, evaluate
from relay.recommendations.models import ProductRule, RunStatus, TrainingRun

log = logging.getLogger("relay.recommendations")

KEEP_RUNS = 3
STALE_RUNNING = timedelta(hours=6)  # a run still "training" after this died with its worker
_BATCH = 2_000


def evaluation_dict(result: Evaluation) -> dict[str, Any]:
    """The figures of an evaluation, for the run row and the API (no customer in it)."""
    return {
        "k": result.k,
        "cutoff": result.cutoff.isoformat(),
        "customers_evaluated": result.customers_evaluated,
        "model": {"hit_rate": result.model.hit_rate, "precision": result.model.precision},
        "baseline": {"hit_rate": result.baseline.hit_rate, "precision": result.baseline.precision},
        "points": result.points,
        "relative": result.relative,
        "p_value": result.p_value,
        "beats_baseline": result.beats_baseline,
    }


def _rule_rows(run: TrainingRun, model: rules_model.RuleModel) -> list[ProductRule]:
    return [
        ProductRule(
            run=run,
            antecedent_id=cast(int, rule.antecedent),
            consequent_id=cast(int, rule.consequent),
            support=rule.support,
            confidence=rule.confidence,
            lift=rule.lift,
            antecedent_customers=rule.antecedent_customers,
            consequent_customers=rule.consequent_customers,
            both_customers=rule.both_customers,
            customers=rule.customers,
        )
        for rule in model.all_rules()
    ]


def _activate(run: TrainingRun, model: rules_model.RuleModel, started: float) -> None:
    """Write the rules and swap the active run, all or nothing."""
    with transaction.atomic():
        ProductRule.objects.bulk_create(_rule_rows(run, model), batch_size=_BATCH)
        TrainingRun.objects.filter(status=RunStatus.ACTIVE).exclude(pk=run.pk).update(
            status=RunStatus.SUPERSEDED
        )
        run.status = RunStatus.ACTIVE
        run.trained_at = clock.now()
        run.customers = model.customers
        run.products = model.items
        run.purchases = model.purchases
        run.rule_count = model.rule_count
        run.duration_ms = int((time.perf_counter() - started) * 1000)
        run.save()
        _prune(keep=run)


def _prune(*, keep: TrainingRun) -> int:
    """Forget all but the newest KEEP_RUNS finished runs, and runs left 'training' by a dead worker."""
    finished = TrainingRun.objects.exclude(status=RunStatus.RUNNING).exclude(pk=keep.pk)
    kept = list(finished.order_by("-started_at", "-id").values_list("pk", flat=True)[: KEEP_RUNS - 1])
    old = finished.exclude(pk__in=kept)
    stale = TrainingRun.objects.filter(
        status=RunStatus.RUNNING, started_at__lt=clock.now() - STALE_RUNNING
    ).exclude(pk=keep.pk)
    deleted, _ = old.delete()
    deleted_stale, _ = stale.delete()
    return deleted + deleted_stale


def train(
    *,
    parameters: rules_model.Parameters | None = None,
    with_evaluation: bool = False,
    k: int = 5,
    trigger: str | None = None,
) -> TrainingRun:
    """Train on every customer's purchase history and make the result the active rule set.

    Runs as the system (a job, a command, the demo): it reads all purchase history, and what it writes
    is aggregate counts that every staff member may read. A failure leaves the previous active run in
    place and the new run marked failed with the error's class (never its message: it may quote data)."""
    params = parameters or rules_model.Parameters()
    started = time.perf_counter()
    run = TrainingRun.objects.create(
        started_at=clock.now(),
        status=RunStatus.RUNNING,
        trigger=trigger or str(current_origin()),
        parameters=params.as_dict(),
    )
    try:
        parties, products = history.owned_pairs()
        model = rules_model.train(parameters=params, customers=parties, items=products)
        if with_evaluation:
            run.evaluation = evaluation_dict(
                evaluate(history.first_purchases(), k=k, parameters=params, dataset="database")
            )
        try:
            _activate(run, model, started)
        except IntegrityError:
            # another run became active between our UPDATE and our save (two trainings at once): the
            # later one wins, so supersede it now that it is visible
            _activate(run, model, started)
    except Exception as exc:
        TrainingRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=type(exc).__name__[:200], duration_ms=_ms(started)
        )
        log.exception("recommender training failed (run %s)", run.pk)
        raise
    log.info(
        "recommender trained: run %s, %s customers, %s products, %s rules in %s ms",
        run.pk,
        run.customers,
        run.products,
        run.rule_count,
        run.duration_ms,
    )
    return run


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def active_run() -> TrainingRun | None:
    return TrainingRun.objects.filter(status=RunStatus.ACTIVE).first()
