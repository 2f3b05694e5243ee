"""The pure routing matcher (relay/cases/routing.py): properties with hypothesis, then examples."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from relay.cases.routing import CaseSample, Conditions, Rule, check, fold, keyword_found, match, words

# --- strategies -------------------------------------------------------------------------------------------

ASCII_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
CHANNELS = st.sampled_from(["phone", "email", "web", "chat", "letter"])
SMALL_IDS = st.integers(min_value=1, max_value=6)
TAGS = st.sampled_from(["vip", "mobile", "fibre", "tier-gold", "tier-silver", "late-payer"])
REGIONS = st.sampled_from(["CA", "NY", "US", "DE", "BY"])
ROLES = st.sampled_from(["customer", "prospect", "partner", "supplier"])


@st.composite
def samples(draw: st.DrawFn) -> CaseSample:
    return CaseSample(
        subject=" ".join(draw(st.lists(ASCII_WORD, max_size=6))),
        body=" ".join(draw(st.lists(ASCII_WORD, max_size=12))),
        category_path=tuple(draw(st.lists(SMALL_IDS, max_size=3, unique=True))),
        channel=draw(st.one_of(st.just(""), CHANNELS)),
        party_tags=frozenset(draw(st.lists(TAGS, max_size=3))),
        party_roles=frozenset(draw(st.lists(ROLES, max_size=2))),
        party_regions=frozenset(draw(st.lists(REGIONS, max_size=2))),
        originator_id=draw(st.one_of(st.none(), SMALL_IDS)),
        originating_department_id=draw(st.one_of(st.none(), SMALL_IDS)),
    )


@st.composite
def conditions(draw: st.DrawFn) -> Conditions:
    def some(strategy: st.SearchStrategy, size: int = 2) -> frozenset:
        return frozenset(draw(st.lists(strategy, max_size=size)))

    return Conditions(
        categories=some(SMALL_IDS),
        channels=some(CHANNELS),
        keywords=tuple(draw(st.lists(ASCII_WORD, max_size=2))),
        tiers=some(st.sampled_from(["gold", "silver"]), 1),
        tags=some(TAGS, 1),
        regions=some(REGIONS, 1),
        roles=some(ROLES, 1),
        originators=some(SMALL_IDS, 1),
        originating_departments=some(SMALL_IDS, 1),
    )


@st.composite
def rule_lists(draw: st.DrawFn) -> list[Rule]:
    n = draw(st.integers(min_value=0, max_value=6))
    return [Rule(name=f"rule {i}", conditions=draw(conditions())) for i in range(n)]


ACCENTS = {"a": "áàâä", "e": "éèêë", "i": "íìîï", "o": "óòôö", "u": "úùûü", "c": "ç", "n": "ñ"}


@st.composite
def disguised(draw: st.DrawFn, word: str) -> str:
    """The word with random letters upper-cased and accented (precomposed or combining)."""
    out = []
    for ch in word:
        if ch in ACCENTS and draw(st.booleans()):
            ch = draw(st.sampled_from(ACCENTS[ch]))
            if draw(st.booleans()):
                ch = unicodedata.normalize("NFD", ch)
        if draw(st.booleans()):
            ch = ch.upper()
        out.append(ch)
    return "".join(out)


# --- properties -----------------------------------------------------------------------------------------


@given(rule_lists(), samples())
def test_the_first_matching_rule_wins(rules, sample):
    winner, explanation = match(rules, sample)
    matching = [r for r in rules if check(r.conditions, sample)[0]]
    assert winner == (matching[0] if matching else None)
    # every rule before the winner was skipped, with its reason
    before = rules[: rules.index(winner)] if winner else rules
    assert [name for name, _ in explanation.skipped] == [r.name for r in before]


@given(rule_lists(), samples())
def test_a_rule_without_conditions_matches_every_case(rules, sample):
    catch_all = Rule(name="everything")
    winner, explanation = match([*rules, catch_all], sample)
    assert winner is not None
    assert catch_all.conditions.is_empty() and match([catch_all], sample)[0] == catch_all
    assert explanation.matched and "matched" in explanation.matched[0]


@given(rule_lists(), samples(), conditions())
def test_a_non_matching_rule_put_first_changes_nothing(rules, sample, extra):
    extra_rule = Rule(name="extra", conditions=extra)
    if check(extra, sample)[0]:
        return  # only rules that do not match this sample are the subject here
    assert match([extra_rule, *rules], sample)[0] == match(rules, sample)[0]


@given(st.lists(ASCII_WORD, min_size=1, max_size=6), st.data())
def test_keywords_ignore_case_and_accents(text_words, data):
    position = data.draw(st.integers(min_value=0, max_value=len(text_words) - 1))
    keyword = text_words[position]
    shown = [data.draw(disguised(w)) for w in text_words]
    sample = CaseSample(body=" ".join(shown) + ".")
    rule = Rule(name="kw", conditions=Conditions(keywords=(data.draw(disguised(keyword)),)))
    assert match([rule], sample)[0] == rule


@given(ASCII_WORD, ASCII_WORD)
def test_keywords_are_whole_words(keyword, suffix):
    # a keyword inside a longer word does not match
    rule = Rule(name="kw", conditions=Conditions(keywords=(keyword,)))
    assert match([rule], CaseSample(subject=f"x{keyword}{suffix}"))[0] is None
    assert match([rule], CaseSample(subject=f"a {keyword}, b"))[0] == rule


@given(conditions(), samples())
def test_every_set_condition_must_hold(conds, sample):
    ok, _ = check(conds, sample)
    for name in conds.__dataclass_fields__:
        if getattr(conds, name):
            only = Conditions(**{name: getattr(conds, name)})
            if not check(only, sample)[0]:
                assert not ok, name  # one failing condition fails the rule


# --- examples ------------------------------------------------------------------------------------------


def test_unpaid_bill_example_and_its_explanation():
    billing = Rule(name="unpaid bill", conditions=Conditions(keywords=("unpaid", "not paid")))
    tech = Rule(name="no dial tone", conditions=Conditions(keywords=("no dial tone", "cannot make calls")))
    sample = CaseSample(subject="Line frozen", body="The bill was NOT   paid in March.")
    winner, explanation = match([tech, billing], sample)
    assert winner == billing
    assert explanation.lines() == [
        "rule 'no dial tone' skipped: "
        "none of the keywords 'cannot make calls', 'no dial tone' is in the text",
        "rule 'unpaid bill' matched: keyword 'not paid' in the body",
    ]


def test_accented_text_matches_a_plain_keyword_and_the_other_way_round():
    assert keyword_found("impayee", words("Facture IMPAYÉE"))
    assert keyword_found("Straße", words("strasse gesperrt"))
    assert fold("Ça Gèle") == "ca gele"


def test_category_conditions_cover_the_subtree():
    rule = Rule(name="network", conditions=Conditions(categories=frozenset({2})))
    assert match([rule], CaseSample(category_path=(5, 2, 1)))[0] == rule  # 5 is below 2
    assert match([rule], CaseSample(category_path=(1,)))[0] is None  # the parent of 2 is not below it
    assert match([rule], CaseSample())[0] is None


def test_party_attributes_tiers_tags_regions_roles():
    gold = Rule(name="gold", conditions=Conditions(tiers=frozenset({"gold"})))
    sample = CaseSample(party_tags=frozenset({"tier-gold"}), party_regions=frozenset({"CA", "US"}))
    assert match([gold], sample)[0] == gold
    assert match([gold], CaseSample(party_tags=frozenset({"gold"})))[0] is None  # a plain tag is no tier
    west = Rule(name="west", conditions=Conditions(regions=frozenset({"ca"}), roles=frozenset({"customer"})))
    assert match([west], sample)[0] is None  # a region, but not a customer
    customer_in_ca = CaseSample(party_regions=frozenset({"CA"}), party_roles=frozenset({"customer"}))
    assert match([west], customer_in_ca)[0] == west
    vip = Rule(name="vip", conditions=Conditions(tags=frozenset({"VIP"})))
    assert match([vip], CaseSample(party_tags=frozenset({"vip"})))[0] == vip


def test_channel_and_originator_conditions():
    office = Rule(
        name="office water",
        conditions=Conditions(
            channels=frozenset({"phone"}), originating_departments=frozenset({7}), keywords=("water",)
        ),
    )
    base = CaseSample(subject="Water leak", channel="phone", originating_department_id=7)
    assert match([office], base)[0] == office
    by_email = CaseSample(subject="Water leak", channel="email", originating_department_id=7)
    assert match([office], by_email)[0] is None
    by_user = Rule(name="from ann", conditions=Conditions(originators=frozenset({3})))
    assert match([by_user], CaseSample(originator_id=3))[0] == by_user
    assert match([by_user], CaseSample(originator_id=4))[0] is None


def test_no_rules_no_match_and_an_empty_explanation():
    assert match([], CaseSample(subject="x")) == (None, match([], CaseSample())[1])
    assert match([], CaseSample())[1].lines() == []
