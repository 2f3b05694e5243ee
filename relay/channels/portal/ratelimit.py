"""Fixed-window rate limits counted in the database (RateCounter), so that every web process of a
deployment shares them (Relay configures no shared cache; Django's default LocMemCache is per process).

A hit is one UPDATE (or one INSERT on the first hit of a window), in its own short transaction, so a
request that fails afterwards still counts: limits slow down attempts, not only successes.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest

from relay.channels.portal.models import RateCounter
from relay.core import clock

HOUR = 3600

# name -> (setting, default hits per hour)
LIMITS: dict[str, tuple[str, int]] = {
    "link-address": ("RELAY_PORTAL_LINKS_PER_ADDRESS_HOUR", 5),
    "link-ip": ("RELAY_PORTAL_LINKS_PER_IP_HOUR", 30),
    "portal-case": ("RELAY_PORTAL_CASES_PER_PARTY_HOUR", 10),
    "portal-reply": ("RELAY_PORTAL_REPLIES_PER_PARTY_HOUR", 30),
    "webform-ip": ("RELAY_WEBFORM_PER_IP_HOUR", 10),
}


def limit_of(name: str) -> int:
    setting, default = LIMITS[name]
    return int(getattr(settings, setting, default))


def client_ip(request: HttpRequest) -> str:
    """The peer address. Behind a reverse proxy, the proxy must set REMOTE_ADDR (e.g. gunicorn's
    --forwarded-allow-ips with a trusted proxy); X-Forwarded-For is not read, since anyone can send it."""
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


def _key(name: str, ident: str) -> str:
    return hashlib.sha256(f"{name}\x00{ident}".encode()).hexdigest()


def hit(name: str, ident: str) -> bool:
    """Count one hit of `ident` under limit `name` (per clock hour); False when it is over the limit."""
    window = int(clock.now().timestamp()) // HOUR
    key = _key(name, ident)
    with transaction.atomic():
        if not RateCounter.objects.filter(key=key, window=window).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window=window, count=1)
            except IntegrityError:  # another process made the row first
                RateCounter.objects.filter(key=key, window=window).update(count=F("count") + 1)
            else:  # once per key and window: forget the windows that are over
                RateCounter.objects.filter(window__lt=window - 1).delete()
        count = RateCounter.objects.filter(key=key, window=window).values_list("count", flat=True).first()
    return (count or 0) <= limit_of(name)
