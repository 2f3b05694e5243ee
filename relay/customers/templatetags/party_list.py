"""The lines of the party list and the options of its filters, rendered in Python: they are the most-read
HTML in Relay, and as template nodes (or `format_html`, which checks every argument for a lazy string)
they cost more than the query that fetches them. Every value is escaped with `html.escape`, as Django's
`escape` does; the markup is the same as a template would give."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

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


@register.simple_tag
def party_rows(rows: list[dict[str, Any]]) -> SafeString:
    """The <tr> of each row computed by the list view (customers.views._rows)."""
    html = []
    for row in rows:
        phone, stage = escape(row["phone"]), escape(str(row["stage"]))
        html.append(
            _ROW.format(
                url=escape(row["url"]),
                org=_ORGANISATION if row["organisation"] else "",
                name=escape(row["name"]),
                tags="".join(f' <span class="badge badge-tag">{escape(t)}</span>' for t in row["tags"]),
                phone=phone,
                dot=" · " if phone and stage else "",
                email=escape(row["email"]),
                roles="".join(
                    f'<span class="badge badge-role me-1">{escape(str(r))}</span>' for r in row["roles"]
                ),
                stage=stage,
                owner=_OWNER.format(id=row["owner_id"], name=escape(row["owner"])) if row["owner_id"] else "",
                updated_iso=escape(row["updated_iso"]),
                updated=escape(row["updated"]),
            )
        )
    return mark_safe("".join(html))  # every value above is escaped


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
