"""Which channels a preference set chooses: the pure rules, property-tested."""

from hypothesis import given
from hypothesis import strategies as st

from relay.notifications.preferences import DEFAULT, Channels, candidate_kinds, is_valid_kind, resolve

WORD = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
KIND = st.lists(WORD, min_size=2, max_size=4).map(".".join)


def test_candidates_go_from_the_exact_kind_to_the_widest_family():
    assert candidate_kinds("case.sla.breached") == ["case.sla.breached", "case.sla.", "case."]
    assert candidate_kinds("case.transferred") == ["case.transferred", "case."]


def test_the_most_specific_preference_wins():
    prefs = [("case.", True, False), ("case.sla.", False, True), ("case.sla.breached", True, True)]
    assert resolve(prefs, "case.sla.breached") == Channels(True, True)
    assert resolve(prefs, "case.sla.warned") == Channels(False, True)
    assert resolve(prefs, "case.transferred") == Channels(True, False)
    assert resolve(prefs, "order.shipped") == DEFAULT == Channels(in_app=True, email=True)


def test_valid_kinds():
    for kind in ("case.", "case.transferred", "case.sla.", "case.sla.breached", "case.sla_2."):
        assert is_valid_kind(kind), kind
    for kind in ("", ".", "case", "Case.", "case..x", "case transferred", "*", "case.*", "x" * 101):
        assert not is_valid_kind(kind), kind


@given(kind=KIND, in_app=st.booleans(), email=st.booleans())
def test_an_exact_preference_beats_every_family(kind, in_app, email):
    families = [(family, not in_app, not email) for family in candidate_kinds(kind)[1:]]
    assert resolve([*families, (kind, in_app, email)], kind) == Channels(in_app, email)


@given(kind=KIND, other=KIND, in_app=st.booleans(), email=st.booleans())
def test_a_preference_never_applies_outside_its_family(kind, other, in_app, email):
    prefix = kind.split(".")[0] + "."
    if other.startswith(prefix):
        return
    assert resolve([(prefix, in_app, email), (kind, in_app, email)], other) == DEFAULT
