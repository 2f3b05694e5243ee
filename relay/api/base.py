"""What every endpoint shares: version handling (ETag / If-Match / `version`), idempotent POSTs."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.http import Http404
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from relay.accounts.models import User
from relay.api.models import IdempotencyKey
from relay.core.exceptions import ApplicationError, ConflictError, PreconditionFailed

_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


class PreconditionRequired(ApplicationError):
    status = 428
    title = "Precondition required"


def etag(instance: Any) -> str:
    return f'"{instance.version}"'


class VersionedViewSet(viewsets.GenericViewSet):
    """Updates and deletes must name the version they edit: `If-Match: "3"` (stale: 412) or a
    `version` field / query parameter (stale: 409). Either way the stale write changes nothing and the
    response carries the current state."""

    @property
    def actor(self) -> User:
        """The authenticated staff member (IsStaffMember has already refused anyone else)."""
        return cast(User, self.request.user)

    def expected_version(self, request: Request) -> tuple[int, bool]:
        header = request.headers.get("If-Match")
        if header:
            match = _ETAG.match(header.strip())
            if not match:
                raise ApplicationError(
                    'If-Match must be an ETag such as "3".', errors={"If-Match": ["Invalid."]}
                )
            return int(match.group(1)), True
        raw = request.data.get("version") if hasattr(request.data, "get") else None
        if raw is None:
            raw = request.query_params.get("version")
        if raw is None:
            raise PreconditionRequired(
                "Say which version you are changing: send If-Match with the ETag, or a version field.",
                errors={"version": ["This field is required."]},
            )
        try:
            return int(raw), False
        except (TypeError, ValueError) as exc:
            raise ValidationError({"version": ["A whole number is required."]}) from exc

    def run_versioned(self, request: Request, func: Any, **kwargs: Any) -> Any:
        version, from_header = self.expected_version(request)
        try:
            return func(expected_version=version, **kwargs)
        except ConflictError as exc:
            if from_header:
                raise PreconditionFailed(current=exc.current, current_version=exc.current_version) from exc
            raise

    def respond(
        self, instance: Any, serializer_class: Any, status_code: int = status.HTTP_200_OK
    ) -> Response:
        data = serializer_class(instance, context=self.get_serializer_context()).data
        response = Response(data, status=status_code)
        if hasattr(instance, "version"):
            response["ETag"] = etag(instance)
        return response

    def get_object_or_404(self, getter: Any, **kwargs: Any) -> Any:
        try:
            return getter(**kwargs)
        except (ValueError, TypeError) as exc:
            raise Http404 from exc
        except Exception as exc:
            if exc.__class__.__name__ == "DoesNotExist":
                raise Http404 from exc
            raise


def idempotent_create(request: Request, create: Any) -> Response:
    """Run `create()` once per (user, Idempotency-Key); replay its response on retries."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return create()
    if len(key) > 200:
        raise ValidationError({"Idempotency-Key": ["At most 200 characters."]})
    body = request.data if isinstance(request.data, dict) else {}
    digest = hashlib.sha256(
        json.dumps({k: str(v) for k, v in body.items()}, sort_keys=True).encode() + request.path.encode()
    ).hexdigest()

    def replay(record: IdempotencyKey) -> Response:
        if record.request_hash != digest:
            raise ApplicationError(
                "This Idempotency-Key was used with another request.",
                status=422,
                errors={"Idempotency-Key": ["Already used for a different request."]},
            )
        response = Response(record.body, status=record.status)
        response["Idempotent-Replayed"] = "true"
        return response

    existing = IdempotencyKey.objects.filter(user=cast(User, request.user), key=key).first()
    if existing:
        return replay(existing)
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                user=cast(User, request.user),
                key=key,
                method=request.method or "",
                path=request.path[:500],
                request_hash=digest,
            )
            response = create()
            record.status, record.body = response.status_code, response.data
            record.save(update_fields=["status", "body"])
            return response
    except IntegrityError:
        # a concurrent retry with the same key committed first
        return replay(IdempotencyKey.objects.get(user=cast(User, request.user), key=key))
