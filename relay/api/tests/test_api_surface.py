"""The API as a whole: health, OpenAPI, docs, and a guard that every endpoint is in the access matrix."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from relay.core.testing.api import APIViewTests, client_for

pytestmark = pytest.mark.django_db

# Every /api/v1/ route and the test that covers its refusals. A new route fails this guard until it is
# added here *and* covered.
COVERED = {
    "parties": "relay/customers/tests/test_api.py::TestPartyAPI",
    "contact-points": "relay/customers/tests/test_api.py::TestContactPointAPI",
    "identifiers": "relay/customers/tests/test_api.py::TestIdentifierAPI",
    "relationships": "relay/customers/tests/test_api.py::TestRelationshipAPI",
    "interactions": "relay/activities/tests/test_api.py::TestInteractionAPI",
    "notes": "relay/activities/tests/test_api.py::TestNoteAPI",
    "attachments": "relay/activities/tests/test_api.py::test_attachment_refusals",
    "users": "relay/api/tests/test_api_surface.py::test_read_only_resources_refuse_anonymous",
    "departments": "relay/api/tests/test_api_surface.py::test_read_only_resources_refuse_anonymous",
    "openapi.json": "public schema",
    "docs": "public docs",
}


def _api_routes() -> set[str]:
    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                yield route

    roots = set()
    for route in walk(get_resolver().url_patterns):
        if route.startswith("api/v1/"):
            rest = route.removeprefix("api/v1/").lstrip("^")
            match = re.match(r"[\w.\-]+", rest)
            if match:
                roots.add(match.group(0))
    return roots


def test_every_api_route_is_in_the_access_matrix():
    assert _api_routes() == set(COVERED)


def test_generic_cases_exist_for_every_model_endpoint():
    from relay.activities.tests import test_api as activities
    from relay.customers.tests import test_api as customers

    endpoints = {
        cls.endpoint
        for module in (customers, activities)
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, APIViewTests) and cls is not APIViewTests
    }
    assert endpoints == {
        f"/api/v1/{r}/"
        for r in ("parties", "contact-points", "identifiers", "relationships", "interactions", "notes")
    }


def test_read_only_resources_refuse_anonymous(agent):
    for path in ("/api/v1/users/", "/api/v1/departments/", f"/api/v1/users/{agent.pk}/"):
        assert client_for(None).get(path).status_code == 401
        assert client_for(agent).get(path).status_code == 200


def test_healthz_answers_200_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_openapi_document_is_3_1_and_lists_the_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/parties/lookup/" in doc["paths"] and "/api/v1/parties/{id}/history/" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_interactive_docs_are_served_locally_under_the_csp(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html and "cdn." not in html and "unpkg" not in html
    assert "<script>" not in html.replace(" ", "")  # no inline script: the CSP forbids it
    script = client.get("/api/v1/docs?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
