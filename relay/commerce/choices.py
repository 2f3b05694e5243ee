"""Fixed choice sets of the commerce data (docs/adr/0015-commerce-data-and-sync.md)."""

from django.db import models


class ProductKind(models.TextChoices):
    GOOD = "good", "Goods (handsets, accessories)"
    SERVICE = "service", "One-off service"
    PLAN = "plan", "Plan or subscription"
    ADD_ON = "add_on", "Add-on"


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    FULFILLED = "fulfilled", "Fulfilled"
    CANCELLED = "cancelled", "Cancelled"
    RETURNED = "returned", "Returned"


class InvoiceStatus(models.TextChoices):
    """Derived by the services: `void` when the accounting system voided it, else `paid` once the payments
    applied to it cover its amount, else `open`."""

    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    DIRECT_DEBIT = "direct_debit", "Direct debit"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CASH = "cash", "Cash"
    OTHER = "other", "Other"


class RiskRating(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class SubscriptionKind(models.TextChoices):
    SUBSCRIPTION = "subscription", "Subscription"
    CONTRACT = "contract", "Service contract"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    CANCELLED = "cancelled", "Cancelled"


class StatusReason(models.TextChoices):
    NONE = "", "—"
    NON_PAYMENT = "non_payment", "Non-payment"
    CUSTOMER_REQUEST = "customer_request", "Customer request"
    FRAUD = "fraud", "Fraud"
    END_OF_TERM = "end_of_term", "End of term"
    OTHER = "other", "Other"


class BillingPeriod(models.TextChoices):
    MONTH = "month", "Monthly"
    QUARTER = "quarter", "Quarterly"
    YEAR = "year", "Yearly"
    NONE = "none", "One-off"
