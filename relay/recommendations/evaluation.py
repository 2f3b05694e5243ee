"""A time-based held-out evaluation of the rules against a most-popular baseline. Pure: no database.

Train on every purchase before the cutoff; test on each customer who bought something before it and,
after it, at least one item they did not own before it. Both recommenders see only the items owned
before the cutoff; a hit is a recommended item bought after it. hit-rate@k is the share of test customers
with at least one hit in their top k, precision@k the hits divided by k, averaged over the test
customers. "Beats the baseline" needs a higher hit-rate and a one-sided sign test over the customers on
which the two disagree (one hit, the other missed) at p < 0.05, so that noise does not count as a win.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from relay.recommendations.rules import Parameters, PopularityBaseline, RuleModel, train

SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Split:
    cutoff: datetime
    train: list[tuple[Hashable, Hashable]]  # (customer, item) bought before the cutoff
    owned: dict[Hashable, set[Hashable]]  # per customer, what they owned before the cutoff
    relevant: dict[Hashable, set[Hashable]]  # per test customer: new items bought at or after the cutoff
    test_purchases: int  # purchases at or after the cutoff (all customers)


def default_cutoff(times: Sequence[datetime], train_share: float = 0.8) -> datetime:
    """The instant before which `train_share` of the purchases were made."""
    if not times:
        raise ValueError("no purchases")
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * train_share))]


def time_split(purchases: Iterable[Sequence[Any]], cutoff: datetime | None = None) -> Split:
    """Split (customer_id, item_id, purchased_at) rows at `cutoff` (default: 80 % of purchases before)."""
    rows = [(row[0], row[1], row[2]) for row in purchases]
    if cutoff is None:
        cutoff = default_cutoff([row[2] for row in rows])
    owned: dict[Hashable, set[Hashable]] = defaultdict(set)
    later: dict[Hashable, set[Hashable]] = defaultdict(set)
    train_rows: list[tuple[Hashable, Hashable]] = []
    test_purchases = 0
    for customer, item, at in rows:
        if at < cutoff:
            owned[customer].add(item)
            train_rows.append((customer, item))
        else:
            later[customer].add(item)
            test_purchases += 1
    relevant = {}
    for customer, items in later.items():
        if customer in owned:
            new = items - owned[customer]
            if new:
                relevant[customer] = new
    return Split(
        cutoff=cutoff, train=train_rows, owned=dict(owned), relevant=relevant, test_purchases=test_purchases
    )


@dataclass(frozen=True)
class Scores:
    hit_rate: float
    precision: float
    customers_hit: int
    hits: int


def _score(per_customer: list[int], k: int) -> Scores:
    n = len(per_customer)
    if n == 0:
        return Scores(hit_rate=0.0, precision=0.0, customers_hit=0, hits=0)
    hit = sum(1 for h in per_customer if h)
    total = sum(per_customer)
    return Scores(hit_rate=hit / n, precision=total / (k * n), customers_hit=hit, hits=total)


def sign_test_p(wins: int, losses: int) -> float:
    """One-sided exact sign test: P(at least `wins` of the wins + losses discordant customers favour the
    model) if neither is better."""
    n = wins + losses
    if n == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(wins, n, 0.5, alternative="greater").pvalue)


@dataclass(frozen=True)
class Evaluation:
    k: int
    cutoff: datetime
    customers_evaluated: int
    train_purchases: int
    test_purchases: int
    items: int
    rules: int
    model: Scores
    baseline: Scores
    model_only: int  # customers the model hit and the baseline missed
    baseline_only: int
    p_value: float
    parameters: Parameters
    dataset: str = ""

    @property
    def points(self) -> float:
        """hit-rate@k difference in percentage points."""
        return (self.model.hit_rate - self.baseline.hit_rate) * 100

    @property
    def relative(self) -> float | None:
        """hit-rate@k of the model relative to the baseline's, as a share (0.25 = 25 % better)."""
        if self.baseline.hit_rate == 0:
            return None
        return self.model.hit_rate / self.baseline.hit_rate - 1

    @property
    def precision_points(self) -> float:
        return (self.model.precision - self.baseline.precision) * 100

    @property
    def beats_baseline(self) -> bool:
        return self.model.hit_rate > self.baseline.hit_rate and self.p_value < SIGNIFICANCE

    def verdict(self) -> str:
        rel = self.relative
        rel_text = f"{rel * 100:+.1f} %" if rel is not None else "n/a (baseline hit nobody)"
        if self.customers_evaluated == 0:
            return "No customer to evaluate: nobody bought something new after the cutoff."
        if self.beats_baseline:
            return (
                f"The model beats the baseline on hit-rate@{self.k} by {self.points:.1f} points "
                f"({rel_text}; sign test p = {self.p_value:.2g})."
            )
        if self.model.hit_rate > self.baseline.hit_rate:
            return (
                f"The model is ahead on hit-rate@{self.k} by {self.points:.1f} points ({rel_text}), "
                f"which is not significant (sign test p = {self.p_value:.2g}): it does NOT beat the baseline."
            )
        return (
            f"The model does NOT beat the baseline on hit-rate@{self.k}: {self.points:+.1f} points "
            f"({rel_text})."
        )

    def as_rows(self) -> list[tuple[str, str, str]]:
        k = self.k
        return [
            (f"hit-rate@{k}", f"{self.model.hit_rate * 100:.1f} %", f"{self.baseline.hit_rate * 100:.1f} %"),
            (
                f"precision@{k}",
                f"{self.model.precision * 100:.2f} %",
                f"{self.baseline.precision * 100:.2f} %",
            ),
            ("customers with a hit", f"{self.model.customers_hit:,}", f"{self.baseline.customers_hit:,}"),
            ("hits", f"{self.model.hits:,}", f"{self.baseline.hits:,}"),
        ]

    def as_text(self) -> str:
        head = [
            f"dataset            {self.dataset}" if self.dataset else None,
            f"cutoff             {self.cutoff.isoformat()} (train before, test from)",
            f"train purchases    {self.train_purchases:,} (customer, item) pairs; "
            f"{self.items:,} items; {self.rules:,} rules",
            f"test purchases     {self.test_purchases:,}",
            f"customers evaluated {self.customers_evaluated:,} "
            "(history before the cutoff, something new from it)",
        ]
        rows = [("", "model (rules)", "baseline (most popular)"), *self.as_rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        table = [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
        return "\n".join([*(h for h in head if h), "", *table, "", self.verdict()])


def evaluate(
    purchases: Iterable[Sequence[Any]],
    *,
    cutoff: datetime | None = None,
    k: int = 5,
    parameters: Parameters | None = None,
    dataset: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """hit-rate@k and precision@k of the rules and of the most-popular baseline on a time split.
    `progress(done, total)` is told after every 100 test customers scored."""
    if k < 1:
        raise ValueError("k is at least 1")
    params = parameters or Parameters()
    split = time_split(purchases, cutoff)
    model: RuleModel
    if split.train:
        customers, items = zip(*split.train, strict=True)
        model = train(parameters=params, customers=np.asarray(customers), items=np.asarray(items))
    else:
        model = train([], params)
    baseline = PopularityBaseline(model.item_customers)
    model_hits: list[int] = []
    baseline_hits: list[int] = []
    customers_to_test = sorted(split.relevant, key=str)
    for done, customer in enumerate(customers_to_test, 1):
        if progress is not None and (done % 100 == 0 or done == len(customers_to_test)):
            progress(done, len(customers_to_test))
        owned = split.owned[customer]
        relevant = split.relevant[customer]
        model_hits.append(sum(1 for s in model.recommend(owned, k) if s.item in relevant))
        baseline_hits.append(sum(1 for item in baseline.recommend(owned, k) if item in relevant))
    wins = sum(1 for m, b in zip(model_hits, baseline_hits, strict=True) if m and not b)
    losses = sum(1 for m, b in zip(model_hits, baseline_hits, strict=True) if b and not m)
    return Evaluation(
        k=k,
        cutoff=split.cutoff,
        customers_evaluated=len(model_hits),
        train_purchases=model.purchases,
        test_purchases=split.test_purchases,
        items=model.items,
        rules=model.rule_count,
        model=_score(model_hits, k),
        baseline=_score(baseline_hits, k),
        model_only=wins,
        baseline_only=losses,
        p_value=sign_test_p(wins, losses),
        parameters=params,
        dataset=dataset,
    )
