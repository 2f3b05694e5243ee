"""Routing (issue 3, point 3): the rules' writes, and the decision for a new case.

* `routing_rule_create/update/delete/move` and `department_routing_set` are the admin writes (managers
  and admins: `cases.manage_routing`), each audited by its history row.
* `route` decides the department (first matching rule, the agent's explicit choice, or the default
  queue) and the priority override; `assign` picks the assignee by the strategy. `_open` calls both; the
  "test a sample" screen and endpoint call them with `commit=False`, which writes nothing and leaves the
  round-robin pointer where it is.

Round-robin and least-open both lock the department's `DepartmentRouting` row (`select_for_update`)
before counting or choosing, so two openings in one department are decided one after the other: the
pointer never hands two cases to the same person out of turn and least-open counts the case the other
transaction just assigned. On SQLite writers are serialised by `BEGIN IMMEDIATE` anyway.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.text import slugify

from relay.accounts.models import Department, User
from relay.cases import routing
from relay.cases.choices import OPEN_CATEGORIES, Priority
from relay.cases.models import CaseCategory, DepartmentRouting, RoutingRule
from relay.cases.permissions import WORKER_ROLES
from relay.cases.routing import DEPARTMENT_STRATEGIES, Assignment, CaseSample, Conditions, Explanation, Rule
from relay.cases.services._config import (
    choices,
    ids,
    locked_with_changes,
    move,
    next_order,
    save_versioned,
    texts,
    unique,
)
from relay.core import clock, config_cache
from relay.core.audit import with_actor
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError, ConflictError, NotAllowed
from relay.core.services import lock_current
from relay.customers.choices import ContactKind, PartyRole
from relay.customers.models import ContactPoint, Party, PartyRoleAssignment

STRATEGY_PHRASES: dict[str, str] = {
    Assignment.ROUND_ROBIN: "round-robin",
    Assignment.LEAST_OPEN: "least open cases",
}


# --- rules: input and validation -------------------------------------------------------------------------


@dataclass
class RuleInput:
    """A rule as the UI and the API submit it. Lists are alternatives; empty lists do not constrain."""

    name: str
    department: Department | None
    description: str = ""
    is_active: bool = True
    order: int | None = None
    categories: list[int] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    originators: list[int] = field(default_factory=list)
    originating_departments: list[int] = field(default_factory=list)
    priority: str = ""
    assignment: str = Assignment.DEPARTMENT

    @classmethod
    def of(cls, rule: RoutingRule) -> RuleInput:
        return cls(**{f.name: getattr(rule, f.name) for f in fields(cls)})


RULE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RuleInput))


def _require_manager(actor: User) -> None:
    if not actor.has_perm("cases.manage_routing"):
        raise NotAllowed("Only managers and administrators configure routing.")


def clean_rule(data: RuleInput, *, rule: RoutingRule | None = None) -> dict[str, Any]:
    """The rule's column values, validated and normalised; an ApplicationError lists every field error."""
    errors: dict[str, list[str]] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = ["A rule needs a name."]
    elif len(name) > 100:
        errors["name"] = ["At most 100 characters."]
    elif RoutingRule.objects.filter(name__iexact=name).exclude(pk=rule.pk if rule else 0).exists():
        errors["name"] = ["Another rule already has this name."]
    if data.department is None:
        errors["department"] = ["Choose the department the rule sends cases to."]
    elif not data.department.is_active:
        errors["department"] = ["This department is no longer active."]
    if len(data.description or "") > 2000:
        errors["description"] = ["At most 2000 characters."]
    if data.order is not None and not (isinstance(data.order, int) and 0 <= data.order < 2**31):
        errors["order"] = ["A whole number from 0 is required."]
    keywords = texts("keywords", data.keywords, errors)
    if "keywords" not in errors and any(not routing.words(k) for k in keywords):
        errors["keywords"] = ["Each keyword needs at least one letter or digit."]
    tiers = [slugify(t) for t in texts("tiers", data.tiers, errors)]
    tags = [slugify(t) for t in texts("tags", data.tags, errors)]
    for list_name, slugs in (("tiers", tiers), ("tags", tags)):
        if list_name not in errors and not all(slugs):
            errors[list_name] = ["Use letters or digits in tag and tier names."]
    values: dict[str, Any] = {
        "name": name,
        "description": (data.description or "").strip(),
        "is_active": bool(data.is_active),
        "department": data.department,
        "categories": ids("categories", data.categories, CaseCategory, errors),
        "channels": choices("channels", data.channels, list(Channel.values), errors),
        "keywords": keywords,
        "tiers": unique(tiers),
        "tags": unique(tags),
        "regions": texts("regions", data.regions, errors),
        "roles": choices("roles", data.roles, list(PartyRole.values), errors),
        "originators": ids("originators", data.originators, User, errors),
        "originating_departments": ids(
            "originating_departments", data.originating_departments, Department, errors
        ),
        "priority": data.priority or "",
        "assignment": data.assignment,
    }
    if values["priority"] and values["priority"] not in Priority.values:
        errors["priority"] = [f"Choose one of: {', '.join(Priority.values)}, or none."]
    if data.assignment not in Assignment.values:
        errors["assignment"] = [f"Choose one of: {', '.join(Assignment.values)}."]
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    if data.order is not None:
        values["order"] = data.order
    return values


