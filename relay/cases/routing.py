"""Routing-rule matching, pure: which rule decides where a new case goes, and why (docs/adr/0009-routing.md).

No database here. The services (relay/cases/services/routing.py) turn rows into `Rule`s and a new case
into a `CaseSample`, call `match`, and apply the decision; the tests property-test this module alone.

* Rules are tried in their configured order; the **first match wins**.
* A rule matches when **every condition it sets** holds; a condition left empty does not constrain (a
  rule without conditions matches every case: a catch-all at the end of the list).
* Within one condition the listed values are alternatives (any of them).
* Keywords are whole words or phrases, found in the subject or the body, ignoring case and accents
  ("Facture impayée" matches the keyword "impayee"; "bill" does not match "billing").
* Tiers are tags named `tier-<name>` (the customer file has no tier field): the tier "gold" is the tag
  `tier-gold`. Tags, tiers, regions and roles compare case-insensitively.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.text import slugify

TIER_TAG_PREFIX = "tier-"

_WORD = re.compile(r"\w+")


class Assignment(models.TextChoices):
    """Who in the department gets a routed case."""

    DEPARTMENT = "department", "The department's own setting"
    MANUAL = "manual", "Nobody: agents pick it from the queue"
    ROUND_ROBIN = "round_robin", "Round-robin among available members"
    LEAST_OPEN = "least_open", "The available member with the fewest open cases"


# what a department itself may be set to (the rule's "department" choice defers to it)
DEPARTMENT_STRATEGIES: tuple[str, ...] = (Assignment.MANUAL, Assignment.ROUND_ROBIN, Assignment.LEAST_OPEN)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text: casefolded, accents (combining marks) removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFKC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def words(text: str) -> tuple[str, ...]:
    """The folded words of a text, in order."""
    return tuple(_WORD.findall(fold(text)))


def tag_key(name: str) -> str:
    """How tags are compared: by the slug the customer file stores them under."""
    return slugify(name)


def value_key(value: str) -> str:
    return fold(value.strip())


@dataclass(frozen=True)
class CaseSample:
    """What routing knows about a new case. `category_path` is the category and its ancestors (ids);
    `party_regions` holds the region and country of each postal address of the party."""

    subject: str = ""
    body: str = ""
    category_path: tuple[int, ...] = ()
    channel: str = ""
    party_tags: frozenset[str] = frozenset()
    party_roles: frozenset[str] = frozenset()
    party_regions: frozenset[str] = frozenset()
    originator_id: int | None = None
    originating_department_id: int | None = None


@dataclass(frozen=True)
class Conditions:
    """What a rule asks of a case. Every non-empty condition must hold; within one, any value will do."""

    categories: frozenset[int] = frozenset()
    channels: frozenset[str] = frozenset()
    keywords: tuple[str, ...] = ()
    tiers: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    originators: frozenset[int] = frozenset()
    originating_departments: frozenset[int] = frozenset()

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)


@dataclass(frozen=True)
class Rule:
    """A rule as the matcher sees it; `ref` is whatever the caller wants back (the model row)."""

    name: str
    conditions: Conditions = field(default_factory=Conditions)
    ref: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Explanation:
    """Why the decision is what it is: the reasons the winning rule matched, and for each rule tried
    before it the first condition that failed."""

    matched: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()

    def lines(self) -> list[str]:
        out = [f"rule '{name}' skipped: {why}" for name, why in self.skipped]
        return [*out, *self.matched]


def keyword_found(keyword: str, text_words: Sequence[str]) -> bool:
    """The keyword's words appear in `text_words` consecutively (a whole word, or a whole phrase)."""
    wanted = words(keyword)
    if not wanted:
        return False
    n = len(wanted)
    return any(tuple(text_words[i : i + n]) == wanted for i in range(len(text_words) - n + 1))


def _names(values: Iterable[Any]) -> str:
    return ", ".join(sorted(str(v) for v in values))


def check(conditions: Conditions, sample: CaseSample) -> tuple[bool, tuple[str, ...]]:
    """(matches, reasons): the reasons say what held; on a mismatch, the one condition that failed."""
    reasons: list[str] = []
    c = conditions
    if c.categories:
        hit = set(sample.category_path) & c.categories
        if not hit:
            return False, ("the category is not one of the rule's (or below one)",)
        reasons.append("the category is in the rule's categories")
    if c.channels:
        if sample.channel not in c.channels:
            return False, (f"channel {sample.channel or 'none'} is not {_names(c.channels)}",)
        reasons.append(f"channel {sample.channel}")
    if c.keywords:
        subject, body = words(sample.subject), words(sample.body)
        found = [
            (k, "subject" if keyword_found(k, subject) else "body")
            for k in c.keywords
            if keyword_found(k, subject) or keyword_found(k, body)
        ]
        if not found:
            return False, (f"none of the keywords {_names(repr(k) for k in c.keywords)} is in the text",)
        keyword, where = found[0]
        reasons.append(f"keyword '{keyword}' in the {where}")
    tags = {tag_key(t) for t in sample.party_tags}
    if c.tiers:
        tiers = [t for t in c.tiers if tag_key(TIER_TAG_PREFIX + t) in tags]
        if not tiers:
            return False, (f"the customer's tier is not {_names(c.tiers)}",)
        reasons.append(f"tier {sorted(tiers)[0]}")
    if c.tags:
        found_tags = [t for t in c.tags if tag_key(t) in tags]
        if not found_tags:
            return False, (f"the customer has none of the tags {_names(c.tags)}",)
        reasons.append(f"tag {sorted(found_tags)[0]}")
    if c.regions:
        regions = {value_key(r) for r in sample.party_regions}
        found_regions = [r for r in c.regions if value_key(r) in regions]
        if not found_regions:
            return False, (f"the customer's address is not in {_names(c.regions)}",)
        reasons.append(f"region {sorted(found_regions)[0]}")
    if c.roles:
        roles = {value_key(r) for r in sample.party_roles}
        found_roles = [r for r in c.roles if value_key(r) in roles]
        if not found_roles:
            return False, (f"the customer is not a {_names(c.roles)}",)
        reasons.append(f"the customer is a {sorted(found_roles)[0]}")
    if c.originators:
        if sample.originator_id not in c.originators:
            return False, ("the originator is not one of the rule's",)
        reasons.append("the originator is one of the rule's")
    if c.originating_departments:
        if sample.originating_department_id not in c.originating_departments:
            return False, ("the originating department is not one of the rule's",)
        reasons.append("the originating department is one of the rule's")
    if not reasons:
        reasons.append("the rule has no conditions (it matches every case)")
    return True, tuple(reasons)


def match(rules: Iterable[Rule], sample: CaseSample) -> tuple[Rule | None, Explanation]:
    """The first rule (in the given order) whose conditions the sample meets, and why."""
    skipped: list[tuple[str, str]] = []
    for rule in rules:
        ok, reasons = check(rule.conditions, sample)
        if ok:
            return rule, Explanation(
                matched=(f"rule '{rule.name}' matched: {'; '.join(reasons)}",), skipped=tuple(skipped)
            )
        skipped.append((rule.name, reasons[0]))
    return None, Explanation(skipped=tuple(skipped))
