"""The API as a whole: health, OpenAPI, docs, and a guard that every endpoint is in the access matrix."""

import pytest

from relay.core.testing.api import APITestBase, assert_problem, client_for

pytestmark = pytest.mark.django_db


def test_every_registered_endpoint_has_generic_test_cases():
    """Each router registration is covered by a subclass of the generic API test cases."""
    from relay.accounts.tests import test_api as accounts
    from relay.activities.tests import test_api as activities
    from relay.api.urls import router
    from relay.cases.tests import test_api as cases
    from relay.cases.tests import test_routing_api as routing
    from relay.cases.tests import test_sla_api as sla
    from relay.commerce.tests import test_api_generic as commerce
    from relay.customers.tests import test_api as customers
    from relay.notifications.tests import test_api as notifications

    covered = {
        cls.endpoint
        for module in (accounts, customers, activities, notifications, cases, routing, sla, commerce)
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, APITestBase) and getattr(cls, "endpoint", None)
    }
    assert covered == {f"/api/v1/{prefix}/" for prefix, _, _ in router.registry}


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


def test_head_answers_like_get_and_options_is_405(agent):
    client = client_for(agent)
    assert client.head("/api/v1/parties/").status_code == 200
    assert_problem(client.options("/api/v1/parties/"), 405)


def test_unknown_api_paths_are_problem_404s(agent):
    for path in ("/api/v1/", "/api/v1/nope", "/api/v1/parties/1/nope/", "/api/v1/../../etc/passwd"):
        response = client_for(agent).get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json", path


def test_every_error_in_the_openapi_document_is_a_problem(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (path, method, code)
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if method == "post":
                assert "Idempotency-Key" in headers, path
            if method in {"put", "patch", "delete"}:
                assert "If-Match" in headers and {"409", "412", "428"} <= set(operation["responses"]), path
