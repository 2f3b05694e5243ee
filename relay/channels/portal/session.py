"""The portal session: its own cookie (`relay_portal`, path /portal/), never Django's staff session.

A staff login does not sign anyone in to the portal (the portal reads only this cookie) and a portal
sign-in does not sign anyone in to the staff UI (it never touches `request.user` or Django's session).
The cookie holds a random token; the database keeps its SHA-256 (PortalSession)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse

from relay.channels.portal.models import PortalSession
from relay.channels.portal.selectors import PortalCustomer, customer_for_session
from relay.channels.portal.services import hash_token
from relay.core import clock

COOKIE_PATH = "/portal/"


def cookie_name() -> str:
    return str(getattr(settings, "RELAY_PORTAL_COOKIE_NAME", "relay_portal"))


def current_session(request: HttpRequest) -> PortalSession | None:
    token = request.COOKIES.get(cookie_name(), "")
    if not token or len(token) > 128:
        return None
    return PortalSession.objects.filter(
        token_hash=hash_token(token), ended_at__isnull=True, expires_at__gt=clock.now()
    ).first()


def set_cookie(request: HttpRequest, response: HttpResponse, token: str) -> None:
    hours = int(getattr(settings, "RELAY_PORTAL_SESSION_HOURS", 12))
    response.set_cookie(
        cookie_name(),
        token,
        max_age=hours * 3600,
        path=COOKIE_PATH,
        secure=request.is_secure() or bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        httponly=True,
        samesite="Lax",
    )


def clear_cookie(response: HttpResponse) -> None:
    response.delete_cookie(cookie_name(), path=COOKIE_PATH, samesite="Lax")


def private[R: HttpResponseBase](response: R) -> R:
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def portal_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Only for a signed-in customer (else to the sign-in page); the view gets the customer."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        session = current_session(request)
        customer: PortalCustomer | None = customer_for_session(session) if session else None
        if customer is None:
            target = reverse("portal:start")
            if request.method == "GET":
                target += "?" + urlencode({"next": request.get_full_path()})
            response: HttpResponse = HttpResponseRedirect(target)
            if request.COOKIES.get(cookie_name()):
                clear_cookie(response)
            return private(response)
        return private(view(request, customer, *args, **kwargs))

    return wrapper
