"""What the 360 card and the screen pop show under "likely to buy next" and "goes well with what they
bought", permission-scoped like every read (relay/commerce/permissions.py).

* `recommendations_for(actor=, party=, limit=3)`: THREE queries whatever the history holds, and the
  configuration generation's read (the active run is cached per process: relay.core.config_cache): the
  party's owned product ids (its order lines through orderline_party_recent_idx, UNION its active and
  suspended subscriptions through subscription_party_idx), the active run's rules of those antecedents as
  numbers only (the unique index (run, antecedent, consequent)), then the few products shown. The rules
  are aggregated in Python by the same scorer the evaluation measures (relay/recommendations/rules.py
  `rank`); nothing the party owns is ever proposed.
* `goes_well_with(actor=, product=, limit=3, exclude=())`: ONE query, the product's strongest rules.
* `owned_product_ids(actor=, party=)`: the first query of `recommendations_for`, for a card that wants
  `goes_well_with` too without asking again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet

from relay.accounts.models import User
from relay.accounts.permissions import staff_scope_key
from relay.commerce.models import OrderLine, Product, Subscription
from relay.commerce.permissions import party_rows_scope_key
from relay.core import config_cache
from relay.core.prepared import Prepared
from relay.customers.models import Party
from relay.recommendations import history
from relay.recommendations import rules as rules_model
from relay.recommendations.models import ProductRule, RunStatus, TrainingRun

DEFAULT_LIMIT = 3


@dataclass(frozen=True)
class Recommendation:
    product: Product  # name, sku, unit_price, currency
    score: float
    because: Product  # the owned product whose rule proposes it
    confidence: float  # share of the customers who bought `because` who also bought `product`
    lift: float
    support: float
    both_customers: int
    because_customers: int

    @property
    def name(self) -> str:
        return self.product.name

    @property
    def sku(self) -> str:
        return self.product.sku

    @property
    def price(self) -> Decimal:
        return self.product.unit_price

    @property
    def currency(self) -> str:
        return self.product.currency

    @property
    def explanation(self) -> str:
        """ "34 % of customers who bought X also bought Y" """
        return rules_model.explanation(
            confidence=self.confidence, antecedent=self.because.name, consequent=self.product.name
        )


def _party_id(party: Party | int) -> int:
    return party if isinstance(party, int) else party.pk


def owned_product_ids(*, actor: User, party: Party | int) -> set[int]:
    """What the party ordered (orders neither cancelled nor returned) or holds (active or suspended
    subscriptions): one query. Empty for a party the actor may not see."""
    return set(_OWNED.fetch(actor=actor, party_id=_party_id(party)))


def _owned(*, actor: User, party_id: int) -> QuerySet:
    lines = (
        OrderLine.objects.restrict(actor, "view")
        .filter(party_id=party_id)
        .exclude(order__status__in=history.NOT_OWNED_ORDERS)
        .order_by()
        .values_list("product_id", flat=True)
    )
    subscriptions = (
        Subscription.objects.restrict(actor, "view")
        .filter(party_id=party_id, status__in=history.OWNED_SUBSCRIPTIONS, product__isnull=False)
        .order_by()
        .values_list("product_id", flat=True)
    )
    return lines.union(subscriptions).order_by()


_OWNED = Prepared(_owned, params=("party_id",), key=lambda *, actor: party_rows_scope_key(actor))


def _catalogue_hidden(actor: User) -> bool:
    """The catalogue's row scope, decided without a query (it is all or nothing)."""
    return Product.objects.restrict(actor, "view").query.is_empty()


_PRODUCT_FIELDS = ("id", "sku", "name", "unit_price", "currency")  # in the model's field order (from_db)
_RULE_FIELDS = (
    "support",
    "confidence",
    "lift",
    "antecedent_customers",
    "consequent_customers",
    "both_customers",
    "customers",
)
_COLUMNS = (
    *_RULE_FIELDS,
    *(f"antecedent__{f}" for f in _PRODUCT_FIELDS),
    *(f"consequent__{f}" for f in _PRODUCT_FIELDS),
)


def _active_rules(actor: User) -> QuerySet[ProductRule]:
    """The active run's rules of products on sale, read as plain rows (`_rows`): no model instance per
    rule."""
    return ProductRule.objects.restrict(actor, "view").filter(
        run__status=RunStatus.ACTIVE, consequent__is_active=True
    )


@dataclass(frozen=True)
class _Row:
    rule: rules_model.Rule
    antecedent: tuple[Any, ...]  # _PRODUCT_FIELDS values
    consequent: tuple[Any, ...]
    support: float
    lift: float


def _rows(queryset: QuerySet[ProductRule]) -> list[_Row]:
    n_rule, n_product = len(_RULE_FIELDS), len(_PRODUCT_FIELDS)
    out = []
    for values in queryset.values_list(*_COLUMNS):
        support, _confidence, lift, a_n, c_n, both, customers = values[:n_rule]
        antecedent = values[n_rule : n_rule + n_product]
        consequent = values[n_rule + n_product : n_rule + 2 * n_product]
        rule = rules_model.Rule(
            antecedent=antecedent[0],
            consequent=consequent[0],
            antecedent_customers=a_n,
            consequent_customers=c_n,
            both_customers=both,
            customers=customers,
        )
        out.append(_Row(rule, antecedent, consequent, support, lift))
    return out


