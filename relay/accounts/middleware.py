from __future__ import annotations

from django.contrib import auth
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from relay.accounts.sessions import preloaded_user


def get_user(request: HttpRequest) -> object:
    """Django's `auth.get_user`, offered the user that the session store loaded with the session."""
    if not hasattr(request, "_cached_user"):
        session = request.session
        session.get(SESSION_KEY)  # loads the session, and with it the user
        with preloaded_user(getattr(session, "loaded_user", None)):
            request._cached_user = auth.get_user(request)  # type: ignore[attr-defined]
    user: AnonymousUser = request._cached_user  # type: ignore[attr-defined]
    return user


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with `request.user` loaded by `get_user` above (relay.accounts.sessions)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))  # type: ignore[assignment]
