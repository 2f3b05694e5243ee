"""Writes for people and access."""

from __future__ import annotations

from django.db import transaction

from relay.accounts.models import ApiToken, User
from relay.core import clock


@transaction.atomic
def api_token_create(*, user: User, name: str = "default") -> tuple[ApiToken, str]:
    """A new bearer token for `user`. Returns the row and the plain token, which is never stored."""
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=raw[:12], digest=ApiToken.hash(raw))
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
