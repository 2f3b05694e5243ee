"""The shape of one record of each type, as the owning systems send it (API bulk upsert and CSV import
alike). Validation of one row's fields only; references (party, product, order, invoice, department)
are resolved for the whole batch by relay/commerce/sync.py.

A party is named by Relay's id (`12`, or `"12"` in a CSV cell) or by an identifier it has on file,
`"scheme:value"` (`"account:ACC-100100"`). Amounts are decimal strings (`"49.90"`), at most two places;
currencies ISO 4217 codes (`"USD"`); dates `YYYY-MM-DD`; instants ISO 8601 with an offset.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from relay.commerce.choices import (
    BillingPeriod,
    OrderStatus,
    PaymentMethod,
    ProductKind,
    RiskRating,
    StatusReason,
    SubscriptionKind,
    SubscriptionStatus,
)

_CURRENCY = re.compile(r"[A-Z]{3}")
_ID = re.compile(r"[0-9]{1,18}")
_REF = re.compile(r"([a-z0-9_-]{1,40}):(.{1,100})", re.DOTALL)
MAX_LINES = 200

PartyRef = tuple[str, Any]  # ("pk", 12) or (scheme code, value)


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "example": "account:ACC-100100"}],
        "description": "Relay's party id, or `scheme:value` of an identifier the party has on file",
    }
)
class PartyReferenceField(serializers.Field):
    default_error_messages = {
        "invalid": "Name the party by its Relay id or as scheme:value (e.g. account:ACC-100100).",
    }

    def to_internal_value(self, data: Any) -> PartyRef:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            if not 0 < data < 2**63:
                self.fail("invalid")
            return ("pk", data)
        if not isinstance(data, str):
            self.fail("invalid")
        text = data.strip()
        if _ID.fullmatch(text):
            return ("pk", int(text))
        match = _REF.fullmatch(text)
        if not match or not match.group(2).strip() or "\x00" in text:
            self.fail("invalid")
        return (match.group(1), match.group(2).strip())

    def to_representation(self, value: Any) -> Any:
        return value


class CurrencyField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=3, min_length=3, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data).upper()
        if not _CURRENCY.fullmatch(value):
            raise serializers.ValidationError("An ISO 4217 currency code, such as USD or EUR.")
        return value


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, **kwargs)


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    kwargs.setdefault("default", "")
    return serializers.CharField(max_length=max_length, **kwargs)


class RecordSchema(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, help_text="The record's id in the sending system")
    department = serializers.SlugField(
        max_length=100, required=False, help_text="Slug of the owning department (default: per type)"
    )


class ProductSchema(RecordSchema):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    category = serializers.SlugField(max_length=60, help_text="Category code; created when new")
    category_name = _text(120, help_text="The category's name (default: from the code)")
    kind = serializers.ChoiceField(choices=ProductKind.choices, default=ProductKind.GOOD)
    unit_price = _money()
    currency = CurrencyField()
    is_active = serializers.BooleanField(default=True)
    description = _text(5000)


class OrderLineSchema(serializers.Serializer):
    line_no = serializers.IntegerField(min_value=1, max_value=100000, required=False)
    product = serializers.CharField(max_length=64, help_text="The product's SKU")
    quantity = serializers.IntegerField(min_value=1, max_value=1000000, default=1)
    unit_price = _money()


class OrderSchema(RecordSchema):
    party = PartyReferenceField()
    number = _text(100, help_text="Shown to staff (default: the external id)")
    ordered_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=OrderStatus.choices, default=OrderStatus.PLACED)
    currency = CurrencyField()
    lines = OrderLineSchema(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]

    def validate_lines(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        numbers = [line.get("line_no") or index + 1 for index, line in enumerate(lines)]
        if len(set(numbers)) != len(numbers):
            raise serializers.ValidationError("Two lines have the same line_no.")
        for line, number in zip(lines, numbers, strict=True):
            line["line_no"] = number
        return lines


class InvoiceSchema(RecordSchema):
    party = PartyReferenceField()
    number = _text(100, help_text="Shown to staff (default: the external id)")
    order = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="The order's external id"
    )
    issued_on = serializers.DateField()
    due_on = serializers.DateField()
    amount = _money()
    currency = CurrencyField()
    status = serializers.ChoiceField(
        choices=[("issued", "Issued"), ("void", "Void")],
        default="issued",
        help_text="void: cancelled by the accounting system; otherwise open or paid by its payments",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs["due_on"] < attrs["issued_on"]:
            raise serializers.ValidationError({"due_on": ["Must not be before issued_on."]})
        return attrs


class PaymentSchema(RecordSchema):
    party = PartyReferenceField()
    invoice = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The external id of the invoice it pays (empty: on account)",
    )
    received_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    currency = CurrencyField()
    method = serializers.ChoiceField(choices=PaymentMethod.choices, default=PaymentMethod.OTHER)
    reference = _text(100)


class CreditTermsSchema(RecordSchema):
    party = PartyReferenceField()
    credit_limit = _money()
    currency = CurrencyField()
    payment_terms_days = serializers.IntegerField(min_value=0, max_value=365, default=30)
    risk_rating = serializers.ChoiceField(choices=RiskRating.choices, default=RiskRating.LOW)
    on_hold = serializers.BooleanField(default=False)
    review_on = serializers.DateField(required=False, allow_null=True, default=None)
    note = _text(255)


class SubscriptionSchema(RecordSchema):
    party = PartyReferenceField()
    product = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="The plan's SKU"
    )
    kind = serializers.ChoiceField(choices=SubscriptionKind.choices, default=SubscriptionKind.SUBSCRIPTION)
    name = serializers.CharField(max_length=200)
    service_id = _text(100, help_text="Line number, contract number...")
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE)
    status_reason = serializers.ChoiceField(
        choices=StatusReason.choices, required=False, allow_blank=True, default=""
    )
    status_since = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Default: when Relay sees the change"
    )
    started_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)
    recurring_amount = _money(required=False, allow_null=True, default=None)
    currency = CurrencyField()
    billing_period = serializers.ChoiceField(choices=BillingPeriod.choices, default=BillingPeriod.MONTH)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs["status"] == SubscriptionStatus.SUSPENDED and not attrs["status_reason"]:
            raise serializers.ValidationError({"status_reason": ["A suspension needs a reason."]})
        if attrs["ends_on"] and attrs["ends_on"] < attrs["started_on"]:
            raise serializers.ValidationError({"ends_on": ["Must not be before started_on."]})
        return attrs
