"""REST endpoints for the timeline: interactions, notes, attachments."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from relay.activities import selectors, services
from relay.activities.choices import Direction, EntryKind
from relay.activities.models import Attachment, TimelineEntry
from relay.api import serializer_registry
from relay.api.base import VersionedViewSet, id_param, idempotent_create
from relay.core.choices import Channel
from relay.core.pagination import Ordering
from relay.customers.models import Party


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "entry",
            "filename",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "created_at",
            "download_url",
        ]

    def get_download_url(self, obj: Attachment) -> str:
        request = self.context.get("request")
        path = f"/api/v1/attachments/{obj.pk}/download/"
        return request.build_absolute_uri(path) if request else path


class TimelineEntrySerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TimelineEntry
        fields = [
            "id",
            "party",
            "kind",
            "occurred_at",
            "actor",
            "actor_name",
            "channel",
            "direction",
            "subject",
            "body",
            "duration_seconds",
            "source",
            "source_detail",
            "attachments",
            "created_at",
            "updated_at",
            "version",
        ]

    def get_actor_name(self, obj: TimelineEntry) -> str | None:
        return (obj.actor.get_full_name() or obj.actor.username) if obj.actor else None


class InteractionWriteSerializer(serializers.Serializer):
    party = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all())
    channel = serializers.ChoiceField(choices=Channel.choices)
    direction = serializers.ChoiceField(choices=Direction.choices, default=Direction.INBOUND)
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    body = serializers.CharField(required=False, allow_blank=True, default="", max_length=1_000_000)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    duration_seconds = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)


class InteractionUpdateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True, max_length=1_000_000)
    occurred_at = serializers.DateTimeField(required=False)
    duration_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    version = serializers.IntegerField(required=False)


class NoteWriteSerializer(serializers.Serializer):
    party = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all())
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=1_000_000)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class NoteUpdateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True)
    body = serializers.CharField(required=False, max_length=1_000_000)
    occurred_at = serializers.DateTimeField(required=False)
    version = serializers.IntegerField(required=False)


class AttachmentUploadSerializer(serializers.Serializer):
    entry = serializers.IntegerField()
    file = serializers.FileField(allow_empty_file=True)


serializer_registry.register(TimelineEntry, TimelineEntrySerializer)


def _party_visible(request: Request, party: Party) -> Party:
    if not Party.objects.restrict(request.user, "view").filter(pk=party.pk).exists():
        raise serializers.ValidationError({"party": ["No such party."]})
    return party


class _EntryViewSet(VersionedViewSet):
    kind: str
    serializer_class = TimelineEntrySerializer
    update_serializer: Any

    def get_queryset(self) -> QuerySet[TimelineEntry]:
        qs = selectors.timeline_queryset(actor=self.actor).filter(kind=self.kind)
        party = id_param(self.request, "party")
        if party is not None:
            qs = qs.filter(party_id=party)
        channel = self.request.query_params.get("channel")
        if channel:
            if channel not in Channel.values:
                raise serializers.ValidationError(
                    {"channel": [f"Choose one of {', '.join(Channel.values)}."]}
                )
            qs = qs.filter(channel=channel)
        return qs

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return selectors.TIMELINE_ORDERING

    @extend_schema(
        parameters=[OpenApiParameter("party", int), OpenApiParameter("channel", str, enum=Channel.values)]
    )
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            TimelineEntrySerializer(page, many=True, context=self.get_serializer_context()).data
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(self.get_object_or_404(self.get_queryset().get, pk=pk), TimelineEntrySerializer)

    def partial_update(self, request: Request, pk: str) -> Response:
        entry = self.get_object_or_404(self.get_queryset().get, pk=pk)
        data = self.update_serializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if k != "version"}
        updated = self.run_versioned(
            request, services.entry_update, actor=self.actor, entry=entry, changes=changes
        )
        return self.respond(updated, TimelineEntrySerializer)

    def update(self, request: Request, pk: str) -> Response:
        return self.partial_update(request, pk)

    @extend_schema(parameters=[OpenApiParameter("version", int)], responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        entry = self.get_object_or_404(self.get_queryset().get, pk=pk)
        self.run_versioned(request, services.entry_delete, actor=self.actor, entry=entry)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InteractionViewSet(_EntryViewSet):
    """Calls, e-mails, letters, faxes, web messages, chats, SMS and visits on a party's timeline."""

    kind = EntryKind.INTERACTION
    update_serializer = InteractionUpdateSerializer

    @extend_schema(request=InteractionWriteSerializer, responses={201: TimelineEntrySerializer})
    def create(self, request: Request) -> Response:
        def create() -> Response:
            data = InteractionWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            v = dict(data.validated_data)
            party = _party_visible(request, v.pop("party"))
            entry = services.interaction_log(
                actor=self.actor, party=party, data=services.InteractionInput(**v)
            )
            return self.respond(entry, TimelineEntrySerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @extend_schema(request=InteractionUpdateSerializer, responses=TimelineEntrySerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return super().partial_update(request, pk)


class NoteViewSet(_EntryViewSet):
    """Internal notes on a party's file."""

    kind = EntryKind.NOTE
    update_serializer = NoteUpdateSerializer

    @extend_schema(request=NoteWriteSerializer, responses={201: TimelineEntrySerializer})
    def create(self, request: Request) -> Response:
        def create() -> Response:
            data = NoteWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
            entry = services.note_add(
                actor=self.actor,
                party=_party_visible(request, v["party"]),
                body=v["body"],
                subject=v["subject"],
                occurred_at=v["occurred_at"],
            )
            return self.respond(entry, TimelineEntrySerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @extend_schema(request=NoteUpdateSerializer, responses=TimelineEntrySerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return super().partial_update(request, pk)


class AttachmentViewSet(VersionedViewSet):
    """Files on timeline entries: uploaded as multipart, type sniffed from the content, size-limited."""

    serializer_class = AttachmentSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Attachment]:
        visible = TimelineEntry.objects.restrict(self.request.user, "view")
        qs = Attachment.objects.filter(entry__in=visible)
        entry = id_param(self.request, "entry")
        if entry is not None:
            qs = qs.filter(entry_id=entry)
        return qs

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("id")

    @extend_schema(parameters=[OpenApiParameter("entry", int)])
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            AttachmentSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(self.get_object_or_404(self.get_queryset().get, pk=pk), AttachmentSerializer)

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer}, responses={201: AttachmentSerializer}
    )
    def create(self, request: Request) -> Response:
        def create() -> Response:
            data = AttachmentUploadSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            entry = (
                TimelineEntry.objects.restrict(request.user, "view")
                .filter(pk=data.validated_data["entry"])
                .first()
            )
            if entry is None:
                raise serializers.ValidationError({"entry": ["No such timeline entry."]})
            attachment = services.attachment_add(
                actor=self.actor, entry=entry, upload=data.validated_data["file"]
            )
            return self.respond(attachment, AttachmentSerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> FileResponse:
        """The file itself, as an attachment (never rendered inline)."""
        attachment = self.get_object_or_404(selectors.attachment_get, actor=self.actor, pk=pk)
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
