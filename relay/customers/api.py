"""REST endpoints for the customer file: thin — validate, call one service or selector, serialise."""

from __future__ import annotations

import builtins
from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from relay.accounts.models import User
from relay.activities import selectors as timeline
from relay.activities.api import TimelineEntrySerializer
from relay.activities.choices import EntryKind
from relay.api import serializer_registry
from relay.api.base import VersionedViewSet, id_param, idempotent_create, text_param
from relay.api.pagination import CursorPagination
from relay.core.choices import Channel
from relay.core.pagination import Ordering
from relay.customers import selectors, services
from relay.customers.choices import ContactKind, ContactLabel, LifecycleStage, PartyKind, PartyRole
from relay.customers.filters import PartyFilterSet, ordering_from
from relay.customers.models import ContactPoint, ExternalIdentifier, Party, Relationship


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "source": {"type": "string", "enum": ["user", "import", "overlay", "system"]},
            "detail": {"type": "string"},
            "entered_by": {"type": ["integer", "null"]},
            "label": {"type": "string"},
        },
    }
)
class ProvenanceField(serializers.Field):
    def to_representation(self, obj: Any) -> dict[str, Any]:
        return {
            "source": obj.source,
            "detail": obj.source_detail,
            "entered_by": obj.entered_by_id,
            "label": obj.provenance_label,
        }


class ContactPointSerializer(serializers.ModelSerializer):
    provenance = ProvenanceField(source="*", read_only=True)
    display_value = serializers.CharField(read_only=True)

    class Meta:
        model = ContactPoint
        fields = [
            "id",
            "party",
            "kind",
            "label",
            "raw",
            "normalized",
            "display_value",
            "is_primary",
            "street",
            "locality",
            "region",
            "postal_code",
            "country",
            "provenance",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["normalized", "created_at", "updated_at", "version"]


class ContactPointWriteSerializer(serializers.Serializer):
    party = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all())
    kind = serializers.ChoiceField(choices=ContactKind.choices)
    label = serializers.ChoiceField(choices=ContactLabel.choices, default=ContactLabel.MAIN)  # type: ignore[assignment]
    raw = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    is_primary = serializers.BooleanField(default=False)
    street = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    locality = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")


class ContactPointUpdateSerializer(serializers.Serializer):
    label = serializers.ChoiceField(choices=ContactLabel.choices, required=False)  # type: ignore[assignment]
    raw = serializers.CharField(max_length=255, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(required=False)
    street = serializers.CharField(max_length=255, required=False, allow_blank=True)
    locality = serializers.CharField(max_length=100, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False)


class IdentifierSerializer(serializers.ModelSerializer):
    scheme: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    scheme_name = serializers.CharField(source="scheme.name", read_only=True)
    sensitive = serializers.BooleanField(source="scheme.is_sensitive", read_only=True)
    value = serializers.SerializerMethodField(method_name="masked_value")
    provenance = ProvenanceField(source="*", read_only=True)

    class Meta:
        model = ExternalIdentifier
        fields = [
            "id",
            "party",
            "scheme",
            "scheme_name",
            "sensitive",
            "value",
            "provenance",
            "created_at",
            "updated_at",
            "version",
        ]

    def masked_value(self, obj: ExternalIdentifier) -> str:
        return selectors.identifier_display_value(actor=self.context["request"].user, identifier=obj)


class IdentifierWriteSerializer(serializers.Serializer):
    party = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all())
    scheme = serializers.SlugField(max_length=40)
    value = serializers.CharField(max_length=100)


class IdentifierUpdateSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=100)
    version = serializers.IntegerField(required=False)


class RelationshipSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.display_name", read_only=True)
    organisation_name = serializers.CharField(source="organisation.display_name", read_only=True)
    provenance = ProvenanceField(source="*", read_only=True)

    class Meta:
        model = Relationship
        fields = [
            "id",
            "person",
            "person_name",
            "organisation",
            "organisation_name",
            "job_title",
            "department",
            "is_primary_contact",
            "started_on",
            "ended_on",
            "provenance",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["created_at", "updated_at", "version"]


class RelationshipWriteSerializer(serializers.Serializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all())
    organisation = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all())
    job_title = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    department = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    is_primary_contact = serializers.BooleanField(default=False)
    started_on = serializers.DateField(required=False, allow_null=True, default=None)


