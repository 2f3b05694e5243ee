"""The OpenAPI description of what every endpoint shares: bearer tokens, problem+json errors, the version
headers (ETag / If-Match) and Idempotency-Key."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

PROBLEM_CONTENT_TYPE = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem document.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Messages by field (nested fields as `contact_points.0.raw`).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "current": {"description": "The record as it is now (409/412)."},
        "current_version": {"type": "integer", "description": "Its version now (409/412)."},
    },
}

_ERRORS = {
    "400": "Invalid input: a problem document with the field errors.",
    "401": "No valid token or session.",
    "403": "Your role may not do this.",
    "404": "No such record, or you may not see it.",
    "409": "The record changed since you read it (version field), or the change clashes with another record; "
    "`current` holds the record as it is now. Nothing was changed.",
    "412": "The If-Match ETag is no longer current; `current` holds the record as it is now. Nothing was "
    "changed.",
    "413": "The request body (or the file) is too large.",
    "415": "The body's content type, or an uploaded file's type, is not accepted.",
    "422": "This Idempotency-Key was already used for a different request.",
    "428": "Neither If-Match nor a version was sent.",
}

IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": 'The ETag of the version you read, e.g. `"3"`. Stale: 412. Or send a `version` field '
    "(stale: 409). Without either: 428.",
    "schema": {"type": "string"},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any string of 1-200 characters, unique per request you mean. A retry with the same key "
    "replays the first response and creates nothing; the same key with another body is a 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
ETAG_HEADER = {"ETag": {"description": 'The record\'s version, e.g. `"3"`.', "schema": {"type": "string"}}}


class RelayAutoSchema(AutoSchema):
    """drf-spectacular's schema plus, on every operation, its possible errors and the headers it reads."""

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        problem = ResolvedComponent(
            name="Problem", type=ResolvedComponent.SCHEMA, object="Problem", schema=PROBLEM_SCHEMA
        )
        registry.register_on_missing(problem)
        action = getattr(self.view, "action", None)
        versioned = action in getattr(self.view, "versioned_actions", ())
        codes = {"400", "401", "403"}
        if "{" in path:
            codes.add("404")
        if self.method in {"POST", "PUT", "PATCH"}:
            codes |= {"413", "415"}
        if self.method == "POST":
            codes |= {"409", "422"}
        if versioned:
            codes |= {"409", "412", "428"}
        responses = operation.setdefault("responses", {})
        content = {PROBLEM_CONTENT_TYPE: {"schema": problem.ref}}
        for code in sorted(codes):
            responses.setdefault(code, {"description": _ERRORS[code], "content": content})
        parameters = operation.setdefault("parameters", [])
        if versioned:
            parameters.append(IF_MATCH)
        if self.method == "POST":
            parameters.append(IDEMPOTENCY_KEY)
        if not parameters:
            del operation["parameters"]
        for code in ("200", "201"):
            body = responses.get(code, {}).get("content", {}).get("application/json", {})
            if "version" in _properties(body.get("schema"), registry):
                responses[code]["headers"] = ETAG_HEADER
        return operation


def _properties(schema: Any, registry: Any) -> dict[str, Any]:
    """The properties of a (referenced) object schema; empty for anything else."""
    if not isinstance(schema, dict):
        return {}
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        for component in registry._components.values():
            if component.name == name and component.type == ResolvedComponent.SCHEMA:
                return _properties(component.schema, registry)
        return {}
    return schema.get("properties", {}) if schema.get("type") == "object" else {}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "relay.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A token from `relay apitoken USERNAME`."}
