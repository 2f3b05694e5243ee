import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from relay.core.audit import Origin, origin


class AuditOriginMiddleware:
    """Marks every change made during a request as coming from the API or the staff UI."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = Origin.API if request.path.startswith("/api/") else Origin.UI
        with origin(value):
            return self.get_response(request)


class UserTimeZoneMiddleware:
    """Shows dates in the signed-in user's time zone (stored in UTC either way)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone = getattr(user, "time_zone", "")  # loads the lazy user
        if isinstance(user, SimpleLazyObject):
            # from here on the user itself: a page reads request.user a hundred times or more, and each
            # read through the lazy proxy costs a few microseconds
            request.user = user._wrapped
        if zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
