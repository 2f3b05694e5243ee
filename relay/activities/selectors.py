"""Reads of the timeline, permission-scoped."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from relay.accounts.models import User
from relay.activities.models import Attachment, TimelineEntry
from relay.core.pagination import Ordering, Page, paginate
from relay.customers.models import Party

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
