"""Reads of the phone channel, permission-scoped: a call, and the screen pop's card.

The card shows what the 360 page would show the same user: the party through `Party.objects.restrict`,
identifiers masked without VIEW_SENSITIVE, only the cases and timeline entries the user may read (a
confidential case and its entries stay out), and the commerce data as the party page's account panel
shows it (amounts masked without VIEW_SENSITIVE). A fixed number of queries, whatever the file holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relay.accounts.models import User
from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability, staff_scope_key
from relay.activities.choices import EntryKind
from relay.activities.models import TimelineEntry
from relay.cases.choices import OPEN_CATEGORIES
from relay.cases.models import Case
from relay.cases.permissions import case_scope_key, sees_all_cases
from relay.channels.telephony.models import Call
from relay.channels.telephony.permissions import party_visible_to
from relay.commerce import selectors as commerce
from relay.commerce.choices import SubscriptionStatus
from relay.commerce.models import CreditTerms, OrderLine, Subscription
from relay.commerce.permissions import may_see_amounts
from relay.core.prepared import Prepared
from relay.customers.models import ExternalIdentifier, Party, Relationship
from relay.customers.selectors import caller_lookup, identifier_display_value
from relay.recommendations.selectors import Recommendation, recommendations_for

CARD_CASES = 5
CARD_INTERACTIONS = 5
CARD_PURCHASES = 3
CARD_SERVICES = 4
CARD_RECOMMENDATIONS = 3


def call_get(*, actor: User, pk: Any, action: str = "view") -> Call:
    """One call the actor may see (else Call.DoesNotExist: a 404)."""
    found = _CALL.fetch(pk=int(pk))
    if (
        not found
        or not may_see_call(actor, found[0])
        or (action != "view" and not actor.has_perm("activities.add_interaction"))
    ):
        raise Call.DoesNotExist
    return found[0]


_CALL = Prepared(
    lambda *, pk: Call.objects.select_related("line__department", "agent", "case").filter(pk=pk)[:1],
    params=("pk",),
)
_MEMBERSHIP = Prepared(
    lambda *, user_id, department_id: User.departments.through.objects.filter(
        user_id=user_id, department_id=department_id
    ).values_list("pk")[:1],
    params=("user_id", "department_id"),
)


def may_see_call(user: User, call: Call) -> bool:
    """The call scope (relay/channels/telephony/permissions.py) for one call in hand: at most one query
    (the user's departments), where the scoped query joined the members table and needed DISTINCT."""
    if not has_capability(user, VIEW_CUSTOMERS) or not party_visible_to(user, call.party_id):
        return False
    if sees_all_cases(user) or call.agent_id == user.pk:
        return True
    if call.line is None:
        return False
    department = call.line.department
    if department.supervisor_id == user.pk:
        return True
    return bool(_MEMBERSHIP.fetch(user_id=user.pk, department_id=department.pk))


@dataclass
class PopCard:
    call: Call
    party: Party | None
    number: str  # the caller's number (the other end of the call)
    identifiers: list[tuple[ExternalIdentifier, str]] = field(default_factory=list)
    organisations: list[Party] = field(default_factory=list)
    open_cases: list[Case] = field(default_factory=list)
    interactions: list[TimelineEntry] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)  # several files share the number
    # what the caller owes, may buy on credit, subscribes to and bought (relay.commerce; amounts masked
    # for roles without VIEW_SENSITIVE)
    account: commerce.AccountSummary | None = None
    credit: CreditTerms | None = None
    services: list[Subscription] = field(default_factory=list)  # active and suspended, not cancelled
    purchases: list[OrderLine] = field(default_factory=list)
    amounts_visible: bool = False
    recommendations: list[Recommendation] = field(default_factory=list)  # explained, never owned


# the card's reads, compiled once per connection (relay.core.prepared; ADR 0020)
_PARTY = Prepared(
    lambda *, actor, pk: Party.objects.restrict(actor, "view").filter(pk=pk)[:1],
    params=("pk",),
    key=lambda *, actor: staff_scope_key(actor),
)
_IDENTIFIERS = Prepared(
    lambda *, party_id: ExternalIdentifier.objects.select_related("scheme").filter(party_id=party_id),
    params=("party_id",),
)
_EMPLOYMENTS = Prepared(
    lambda *, party_id: Relationship.objects.select_related("organisation").filter(person_id=party_id),
    params=("party_id",),
)
_OPEN_CASES = Prepared(
    lambda *, actor, party_id: (
        Case.objects.restrict(actor, "view")
        .filter(party_id=party_id, status_category__in=sorted(OPEN_CATEGORIES), merged_into__isnull=True)
        .select_related("status", "department")
        .order_by("-last_activity_at", "-id")[:CARD_CASES]
    ),
    params=("party_id",),
    key=lambda *, actor: case_scope_key(actor),
)
_INTERACTIONS = Prepared(
    lambda *, actor, party_id: (
        TimelineEntry.objects.restrict(actor, "view")
        .filter(party_id=party_id, kind=EntryKind.INTERACTION)
        .only("id", "channel", "direction", "subject", "occurred_at", "duration_seconds", "party_id")
        .order_by("-occurred_at", "-id")[:CARD_INTERACTIONS]
    ),
    params=("party_id",),
    key=lambda *, actor: case_scope_key(actor),
)


def pop_card(*, actor: User, call: Call) -> PopCard:
    number = call.to_number if call.direction == "outbound" else call.from_number
    party = None
    if call.party_id is not None:
        found = _PARTY.fetch(actor=actor, pk=call.party_id)
        party = found[0] if found else None
    card = PopCard(call=call, party=party, number=number)
    if party is None:
        card.candidates = caller_lookup(actor=actor, raw=number) if number else []
        return card
    card.identifiers = [
        (i, identifier_display_value(actor=actor, identifier=i))
        for i in _IDENTIFIERS.fetch(party_id=party.pk)
    ]
    card.organisations = [r.organisation for r in _EMPLOYMENTS.fetch(party_id=party.pk)]
    card.open_cases = _OPEN_CASES.fetch(actor=actor, party_id=party.pk)
    card.interactions = _INTERACTIONS.fetch(actor=actor, party_id=party.pk)
    card.amounts_visible = may_see_amounts(actor)
    card.account = commerce.party_account(actor=actor, party=party)
    card.credit = commerce.party_credit_terms(actor=actor, party=party)
    card.services = [
        s
        for s in commerce.party_subscriptions(actor=actor, party=party, limit=CARD_SERVICES)
        if s.status != SubscriptionStatus.CANCELLED
    ]
    card.purchases = commerce.party_last_purchases(actor=actor, party=party, limit=CARD_PURCHASES)
    card.recommendations = recommendations_for(actor=actor, party=party, limit=CARD_RECOMMENDATIONS)
    return card