def _save(rule: RoutingRule, actor: User) -> RoutingRule:
    return save_versioned(rule, actor, name_taken="Another rule already has this name.")


# --- rules: writes ---------------------------------------------------------------------------------------


@transaction.atomic
def routing_rule_create(*, actor: User, data: RuleInput) -> RoutingRule:
    """A new rule, tried after the existing ones unless `order` says otherwise."""
    _require_manager(actor)
    values = clean_rule(data)
    if "order" not in values:
        values["order"] = next_order(RoutingRule)
    return _save(RoutingRule(**values), actor)


@transaction.atomic
def routing_rule_update(
    *, actor: User, rule: RoutingRule, expected_version: int | None, changes: dict[str, Any]
) -> RoutingRule:
    """Change some of the rule's fields (names as in `RuleInput`); a stale version changes nothing."""
    _require_manager(actor)
    locked, data = locked_with_changes(
        RoutingRule, RuleInput, rule.pk, expected_version=expected_version, changes=changes, noun="rule"
    )
    for key, value in clean_rule(data, rule=locked).items():
        setattr(locked, key, value)
    return _save(locked, actor)


@transaction.atomic
def routing_rule_set_active(
    *, actor: User, rule: RoutingRule, active: bool, expected_version: int | None
) -> RoutingRule:
    _require_manager(actor)
    locked = lock_current(RoutingRule, rule.pk, expected_version)
    if locked.is_active == active:
        return locked
    locked.is_active = active
    return _save(locked, actor)


@transaction.atomic
def routing_rule_delete(*, actor: User, rule: RoutingRule, expected_version: int | None) -> None:
    """Delete a rule (its history stays). Cases it routed keep their `routed` events, which name it."""
    _require_manager(actor)
    locked = lock_current(RoutingRule, rule.pk, expected_version)
    with_actor(locked, actor)
    locked.delete()


@transaction.atomic
def routing_rule_move(*, actor: User, rule: RoutingRule, direction: str) -> RoutingRule:
    """Swap the rule with its neighbour above ("up") or below ("down"), then number the rules evenly.

    Every rule is locked first (the list is configuration: tens of rows), so two moves at once are applied
    one after the other. A move is relative to where the rule is now, so it needs no version."""
    _require_manager(actor)
    return move(RoutingRule, rule.pk, direction, lambda row: _save(row, actor), noun="rule")


@transaction.atomic
def department_routing_set(
    *, actor: User, department: Department, strategy: str, expected_version: int | None = None
) -> DepartmentRouting:
    """How a department hands out cases that arrive without a rule's say (see the module docstring)."""
    _require_manager(actor)
    if strategy not in DEPARTMENT_STRATEGIES:
        raise ApplicationError(
            "Unknown strategy.", errors={"strategy": [f"Choose one of: {', '.join(DEPARTMENT_STRATEGIES)}."]}
        )
    setting = _lock_setting(department, actor)
    if expected_version is not None and setting.version != expected_version:
        raise ConflictError(current=setting, current_version=setting.version)
    if setting.strategy != strategy:
        setting.strategy = strategy
        setting.version += 1
        setting.updated_at = clock.now()
        with_actor(setting, actor)
        setting.save()
    return setting


def _lock_setting(department: Department, actor: User | None = None) -> DepartmentRouting:
    """The department's routing row, locked; created (manual) the first time it is needed."""
    try:
        return DepartmentRouting.objects.select_for_update().get(department=department)
    except DepartmentRouting.DoesNotExist:
        try:
            with transaction.atomic():
                with_actor(DepartmentRouting(department=department), actor).save(force_insert=True)
        except IntegrityError:  # created meanwhile by a concurrent opening: lock that one
            pass
        return DepartmentRouting.objects.select_for_update().get(department=department)


def department_strategy(department: Department) -> str:
    setting = DepartmentRouting.objects.filter(department=department).values_list("strategy", flat=True)
    return next(iter(setting), Assignment.MANUAL)


