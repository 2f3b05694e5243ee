"""REST endpoints of the commerce data (docs/adr/0015-commerce-data-and-sync.md).

* `GET /api/v1/commerce/<type>/` and `GET /api/v1/commerce/<type>/{id}/`: the records, `?party=` to
  narrow to one party; amounts masked (null, `amounts_hidden: true`) without VIEW_SENSITIVE.
* `POST /api/v1/commerce/<type>/bulk/` `{"source": "erp", "records": [...]}`: create or update by
  external id, all or nothing; answers the created/updated/unchanged counts and each record's outcome.
  A bad record is a 400 problem+json naming its index and field (`errors` as `records.3.unit_price`, and
  `rows`); a record of the same batch sent twice changes nothing.
* `GET /api/v1/commerce/accounts/{party id}/`: what the 360 card shows of a party's account (a plain
  route, not a router resource: there is no list of accounts).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from relay.api.base import VersionedViewSet, id_param, idempotent_create
from relay.api.errors import problem
from relay.commerce import schemas, selectors, services
from relay.commerce.models import CreditTerms, Invoice, Order, OrderLine, Payment, Product, Subscription
from relay.commerce.permissions import may_see_amounts
from relay.core.pagination import Ordering
from relay.customers.models import Party


class _Base(serializers.ModelSerializer):
    """Every record says where it came from; its sensitive amounts are null for users who may not see
    them (and `amounts_hidden` is true)."""

    department: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    sensitive_fields: ClassVar[tuple[str, ...]] = ()
    amounts_hidden = serializers.SerializerMethodField()

    def _visible(self) -> bool:
        cached = self.context.get("_amounts_visible")
        if cached is None:
            request = self.context.get("request")
            cached = may_see_amounts(request.user if request else None)
            self.context["_amounts_visible"] = cached  # type: ignore[index]
        return bool(cached)

    def get_amounts_hidden(self, obj: Any) -> bool:
        return bool(self.sensitive_fields) and not self._visible()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if self.sensitive_fields and not self._visible():
            for name in self.sensitive_fields:
                if name in data:
                    data[name] = None
        return data


SYNC = ["source", "external_id", "synced_at", "department", "version"]


class ProductSerializer(_Base):
    category: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "category",
            "category_name",
            "kind",
            "unit_price",
            "currency",
            "is_active",
            "description",
            *SYNC,
            "amounts_hidden",
        ]


class OrderLineSerializer(serializers.ModelSerializer):
    product: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = OrderLine
        fields = ["line_no", "product", "product_name", "quantity", "unit_price", "amount", "currency"]


class OrderSerializer(_Base):
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "party",
            "number",
            "ordered_at",
            "status",
            "currency",
            "total_amount",
            "lines",
            *SYNC,
            "amounts_hidden",
        ]


class InvoiceSerializer(_Base):
    sensitive_fields = ("amount", "paid_amount", "open_amount")
    order: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="external_id", read_only=True
    )
    open_amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "party",
            "number",
            "order",
            "issued_on",
            "due_on",
            "status",
            "amount",
            "paid_amount",
            "open_amount",
            "currency",
            *SYNC,
            "amounts_hidden",
        ]


class PaymentSerializer(_Base):
    sensitive_fields = ("amount", "reference")
    invoice: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="external_id", read_only=True
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "party",
            "invoice",
            "received_on",
            "amount",
            "currency",
            "method",
            "reference",
            *SYNC,
            "amounts_hidden",
        ]


class CreditTermsSerializer(_Base):
    sensitive_fields = ("credit_limit", "payment_terms_days", "risk_rating", "on_hold", "review_on", "note")

    class Meta:
        model = CreditTerms
        fields = [
            "id",
            "party",
            "credit_limit",
            "currency",
            "payment_terms_days",
            "risk_rating",
            "on_hold",
            "review_on",
            "note",
            *SYNC,
            "amounts_hidden",
        ]


class SubscriptionSerializer(_Base):
    product: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="sku", read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "party",
            "product",
            "kind",
            "name",
            "service_id",
            "status",
            "status_reason",
            "status_since",
            "started_on",
            "ends_on",
            "recurring_amount",
            "currency",
            "billing_period",
            *SYNC,
            "amounts_hidden",
        ]


def _bulk_request(schema: type[serializers.Serializer]) -> Any:
    return inline_serializer(
        name=f"{schema.__name__.removesuffix('Schema')}Batch",
        fields={
            "source": serializers.CharField(help_text="The sending system's name, e.g. erp"),
            "records": schema(many=True),
        },
    )


BulkResultSerializer = inline_serializer(
    name="CommerceBulkResult",
    fields={
        "type": serializers.CharField(),
        "source": serializers.CharField(),
        "synced_at": serializers.DateTimeField(),
        "received": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "results": inline_serializer(
            name="CommerceBulkOutcome",
            fields={
                "index": serializers.IntegerField(),
                "external_id": serializers.CharField(),
                "id": serializers.IntegerField(),
                "outcome": serializers.ChoiceField(choices=["created", "updated", "unchanged"]),
            },
            many=True,
        ),
    },
)


def sync_response(result: services.SyncResult) -> dict[str, Any]:
    return {
        "type": result.kind,
        "source": result.source,
        "synced_at": result.synced_at.isoformat(),
        "received": len(result.outcomes),
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "results": [
            {"index": o.index, "external_id": o.external_id, "id": o.id, "outcome": o.outcome}
            for o in result.outcomes
        ],
    }


class _RecordViewSet(VersionedViewSet):
    kind: ClassVar[str]
    read_serializer: ClassVar[Any]
    schema_class: ClassVar[type[serializers.Serializer]]
    has_party: ClassVar[bool] = True
    filterset_class = None

    def get_serializer_class(self) -> Any:
        return self.read_serializer

    def base_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        qs = self.base_queryset()
        if self.has_party:
            party = id_param(self.request, "party")
            if party is not None:
                qs = qs.filter(party_id=party)
        return qs

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("id")

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            self.read_serializer(page, many=True, context=self.get_serializer_context()).data
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(self.get_object_or_404(self.get_queryset().get, pk=pk), self.read_serializer)

    @action(detail=False, methods=["post"], pagination_class=None, filterset_class=None)
    def bulk(self, request: Request) -> Response:
        """Create or update records by external id, all or nothing; the same batch twice changes nothing."""

        def run() -> Response:
            body = request.data if isinstance(request.data, dict) else {}
            if not isinstance(request.data, dict):
                raise serializers.ValidationError({"records": ['Send {"source": ..., "records": [...]}.']})
            unknown = sorted(set(body) - {"source", "records"})
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
            try:
                result = services.commerce_sync(
                    actor=self.actor,
                    kind=self.kind,
                    source=str(body.get("source") or "") if isinstance(body.get("source"), str) else "",
                    records=body.get("records") if isinstance(body.get("records"), list) else None,  # type: ignore[arg-type]
                )
            except services.SyncRejected as exc:
                return problem(
                    exc.status,
                    exc.title,
                    exc.message,
                    kind="invalid",
                    errors=exc.errors,
                    rows=[{"index": e.index, "field": e.field, "message": e.message} for e in exc.rows],
                )
            return Response(sync_response(result))

        return idempotent_create(request, run)


def _schema(kind: str, schema: type[serializers.Serializer], read: Any) -> Any:
    def decorate(cls: Any) -> Any:
        cls.list = extend_schema(
            parameters=[OpenApiParameter("party", int)] if cls.has_party else [], responses=read(many=True)
        )(cls.list)
        cls.retrieve = extend_schema(responses=read)(cls.retrieve)
        cls.bulk = extend_schema(
            request=_bulk_request(schema),
            responses={200: BulkResultSerializer},
            description=f"Create or update {kind} by external id (at most {services.MAX_BATCH} per batch).",
        )(cls.bulk)
        return cls

    return decorate


@_schema("products", schemas.ProductSchema, ProductSerializer)
class ProductViewSet(_RecordViewSet):
    """The catalogue: products with their category, price and currency."""

    kind, read_serializer, schema_class, has_party = (
        "products",
        ProductSerializer,
        schemas.ProductSchema,
        False,
    )

    def base_queryset(self) -> QuerySet[Any]:
        return selectors.product_queryset(actor=self.actor)


@_schema("orders", schemas.OrderSchema, OrderSerializer)
class OrderViewSet(_RecordViewSet):
    """Orders (purchases) with their lines."""

    kind, read_serializer, schema_class = "orders", OrderSerializer, schemas.OrderSchema

    def base_queryset(self) -> QuerySet[Any]:
        return selectors.order_queryset(actor=self.actor).prefetch_related("lines__product")


@_schema("invoices", schemas.InvoiceSchema, InvoiceSerializer)
class InvoiceViewSet(_RecordViewSet):
    """Invoices; the amounts are sensitive."""

    kind, read_serializer, schema_class = "invoices", InvoiceSerializer, schemas.InvoiceSchema

    def base_queryset(self) -> QuerySet[Any]:
        return selectors.invoice_queryset(actor=self.actor)


@_schema("payments", schemas.PaymentSchema, PaymentSerializer)
class PaymentViewSet(_RecordViewSet):
    """Payments received; the amounts are sensitive."""

    kind, read_serializer, schema_class = "payments", PaymentSerializer, schemas.PaymentSchema

    def base_queryset(self) -> QuerySet[Any]:
        return selectors.payment_queryset(actor=self.actor)


@_schema("credit terms", schemas.CreditTermsSchema, CreditTermsSerializer)
class CreditTermsViewSet(_RecordViewSet):
    """Credit limits and terms per party; sensitive."""

    kind, read_serializer, schema_class = "credit-terms", CreditTermsSerializer, schemas.CreditTermsSchema

    def base_queryset(self) -> QuerySet[Any]:
        return selectors.credit_terms_queryset(actor=self.actor)


@_schema("subscriptions", schemas.SubscriptionSchema, SubscriptionSerializer)
class SubscriptionViewSet(_RecordViewSet):
    """Subscriptions and service contracts with their status."""

    kind, read_serializer, schema_class = "subscriptions", SubscriptionSerializer, schemas.SubscriptionSchema

    def base_queryset(self) -> QuerySet[Any]:
        return selectors.subscription_queryset(actor=self.actor)


class _BalanceSerializer(serializers.Serializer):
    currency = serializers.CharField()
    invoiced = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    paid = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    balance = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    overdue = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    open_invoices = serializers.IntegerField()
    overdue_invoices = serializers.IntegerField()
    oldest_overdue_on = serializers.DateField(allow_null=True)


class AccountSerializer(serializers.Serializer):
    party = serializers.IntegerField(source="account.party_id")
    amounts_hidden = serializers.SerializerMethodField()
    balances = _BalanceSerializer(source="account.balances", many=True)
    is_overdue = serializers.BooleanField(source="account.is_overdue")
    credit_terms = CreditTermsSerializer(source="credit", allow_null=True)
    subscriptions = SubscriptionSerializer(many=True)
    last_purchases = serializers.SerializerMethodField()
    invoices = InvoiceSerializer(many=True)
    payments = PaymentSerializer(many=True)

    def get_amounts_hidden(self, obj: Any) -> bool:
        return not obj.amounts_visible

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    name: {"type": "integer" if name == "quantity" else "string"}
                    for name in (
                        "ordered_at",
                        "order",
                        "product",
                        "product_name",
                        "quantity",
                        "amount",
                        "currency",
                        "source",
                        "synced_at",
                    )
                },
            },
        }
    )
    def get_last_purchases(self, obj: Any) -> list[dict[str, Any]]:
        return [
            {
                "ordered_at": line.ordered_at.isoformat(),
                "order": line.order.external_id,
                "product": line.product.sku,
                "product_name": line.product.name,
                "quantity": line.quantity,
                "amount": str(line.amount),
                "currency": line.currency,
                "source": line.order.source,
                "synced_at": line.order.synced_at.isoformat(),
            }
            for line in obj.purchases
        ]


class AccountView(APIView):
    """One party's account as the 360 card shows it: balance and overdue per currency, credit terms,
    services and their status, the last purchases, the recent invoices and payments. Six queries."""

    @extend_schema(responses=AccountSerializer, operation_id="commerce_accounts_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        party = Party.objects.restrict(request.user, "view").filter(pk=pk).first()
        if party is None:
            raise Http404
        panel = selectors.party_commerce(actor=request.user, party=party)  # type: ignore[arg-type]
        return Response(AccountSerializer(panel, context={"request": request}).data)
