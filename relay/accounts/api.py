"""Users and departments, read-only through the API (admins manage them in the admin site)."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request

from relay.accounts.models import Department, User
from relay.core.pagination import Ordering


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "slug", "description", "email", "supervisor", "is_active"]


class UserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    departments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "first_name",
            "last_name",
            "email",
            "role",
            "title",
            "departments",
            "is_active",
            "is_away",
        ]


class DepartmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DepartmentSerializer

    def get_queryset(self) -> QuerySet[Department]:
        return Department.objects.restrict(self.request.user, "view")

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("name")


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = UserSerializer

    def get_queryset(self) -> QuerySet[User]:
        return User.objects.restrict(self.request.user, "view").prefetch_related("departments")

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("username")