# --- the decision ----------------------------------------------------------------------------------------


@dataclass
class RoutingDecision:
    """Where a new case goes and who gets it, with the explanation written into its history."""

    department: Department | None
    routed_by: str  # "rule", "chosen" or "default"
    rule: RoutingRule | None = None
    priority: str = ""  # the rule's override, or "" to keep the case's
    strategy: str = Assignment.MANUAL
    assignee: User | None = None
    explanation: Explanation = field(default_factory=Explanation)
    lines: list[str] = field(default_factory=list)
    rules_tried: int = 0

    @property
    def text(self) -> str:
        return "; ".join(self.lines)

    def data(self) -> dict[str, Any]:
        return {
            "routed_by": self.routed_by,
            "rule_id": self.rule.pk if self.rule else None,
            "rule_name": self.rule.name if self.rule else None,
            "strategy": self.strategy,
            "explanation": self.explanation.lines(),
        }


def active_rules() -> list[Rule]:
    """The active rules, in order, as the pure matcher takes them (one query, cached per configuration
    generation: relay.core.config_cache). The rules and their rows are shared: do not change them."""
    return config_cache.cached(
        "routing.active_rules",
        lambda: [to_rule(r) for r in RoutingRule.objects.filter(is_active=True).select_related("department")],
    )


def to_rule(row: RoutingRule) -> Rule:
    return Rule(
        name=row.name,
        conditions=Conditions(
            categories=frozenset(row.categories),
            channels=frozenset(row.channels),
            keywords=tuple(row.keywords),
            tiers=frozenset(row.tiers),
            tags=frozenset(row.tags),
            regions=frozenset(row.regions),
            roles=frozenset(row.roles),
            originators=frozenset(row.originators),
            originating_departments=frozenset(row.originating_departments),
        ),
        ref=row,
    )


def category_path(category: CaseCategory | None) -> tuple[int, ...]:
    """The category and its ancestors (the tree is configuration: one small query)."""
    if category is None:
        return ()
    parent = dict(CaseCategory.objects.values_list("id", "parent_id"))
    path: list[int] = []
    node: int | None = category.pk
    while node is not None and node not in path:
        path.append(node)
        node = parent.get(node)
    return tuple(path)


def sample_for(
    *,
    party: Party | None,
    subject: str,
    body: str,
    category: CaseCategory | None,
    channel: str,
    originator: User | None,
    originating_department: Department | None,
    rules: Iterable[Rule] | None = None,
) -> CaseSample:
    """What the rules are matched against. Given the `rules`, the party's tags, roles and regions are
    read only when one of them has such a condition (the matcher looks at nothing else)."""
    tags: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    regions: set[str] = set()
    conditions = None if rules is None else [r.conditions for r in rules]
    if party is not None and party.pk is not None:
        if conditions is None or any(c.tiers or c.tags for c in conditions):
            tags = frozenset(party.tags.values_list("slug", flat=True))
        if conditions is None or any(c.roles for c in conditions):
            roles = frozenset(PartyRoleAssignment.objects.filter(party=party).values_list("role", flat=True))
        if conditions is None or any(c.regions for c in conditions):
            for region, country in ContactPoint.objects.filter(
                party=party, kind=ContactKind.ADDRESS
            ).values_list("region", "country"):
                regions.update(v for v in (region, country) if v)
    return CaseSample(
        subject=subject,
        body=body,
        category_path=category_path(category),
        channel=channel,
        party_tags=tags,
        party_roles=roles,
        party_regions=frozenset(regions),
        originator_id=originator.pk if originator else None,
        originating_department_id=originating_department.pk if originating_department else None,
    )


def default_queue(actor: User, originator: User | None) -> Department | None:
    """The queue of a case no rule routes: the originator's (or else the actor's) first active department."""
    for user in dict.fromkeys(u for u in (originator, actor) if u is not None):  # each user once
        department = user.departments.filter(is_active=True).order_by("name").first()
        if department is not None:
            return department
    return None


