"""The time-based evaluation: no leakage across the cutoff, a win where there is structure to learn, and no
win where there is none (so that the test that the model wins can fail)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from relay.recommendations.evaluation import default_cutoff, evaluate, sign_test_p, time_split
from relay.recommendations.rules import Parameters, train

BEFORE = datetime(2026, 3, 1, tzinfo=UTC)
CUTOFF = datetime(2026, 6, 1, tzinfo=UTC)
AFTER = datetime(2026, 9, 1, tzinfo=UTC)


def test_split_trains_before_the_cutoff_and_tests_what_is_new_after_it():
    rows = [
        ("ann", "phone", BEFORE),
        ("ann", "case", CUTOFF),  # at the cutoff: test side
        ("ann", "phone", AFTER),  # a repeat: not new, not relevant
        ("bob", "phone", BEFORE),
        ("bob", "phone", AFTER),  # nothing new after: not a test customer
        ("cat", "case", AFTER),  # no history before: not a test customer
    ]
    split = time_split(rows, CUTOFF)
    assert sorted(split.train) == [("ann", "phone"), ("bob", "phone")]
    assert split.owned == {"ann": {"phone"}, "bob": {"phone"}}
    assert split.relevant == {"ann": {"case"}}
    assert split.test_purchases == 4


def test_nothing_after_the_cutoff_reaches_the_model():
    rng = random.Random(3)
    # before the cutoff phone and charger go together; after it, phone and case do (and only after it)
    rows = []
    for n in range(200):
        rows += [(n, "phone", BEFORE), (n, "charger", BEFORE + timedelta(days=1))]
        if rng.random() < 0.8:
            rows.append((n, "case", AFTER))
    result = evaluate(rows, cutoff=CUTOFF, k=5)
    trained_before = train([r for r in rows if r[2] < CUTOFF])
    assert result.rules == trained_before.rule_count == 2  # phone <-> charger only
    assert result.items == 2  # the model never heard of the case
    assert result.customers_evaluated > 100  # the case buyers
    assert result.model.hits == 0 and result.baseline.hits == 0
    assert result.train_purchases == 400


def test_default_cutoff_leaves_a_fifth_of_the_purchases_to_test():
    times = [BEFORE + timedelta(days=d) for d in range(100)]
    assert default_cutoff(times) == BEFORE + timedelta(days=80)
    with pytest.raises(ValueError):
        default_cutoff([])


def _planted(seed: int, customers: int = 800) -> list[tuple[int, str, datetime]]:
    """Twelve "anchor" products each with its own accessory (bought by 70 % of the anchor's buyers, half
    before the cutoff, half after), plus popular filler bought at random by everybody: popularity
    proposes the filler, the rules the anchor's accessory."""
    rng = random.Random(seed)
    filler = [f"filler-{i}" for i in range(8)]
    rows: list[tuple[int, str, datetime]] = []
    for c in range(customers):
        anchor = rng.randrange(12)
        rows.append((c, f"anchor-{anchor}", BEFORE))
        if rng.random() < 0.7:
            rows.append((c, f"accessory-{anchor}", BEFORE if rng.random() < 0.5 else AFTER))
        for item in filler:
            if rng.random() < 0.5:
                rows.append((c, item, BEFORE if rng.random() < 0.8 else AFTER))
    return rows


def _structureless(seed: int, customers: int = 800) -> list[tuple[int, str, datetime]]:
    """Every customer picks items independently, with skewed popularity: nothing to learn but popularity."""
    rng = random.Random(seed)
    items = [f"item-{i}" for i in range(30)]
    weights = [1 / (i + 1) for i in range(30)]
    rows: list[tuple[int, str, datetime]] = []
    for c in range(customers):
        for item in set(rng.choices(items, weights, k=4)):
            rows.append((c, item, BEFORE))
        for item in set(rng.choices(items, weights, k=2)):
            rows.append((c, item, AFTER))
    return rows


@pytest.mark.parametrize("seed", [1, 2])
def test_the_rules_beat_popularity_where_there_is_structure(seed):
    result = evaluate(_planted(seed), cutoff=CUTOFF, k=5)
    assert result.customers_evaluated > 300
    assert result.beats_baseline
    assert result.points > 5
    assert result.model.precision > result.baseline.precision
    assert "beats the baseline on hit-rate@5 by" in result.verdict()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_rules_do_not_beat_popularity_on_structureless_data(seed):
    result = evaluate(_structureless(seed), cutoff=CUTOFF, k=5)
    assert result.customers_evaluated > 300
    assert not result.beats_baseline
    assert "does NOT beat the baseline" in result.verdict()


def test_figures_are_what_the_hits_say():
    # two test customers; the model hits one of them once, the baseline neither
    rows = [
        *[(n, "phone", BEFORE) for n in range(10)],
        *[(n, "case", BEFORE) for n in range(10)],
        *[(n, "pop", BEFORE) for n in range(10, 40)],
        *[(n, "pop2", BEFORE) for n in range(10, 40)],
        (40, "phone", BEFORE),
        (40, "case", AFTER),
        (41, "phone", BEFORE),
        (41, "shoe", AFTER),
    ]
    params = Parameters(min_customers=5, min_support=0, min_confidence=0)
    result = evaluate(rows, cutoff=CUTOFF, k=1, parameters=params)
    assert result.customers_evaluated == 2
    assert (result.model.hit_rate, result.model.precision, result.model.hits) == (0.5, 0.5, 1)
    assert (result.baseline.hit_rate, result.baseline.hits) == (0.0, 0)
    assert result.model_only == 1 and result.baseline_only == 0
    assert result.relative is None  # the baseline hit nobody
    text = result.as_text()
    assert "hit-rate@1" in text and "precision@1" in text and "customers evaluated 2" in text


def test_sign_test():
    assert sign_test_p(0, 0) == 1.0
    assert sign_test_p(10, 0) == pytest.approx(0.5**10)
    assert sign_test_p(5, 5) > 0.5
