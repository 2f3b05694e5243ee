"""What happens to the commerce records when two parties are merged into one (TESTING.md, "Merge").

Relay has no party merge yet (relay/cases/services/merge.py merges cases, and no commerce record points
at a case). This is the commerce half of it, ready for that service to call inside its transaction:
every foreign key from this app to Party is listed here with its handling, and
relay/commerce/tests/test_merge.py fails when a new one is added without it.
"""

from __future__ import annotations

from typing import Any

from simple_history.utils import bulk_update_with_history

from relay.accounts.models import User
from relay.commerce.models import CreditTerms, Invoice, Order, OrderLine, Payment, Subscription
from relay.core import clock
from relay.core.audit import current_origin, with_actor
from relay.customers.models import Party

PARTY_MERGE_HANDLING: dict[tuple[str, str], str] = {
    ("commerce.order", "party"): "moved to the surviving party",
    ("commerce.orderline", "party"): "moved to the surviving party with its order",
    ("commerce.invoice", "party"): "moved to the surviving party",
    ("commerce.payment", "party"): "moved to the surviving party",
    ("commerce.subscription", "party"): "moved to the surviving party",
    ("commerce.creditterms", "party"): "moved, unless the survivor has credit terms of its own: then the"
    " survivor's stay and the duplicate's are deleted (audited); the credit system decides again",
}
_MOVED = [Order, OrderLine, Invoice, Payment, Subscription]


def commerce_move_party(*, actor: User, duplicate: Party, survivor: Party) -> dict[str, int]:
    """Move the duplicate's commerce records to the survivor; call inside the merge's transaction. Each
    moved record gets a history row naming the actor. Returns how many of each moved."""
    now = clock.now()
    moved: dict[str, int] = {}
    attrs = {"history_origin": current_origin()}
    for model in _MOVED:
        manager: Any = model._default_manager
        rows = list(manager.select_for_update().filter(party_id=duplicate.pk))
        for row in rows:
            row.party_id = survivor.pk
            row.updated_at = now
            if hasattr(row, "version"):
                row.version += 1
        if rows:
            fields = ["party_id", "updated_at"] + (["version"] if hasattr(rows[0], "version") else [])
            bulk_update_with_history(rows, model, fields, default_user=actor, custom_historical_attrs=attrs)
        moved[model._meta.model_name or ""] = len(rows)
    terms = CreditTerms.objects.select_for_update().filter(party_id=duplicate.pk).first()
    moved["creditterms"] = 0
    if terms is not None:
        if CreditTerms.objects.filter(party_id=survivor.pk).exists():
            with_actor(terms, actor)
            terms.delete()
        else:
            terms.party_id, terms.updated_at, terms.version = survivor.pk, now, terms.version + 1
            with_actor(terms, actor)
            terms.save(update_fields=["party", "updated_at", "version"])
            moved["creditterms"] = 1
    return moved