def route(
    *,
    actor: User,
    party: Party | None,
    subject: str,
    body: str,
    category: CaseCategory | None,
    channel: str,
    originator: User | None,
    originating_department: Department | None,
    department: Department | None,
    rules: list[Rule] | None = None,
    default_department: Callable[[], Department | None] | None = None,
) -> RoutingDecision:
    """The department (and priority override) of a new case. An explicit department wins; else the first
    matching active rule; else the default queue (`default_department()`, looked up only then; by default
    the module's). No rules at all: the default queue, silently (as before routing existed)."""
    if department is not None:
        return RoutingDecision(department=department, routed_by="chosen")
    rules = active_rules() if rules is None else rules
    queue = default_department or (lambda: default_queue(actor, originator))
    if not rules:
        return RoutingDecision(department=queue(), routed_by="default")
    sample = sample_for(
        party=party,
        subject=subject,
        body=body,
        category=category,
        channel=channel,
        originator=originator,
        originating_department=originating_department,
        rules=rules,
    )
    winner, explanation = routing.match(rules, sample)
    if winner is None:
        fallback = queue()  # looked up only when no rule matched
        name = fallback.name if fallback else "none (choose a department)"
        return RoutingDecision(
            department=fallback,
            routed_by="default",
            explanation=explanation,
            lines=[f"no rule matched: default queue {name}"],
            rules_tried=len(rules),
        )
    row: RoutingRule = winner.ref
    line = f"routed to {row.department.name} by rule '{row.name}'"
    if row.priority:
        line += f", priority {Priority(row.priority).label.lower()}"
    return RoutingDecision(
        department=copy.copy(row.department),  # the rule is shared (cached); the case gets its own copy
        routed_by="rule",
        rule=row,
        priority=row.priority,
        strategy=row.assignment,
        explanation=explanation,
        lines=[line],
        rules_tried=len(rules),
    )


def available_members(department: Department) -> Any:
    """Who automatic assignment may pick: active members who work cases and are not away, by id."""
    return User.objects.filter(
        departments=department, is_active=True, is_away=False, role__in=WORKER_ROLES
    ).order_by("id")


def assign(decision: RoutingDecision, *, auto_assign: bool, commit: bool = True) -> RoutingDecision:
    """Pick the assignee of one new case (`Assigner`, for one decision)."""
    assigner = Assigner(commit=commit)
    assigner.assign(decision, auto_assign=auto_assign)
    assigner.flush()
    return decision


class Assigner:
    """Picks the assignees of one transaction's new cases by each decision's strategy (or the
    department's own). A rule's strategy always applies; for a department chosen by the agent only when
    `auto_assign` is asked for; the default queue uses the department's setting.

    Each department's routing row is locked, and its available members read, once per assigner: a batch
    of openings hands out its cases as one opening after the other would (the round-robin pointer moves
    on in memory, a least-open pick counts the cases already handed out) and `flush` writes the pointers.
    `commit=False` (the test screen) locks nothing and moves no pointer."""

    def __init__(self, *, commit: bool = True) -> None:
        self.commit = commit
        self._strategies: dict[int, str] = {}
        self._settings: dict[int, DepartmentRouting | None] = {}
        self._members: dict[int, list[User]] = {}
        self._pointers: dict[int, int | None] = {}
        self._open_counts: dict[int, dict[int, int]] = {}  # as the database had them
        self._given: Counter[int] = Counter()  # open cases this assigner's openings gave each user
        self._moved: set[int] = set()

    def given(self, user: User) -> None:
        """Count a case of this batch given to `user` (by the agent, or by `assign`): a least-open pick
        after it counts it."""
        self._given[user.pk] += 1

    def _strategy(self, decision: RoutingDecision, *, auto_assign: bool) -> str | None:
        """How the decision's assignee is picked; None: not at all (no department, or one the agent
        chose without asking for automatic assignment)."""
        department = decision.department
        if department is None or (decision.routed_by == "chosen" and not auto_assign):
            return None
        if decision.routed_by == "rule" and decision.strategy != Assignment.DEPARTMENT:
            return decision.strategy
        if department.pk not in self._strategies:
            self._strategies[department.pk] = department_strategy(department)
        return self._strategies[department.pk]

    def _lock(self, department: Department) -> None:
        if self.commit and department.pk not in self._settings:
            # decisions in one department are taken one transaction at a time
            self._settings[department.pk] = _lock_setting(department)

    def lock(self, decisions: Iterable[RoutingDecision], *, auto_assign: bool) -> None:
        """Lock the routing rows of the departments that will pick an assignee for these decisions, in
        the order of their ids (a batch opening cases in several departments takes its locks up front:
        two batches never wait for each other in a circle)."""
        picking = {
            d.department.pk: d.department
            for d in decisions
            if d.department is not None
            and self._strategy(d, auto_assign=auto_assign) not in (None, Assignment.MANUAL)
        }
        for pk in sorted(picking):
            self._lock(picking[pk])

    def assign(self, decision: RoutingDecision, *, auto_assign: bool) -> RoutingDecision:
        department = decision.department
        strategy = self._strategy(decision, auto_assign=auto_assign)
        if department is None or strategy is None:
            return decision
        if strategy != Assignment.MANUAL:
            self._lock(department)
        decision.strategy = strategy
        if strategy == Assignment.MANUAL:
            if decision.routed_by == "chosen":  # auto-assignment was asked for: say why nobody got it
                decision.lines.append(f"left in the {department.name} queue (manual assignment)")
            return decision
        phrase = STRATEGY_PHRASES[strategy]
        if strategy == Assignment.ROUND_ROBIN:
            chosen, detail = self._next_in_turn(department), ""
        else:
            chosen, count = self._least_open(department)
            detail = f" ({count} open)" if chosen is not None else ""
        if chosen is None:
            decision.lines.append(
                f"nobody in {department.name} is available for {phrase} (away or inactive): left in the queue"
            )
            return decision
        decision.assignee = chosen
        self.given(chosen)
        decision.lines.append(f"assigned to {chosen.display_name} by {phrase}{detail}")
        return decision

    def _available(self, department: Department) -> list[User]:
        if department.pk not in self._members:
            self._members[department.pk] = list(available_members(department))
        return self._members[department.pk]

    def _next_in_turn(self, department: Department) -> User | None:
        if department.pk not in self._pointers:
            setting = self._settings.get(department.pk)
            self._pointers[department.pk] = (
                setting.last_assigned_id
                if setting is not None
                else DepartmentRouting.objects.filter(department=department)
                .values_list("last_assigned_id", flat=True)
                .first()
            )
        pointer = self._pointers[department.pk]
        members = self._available(department)
        if not members:
            return None
        chosen = next((m for m in members if pointer is not None and m.pk > pointer), members[0])
        self._pointers[department.pk] = chosen.pk
        self._moved.add(department.pk)
        return chosen

    def _least_open(self, department: Department) -> tuple[User | None, int]:
        counts = self._open_counts.get(department.pk)
        if counts is None:
            rows = list(
                available_members(department).annotate(
                    open_cases=Count(
                        "assigned_cases", filter=Q(assigned_cases__status_category__in=OPEN_CATEGORIES)
                    )
                )
            )
            counts = self._open_counts[department.pk] = {m.pk: m.open_cases for m in rows}
            self._members.setdefault(department.pk, rows)
        members = self._available(department)
        if not members:
            return None, 0
        chosen = min(members, key=lambda m: (counts[m.pk] + self._given[m.pk], m.pk))
        return chosen, counts[chosen.pk] + self._given[chosen.pk]

    def flush(self) -> None:
        """Write the round-robin pointers that moved (one update a department)."""
        if not self.commit:
            return
        for department_id in sorted(self._moved):
            setting = self._settings.get(department_id)
            if setting is not None:
                DepartmentRouting.objects.filter(pk=setting.pk).update(
                    last_assigned=self._pointers[department_id]
                )
        self._moved.clear()


