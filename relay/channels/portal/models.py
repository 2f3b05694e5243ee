"""Customer portal sign-in links and sessions, embeddable web forms, and the rate-limit counters they
share (docs/adr/0014-portal-and-web-forms.md).

No secret is stored in clear: a sign-in link and a portal session are random tokens handed to the
customer; the database keeps only their SHA-256 (`token_hash`), so a copy of the database opens nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from relay.channels.portal.choices import FormKind
from relay.core import clock
from relay.core.audit import AuditedHistory
from relay.core.models import VersionedModel


class SignInLink(models.Model):
    """A one-time sign-in link e-mailed to a customer's address. Used once, within its lifetime, and only
    while it is the newest link of its address (a newer one supersedes it)."""

    email = models.CharField(max_length=254, help_text="The normalised address the link was sent to.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["email", "-created_at"], name="portal_link_email_idx")]

    def __str__(self) -> str:
        return f"sign-in link for {self.email}"


class PortalSession(models.Model):
    """A signed-in customer: a random token in the `relay_portal` cookie (never Django's staff session),
    bound to the address the customer proved they read. The parties it reaches are looked up on every
    request, so removing the address from a party ends its access at once."""

    email = models.CharField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    link = models.OneToOneField(
        SignInLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"portal session of {self.email}"


class WebForm(VersionedModel):
    """An embeddable web-to-case or web-to-lead form. Its `key` is public (it is in the snippet pasted on
    the organisation's site): it names the form, it is not a secret."""

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=FormKind.choices)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    success_url = models.URLField(
        max_length=500, blank=True, help_text="Where the visitor goes after sending; blank: a thank-you page."
    )
    success_message = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = AuditedHistory()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class RateCounter(models.Model):
    """Hits of one rate-limited key in one fixed window. In the database, not the cache: Relay configures
    no shared cache, and Django's default LocMemCache is per process, so N web processes would allow N
    times the limit. Keys are hashed (no address or IP address is stored)."""

    key = models.CharField(max_length=64)
    window = models.BigIntegerField(help_text="Window number: epoch seconds // window length.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="portal_rate_unique")]
        indexes = [models.Index(fields=["window"], name="portal_rate_window_idx")]

    def __str__(self) -> str:
        return f"{self.key[:8]}@{self.window}: {self.count}"
