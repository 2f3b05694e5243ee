"""REST endpoints of the inbox: one's own notifications (read, mark read) and delivery preferences."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from relay.api import serializer_registry
from relay.api.base import VersionedViewSet, idempotent_create
from relay.core.pagination import Ordering
from relay.notifications import selectors, services
from relay.notifications.models import Notification, NotificationPreference


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "case_id", "created_at", "read_at", "is_read"]

    def get_is_read(self, obj: Notification) -> bool:
        return obj.is_read()


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread and are now read")
    unread = serializers.IntegerField(help_text="How many are still unread")


class NotificationPreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationPreference
        fields = ["id", "kind", "in_app", "email", "updated_at"]


class PreferenceWriteSerializer(serializers.Serializer):
    kind = serializers.CharField(
        max_length=100, help_text='An event name ("case.transferred") or a family ending with a dot ("case.")'
    )
    in_app = serializers.BooleanField()
    email = serializers.BooleanField()


serializer_registry.register(Notification, NotificationSerializer)
serializer_registry.register(NotificationPreference, NotificationPreferenceSerializer)

_UNREAD = {"true": True, "1": True, "false": False, "0": False}


class NotificationViewSet(VersionedViewSet):
    """Your notifications, newest first. Other people's do not exist for you (404)."""

    serializer_class = NotificationSerializer
    versioned_actions = frozenset()

    def get_queryset(self) -> QuerySet[Notification]:
        qs = selectors.notification_queryset(actor=self.actor)
        raw = self.request.query_params.get("unread")
        if raw is not None:
            if raw.strip().lower() not in _UNREAD:
                raise serializers.ValidationError({"unread": ["Use true or false."]})
            if _UNREAD[raw.strip().lower()]:
                qs = qs.unread()
        return qs

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return selectors.INBOX_ORDERING

    @extend_schema(parameters=[OpenApiParameter("unread", bool, description="Only the unread ones")])
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        notification = self.get_object_or_404(selectors.notification_get, actor=self.actor, pk=pk)
        return self.respond(notification, NotificationSerializer)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        """Mark it read (again: no change)."""

        def mark() -> Response:
            notification = self.get_object_or_404(selectors.notification_get, actor=self.actor, pk=pk)
            done = services.notification_mark_read(actor=self.actor, notification=notification)
            return self.respond(done, NotificationSerializer)

        return idempotent_create(request, mark)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """Mark all your unread notifications read."""

        def mark() -> Response:
            marked = services.notification_mark_all_read(actor=self.actor)
            body = {"marked": marked, "unread": selectors.unread_count(actor=self.actor)}
            return Response(MarkedSerializer(body).data)

        return idempotent_create(request, mark)


class NotificationPreferenceViewSet(VersionedViewSet):
    """How you are told about each kind of event. Without a preference: in the app and by e-mail.
    POST sets the preference for a kind (creating or replacing it)."""

    serializer_class = NotificationPreferenceSerializer
    versioned_actions = frozenset()

    def get_queryset(self) -> QuerySet[NotificationPreference]:
        return selectors.preference_queryset(actor=self.actor)

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("kind")

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(NotificationPreferenceSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        preference = self.get_object_or_404(self.get_queryset().get, pk=pk)
        return self.respond(preference, NotificationPreferenceSerializer)

    @extend_schema(request=PreferenceWriteSerializer, responses={201: NotificationPreferenceSerializer})
    def create(self, request: Request) -> Response:
        def create() -> Response:
            data = PreferenceWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            preference = services.preference_set(actor=self.actor, **data.validated_data)
            return self.respond(preference, NotificationPreferenceSerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, create)