def _product(values: tuple[Any, ...]) -> Product:
    """A Product with the shown columns loaded (the others load on access, like `.only()`)."""
    return Product.from_db(DEFAULT_DB_ALIAS, list(_PRODUCT_FIELDS), list(values))


def _recommendation(row: _Row, score: float) -> Recommendation:
    return Recommendation(
        product=_product(row.consequent),
        score=score,
        because=_product(row.antecedent),
        confidence=row.rule.confidence,
        lift=row.lift,
        support=row.support,
        both_customers=row.rule.both_customers,
        because_customers=row.rule.antecedent_customers,
    )


def recommendations_for(
    *, actor: User, party: Party | int, limit: int = DEFAULT_LIMIT
) -> list[Recommendation]:
    """The products the party is likely to buy next, best first, each explained by the strongest rule
    from something the party owns; never something it owns; empty without history or without an active
    run. Three queries (one without history) and the generation's read."""
    if limit < 1 or _catalogue_hidden(actor):
        return []
    run = _active_run()
    if run is None:
        return []
    owned = owned_product_ids(actor=actor, party=party)
    if not owned:
        return []
    by_antecedent: dict[Any, list[rules_model.Rule]] = {}
    support_lift: dict[tuple[Any, Any], tuple[float, float]] = {}
    ordered = sorted(owned)
    for a, c, support, lift, a_n, c_n, both, customers in _SCORING_RULES.fetch(
        actor=actor, run_id=run[0], owned=ordered
    ):
        rule = rules_model.Rule(
            antecedent=a,
            consequent=c,
            antecedent_customers=a_n,
            consequent_customers=c_n,
            both_customers=both,
            customers=customers,
        )
        by_antecedent.setdefault(a, []).append(rule)
        support_lift[(a, c)] = (support, lift)
    ranked = rules_model.rank(owned, by_antecedent, k=limit, aggregate=run[1])  # type: ignore[arg-type]
    if not ranked:
        return []
    shown: set[Any] = {s.rule.antecedent for s in ranked} | {s.rule.consequent for s in ranked}
    products = {values[0]: _product(values) for values in _SHOWN_PRODUCTS.fetch(ids=sorted(shown))}
    out = []
    for s in ranked:
        support, lift = support_lift[(s.rule.antecedent, s.rule.consequent)]
        out.append(
            Recommendation(
                product=products[s.rule.consequent],
                score=s.score,
                because=products[s.rule.antecedent],
                confidence=s.rule.confidence,
                lift=lift,
                support=support,
                both_customers=s.rule.both_customers,
                because_customers=s.rule.antecedent_customers,
            )
        )
    return out


_SCORING_FIELDS = (
    "antecedent_id",
    "consequent_id",
    "support",
    "lift",
    "antecedent_customers",
    "consequent_customers",
    "both_customers",
    "customers",
)
# the rules as numbers only (scoring reads no product column), then the few products shown
_SCORING_RULES = Prepared(
    lambda *, actor, run_id, owned: (
        ProductRule.objects.restrict(actor, "view")
        .filter(run_id=run_id, consequent__is_active=True, antecedent_id__in=owned)
        .exclude(consequent_id__in=owned)
        .order_by()
        .values_list(*_SCORING_FIELDS)
    ),
    params=("run_id", "owned"),
    key=lambda *, actor: staff_scope_key(actor),
)
_SHOWN_PRODUCTS = Prepared(
    lambda *, ids: Product.objects.filter(pk__in=ids).order_by().values_list(*_PRODUCT_FIELDS),
    params=("ids",),
)


def _active_run() -> tuple[int, str] | None:
    """The active run's id and aggregation, cached per configuration generation (a run becomes active
    with a save: relay.core.config_cache)."""

    def load() -> tuple[int, str] | None:
        row = TrainingRun.objects.filter(status=RunStatus.ACTIVE).values_list("id", "parameters").first()
        if row is None:
            return None
        return row[0], (row[1] or {}).get("aggregate") or rules_model.Parameters.aggregate

    return config_cache.cached("recommendations.active_run", load)


def goes_well_with(
    *, actor: User, product: Product | int, limit: int = DEFAULT_LIMIT, exclude: Iterable[int] = ()
) -> list[Recommendation]:
    """What customers who bought `product` also bought, strongest first (confidence, then lift), leaving
    out `exclude` (e.g. what the party already owns: `owned_product_ids`). One query."""
    if limit < 1 or _catalogue_hidden(actor):
        return []
    product_id = product if isinstance(product, int) else product.pk
    excluded: Collection[int] = set(exclude) | {product_id}
    rows = _rows(
        _active_rules(actor)
        .filter(antecedent_id=product_id)
        .exclude(consequent_id__in=excluded)
        .order_by("-confidence", "-lift", "consequent_id")[:limit]
    )
    return [_recommendation(row, row.rule.confidence) for row in rows]