class RelationshipUpdateSerializer(serializers.Serializer):
    job_title = serializers.CharField(max_length=150, required=False, allow_blank=True)
    department = serializers.CharField(max_length=150, required=False, allow_blank=True)
    is_primary_contact = serializers.BooleanField(required=False)
    started_on = serializers.DateField(required=False, allow_null=True)
    ended_on = serializers.DateField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False)


class PartySerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    contact_points = ContactPointSerializer(many=True, read_only=True)
    provenance = ProvenanceField(source="*", read_only=True)

    class Meta:
        model = Party
        fields = [
            "id",
            "kind",
            "display_name",
            "given_name",
            "family_name",
            "organisation_name",
            "birth_date",
            "website",
            "industry",
            "about",
            "preferred_channel",
            "lifecycle_stage",
            "lifecycle_cycle",
            "owner",
            "roles",
            "tags",
            "contact_points",
            "provenance",
            "created_at",
            "updated_at",
            "version",
        ]

    def get_roles(self, obj: Party) -> list[str]:
        return sorted(r.role for r in obj.role_assignments.all())

    def get_tags(self, obj: Party) -> list[str]:
        return [t.name for t in obj.tags.all()]


class PartyDetailSerializer(PartySerializer):
    identifiers = IdentifierSerializer(many=True, read_only=True)
    employments = RelationshipSerializer(many=True, read_only=True)
    people = RelationshipSerializer(many=True, read_only=True)

    class Meta(PartySerializer.Meta):
        fields = [*PartySerializer.Meta.fields, "identifiers", "employments", "people"]


class NestedContactSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContactKind.choices)
    label = serializers.ChoiceField(choices=ContactLabel.choices, default=ContactLabel.MAIN)  # type: ignore[assignment]
    raw = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    is_primary = serializers.BooleanField(default=False)
    street = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    locality = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")


class NestedIdentifierSerializer(serializers.Serializer):
    scheme = serializers.SlugField(max_length=40)
    value = serializers.CharField(max_length=100)


class PartyWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PartyKind.choices, default=PartyKind.PERSON)
    given_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    family_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    organisation_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    website = serializers.URLField(required=False, allow_blank=True, default="")
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    about = serializers.CharField(required=False, allow_blank=True, default="")
    preferred_channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, allow_blank=True, default=""
    )
    lifecycle_stage = serializers.ChoiceField(
        choices=LifecycleStage.choices, required=False, allow_blank=True, default=""
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=PartyRole.choices), required=False, default=list
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, default=list)
    contact_points = NestedContactSerializer(many=True, required=False, default=list)
    identifiers = NestedIdentifierSerializer(many=True, required=False, default=list)


class PartyUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PartyKind.choices, required=False)
    given_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    family_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    organisation_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    website = serializers.URLField(required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    about = serializers.CharField(required=False, allow_blank=True)
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    roles = serializers.ListField(child=serializers.ChoiceField(choices=PartyRole.choices), required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    version = serializers.IntegerField(required=False)


class LifecycleSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=LifecycleStage.choices)
    new_cycle = serializers.BooleanField(default=False)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False)


class CallerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    display_name = serializers.CharField()
    lifecycle_stage = serializers.CharField()
    phone = serializers.CharField(help_text="The matching number, E.164")


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField(allow_null=True)
    new = serializers.CharField(allow_null=True)


class HistoryRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.CharField()
    object_id = serializers.IntegerField()
    object = serializers.CharField()
    type = serializers.CharField()
    at = serializers.DateTimeField()
    user = serializers.IntegerField(allow_null=True)
    user_name = serializers.CharField(allow_null=True)
    origin = serializers.CharField()
    changes = HistoryChangeSerializer(many=True)


serializer_registry.register(Party, PartyDetailSerializer)
serializer_registry.register(ContactPoint, ContactPointSerializer)
serializer_registry.register(ExternalIdentifier, IdentifierSerializer)
serializer_registry.register(Relationship, RelationshipSerializer)


