from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models

from relay.accounts.choices import Role
from relay.core.audit import AuditedHistory
from relay.core.models import RestrictedQuerySet, TimeStampedModel


class DepartmentQuerySet(RestrictedQuerySet):
    pass


class Department(TimeStampedModel):
    """A team that owns work (a queue): Customer Care, Technical Support, Billing, Water, ..."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    supervisor = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervised_departments",
    )
    is_active = models.BooleanField(default=True)

    objects = DepartmentQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RelayUserManager(UserManager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    """A staff member. `role` decides what they may do (docs/permissions.md); departments are their teams."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    departments = models.ManyToManyField(Department, blank=True, related_name="members")
    title = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, help_text="Empty: the site's time zone")
    is_away = models.BooleanField(default=False, help_text="Away users are skipped by automatic assignment")

    objects = RelayUserManager()  # type: ignore[misc]
    history = AuditedHistory(excluded_fields=["password", "last_login"])

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return str(self)


class ApiTokenQuerySet(RestrictedQuerySet):
    pass


class ApiToken(TimeStampedModel):
    """A bearer token for the REST API. Only its SHA-256 is stored; the plain token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="default")
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return "rly_" + secrets.token_urlsafe(32)


class StaffSession(AbstractBaseSession):
    """A signed-in staff member's session: Django's database session plus the user's id as a column, so
    that one query loads both (relay.accounts.sessions). Ends with the user (CASCADE); the customer portal
    keeps its own sessions."""

    user = models.ForeignKey(User, null=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "accounts_session"

    @classmethod
    def get_session_store_class(cls) -> type[SessionBase]:
        from relay.accounts.sessions import SessionStore

        return SessionStore
