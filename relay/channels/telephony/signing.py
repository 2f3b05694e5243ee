"""Authenticating the phone system's webhooks.

* Twilio: `X-Twilio-Signature`, checked by the `twilio` package's RequestValidator over the URL Twilio
  called (as Relay is known from outside: RELAY_BASE_URL, behind a proxy) and the form parameters.
* The generic JSON hook and the fax hook: `X-Relay-Timestamp: <unix seconds>` and
  `X-Relay-Signature: sha256=<hex>`, an HMAC-SHA256 under RELAY_PHONE_WEBHOOK_SECRET of
  `<timestamp>.<raw body>`. The timestamp is signed too, so an old request cannot be replayed with a
  new one; requests more than five minutes off are refused (and a replay within them changes nothing:
  the call id is unique).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.http import HttpRequest

MAX_SKEW_SECONDS = 300
SIGNATURE_HEADER = "X-Relay-Signature"
TIMESTAMP_HEADER = "X-Relay-Timestamp"


class SignatureError(Exception):
    pass


def secret() -> bytes:
    return str(getattr(settings, "RELAY_PHONE_WEBHOOK_SECRET", "") or "").encode()


def sign(body: bytes, *, timestamp: int | None = None, key: bytes | None = None) -> dict[str, str]:
    """The headers that authenticate `body` (for `relay phone ring`, tests and benchmarks)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    mac = hmac.new(key if key is not None else secret(), ts.encode() + b"." + body, hashlib.sha256)
    return {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: "sha256=" + mac.hexdigest()}


class HmacVerifier:
    """Feeds on the body as it is read (a fax may be larger than what Django keeps in memory)."""

    def __init__(self, request: HttpRequest) -> None:
        key = secret()
        if not key:
            raise SignatureError("The phone webhook secret is not configured.")
        ts = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not ts or not signature:
            raise SignatureError(f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required.")
        if not ts.isdigit() or abs(time.time() - int(ts)) > MAX_SKEW_SECONDS:
            raise SignatureError("The request is too old (or its clock is off by more than 5 minutes).")
        self.expected = signature.removeprefix("sha256=").strip().lower()
        self.mac = hmac.new(key, ts.encode() + b".", hashlib.sha256)

    def update(self, chunk: bytes) -> None:
        self.mac.update(chunk)

    def verify(self) -> None:
        if not hmac.compare_digest(self.mac.hexdigest(), self.expected):
            raise SignatureError("The signature does not match.")


def verify_hmac(request: HttpRequest, body: bytes) -> None:
    verifier = HmacVerifier(request)
    verifier.update(body)
    verifier.verify()


def twilio_urls(request: HttpRequest) -> list[str]:
    """The URLs Twilio may have signed: Relay's public base URL with this path, and the URL as this
    server sees it (the same unless behind a proxy)."""
    path = request.get_full_path()
    urls = [settings.RELAY_BASE_URL.rstrip("/") + path]
    try:
        seen = request.build_absolute_uri()
    except Exception:  # a Host header outside ALLOWED_HOSTS: only the configured URL counts
        seen = ""
    if seen and seen not in urls:
        urls.append(seen)
    return urls


def verify_twilio(request: HttpRequest) -> None:
    from twilio.request_validator import RequestValidator

    token = str(getattr(settings, "RELAY_TWILIO_AUTH_TOKEN", "") or "")
    if not token:
        raise SignatureError("Twilio is not configured (RELAY_TWILIO_AUTH_TOKEN).")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        raise SignatureError("X-Twilio-Signature is required.")
    validator = RequestValidator(token)
    if not any(validator.validate(url, request.POST, signature) for url in twilio_urls(request)):
        raise SignatureError("The Twilio signature does not match.")
