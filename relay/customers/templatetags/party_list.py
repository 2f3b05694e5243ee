"""The lines of the party list and the options of its filters, rendered in Python: they are the most-read
HTML in Relay, and as template nodes (or `format_html`, which checks every argument for a lazy string)
they cost more than the query that fetches them. Every value is escaped with `html.escape`, as Django's
`escape` does; the markup is the same as a template would give. The party's URL is the detail URL's
pattern with the id filled in: one `reverse()` a page, not one a row."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from relay.customers.choices import LifecycleStage, PartyKind, PartyRole
from relay.customers.normalize import format_phone

register = template.Library()
_ROLE_LABELS = {code: escape(str(label)) for code, label in PartyRole.choices}
_STAGE_LABELS = {code: escape(str(label)) for code, label in LifecycleStage.choices}

_ORGANISATION = (
    '<i class="bi bi-building text-body-secondary" aria-hidden="true"></i>'
    '<span class="visually-hidden">Organisation:</span> '
)

_ROW = (
    '<tr><td class="party-name-cell"><a class="fw-semibold" href="{url}">{org}{name}</a>{tags}'
    '<div class="d-md-none small text-body-secondary">{phone}{dot}{stage}</div></td>'
    '<td class="d-none d-md-table-cell text-nowrap">{phone}</td>'
    '<td class="d-none d-lg-table-cell text-break">{email}</td>'
    '<td class="d-none d-sm-table-cell">{roles}</td>'
    '<td class="d-none d-md-table-cell">{stage}</td>'
    '<td class="d-none d-xl-table-cell">{owner}</td>'
    '<td class="d-none d-lg-table-cell text-body-secondary small text-nowrap">'
    '<time datetime="{updated_iso}">{updated}</time></td></tr>\n'
)
_OWNER = '<a class="link-secondary" href="?owner={id}" title="Customers owned by {name}">{name}</a>'


def _owner_name(row: dict[str, Any]) -> str:
    """User.display_name from the row's owner columns."""
    full = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
    return full or row["owner__username"]


@register.simple_tag
def party_rows(rows: list[dict[str, Any]]) -> SafeString:
    """The <tr> of each row of selectors.party_list_rows (the list columns the services keep on the party),
    dates in the current time zone."""
    detail = reverse("customers:party_detail", args=[0]).removesuffix("0/")
    zone = timezone.get_current_timezone()
    html = []
    for row in rows:
        updated = row["updated_at"].astimezone(zone)
        phone = escape(format_phone(row["primary_phone"])) if row["primary_phone"] else ""
        stage = _STAGE_LABELS.get(row["lifecycle_stage"], "")
        tags, roles, owner_id = row["tag_names"], row["role_codes"], row["owner__id"]
        html.append(
            _ROW.format(
                url=f"{detail}{row['id']}/",
                org=_ORGANISATION if row["kind"] == PartyKind.ORGANISATION else "",
                name=escape(row["display_name"]),
                tags="".join(f' <span class="badge badge-tag">{escape(t)}</span>' for t in tags.split(","))
                if tags
                else "",
                phone=phone,
                dot=" · " if phone and stage else "",
                email=escape(row["primary_email"]),
                roles="".join(
                    f'<span class="badge badge-role me-1">{_ROLE_LABELS.get(code) or escape(code)}</span>'
                    for code in roles.split(",")
                    if code
                ),
                stage=stage,
                owner=_OWNER.format(id=owner_id, name=escape(_owner_name(row))) if owner_id else "",
                updated_iso=updated.isoformat(),
                updated=f"{updated.day} {updated:%b %Y, %H:%M}",
            )
        )
    return mark_safe("".join(html))  # every value above is escaped or made here


@register.simple_tag
def options(choices: Iterable[tuple[Any, Any]], selected: Any) -> SafeString:
    """The <option>s of a <select>, the one whose value is `selected` (compared as text) selected."""
    chosen = str(selected)
    return mark_safe(  # values and labels escaped
        "".join(
            f'<option value="{escape(str(value))}"{" selected" if str(value) == chosen else ""}>'
            f"{escape(str(label))}</option>"
            for value, label in choices
        )
    )
