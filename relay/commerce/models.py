"""What a customer bought, owes and subscribes to, mirrored from the systems that own it
(docs/adr/0015-commerce-data-and-sync.md).

* Every record is pushed by an accounting, ERP or billing system (`relay/commerce/sync.py`): it keeps the
  `source` (that system's name), its `external_id` there (unique per source and record type) and
  `synced_at`, the last time a sync changed it. A record is owned by a department (Sales for the
  catalogue and orders, Billing for invoices, payments and subscriptions, Credit Control for credit terms,
  unless the row names another).
* Money is a Decimal with an ISO 4217 currency code; never a float.
* The reads the 360 card needs are index range scans on `party` first: the last purchases
  (`orderline_party_recent_idx`), the open invoices (`invoice_party_open_idx`), the payments, the
  subscriptions and the one credit-terms row.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from relay.commerce.choices import (
    BillingPeriod,
    InvoiceStatus,
    OrderStatus,
    PaymentMethod,
    ProductKind,
    RiskRating,
    StatusReason,
    SubscriptionKind,
    SubscriptionStatus,
)
from relay.core.audit import AuditedHistory
from relay.core.models import RestrictedQuerySet, TimeStampedModel, VersionedModel

ZERO = Decimal("0.00")


def _history() -> AuditedHistory:
    return AuditedHistory()


class SyncedRecord(VersionedModel):
    """A record mirrored from another system: where it came from and when a sync last changed it."""

    source = models.CharField(max_length=50, help_text="The system that owns the record, e.g. erp, billing")
    external_id = models.CharField(max_length=100, help_text="The record's id in that system")
    synced_at = models.DateTimeField(help_text="When a sync last created or changed the record")
    department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The department that owns the record",
    )

    class Meta:
        abstract = True


class ProductCategory(TimeStampedModel):
    """A shelf of the catalogue (mobile plans, handsets, accessories...), created by the product sync."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)

    objects = RestrictedQuerySet.as_manager()
    history = _history()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "product categories"

    def __str__(self) -> str:
        return self.name


