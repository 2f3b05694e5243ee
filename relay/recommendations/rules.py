"""Item-to-item association rules learnt from purchase history, and the scorer that ranks what a customer
may buy next (docs/adr/0017-recommendations.md). Pure: no database, no Django; property-testable.

* A customer's *history* is the set of items they ever bought (or hold). A rule X -> Y counts customers,
  not baskets: support = |X and Y| / |customers|, confidence = |X and Y| / |X|, lift = confidence /
  (|Y| / |customers|). "34 % of customers who bought X also bought Y" is the confidence of X -> Y.
* The counts are one sparse matrix product (customers x items, 0/1) transposed by itself, computed in
  blocks of antecedents so that memory stays bounded whatever the catalogue; only items bought by at least
  the minimum number of customers take part (no pair can be more frequent than its rarer item).
* The scorer aggregates the rules of every owned item per candidate: by default the sum of their
  confidences (item-based top-N, Deshpande & Karypis 2004), which measured best on the public data set
  (ADR 0017: noisy-or saturates for customers who own many items, max ignores agreement); ties broken by
  the best rule's lift. Owned items are never candidates. The best rule of a candidate is its
  explanation.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
from scipy import sparse

Purchase = tuple[Hashable, Hashable, datetime]  # (customer_id, item_id, purchased_at)
Aggregate = Literal["noisy_or", "max", "sum"]

_BLOCK = 2048  # antecedents per block of the co-occurrence product


@dataclass(frozen=True)
class Parameters:
    """Thresholds of a training run. The defaults suit catalogues of tens to thousands of products and
    histories of hundreds to millions of customers; `min_customers` keeps rules that a handful of
    customers happen to share out of the explanations shown to agents."""

    min_support: float = 0.001  # share of all customers who bought both
    min_confidence: float = 0.05  # share of the antecedent's buyers who bought the consequent too
    min_lift: float = 1.0  # only positive associations ("goes well with")
    min_customers: int = 5  # customers who bought both, at least
    max_rules_per_item: int = 20  # the strongest consequents kept per antecedent
    aggregate: Aggregate = "sum"

    def __post_init__(self) -> None:
        if not 0 <= self.min_support <= 1:
            raise ValueError("min_support is a share between 0 and 1")
        if not 0 <= self.min_confidence <= 1:
            raise ValueError("min_confidence is a share between 0 and 1")
        if self.min_lift < 0:
            raise ValueError("min_lift cannot be negative")
        if self.min_customers < 1:
            raise ValueError("min_customers is at least 1")
        if self.max_rules_per_item < 1:
            raise ValueError("max_rules_per_item is at least 1")
        if self.aggregate not in ("noisy_or", "max", "sum"):
            raise ValueError("aggregate is 'noisy_or', 'max' or 'sum'")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    """X -> Y with the customer counts it comes from; the ratios are derived, so they are exact."""

    antecedent: Hashable
    consequent: Hashable
    antecedent_customers: int  # bought X
    consequent_customers: int  # bought Y
    both_customers: int  # bought X and Y
    customers: int  # in the history

    @property
    def support(self) -> float:
        return self.both_customers / self.customers

    @property
    def confidence(self) -> float:
        return self.both_customers / self.antecedent_customers

    @property
    def lift(self) -> float:
        return self.confidence * self.customers / self.consequent_customers


def percent(share: float) -> int:
    """A share as a whole percentage for people: never 0 % for a rule that exists, never 100 % unless all."""
    value = round(share * 100)
    if value == 0 and share > 0:
        return 1
    if value == 100 and share < 1:
        return 99
    return int(value)


def explanation(*, confidence: float, antecedent: str, consequent: str) -> str:
    """ "34 % of customers who bought X also bought Y" """
    return f"{percent(confidence)} % of customers who bought {antecedent} also bought {consequent}"


@dataclass(frozen=True)
class Scored:
    item: Hashable
    score: float
    rule: Rule  # the strongest rule that proposes it: its explanation


def _stronger(a: Rule, b: Rule) -> bool:
    """Does `a` explain a candidate better than `b`? Higher confidence, then lift, then more customers."""
    return (a.both_customers * b.antecedent_customers, a.lift, a.both_customers) > (
        b.both_customers * a.antecedent_customers,
        b.lift,
        b.both_customers,
    )


def rank(
    owned: Collection[Hashable],
    rules: Mapping[Any, Iterable[Rule]],
    *,
    k: int,
    aggregate: Aggregate = "sum",
) -> list[Scored]:
    """The k best candidates for a customer who owns `owned`, from the rules of each owned item; nothing
    owned is ever proposed. Over the owned items that propose a candidate, sum: the sum of their
    confidences; noisy-or: 1 - prod(1 - confidence); max: the best confidence. Ties: the best rule's
    lift, then its customer count, then the item."""
    owned_set = owned if isinstance(owned, set | frozenset) else set(owned)
    best: dict[Hashable, Rule] = {}
    miss: dict[Hashable, float] = {}
    total: dict[Hashable, float] = {}
    for item in owned_set:
        for rule in rules.get(item, ()):
            candidate = rule.consequent
            if candidate in owned_set:
                continue
            current = best.get(candidate)
            if current is None:
                best[candidate] = rule
                miss[candidate] = 1.0 - rule.confidence
                total[candidate] = rule.confidence
            else:
                miss[candidate] *= 1.0 - rule.confidence
                total[candidate] += rule.confidence
                if _stronger(rule, current):
                    best[candidate] = rule
    scored = [
        Scored(
            item=candidate,
            score=(
                1.0 - miss[candidate]
                if aggregate == "noisy_or"
                else total[candidate]
                if aggregate == "sum"
                else rule.confidence
            ),
            rule=rule,
        )
        for candidate, rule in best.items()
    ]
    scored.sort(key=lambda s: (-s.score, -s.rule.lift, -s.rule.both_customers, str(s.item)))
    return scored[:k]


@dataclass
class RuleModel:
    """What training produced: the rules of each antecedent (strongest first) and the counts behind them."""

    parameters: Parameters
    customers: int
    purchases: int  # distinct (customer, item) pairs
    item_customers: dict[Hashable, int]
    rules: dict[Hashable, list[Rule]] = field(default_factory=dict)

    @property
    def items(self) -> int:
        return len(self.item_customers)

    @property
    def rule_count(self) -> int:
        return sum(len(r) for r in self.rules.values())

    def all_rules(self) -> Iterable[Rule]:
        for rules in self.rules.values():
            yield from rules

    def recommend(self, owned: Collection[Hashable], k: int = 5) -> list[Scored]:
        return rank(owned, self.rules, k=k, aggregate=self.parameters.aggregate)


class PopularityBaseline:
    """The most popular items (by customers who bought them) that the customer does not own."""

    def __init__(self, item_customers: Mapping[Hashable, int]) -> None:
        self.ranking = sorted(item_customers, key=lambda item: (-item_customers[item], str(item)))

    def recommend(self, owned: Collection[Hashable], k: int = 5) -> list[Hashable]:
        out: list[Hashable] = []
        for item in self.ranking:
            if item not in owned:
                out.append(item)
                if len(out) == k:
                    break
        return out


def _pairs(purchases: Iterable[Sequence[Any]]) -> tuple[list[Hashable], list[Hashable]]:
    customers: list[Hashable] = []
    items: list[Hashable] = []
    for row in purchases:
        customers.append(row[0])
        items.append(row[1])
    return customers, items


def _codes(values: Sequence[Hashable] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, codes): np.unique's inverse, for ints, strings or any one comparable type."""
    array = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if array.dtype.kind not in "iuUS":
        array = np.asarray(values, dtype=object)
    labels, codes = np.unique(array, return_inverse=True)
    return labels, codes.ravel()