@dataclass
class RuleCheck:
    rule: RoutingRule
    matched: bool
    reasons: tuple[str, ...]


@dataclass
class SampleResult:
    """What the test screen shows: the decision as `_open` would make it, and every rule's verdict."""

    decision: RoutingDecision
    checks: list[RuleCheck]
    sample: CaseSample


def routing_test(
    *,
    actor: User,
    party: Party | None,
    subject: str = "",
    body: str = "",
    category: CaseCategory | None = None,
    channel: str = "",
    originator: User | None = None,
    originating_department: Department | None = None,
) -> SampleResult:
    """Route a sample case without opening it: nothing is written and no pointer moves."""
    _require_manager(actor)
    if channel and channel not in Channel.values:
        raise ApplicationError(
            "Unknown channel.", errors={"channel": [f"Choose one of: {', '.join(Channel.values)}."]}
        )
    originator = originator or actor
    if originating_department is None:
        own = list(originator.departments.all()[:2])
        originating_department = own[0] if len(own) == 1 else None
    sample = sample_for(
        party=party,
        subject=subject,
        body=body,
        category=category,
        channel=channel,
        originator=originator,
        originating_department=originating_department,
    )
    rows = list(RoutingRule.objects.select_related("department"))
    checks = []
    for row in rows:
        ok, reasons = routing.check(to_rule(row).conditions, sample)
        checks.append(RuleCheck(rule=row, matched=ok, reasons=reasons))
    decision = route(
        actor=actor,
        party=party,
        subject=subject,
        body=body,
        category=category,
        channel=channel,
        originator=originator,
        originating_department=originating_department,
        department=None,
        rules=[to_rule(r) for r in rows if r.is_active],
    )
    if not decision.lines and decision.department is not None:
        decision.lines.append(f"no rules are active: default queue {decision.department.name}")
    assign(decision, auto_assign=True, commit=False)
    return SampleResult(decision=decision, checks=checks, sample=sample)
