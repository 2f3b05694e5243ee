"""REST endpoints for routing rules (docs/adr/0009-routing.md): CRUD with versioned updates, and
`POST /api/v1/routing-rules/test/`, which routes a sample case without opening it. Every staff member reads
the rules; managers and admins change and test them (`cases.manage_routing`)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from relay.accounts.models import Department, User
from relay.api import serializer_registry
from relay.api.base import idempotent_create
from relay.cases.api.config import ConfigViewSet, choice_list, id_list, text_list
from relay.cases.choices import Priority
from relay.cases.models import CaseCategory, RoutingRule
from relay.cases.routing import Assignment
from relay.cases.services import routing
from relay.core.choices import Channel
from relay.core.exceptions import NotAllowed
from relay.core.pagination import Ordering
from relay.customers.choices import PartyRole
from relay.customers.models import Party


class RoutingRuleSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    categories = id_list(read_only=True)
    channels = choice_list(Channel.choices, read_only=True)
    keywords = text_list(read_only=True)
    tiers = text_list(read_only=True)
    tags = text_list(read_only=True)
    regions = text_list(read_only=True)
    roles = choice_list(PartyRole.choices, read_only=True)
    originators = id_list(read_only=True)
    originating_departments = id_list(read_only=True)

    class Meta:
        model = RoutingRule
        fields = [
            "id",
            "name",
            "description",
            "is_active",
            "order",
            "categories",
            "channels",
            "keywords",
            "tiers",
            "tags",
            "regions",
            "roles",
            "originators",
            "originating_departments",
            "department",
            "department_name",
            "priority",
            "assignment",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields


class RoutingRuleWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(default=True)
    order = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, allow_null=True, default=None
    )
    categories = id_list(required=False, default=list, help_text="Category ids; each includes its subtree")
    channels = choice_list(Channel.choices, required=False, default=list)
    keywords = text_list(required=False, default=list, help_text="Whole words or phrases, in subject or body")
    tiers = text_list(required=False, default=list, help_text="Tier names: the party's tags 'tier-<name>'")
    tags = text_list(required=False, default=list)
    regions = text_list(required=False, default=list, help_text="Address regions or country codes")
    roles = choice_list(PartyRole.choices, required=False, default=list)
    originators = id_list(required=False, default=list, help_text="User ids")
    originating_departments = id_list(required=False, default=list, help_text="Department ids")
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_blank=True, default="")
    assignment = serializers.ChoiceField(choices=Assignment.choices, default=Assignment.DEPARTMENT)


class RoutingRuleUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    order = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    categories = id_list(required=False)
    channels = choice_list(Channel.choices, required=False)
    keywords = text_list(required=False)
    tiers = text_list(required=False)
    tags = text_list(required=False)
    regions = text_list(required=False)
    roles = choice_list(PartyRole.choices, required=False)
    originators = id_list(required=False)
    originating_departments = id_list(required=False)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_blank=True)
    assignment = serializers.ChoiceField(choices=Assignment.choices, required=False)
    version = serializers.IntegerField(required=False)


class SampleSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    category = serializers.PrimaryKeyRelatedField(
        queryset=CaseCategory.objects.all(), required=False, allow_null=True, default=None
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True, default="")
    party = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, allow_null=True, default=None
    )
    originator = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    originating_department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True, default=None
    )


class RuleCheckSerializer(serializers.Serializer):
    rule = serializers.IntegerField(source="rule.pk")
    name = serializers.CharField(source="rule.name")
    is_active = serializers.BooleanField(source="rule.is_active")
    matched = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class DecisionSerializer(serializers.Serializer):
    rule = serializers.IntegerField(allow_null=True, help_text="The rule that matched, if any")
    rule_name = serializers.CharField(allow_null=True)
    department = serializers.IntegerField(allow_null=True)
    department_name = serializers.CharField(allow_null=True)
    priority = serializers.CharField(help_text="The rule's priority override; empty: the case's own")
    strategy = serializers.ChoiceField(choices=Assignment.choices)
    assignee = serializers.IntegerField(allow_null=True, help_text="Who would get the case now")
    assignee_name = serializers.CharField(allow_null=True)
    text = serializers.CharField(help_text="What the case history would say")
    explanation = serializers.ListField(child=serializers.CharField())
    checks = RuleCheckSerializer(many=True, help_text="Every rule's verdict, active or not, in order")


serializer_registry.register(RoutingRule, RoutingRuleSerializer)


def _require_manager(actor: User) -> None:
    if not actor.has_perm("cases.manage_routing"):
        raise NotAllowed("Only managers and administrators configure routing.")


class RoutingRuleViewSet(ConfigViewSet):
    """Routing rules, in the order they are tried (the first match wins)."""

    serializer_class = RoutingRuleSerializer

    def get_queryset(self) -> QuerySet[RoutingRule]:
        return RoutingRule.objects.restrict(self.request.user, "view").select_related("department")

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("order")

    @extend_schema(request=RoutingRuleWriteSerializer, responses={201: RoutingRuleSerializer})
    def create(self, request: Request) -> Response:
        _require_manager(self.actor)

        def create() -> Response:
            data = RoutingRuleWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            rule = routing.routing_rule_create(
                actor=self.actor, data=routing.RuleInput(**data.validated_data)
            )
            return self.respond(self.row(rule.pk), RoutingRuleSerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @extend_schema(request=RoutingRuleUpdateSerializer, responses=RoutingRuleSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        rule = self.row(pk)
        _require_manager(self.actor)
        data = RoutingRuleUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if k != "version"}
        self.run_versioned(request, routing.routing_rule_update, actor=self.actor, rule=rule, changes=changes)
        return self.respond(self.row(rule.pk), RoutingRuleSerializer)

    @extend_schema(request=RoutingRuleUpdateSerializer, responses=RoutingRuleSerializer)
    def update(self, request: Request, pk: str) -> Response:
        return self.partial_update(request, pk)

    @extend_schema(parameters=[OpenApiParameter("version", int)], responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        rule = self.row(pk)
        _require_manager(self.actor)
        self.run_versioned(request, routing.routing_rule_delete, actor=self.actor, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=SampleSerializer, responses=DecisionSerializer)
    @action(detail=False, methods=["post"], url_path="test", pagination_class=None)
    def test(self, request: Request) -> Response:
        """Route a sample case as opening it would, without opening it: which rule matches, the department,
        priority and assignee it would get, and why. Nothing is written (an Idempotency-Key is accepted
        and has nothing to protect)."""
        _require_manager(self.actor)
        data = SampleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        party = None
        if v["party"] is not None:
            party = Party.objects.restrict(self.actor, "view").filter(pk=v["party"]).first()
            if party is None:
                raise serializers.ValidationError({"party": ["No such party."]})
        result = routing.routing_test(
            actor=self.actor,
            party=party,
            subject=v["subject"],
            body=v["description"],
            category=v["category"],
            channel=v["channel"],
            originator=v["originator"],
            originating_department=v["originating_department"],
        )
        d = result.decision
        body = {
            "rule": d.rule.pk if d.rule else None,
            "rule_name": d.rule.name if d.rule else None,
            "department": d.department.pk if d.department else None,
            "department_name": d.department.name if d.department else None,
            "priority": d.priority,
            "strategy": d.strategy,
            "assignee": d.assignee.pk if d.assignee else None,
            "assignee_name": d.assignee.display_name if d.assignee else None,
            "text": d.text,
            "explanation": d.explanation.lines(),
            "checks": result.checks,
        }
        return Response(DecisionSerializer(body).data)
