"""Reads of the timeline, permission-scoped."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from relay.accounts.models import User
from relay.accounts.permissions import VIEW_SENSITIVE, has_capability
from relay.activities.models import Attachment, TimelineEntry
from relay.core.history import HistoryRecord, history_records
from relay.core.pagination import Ordering, Page, paginate
from relay.customers.models import IdentifierScheme, Party

TIMELINE_ORDERING = Ordering("occurred_at", descending=True)


def timeline_queryset(*, actor: User) -> QuerySet[TimelineEntry]:
    return (
        TimelineEntry.objects.restrict(actor, "view")
        .select_related("actor")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    )


def party_timeline(
    *, actor: User, party: Party, channel: str = "", kind: str = "", cursor: str | None = None, size: int = 25
) -> Page:
    """The party's history, newest first, one keyset page at a time."""
    qs = timeline_queryset(actor=actor).filter(party=party)
    if channel:
        qs = qs.filter(channel=channel)
    if kind:
        qs = qs.filter(kind=kind)
    return paginate(qs, ordering=TIMELINE_ORDERING, cursor=cursor, size=size)


def entry_get(*, actor: User, pk: Any, action: str = "view") -> TimelineEntry:
    qs = TimelineEntry.objects.restrict(actor, action).select_related("actor").prefetch_related("attachments")
    return qs.get(pk=pk)


def attachment_get(*, actor: User, pk: Any) -> Attachment:
    """An attachment is visible exactly when its timeline entry is."""
    visible_entries = TimelineEntry.objects.restrict(actor, "view")
    return Attachment.objects.select_related("entry").filter(entry__in=visible_entries).get(pk=pk)


def party_history(*, actor: User, party: Party, limit: int = 200) -> list[HistoryRecord]:
    """The audit trail of a party's whole file: the party, its contact points, identifiers,
    relationships and timeline entries. Sensitive identifier values are masked for roles without
    VIEW_SENSITIVE."""
    from relay.customers.models import ContactPoint, ExternalIdentifier, Relationship

    if not actor.has_perm("core.view_history"):
        return []
    sensitive_schemes = set(IdentifierScheme.objects.filter(is_sensitive=True).values_list("pk", flat=True))
    clear = has_capability(actor, VIEW_SENSITIVE)
    visible_entries = TimelineEntry.objects.restrict(actor, "view").filter(party=party).values("pk")

    def mask(row: Any, field: str, value: Any) -> Any:
        hidden = not clear and getattr(row, "scheme_id", None) in sensitive_schemes
        if hidden and field == "__str__":
            return "identifier (sensitive)"
        if (
            not clear
            and field == "value"
            and getattr(row, "scheme_id", None) in sensitive_schemes
            and value is not None
        ):
            return "•" * max(len(str(value)) - 4, 2) + str(value)[-4:]
        return value

    return history_records(
        [
            Party.history.filter(id=party.pk),
            ContactPoint.history.filter(party_id=party.pk),
            ExternalIdentifier.history.filter(party_id=party.pk),
            Relationship.history.filter(Q(person_id=party.pk) | Q(organisation_id=party.pk)),
            # the history of an entry the actor may not see (a confidential case's) is hidden with it
            TimelineEntry.history.filter(party_id=party.pk).exclude(
                id__in=TimelineEntry.objects.filter(party=party).exclude(pk__in=visible_entries).values("pk")
            ),
        ],
        mask=mask,
        limit=limit,
    )
