from __future__ import annotations

from decimal import Decimal

from django import template

from relay.commerce.selectors import MASK

register = template.Library()


@register.filter
def money(value: Decimal | None, currency: str = "") -> str:
    """Decimal("1234.5"), "USD" -> "1,234.50 USD"; a masked amount (None) -> •••••."""
    if value is None:
        return MASK
    return f"{value:,.2f} {currency}".strip()
