"""Every read of the customer file, permission-scoped through restrict()."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.db.models.expressions import RawSQL

from relay.accounts.models import User
from relay.accounts.permissions import VIEW_SENSITIVE, has_capability, staff_scope_key
from relay.core import prepared
from relay.core.pagination import Ordering, Page, Window, keyset, page_of, paginate, read_cursor
from relay.core.prepared import Prepared
from relay.customers.choices import ContactKind
from relay.customers.models import ContactPoint, ExternalIdentifier, Party, Relationship
from relay.customers.normalize import fold, try_normalize_phone

PARTY_ORDERINGS: dict[str, Ordering] = {
    "name": Ordering("name_key"),
    "-name": Ordering("name_key", descending=True),
    "updated": Ordering("updated_at"),
    "-updated": Ordering("updated_at", descending=True),
    "created": Ordering("created_at"),
    "-created": Ordering("created_at", descending=True),
}
DEFAULT_PARTY_ORDERING = "name"

_FTS_MATCH = "SELECT rowid FROM customers_party_fts WHERE customers_party_fts MATCH %s"
_PHONE_LIKE = re.compile(r"^[\d\s()+.\-/]{6,}$")


def party_queryset(*, actor: User) -> QuerySet[Party]:
    return Party.objects.restrict(actor, "view")


def party_get(*, actor: User, pk: Any, action: str = "view") -> Party:
    """One party for the 360 page/API, with everything the page shows in a fixed number of queries."""
    qs = (
        Party.objects.restrict(actor, action)
        .select_related("owner", "entered_by")
        .prefetch_related(
            "tags",
            "role_assignments",
            Prefetch("contact_points", queryset=ContactPoint.objects.select_related("entered_by")),
            Prefetch(
                "identifiers", queryset=ExternalIdentifier.objects.select_related("scheme", "entered_by")
            ),
            Prefetch(
                "employments", queryset=Relationship.objects.select_related("organisation", "entered_by")
            ),
            Prefetch("people", queryset=Relationship.objects.select_related("person", "entered_by")),
        )
    )
    return qs.get(pk=pk)


def party_ids_by_phone(raw: str) -> list[int]:
    e164 = try_normalize_phone(raw, settings.RELAY_PHONE_REGION)
    if not e164:
        return []
    return list(
        ContactPoint.objects.filter(kind=ContactKind.PHONE, normalized=e164)
        .order_by("party_id")
        .values_list("party_id", flat=True)[:50]
    )


def party_lookup_by_phone(*, actor: User, raw: str) -> list[Party]:
    """Caller lookup (the base of the screen pop): any format, one index probe on the normalised number."""
    ids = party_ids_by_phone(raw)
    if not ids:
        return []
    return list(party_queryset(actor=actor).filter(pk__in=ids).order_by("name_key", "id"))


# The caller lookup is the screen pop's first step and the busiest read of all: when the actor's scope is
# every party (all staff today), it runs as hand-written SQL, since the ORM took 1.8 ms to build a query
# that PostgreSQL answers in 0.3 ms. A scope that filters parties takes the ORM query below instead.
_CALLER_SQL = (  # table names from the models, values bound
    "SELECT p.id, p.kind, p.display_name, p.lifecycle_stage"  # noqa: S608
    f" FROM {Party._meta.db_table} p JOIN {ContactPoint._meta.db_table} c ON c.party_id = p.id"
    " WHERE c.kind = %s AND c.normalized = %s ORDER BY p.name_key, p.id LIMIT 50"
)
_CALLER_COLUMNS = ("id", "kind", "display_name", "lifecycle_stage")


def caller_lookup(*, actor: User, raw: str) -> list[dict[str, Any]]:
    """The brief answer of the caller lookup: id, kind, name, stage and the matched number, in one query
    (the contact-point index on the normalised number, joined to the visible parties by primary key)."""
    e164 = try_normalize_phone(raw, settings.RELAY_PHONE_REGION)
    visible = party_queryset(actor=actor)
    if not e164 or visible.query.is_empty():
        return []
    if visible.query.has_filters():
        rows: list[dict[str, Any]] = list(
            visible.filter(contact_points__kind=ContactKind.PHONE, contact_points__normalized=e164)
            .order_by("name_key", "id")
            .values(*_CALLER_COLUMNS)[:50]
        )
    else:
        with connection.cursor() as cursor:
            prepared.execute(connection, cursor, _CALLER_SQL, [ContactKind.PHONE.value, e164])
            rows = [dict(zip(_CALLER_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    return [{**row, "phone": e164} for row in rows]


def _text_match(qs: QuerySet[Party], text: str) -> QuerySet[Party]:
    tokens = fold(text).split()
    long_tokens = [t for t in tokens if len(t) >= 3]
    short_tokens = [t for t in tokens if len(t) < 3]
    if not long_tokens:
        # one or two letters: a prefix of the name, on the name index
        return _name_prefix(qs, fold(text))
    if connection.vendor == "sqlite":
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_tokens)
        qs = qs.filter(id__in=RawSQL(_FTS_MATCH, [match]))  # noqa: S611 (constant SQL, bound parameter)
    else:
        for token in long_tokens:
            qs = qs.filter(search_text__contains=token)
    for token in short_tokens:
        qs = qs.filter(search_text__contains=token)
    return qs


def party_search(*, actor: User, query: str, limit: int = 10) -> list[Party]:
    """Search-as-you-type over names, e-mails, phone numbers (any format) and identifiers."""
    text = (query or "").strip()[:100]
    if not text:
        return []
    scoped = party_queryset(actor=actor)
    exact_ids: list[int] = []
    if _PHONE_LIKE.match(text):
        exact_ids += party_ids_by_phone(text)
    if "@" in text:
        exact_ids += list(
            ContactPoint.objects.filter(kind=ContactKind.EMAIL, normalized=text.lower()).values_list(
                "party_id", flat=True
            )[:20]
        )
    identifiers = ExternalIdentifier.objects.filter(value=text)
    if not has_capability(actor, VIEW_SENSITIVE):
        identifiers = identifiers.filter(scheme__is_sensitive=False)
    exact_ids += list(identifiers.values_list("party_id", flat=True)[:20])

    results: list[Party] = []
    if exact_ids:
        results = list(scoped.filter(pk__in=set(exact_ids)).order_by("name_key", "id")[:limit])
    seen = {p.pk for p in results}
    folded = fold(text)
    if len(results) < limit and folded:
        # 1. names that start with what was typed: an ordered range of the name index
        prefix = _name_prefix(scoped, folded).exclude(pk__in=seen).order_by("name_key", "id")
        results += list(prefix[: limit - len(results)])
        seen = {p.pk for p in results}
    if len(results) < limit:
        # 2. the fragment anywhere (names, e-mails, numbers): a bounded set of trigram candidates, never a
        #    walk of the name index in order (with a common fragment that would read most of the table)
        candidates = list(
            _text_match(scoped, text).order_by().values_list("pk", flat=True)[:SEARCH_CANDIDATES]
        )
        more = scoped.filter(pk__in=[pk for pk in candidates if pk not in seen]).order_by("name_key", "id")
        results += list(more[: limit - len(results)])
    return results


SEARCH_CANDIDATES = 200


def _name_prefix(qs: QuerySet[Party], folded: str) -> QuerySet[Party]:
    """Names starting with `folded`, as a range of the name index. (A LIKE 'x%' would not use the index:
    SQLite's LIKE ignores case, and PostgreSQL derives ranges only under the plain C collation.)"""
    return qs.filter(name_key__gte=folded, name_key__lt=folded + "\U0010ffff")


@dataclass
class PartyFilters:
    q: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""
    role: str = ""
    stage: str = ""
    kind: str = ""
    owner: int | None = None
    tag: str = ""
    updated_since: Any = None


def party_filter(qs: QuerySet[Party], f: PartyFilters) -> QuerySet[Party]:
    """The filters shared by the party list page and the API (see filters.py for parsing)."""
    if f.q:
        qs = _text_match(qs, f.q)
    if f.name:
        qs = _text_match(qs, f.name)
    if f.email:
        qs = qs.filter(
            pk__in=ContactPoint.objects.filter(
                kind=ContactKind.EMAIL, normalized=f.email.strip().lower()
            ).values("party_id")
        )
    if f.phone:
        qs = qs.filter(pk__in=party_ids_by_phone(f.phone))
    if f.role:
        qs = qs.filter(role_assignments__role=f.role)
    if f.stage:
        qs = qs.filter(lifecycle_stage=f.stage)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.tag:
        qs = qs.filter(tags__slug=f.tag)
    if f.updated_since:
        qs = qs.filter(updated_at__gte=f.updated_since)
    return qs


def party_list(
    *,
    actor: User,
    filters: PartyFilters,
    ordering: str = DEFAULT_PARTY_ORDERING,
    cursor: str | None = None,
    size: int = 50,
) -> Page:
    qs = (
        party_filter(party_queryset(actor=actor), filters)
        .select_related("owner")
        .prefetch_related("role_assignments", "tags")
    )
    return paginate(
        qs,
        ordering=PARTY_ORDERINGS.get(ordering, PARTY_ORDERINGS[DEFAULT_PARTY_ORDERING]),
        cursor=cursor,
        size=size,
    )


LIST_ROW_FIELDS = (
    "id",
    "kind",
    "display_name",
    "name_key",
    "lifecycle_stage",
    "updated_at",
    "created_at",
    "primary_phone",
    "primary_email",
    "role_codes",
    "tag_names",
    "owner__id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)


def party_list_rows(
    *,
    actor: User,
    filters: PartyFilters,
    ordering: str = DEFAULT_PARTY_ORDERING,
    cursor: str | None = None,
    size: int = 25,
) -> Page:
    """A page of the staff list: one query, the columns a line shows (kept on the party by the services),
    as dicts of LIST_ROW_FIELDS (building 25 parties and their owners as model instances cost more than
    the query). Without a text, e-mail, phone or date filter (the list as it opens, its sorts, its
    pages, the choice filters), the query is compiled once (relay.core.prepared)."""
    order = PARTY_ORDERINGS.get(ordering, PARTY_ORDERINGS[DEFAULT_PARTY_ORDERING])
    window = read_cursor(Party.objects.all(), order, cursor)
    chosen = {name: value for name, value in asdict(filters).items() if value}
    values = dict(chosen, actor=actor, order=order, size=size, backwards=bool(window and window.backwards))
    if window is not None:
        values.update(after=window.value, after_pk=window.pk)
    prepared_read = chosen.keys() <= _PREPARED_FILTERS
    rows = _LIST_PAGE.fetch(**values) if prepared_read else list(_list_page(**values))
    return page_of(rows, ordering=order, window=window, size=size)


_PREPARED_FILTERS = frozenset({"role", "stage", "kind", "owner", "tag"})


def _list_page(
    *,
    actor: User,
    order: Ordering,
    backwards: bool,
    size: int,
    after: Any = None,
    after_pk: Any = None,
    **chosen: Any,
) -> QuerySet[Party]:
    qs = party_filter(party_queryset(actor=actor), PartyFilters(**chosen)).values(*LIST_ROW_FIELDS)
    window = Window(after, after_pk, backwards) if after_pk is not None else None
    return keyset(qs, order, window)[: size + 1]


_LIST_PAGE = Prepared(
    _list_page,
    params=(*sorted(_PREPARED_FILTERS), "after", "after_pk"),
    key=lambda *, actor, order, backwards, size: (staff_scope_key(actor), order, backwards, size),
)


def identifier_display_value(*, actor: User, identifier: ExternalIdentifier) -> str:
    """Sensitive identifiers are masked for roles without VIEW_SENSITIVE, on every read path."""
    if identifier.scheme.is_sensitive and not has_capability(actor, VIEW_SENSITIVE):
        return identifier.masked_value()
    return identifier.value


def party_contacts_of_kind(party: Party, kind: str) -> list[ContactPoint]:
    return [c for c in party.contact_points.all() if c.kind == kind]