class Product(SyncedRecord):
    sku = models.CharField(max_length=64, unique=True, help_text="The article number every system shares")
    name = models.CharField(max_length=200)
    category = models.ForeignKey(ProductCategory, on_delete=models.PROTECT, related_name="products")
    kind = models.CharField(max_length=10, choices=ProductKind.choices, default=ProductKind.GOOD)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, help_text="ISO 4217, e.g. USD")
    is_active = models.BooleanField(default=True)
    description = models.TextField(blank=True)

    objects = RestrictedQuerySet.as_manager()
    history = _history()

    class Meta:
        ordering = ["category__name", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="product_unique_external"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class Order(SyncedRecord):
    """A purchase: what the customer ordered, with its lines."""

    party = models.ForeignKey(
        "customers.Party", on_delete=models.CASCADE, related_name="orders", db_index=False
    )  # order_party_recent_idx (party, ordered_at, id) serves every lookup by party
    number = models.CharField(max_length=100)
    ordered_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    currency = models.CharField(max_length=3)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO, editable=False)

    objects = RestrictedQuerySet.as_manager()
    history = _history()

    class Meta:
        ordering = ["-ordered_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="order_unique_external"),
        ]
        indexes = [
            models.Index(F("party"), F("ordered_at").desc(), F("id").desc(), name="order_party_recent_idx")
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"


class OrderLine(TimeStampedModel):
    """One product on an order. `party`, `ordered_at` and `currency` repeat the order's, so that "this
    party's last N purchases" is one range scan of `orderline_party_recent_idx` at 10,000,000 lines."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_no = models.PositiveIntegerField()
    party = models.ForeignKey(
        "customers.Party", on_delete=models.CASCADE, related_name="order_lines", db_index=False
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines", db_index=False)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    ordered_at = models.DateTimeField()

    objects = RestrictedQuerySet.as_manager()
    history = _history()

    class Meta:
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="orderline_unique_per_order"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
        ]
        indexes = [
            models.Index(
                F("party"), F("ordered_at").desc(), F("id").desc(), name="orderline_party_recent_idx"
            ),
            # who bought this product (the recommender's co-purchase counts)
            models.Index(fields=["product", "party"], name="orderline_product_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id} on order {self.order_id}"


class Invoice(SyncedRecord):
    party = models.ForeignKey(
        "customers.Party", on_delete=models.CASCADE, related_name="invoices", db_index=False
    )
    number = models.CharField(max_length=100)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    issued_on = models.DateField()
    due_on = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    paid_amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=ZERO,
        editable=False,
        help_text="The payments applied to it (kept by the services)",
    )
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=6, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN, editable=False
    )

    objects = RestrictedQuerySet.as_manager()
    history = _history()

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="invoice_unique_external"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="invoice_amount_not_negative"),
            models.CheckConstraint(condition=Q(due_on__gte=F("issued_on")), name="invoice_due_after_issue"),
        ]
        indexes = [
            # the open invoices and the overdue amount of one party
            models.Index(fields=["party", "status", "due_on"], name="invoice_party_open_idx"),
            models.Index(F("party"), F("issued_on").desc(), F("id").desc(), name="invoice_party_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"

    @property
    def open_amount(self) -> Decimal:
        return ZERO if self.status == InvoiceStatus.VOID else max(self.amount - self.paid_amount, ZERO)

    def is_overdue(self, today: object) -> bool:
        return self.status == InvoiceStatus.OPEN and self.due_on < today  # type: ignore[operator]


class Payment(SyncedRecord):
    party = models.ForeignKey(
        "customers.Party", on_delete=models.CASCADE, related_name="payments", db_index=False
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    received_on = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=14, choices=PaymentMethod.choices, default=PaymentMethod.OTHER)
    reference = models.CharField(max_length=100, blank=True)

    objects = RestrictedQuerySet.as_manager()
    history = _history()

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="payment_unique_external"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [
            models.Index(
                F("party"), F("received_on").desc(), F("id").desc(), name="payment_party_recent_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.external_id}"


class CreditTerms(SyncedRecord):
    """What the credit department allows the party: a limit, payment terms, a risk rating, a hold."""

    party = models.OneToOneField("customers.Party", on_delete=models.CASCADE, related_name="credit_terms")
    credit_limit = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    risk_rating = models.CharField(max_length=6, choices=RiskRating.choices, default=RiskRating.LOW)
    on_hold = models.BooleanField(default=False, help_text="No new credit (orders on account refused)")
    review_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True)

    objects = RestrictedQuerySet.as_manager()
    history = _history()

    class Meta:
        verbose_name_plural = "credit terms"
        ordering = ["party"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="creditterms_unique_external"),
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="creditterms_limit_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Credit terms of party {self.party_id}"


class Subscription(SyncedRecord):
    """A subscription (a mobile line, broadband, a TV add-on) or a service contract, with its status."""

    party = models.ForeignKey(
        "customers.Party", on_delete=models.CASCADE, related_name="subscriptions", db_index=False
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    kind = models.CharField(
        max_length=12, choices=SubscriptionKind.choices, default=SubscriptionKind.SUBSCRIPTION
    )
    name = models.CharField(max_length=200)
    service_id = models.CharField(max_length=100, blank=True, help_text="Line number, contract number...")
    status = models.CharField(
        max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    status_reason = models.CharField(max_length=16, choices=StatusReason.choices, blank=True, default="")
    status_since = models.DateTimeField(help_text="When the status last changed")
    started_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    recurring_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3)
    billing_period = models.CharField(
        max_length=8, choices=BillingPeriod.choices, default=BillingPeriod.MONTH
    )

    objects = RestrictedQuerySet.as_manager()
    history = _history()

    class Meta:
        ordering = ["status", "-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="subscription_unique_external"),
            models.CheckConstraint(
                condition=~Q(status=SubscriptionStatus.SUSPENDED) | ~Q(status_reason=""),
                name="subscription_suspension_has_reason",
                violation_error_message="A suspension needs a reason.",
            ),
        ]
        indexes = [models.Index(fields=["party", "status"], name="subscription_party_idx")]

    def __str__(self) -> str:
        return self.name
