"""The training maths on examples small enough to count by hand, and the scorer's promises."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relay.recommendations.rules import (
    Parameters,
    PopularityBaseline,
    Rule,
    explanation,
    percent,
    rank,
    train,
)

T = datetime(2026, 1, 1, tzinfo=UTC)
EVERYTHING = Parameters(min_support=0, min_confidence=0, min_lift=0, min_customers=1)

# 10 customers. A: c1-c5; B: c1-c4 and c6; C: c5-c8; D: c9, c10.
#   A and B: c1-c4 (4)   A and C: c5 (1)   B and C: c6 (1)   D with nothing
HISTORY = [
    *[(f"c{i}", "A", T) for i in (1, 2, 3, 4, 5)],
    *[(f"c{i}", "B", T) for i in (1, 2, 3, 4, 6)],
    *[(f"c{i}", "C", T) for i in (5, 6, 7, 8)],
    *[(f"c{i}", "D", T) for i in (9, 10)],
]


def _rules(model):
    return {(r.antecedent, r.consequent): r for r in model.all_rules()}


def test_support_confidence_and_lift_are_the_hand_counted_values():
    model = train(HISTORY, EVERYTHING)
    rules = _rules(model)
    assert set(rules) == {("A", "B"), ("B", "A"), ("A", "C"), ("C", "A"), ("B", "C"), ("C", "B")}
    ab = rules[("A", "B")]
    assert (ab.antecedent_customers, ab.consequent_customers, ab.both_customers, ab.customers) == (
        5,
        5,
        4,
        10,
    )
    assert ab.support == 0.4  # 4 of 10 customers bought both
    assert ab.confidence == 0.8  # 4 of the 5 who bought A
    assert ab.lift == pytest.approx(1.6, rel=1e-12)  # 0.8 / (5 / 10)
    ca = rules[("C", "A")]
    assert (ca.support, ca.confidence) == (0.1, 0.25)  # c5 only; 1 of the 4 who bought C
    assert ca.lift == pytest.approx(0.5, rel=1e-12)  # 0.25 / (5 / 10)
    assert rules[("A", "C")].confidence == 0.2
    assert model.customers == 10 and model.purchases == 16 and model.items == 4
    assert model.item_customers == {"A": 5, "B": 5, "C": 4, "D": 2}


def test_repeat_purchases_count_once():
    again = [*HISTORY, ("c1", "A", T), ("c1", "B", T), ("c1", "A", T)]
    assert _rules(train(again, EVERYTHING)) == _rules(train(HISTORY, EVERYTHING))


def _only(**thresholds: float) -> Parameters:
    return Parameters(
        **{"min_support": 0, "min_confidence": 0, "min_lift": 0, "min_customers": 1, **thresholds}
    )


AB = {("A", "B"), ("B", "A")}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (_only(min_lift=1.0), AB),
        (_only(min_confidence=0.25), AB | {("C", "A"), ("C", "B")}),
        (_only(min_confidence=0.8), AB),
        (_only(min_confidence=0.81), set()),
        (_only(min_support=0.4), AB),
        (_only(min_support=0.41), set()),
        (_only(min_customers=4), AB),
        (_only(min_customers=5), set()),
    ],
)
def test_thresholds_are_inclusive_minimums(params, expected):
    assert set(_rules(train(HISTORY, params))) == expected


def test_each_item_keeps_only_its_strongest_rules():
    model = train(
        HISTORY,
        Parameters(min_support=0, min_confidence=0, min_lift=0, min_customers=1, max_rules_per_item=1),
    )
    assert [(r.antecedent, r.consequent) for r in model.rules["A"]] == [("A", "B")]  # 0.8 beats 0.2
    # C -> A and C -> B: 25 % and lift 0.5 each; the tie goes to the lower item
    assert [(r.antecedent, r.consequent) for r in model.rules["C"]] == [("C", "A")]
    assert model.rule_count == 3


def test_the_defaults_need_five_customers_behind_a_rule():
    assert train(HISTORY).rule_count == 0
    assert train([]).rule_count == 0
    assert train([("c1", "A", T)]).customers == 1


def test_integer_ids_and_arrays_train_the_same_rules():
    ids = {"A": 1, "B": 2, "C": 3, "D": 4}
    by_int = train([(int(c[1:]), ids[i], t) for c, i, t in HISTORY], EVERYTHING)
    by_arrays = train(
        customers=[int(c[1:]) for c, _, _ in HISTORY],
        items=[ids[i] for _, i, _ in HISTORY],
        parameters=EVERYTHING,
    )
    assert {(r.antecedent, r.consequent, r.both_customers) for r in by_int.all_rules()} == {
        (r.antecedent, r.consequent, r.both_customers) for r in by_arrays.all_rules()
    }
    assert _rules(by_int)[(1, 2)].confidence == 0.8


def test_the_scorer_never_proposes_what_the_customer_owns():
    model = train(HISTORY, EVERYTHING)
    assert [s.item for s in model.recommend({"A"}, k=5)] == ["B", "C"]
    assert [s.item for s in model.recommend({"A", "B"}, k=5)] == ["C"]
    assert model.recommend({"A", "B", "C"}, k=5) == []  # D has no rule
    assert model.recommend(set(), k=5) == []
    for owned in ({"A"}, {"B"}, {"C"}, {"A", "C"}, {"D"}):
        assert not {s.item for s in model.recommend(owned, k=5)} & owned


def _rule(a, c, both, a_n, c_n=10, n=100):
    return Rule(
        antecedent=a,
        consequent=c,
        antecedent_customers=a_n,
        consequent_customers=c_n,
        both_customers=both,
        customers=n,
    )


def test_aggregation_of_the_rules_of_every_owned_item():
    # X is proposed by two owned items at 50 % each, Y by one at 60 %
    rules = {
        "o1": [_rule("o1", "X", 5, 10), _rule("o1", "Y", 6, 10)],
        "o2": [_rule("o2", "X", 10, 20, c_n=40)],
    }
    by_sum = rank({"o1", "o2"}, rules, k=5, aggregate="sum")
    assert [(s.item, s.score) for s in by_sum] == [("X", 1.0), ("Y", 0.6)]
    by_noisy_or = rank({"o1", "o2"}, rules, k=5, aggregate="noisy_or")
    assert [(s.item, round(s.score, 12)) for s in by_noisy_or] == [("X", 0.75), ("Y", 0.6)]
    by_max = rank({"o1", "o2"}, rules, k=5, aggregate="max")
    assert [(s.item, s.score) for s in by_max] == [("Y", 0.6), ("X", 0.5)]
    # X's explanation is its strongest rule: equal confidence, o1's has the higher lift (5.0 vs 1.25)
    assert by_sum[0].rule.antecedent == "o1"
    assert rank({"o1", "o2"}, rules, k=1) == by_sum[:1]


def test_explanation_text():
    rule = _rule("X", "Y", 34, 100)
    assert explanation(confidence=rule.confidence, antecedent="Pixel 8", consequent="Protective case") == (
        "34 % of customers who bought Pixel 8 also bought Protective case"
    )
    assert percent(0.004) == 1 and percent(0.996) == 99 and percent(1.0) == 100 and percent(0.345) == 34


def test_popularity_baseline_proposes_the_most_bought_items_not_owned():
    baseline = PopularityBaseline({"A": 5, "B": 5, "C": 4, "D": 2})
    assert baseline.recommend(set(), k=3) == ["A", "B", "C"]
    assert baseline.recommend({"A", "C"}, k=3) == ["B", "D"]


@pytest.mark.parametrize(
    "bad",
    [
        {"min_support": 1.5},
        {"min_confidence": -0.1},
        {"min_lift": -1},
        {"min_customers": 0},
        {"max_rules_per_item": 0},
        {"aggregate": "mean"},
    ],
)
def test_parameters_refuse_nonsense(bad):
    with pytest.raises(ValueError):
        Parameters(**bad)
