"""The deployed WSGI application: API calls with a bearer token take the short middleware stack, every
other request the whole one, and both answer with the same security headers."""

from __future__ import annotations

import pytest
from django.conf import settings

from relay.accounts.services import api_token_create
from relay.config.wsgi import application
from relay.core.handlers import is_token_request
from relay.core.testing.factories import ContactPointFactory
from relay.core.testing.wsgi import call, keeping_the_test_connection

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/parties/lookup/?phone=(415)%20555-0100"


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    with keeping_the_test_connection():
        yield


@pytest.fixture
def caller():
    return ContactPointFactory(kind="phone", raw="+1 415 555 0100", normalized="+14155550100").party


@pytest.fixture
def bearer(agent):
    return {"Authorization": f"Bearer {api_token_create(user=agent)[1]}"}


@pytest.fixture
def session_cookie(client, agent):
    client.force_login(agent)
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"}


def _security_headers(response):
    return {k: response.headers.get(k) for k in ("x-frame-options", "x-content-type-options")} | {
        "csp": bool(response.headers.get("content-security-policy"))
    }


def test_a_token_call_answers_with_the_same_headers_and_data_as_a_session_call(
    caller, bearer, session_cookie
):
    by_token = call(application, "GET", LOOKUP, headers=bearer)
    by_session = call(application, "GET", LOOKUP, headers=session_cookie)
    assert by_token.status == by_session.status == 200
    assert (
        by_token.json()
        == by_session.json()
        == [
            {
                "id": caller.pk,
                "kind": caller.kind,
                "display_name": caller.display_name,
                "lifecycle_stage": caller.lifecycle_stage,
                "phone": "+14155550100",
            }
        ]
    )
    assert _security_headers(by_token) == _security_headers(by_session)
    assert _security_headers(by_token) == {
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "csp": True,
    }
    assert "set-cookie" not in by_token.headers and "vary" not in by_token.headers  # no session touched


def test_a_wrong_token_is_refused_on_the_short_stack(caller):
    response = call(application, "GET", LOOKUP, headers={"Authorization": "Bearer not-a-token"})
    assert response.status == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_session_call_still_needs_its_csrf_token_and_a_token_call_does_not(bearer, session_cookie):
    body = {"data": "{}", "content_type": "application/json"}
    by_session = call(application, "POST", "/api/v1/parties/", headers=session_cookie, **body)
    assert by_session.status == 403  # CSRF, the whole stack
    assert "CSRF" in by_session.json()["detail"]
    by_token = call(application, "POST", "/api/v1/parties/", headers=bearer, **body)
    assert by_token.status == 400  # past authentication: the empty body's field errors
    assert by_token.json()["errors"]


def test_a_bearer_header_outside_the_api_takes_the_whole_stack(bearer):
    assert not is_token_request({"PATH_INFO": "/parties/", "HTTP_AUTHORIZATION": bearer["Authorization"]})
    assert is_token_request({"PATH_INFO": "/api/v1/parties/", "HTTP_AUTHORIZATION": "bearer x"})
    assert not is_token_request({"PATH_INFO": "/api/v1/parties/", "HTTP_AUTHORIZATION": "Basic eDp5"})
    response = call(application, "GET", "/parties/", headers=bearer)
    assert response.status == 302 and response.headers["location"] == "/login/?next=/parties/"
