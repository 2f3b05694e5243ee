from __future__ import annotations

from typing import Any

from django import template

from relay.core.origin import ORIGIN_LABELS
from relay.customers.normalize import format_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """+14155550100 -> +1 415-555-0100"""
    return format_phone(value) if value else ""


@register.filter
def duration(seconds: int | None) -> str:
    if not seconds:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


CHANNEL_ICONS = {
    "phone": "telephone",
    "email": "envelope",
    "web": "globe",
    "chat": "chat-dots",
    "sms": "phone",
    "fax": "printer",
    "letter": "mailbox",
    "in_person": "person",
    "": "journal-text",
}


@register.filter
def channel_icon(channel: str) -> str:
    return CHANNEL_ICONS.get(channel or "", "dot")


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.filter
def origin_label(value: str) -> str:
    """ui -> Staff UI, api -> REST API (history_origin)."""
    return ORIGIN_LABELS.get(value, value) if value else ""  # type: ignore[call-overload]


@register.filter
def initials(name: str) -> str:
    """'Ada Lovelace' -> 'AL'; 'Acme Ltd' -> 'AL'; at most two letters."""
    words = [w for w in (name or "").replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()
