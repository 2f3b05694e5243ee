"""What the 360 card and the screen pop show under "likely to buy next" and "goes well with what they
bought", permission-scoped like every read (relay/commerce/permissions.py).

* `recommendations_for(actor=, party=, limit=3)`: TWO queries whatever the history holds (one when the
  party owns nothing): the party's owned product ids (its order lines through orderline_party_recent_idx,
  UNION its active and suspended subscriptions through subscription_party_idx), then the active run's rules
  of those antecedents with both products joined (the unique index (run, antecedent, consequent)).
  The rules are aggregated in Python by the same scorer the evaluation measures
  (relay/recommendations/rules.py `rank`); nothing the party owns is ever proposed.
* `goes_well_with(actor=, product=, limit=3, exclude=())`: ONE query, the product's strongest rules.
* `owned_product_ids(actor=, party=)`: the first query of `recommendations_for`, for a card that wants
  `goes_well_with` too without asking again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from relay.accounts.models import User
from relay.commerce.models import OrderLine, Product, Subscription
from relay.customers.models import Party
from relay.recommendations import history
from relay.recommendations import rules as rules_model
from relay.recommendations.models import ProductRule, RunStatus

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
    party_id = _party_id(party)
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
    if lines.query.is_empty() and subscriptions.query.is_empty():
        return set()
    return set(lines.union(subscriptions).order_by())


def _catalogue_hidden(actor: User) -> bool:
    """The catalogue's row scope, decided without a query (it is all or nothing)."""
    return Product.objects.restrict(actor, "view").query.is_empty()


def _active_rules(actor: User) -> QuerySet[ProductRule]:
    return (
        ProductRule.objects.restrict(actor, "view")
        .filter(run__status=RunStatus.ACTIVE, consequent__is_active=True)
        .select_related("antecedent", "consequent", "run")
    )


def _as_rule(row: ProductRule) -> rules_model.Rule:
    return rules_model.Rule(
        antecedent=row.antecedent_id,
        consequent=row.consequent_id,
        antecedent_customers=row.antecedent_customers,
        consequent_customers=row.consequent_customers,
        both_customers=row.both_customers,
        customers=row.customers,
    )


def _recommendation(row: ProductRule, score: float) -> Recommendation:
    return Recommendation(
        product=row.consequent,
        score=score,
        because=row.antecedent,
        confidence=row.confidence,
        lift=row.lift,
        support=row.support,
        both_customers=row.both_customers,
        because_customers=row.antecedent_customers,
    )


def recommendations_for(
    *, actor: User, party: Party | int, limit: int = DEFAULT_LIMIT
) -> list[Recommendation]:
    """The products the party is likely to buy next, best first, each explained by the strongest rule
    from something the party owns; never something it owns; empty without history or without an active
    run. Two queries (one without history)."""
    if limit < 1 or _catalogue_hidden(actor):
        return []
    owned = owned_product_ids(actor=actor, party=party)
    if not owned:
        return []
    rows = list(_active_rules(actor).filter(antecedent_id__in=owned).exclude(consequent_id__in=owned))
    if not rows:
        return []
    aggregate = rows[0].run.parameters.get("aggregate", rules_model.Parameters.aggregate)
    by_pair = {(row.antecedent_id, row.consequent_id): row for row in rows}
    by_antecedent: dict[int, list[rules_model.Rule]] = {}
    for row in rows:
        by_antecedent.setdefault(row.antecedent_id, []).append(_as_rule(row))
    ranked = rules_model.rank(owned, by_antecedent, k=limit, aggregate=aggregate)
    return [
        _recommendation(by_pair[(s.rule.antecedent, s.rule.consequent)], s.score)  # type: ignore[index]
        for s in ranked
    ]


def goes_well_with(
    *, actor: User, product: Product | int, limit: int = DEFAULT_LIMIT, exclude: Iterable[int] = ()
) -> list[Recommendation]:
    """What customers who bought `product` also bought, strongest first (confidence, then lift), leaving
    out `exclude` (e.g. what the party already owns: `owned_product_ids`). One query."""
    if limit < 1 or _catalogue_hidden(actor):
        return []
    product_id = product if isinstance(product, int) else product.pk
    excluded: Collection[int] = set(exclude) | {product_id}
    rows = (
        _active_rules(actor)
        .filter(antecedent_id=product_id)
        .exclude(consequent_id__in=excluded)
        .order_by("-confidence", "-lift", "consequent_id")[:limit]
    )
    return [_recommendation(row, row.confidence) for row in rows]
