"""Every API error is an RFC 9457 problem+json document, mapped here and nowhere else."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from relay.core.exceptions import ApplicationError, ConflictError

PROBLEM_TYPE = "https://relay.example/problems/"


def problem(status_code: int, title: str, detail: str = "", *, kind: str = "", **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + kind if kind else "about:blank",
        "title": title,
        "status": status_code,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(body, status=status_code, content_type="application/problem+json")


def _field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, msgs in _field_errors(value).items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list):
                out[str(key)] = [str(v) for v in value]
            else:
                out[str(key)] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {"non_field_errors": [str(detail)]}


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ConflictError):
        from relay.api.serializer_registry import serialize_current

        extra: dict[str, Any] = {}
        if exc.current is not None:
            extra["current"] = serialize_current(exc.current, context.get("request"))
        if exc.current_version is not None:
            extra["current_version"] = exc.current_version
        return problem(exc.status, exc.title, exc.message, kind="conflict", **extra)
    if isinstance(exc, ApplicationError):
        extra = {"errors": exc.errors} if exc.errors else {}
        return problem(
            exc.status, exc.title, exc.message, kind="invalid" if exc.status == 400 else "", **extra
        )
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return problem(400, "Invalid input", "Some fields are not valid.", kind="invalid", errors=errors)
    if isinstance(exc, IntegrityError):
        return problem(
            409,
            "Conflicts with existing data",
            "The change clashes with an existing record.",
            kind="conflict",
        )
    if isinstance(exc, RequestDataTooBig):
        return problem(413, "Request too large", "The request body is larger than the server accepts.")
    if isinstance(exc, SuspiciousOperation):
        return problem(400, "Bad request", "The request could not be read.")
    if isinstance(exc, Http404 | ObjectDoesNotExist):  # a record read without get_object_or_404 too
        return problem(404, "Not found", "No such record, or you may not see it.")
    if isinstance(exc, DjangoPermissionDenied):
        return problem(403, "You may not do this", str(exc) or "")

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        return problem(
            400,
            "Invalid input",
            "Some fields are not valid.",
            kind="invalid",
            errors=_field_errors(exc.detail),
        )
    detail = exc.detail if isinstance(exc, exceptions.APIException) else ""
    title = {
        status.HTTP_401_UNAUTHORIZED: "Authentication required",
        status.HTTP_403_FORBIDDEN: "You may not do this",
        status.HTTP_404_NOT_FOUND: "Not found",
        status.HTTP_405_METHOD_NOT_ALLOWED: "Method not allowed",
        status.HTTP_406_NOT_ACCEPTABLE: "Not acceptable",
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "Unsupported media type",
        status.HTTP_429_TOO_MANY_REQUESTS: "Too many requests",
    }.get(response.status_code, "Error")
    result = problem(response.status_code, title, str(detail))
    for header in ("WWW-Authenticate", "Allow", "Retry-After"):
        if header in response:
            result[header] = response[header]
    return result


@csrf_exempt  # it changes nothing, and a refused CSRF check would answer in HTML
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any other path under /api/v1/: a problem document, not the staff UI's HTML 404 page."""
    detail = "No such API endpoint. The OpenAPI document at /api/v1/openapi.json lists them all."
    if not request.path.endswith("/"):
        try:
            if resolve(request.path + "/").url_name != "not-found":
                detail = f"API paths end in a slash: {request.path}/"
        except Resolver404:
            pass
    body = {"type": "about:blank", "title": "Not found", "status": 404, "detail": detail}
    return JsonResponse(body, status=404, content_type="application/problem+json")