def train(
    purchases: Iterable[Sequence[Any]] | None = None,
    parameters: Parameters | None = None,
    *,
    customers: Sequence[Hashable] | np.ndarray | None = None,
    items: Sequence[Hashable] | np.ndarray | None = None,
) -> RuleModel:
    """Train item-to-item rules. Either `purchases`, rows starting (customer_id, item_id, ...), e.g.
    (customer_id, item_id, purchased_at) tuples, or the two parallel arrays `customers` and `items`.
    Repeat purchases count once: a rule counts customers."""
    params = parameters or Parameters()
    if purchases is not None:
        customers, items = _pairs(purchases)
    if customers is None or items is None or len(customers) != len(items):
        raise ValueError("give purchases, or customers and items of the same length")
    if len(customers) == 0:
        return RuleModel(parameters=params, customers=0, purchases=0, item_customers={})
    customer_labels, customer_idx = _codes(customers)
    item_labels, item_idx = _codes(items)
    n_customers, n_items = len(customer_labels), len(item_labels)
    matrix = sparse.csr_matrix(
        (np.ones(len(customer_idx), dtype=np.int32), (customer_idx, item_idx)),
        shape=(n_customers, n_items),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1
    bought = np.asarray(matrix.sum(axis=0)).ravel().astype(np.int64)
    labels = item_labels.tolist()
    model = RuleModel(
        parameters=params,
        customers=n_customers,
        purchases=int(matrix.nnz),
        item_customers={labels[i]: int(bought[i]) for i in range(n_items)},
    )
    min_count = max(params.min_customers, math.ceil(params.min_support * n_customers - 1e-9))
    frequent = np.flatnonzero(bought >= min_count)
    if len(frequent) < 2:
        return model
    sub = matrix[:, frequent].tocsc()
    sub_t = sub.T.tocsr()
    n_frequent = bought[frequent]
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, len(frequent), _BLOCK):
        block = (sub_t[start : start + _BLOCK] @ sub).tocoo()
        keep = block.data >= min_count  # most pairs of a large catalogue go here, before any copy
        rows = block.row[keep].astype(np.int64) + start
        cols = block.col[keep].astype(np.int64)
        both = block.data[keep].astype(np.int64)
        keep = rows != cols
        rows, cols, both = rows[keep], cols[keep], both[keep]
        confidence = both / n_frequent[rows]
        lift = confidence * n_customers / n_frequent[cols]
        keep = (confidence >= params.min_confidence - 1e-12) & (lift >= params.min_lift - 1e-12)
        found.append((rows[keep], cols[keep], both[keep]))
    rows = np.concatenate([f[0] for f in found])
    cols = np.concatenate([f[1] for f in found])
    both = np.concatenate([f[2] for f in found])
    if len(rows) == 0:
        return model
    confidence = both / n_frequent[rows]
    lift = confidence * n_customers / n_frequent[cols]
    # strongest first within each antecedent: confidence, lift, then the consequent's code (stable)
    order = np.lexsort((cols, -lift, -confidence, rows))
    rows, cols, both = rows[order], cols[order], both[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    position = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    keep = position < params.max_rules_per_item
    rows, cols, both = rows[keep], cols[keep], both[keep]
    frequent_labels = [labels[i] for i in frequent]
    for a, c, n in zip(rows.tolist(), cols.tolist(), both.tolist(), strict=True):
        antecedent = frequent_labels[a]
        model.rules.setdefault(antecedent, []).append(
            Rule(
                antecedent=antecedent,
                consequent=frequent_labels[c],
                antecedent_customers=int(n_frequent[a]),
                consequent_customers=int(n_frequent[c]),
                both_customers=n,
                customers=n_customers,
            )
        )
    return model
