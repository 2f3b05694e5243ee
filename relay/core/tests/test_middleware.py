"""UserTimeZoneMiddleware: dates in the signed-in user's zone, and request.user handed on unwrapped."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from relay.accounts.models import User
from relay.core.middleware import UserTimeZoneMiddleware
from relay.core.testing.factories import UserFactory


def _through_middleware(user: object) -> tuple[object, str]:
    """What the view sees: request.user and the active time zone's name."""
    seen: dict[str, object] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen["user"] = request.user
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(lambda: user)  # type: ignore[assignment]
    try:
        UserTimeZoneMiddleware(view)(request)
    finally:
        timezone.deactivate()
    return seen["user"], str(seen["zone"])


@pytest.mark.django_db
def test_a_signed_in_user_sees_their_zone_and_the_view_gets_the_user_itself():
    user = UserFactory(time_zone="Asia/Tokyo")
    seen, zone = _through_middleware(user)
    assert type(seen) is User and seen.pk == user.pk
    assert zone == "Asia/Tokyo"


@pytest.mark.django_db
def test_an_unknown_zone_falls_back_to_the_sites():
    user = UserFactory(time_zone="Mars/Olympus_Mons")
    seen, zone = _through_middleware(user)
    assert type(seen) is User
    assert zone == timezone.get_default_timezone_name()


def test_an_anonymous_visitor_gets_the_sites_zone():
    seen, zone = _through_middleware(AnonymousUser())
    assert type(seen) is AnonymousUser
    assert zone == timezone.get_default_timezone_name()