def _visible_party(request: Request, pk: Any) -> Party:
    return Party.objects.restrict(request.user, "view").get(pk=pk)


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("ordering", str, enum=list(selectors.PARTY_ORDERINGS))]),
)
class PartyViewSet(VersionedViewSet):
    """People and organisations: the central customer file."""

    serializer_class = PartySerializer
    filterset_class = PartyFilterSet
    versioned_actions = VersionedViewSet.versioned_actions | {"lifecycle"}

    def get_queryset(self) -> QuerySet[Party]:
        return selectors.party_queryset(actor=self.actor).select_related("owner", "entered_by")

    def get_keyset_ordering(self, request: Request) -> Ordering:
        """The allow-listed sort; anything else is a 400 (user input never reaches order_by())."""
        requested = request.query_params.get("ordering")
        if requested and requested not in selectors.PARTY_ORDERINGS:
            raise serializers.ValidationError(
                {"ordering": [f"Choose one of {', '.join(selectors.PARTY_ORDERINGS)}."]}
            )
        return selectors.PARTY_ORDERINGS[ordering_from(request.query_params)]

    def list(self, request: Request) -> Response:
        qs = self.filter_queryset(self.get_queryset()).prefetch_related(
            "role_assignments", "tags", "contact_points__entered_by"
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(
            PartySerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(responses=PartyDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        party = self.get_object_or_404(selectors.party_get, actor=self.actor, pk=pk)
        return self.respond(party, PartyDetailSerializer)

    @extend_schema(request=PartyWriteSerializer, responses={201: PartyDetailSerializer})
    def create(self, request: Request) -> Response:
        def create() -> Response:
            data = PartyWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            v = dict(data.validated_data)
            party_input = services.PartyInput(
                **{
                    k: v[k]
                    for k in (
                        "kind",
                        "given_name",
                        "family_name",
                        "organisation_name",
                        "birth_date",
                        "website",
                        "industry",
                        "about",
                        "preferred_channel",
                        "owner",
                        "roles",
                        "tags",
                        "lifecycle_stage",
                    )
                },
                contact_points=[services.ContactInput(**c) for c in v["contact_points"]],
                identifiers=[services.IdentifierInput(**i) for i in v["identifiers"]],
            )
            party = services.party_create(actor=self.actor, data=party_input)
            party = selectors.party_get(actor=self.actor, pk=party.pk)
            return self.respond(party, PartyDetailSerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @extend_schema(request=PartyUpdateSerializer, responses=PartyDetailSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        party = self.get_object_or_404(_visible_party, request=request, pk=pk)
        data = PartyUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if k != "version"}
        roles, tags = changes.pop("roles", None), changes.pop("tags", None)
        self.run_versioned(
            request,
            services.party_update,
            actor=self.actor,
            party=party,
            changes=changes,
            roles=roles,
            tags=tags,
        )
        return self.respond(selectors.party_get(actor=self.actor, pk=pk), PartyDetailSerializer)

    @extend_schema(request=PartyUpdateSerializer, responses=PartyDetailSerializer)
    def update(self, request: Request, pk: str) -> Response:
        return self.partial_update(request, pk)

    @extend_schema(parameters=[OpenApiParameter("version", int)], responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        party = self.get_object_or_404(_visible_party, request=request, pk=pk)
        self.run_versioned(request, services.party_delete, actor=self.actor, party=party)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=LifecycleSerializer, responses=PartyDetailSerializer)
    @action(detail=True, methods=["post"])
    def lifecycle(self, request: Request, pk: str) -> Response:
        """Move the party to a lifecycle stage; `new_cycle` (an upgrade) starts a new buying cycle."""
        party = self.get_object_or_404(_visible_party, request=request, pk=pk)

        def move() -> Response:
            data = LifecycleSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            self.run_versioned(
                request,
                services.party_set_lifecycle_stage,
                actor=self.actor,
                party=party,
                stage=v["stage"],
                new_cycle=v["new_cycle"],
                note=v["note"],
            )
            return self.respond(selectors.party_get(actor=self.actor, pk=pk), PartyDetailSerializer)

        return idempotent_create(request, move)

    @extend_schema(
        parameters=[OpenApiParameter("phone", str, required=True, description="Any format")],
        responses=CallerSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def lookup(self, request: Request) -> Response:
        """Caller lookup: who has this phone number, typed in any format. A brief answer in two index
        probes (the screen pop's first step); GET the party for the whole file."""
        phone = text_param(request, "phone", max_length=40)
        if not phone:
            raise serializers.ValidationError({"phone": ["This parameter is required."]})
        # the selector's rows are CallerSerializer's fields, plain values already (the serializer
        # describes them in the schema; copying them through it cost more than the lookup's query)
        return Response(selectors.caller_lookup(actor=self.actor, raw=phone))

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True),
            OpenApiParameter("limit", int, description="1-50, default 10"),
        ],
        responses=PartySerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def search(self, request: Request) -> Response:
        """Search-as-you-type over names, e-mails, phone numbers and identifiers."""
        try:
            limit = max(1, min(int(request.query_params.get("limit", 10)), 50))
        except ValueError as exc:
            raise serializers.ValidationError({"limit": ["A whole number is required."]}) from exc
        parties = selectors.party_search(actor=self.actor, query=text_param(request, "q"), limit=limit)
        return Response(self._brief(parties))

    def _brief(self, parties: builtins.list[Party]) -> builtins.list[dict[str, Any]]:
        from django.db.models import prefetch_related_objects

        prefetch_related_objects(
            parties, "entered_by", "role_assignments", "tags", "contact_points__entered_by"
        )
        return list(PartySerializer(parties, many=True, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("channel", str, enum=Channel.values),
            OpenApiParameter("kind", str, enum=EntryKind.values),
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
        ],
        responses=TimelineEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def timeline(self, request: Request, pk: str) -> Response:
        """The party's history, newest first, by keyset pages."""
        party = self.get_object_or_404(_visible_party, request=request, pk=pk)
        channel, kind = request.query_params.get("channel", ""), request.query_params.get("kind", "")
        if channel and channel not in Channel.values:
            raise serializers.ValidationError({"channel": [f"Choose one of {', '.join(Channel.values)}."]})
        if kind and kind not in EntryKind.values:
            raise serializers.ValidationError({"kind": [f"Choose one of {', '.join(EntryKind.values)}."]})
        paginator = CursorPagination()
        page = timeline.party_timeline(
            actor=self.actor,
            party=party,
            channel=channel,
            kind=kind,
            cursor=request.query_params.get("cursor"),
            size=paginator.get_page_size(request),
        )
        paginator.request, paginator.page = request, page
        data = TimelineEntrySerializer(page.items, many=True, context=self.get_serializer_context()).data
        return paginator.get_paginated_response(data)

    @extend_schema(responses=HistoryRecordSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request: Request, pk: str) -> Response:
        """The audit trail of the party and everything on its file: who, when, from where, before/after."""
        party = self.get_object_or_404(_visible_party, request=request, pk=pk)
        records = timeline.party_history(actor=self.actor, party=party)
        return Response(HistoryRecordSerializer(records, many=True).data)


class _ChildViewSet(VersionedViewSet):
    """List/retrieve/create/update/delete of a record that belongs to a visible party. A subclass names
    its serializers, the keyword its services take the record as, and its update and delete services."""

    model: Any
    read_serializer: Any
    update_serializer: Any
    object_kwarg: str
    update_service: Any
    delete_service: Any
    party_field = "party"

    def get_serializer_class(self) -> Any:
        return self.read_serializer

    def get_queryset(self) -> QuerySet[Any]:
        qs = self.model.objects.restrict(self.request.user, "view").select_related("entered_by")
        party = self._party_param()
        return qs if party is None else qs.filter(**{self.party_field: party})

    def _party_param(self) -> int | None:
        return id_param(self.request, "party")

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("id")

    @extend_schema(parameters=[OpenApiParameter("party", int)])
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            self.read_serializer(page, many=True, context=self.get_serializer_context()).data
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(self.get_object_or_404(self.get_queryset().get, pk=pk), self.read_serializer)

    def update_arguments(self, validated: dict[str, Any]) -> dict[str, Any]:
        return {"changes": {k: v for k, v in validated.items() if k != "version"}}

    def partial_update(self, request: Request, pk: str) -> Response:
        record = self.get_object_or_404(self.get_queryset().get, pk=pk)
        data = self.update_serializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        updated = self.run_versioned(
            request,
            self.update_service,
            actor=self.actor,
            **{self.object_kwarg: record},
            **self.update_arguments(data.validated_data),
        )
        return self.respond(updated, self.read_serializer)

    def update(self, request: Request, pk: str) -> Response:
        return self.partial_update(request, pk)

    def destroy(self, request: Request, pk: str) -> Response:
        record = self.get_object_or_404(self.get_queryset().get, pk=pk)
        self.run_versioned(request, self.delete_service, actor=self.actor, **{self.object_kwarg: record})
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _writable_party(self, party: Party) -> Party:
        # a party the user cannot see does not exist for them
        if not Party.objects.restrict(self.request.user, "view").filter(pk=party.pk).exists():
            raise serializers.ValidationError({self.party_field: ["No such party."]})
        return party


def _child_schema(read: Any, update: Any) -> Any:
    return extend_schema_view(
        partial_update=extend_schema(request=update, responses=read),
        update=extend_schema(request=update, responses=read),
        destroy=extend_schema(parameters=[OpenApiParameter("version", int)], responses={204: None}),
    )


@_child_schema(ContactPointSerializer, ContactPointUpdateSerializer)
class ContactPointViewSet(_ChildViewSet):
    """Phone numbers (stored as E.164 with the raw input kept), e-mail addresses and postal addresses."""

    model = ContactPoint
    read_serializer = ContactPointSerializer
    update_serializer = ContactPointUpdateSerializer
    object_kwarg = "contact"
    update_service = staticmethod(services.contact_point_update)
    delete_service = staticmethod(services.contact_point_delete)

    @extend_schema(request=ContactPointWriteSerializer, responses={201: ContactPointSerializer})
    def create(self, request: Request) -> Response:
        def create() -> Response:
            data = ContactPointWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            v = dict(data.validated_data)
            party = self._writable_party(v.pop("party"))
            contact = services.contact_point_create(
                actor=self.actor, party=party, data=services.ContactInput(**v)
            )
            return self.respond(contact, ContactPointSerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, create)


@_child_schema(IdentifierSerializer, IdentifierUpdateSerializer)
class IdentifierViewSet(_ChildViewSet):
    """External identifiers (scheme + value, unique per scheme). Sensitive schemes are masked."""

    model = ExternalIdentifier
    read_serializer = IdentifierSerializer
    update_serializer = IdentifierUpdateSerializer
    object_kwarg = "identifier"
    update_service = staticmethod(services.identifier_update)
    delete_service = staticmethod(services.identifier_delete)

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("scheme")

    def update_arguments(self, validated: dict[str, Any]) -> dict[str, Any]:
        if "value" not in validated:
            raise serializers.ValidationError({"value": ["This field is required."]})
        return {"value": validated["value"]}

    @extend_schema(request=IdentifierWriteSerializer, responses={201: IdentifierSerializer})
    def create(self, request: Request) -> Response:
        def create() -> Response:
            data = IdentifierWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            identifier = services.identifier_create(
                actor=self.actor, party=self._writable_party(v["party"]), scheme=v["scheme"], value=v["value"]
            )
            return self.respond(identifier, IdentifierSerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, create)


@_child_schema(RelationshipSerializer, RelationshipUpdateSerializer)
class RelationshipViewSet(_ChildViewSet):
    """A person's link to an organisation, with the job title."""

    model = Relationship
    read_serializer = RelationshipSerializer
    update_serializer = RelationshipUpdateSerializer
    object_kwarg = "relationship"
    update_service = staticmethod(services.relationship_update)
    delete_service = staticmethod(services.relationship_delete)
    party_field = "person"

    def get_queryset(self) -> QuerySet[Any]:
        qs = Relationship.objects.restrict(self.request.user, "view").select_related(
            "person", "organisation", "entered_by"
        )
        party = self._party_param()
        return qs if party is None else qs.filter(Q(person=party) | Q(organisation=party))

    @extend_schema(request=RelationshipWriteSerializer, responses={201: RelationshipSerializer})
    def create(self, request: Request) -> Response:
        def create() -> Response:
            data = RelationshipWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            v = dict(data.validated_data)
            person = self._writable_party(v.pop("person"))
            organisation = self._writable_party(v.pop("organisation"))
            relationship = services.relationship_create(
                actor=self.actor, person=person, organisation=organisation, **v
            )
            return self.respond(relationship, RelationshipSerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, create)
