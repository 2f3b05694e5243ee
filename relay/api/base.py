"""What every endpoint shares: version handling (ETag / If-Match / `version`), idempotent POSTs."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, cast

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from relay.accounts.models import User
from relay.api.models import IdempotencyKey
from relay.core.exceptions import ApplicationError, ConflictError, PreconditionFailed

_ETAG = re.compile(r'^(?:W/)?"?([0-9]{1,10})"?$')
_DIGITS = re.compile(r"[0-9]{1,10}")
_ID = re.compile(r"[0-9]{1,18}")  # fits a 64-bit key on both databases


def id_param(request: Request, name: str) -> int | None:
    """An optional id in the query string (`?party=12`); anything but a plain id is a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not _ID.fullmatch(raw.strip()):
        raise ValidationError({name: ["An id (a whole number) is required."]})
    return int(raw)


def text_param(request: Request, name: str, *, max_length: int = 200) -> str:
    """An optional text parameter; control characters the databases refuse (NUL) are a 400."""
    raw = request.query_params.get(name, "")
    if "\x00" in raw:
        raise ValidationError({name: ["Null characters are not allowed."]})
    if len(raw) > max_length:
        raise ValidationError({name: [f"At most {max_length} characters."]})
    return raw.strip()


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

    # the actions that change a record and so must name the version they change (documented in OpenAPI)
    versioned_actions: frozenset[str] = frozenset({"update", "partial_update", "destroy"})

    def expected_version(self, request: Request) -> tuple[int, bool]:
        """The version the client edits and whether it came from If-Match (412) or the body (409)."""
        header = request.headers.get("If-Match")
        if header is not None:
            if header.strip() == "*":
                raise PreconditionRequired(
                    "If-Match: * does not say which version you are changing; send its ETag.",
                    errors={"If-Match": ['Send the ETag of the version you read, such as "3".']},
                )
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
        if isinstance(raw, bool) or not (
            isinstance(raw, int) or (isinstance(raw, str) and _DIGITS.fullmatch(raw.strip()))
        ):
            raise ValidationError({"version": ["A whole number is required."]})
        version = int(raw)
        if not 0 <= version < 2**31:
            raise ValidationError({"version": ["Out of range."]})
        return version, False

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


class _KeyTaken(Exception):
    """Another request with this (user, Idempotency-Key) committed first."""


def _fingerprint_value(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    return value


def request_fingerprint(request: Request) -> str:
    """What makes two requests "the same": method, path and body (uploaded files by their content)."""
    data = request.data
    if hasattr(data, "lists"):  # a form or multipart body: every value of every key, files by content
        body: Any = {key: [_fingerprint_value(v) for v in values] for key, values in data.lists()}
    else:
        body = data
    canonical = json.dumps(
        [request.method, request.path, body], sort_keys=True, default=str, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_create(request: Request, create: Any) -> Response:
    """Run `create()` once per (user, Idempotency-Key) and replay its response on retries.

    The key row is inserted in the same transaction as the work, so a failed request leaves no key behind
    (the client may retry with the same key), and the unique constraint decides between two concurrent
    retries: the second one waits for the first to commit, fails to insert, and replays its response.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return create()
    key = key.strip()
    if not key or len(key) > 200:
        raise ValidationError({"Idempotency-Key": ["Between 1 and 200 characters."]})
    user = cast(User, request.user)
    digest = request_fingerprint(request)

    def replay(record: IdempotencyKey) -> Response:
        if record.request_hash != digest:
            raise ApplicationError(
                "This Idempotency-Key was used with another request.",
                status=422,
                errors={"Idempotency-Key": ["Already used for a different request."]},
            )
        response = Response(record.body, status=record.status)
        response["Idempotent-Replayed"] = "true"
        if isinstance(record.body, dict) and isinstance(record.body.get("version"), int):
            response["ETag"] = f'"{record.body["version"]}"'
        return response

    existing = IdempotencyKey.objects.filter(user=user, key=key).first()
    if existing:
        return replay(existing)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        user=user,
                        key=key,
                        method=request.method or "",
                        path=request.path[:500],
                        request_hash=digest,
                    )
            except IntegrityError as exc:
                raise _KeyTaken from exc
            response = create()
            record.status, record.body = response.status_code, response.data
            record.save(update_fields=["status", "body"])
            return response
    except _KeyTaken:
        return replay(IdempotencyKey.objects.get(user=user, key=key))
