"""A generic API test base: each endpoint gets its CRUD tests *and* its refusals (after NetBox's
APIViewTestCases). A subclass names the endpoint and how to make, create, update and break a record."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from relay.accounts.services import api_token_create

PROBLEM = "application/problem+json"


def client_for(user: Any | None) -> APIClient:
    client = APIClient()
    if user is not None:
        _, raw = api_token_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, getattr(response, "data", response.content))
    assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    body = response.json()
    assert body["status"] == status and body["title"]
    for field in fields:
        assert field in body.get("errors", {}), body
    return body


@pytest.mark.django_db
class APIViewTests(ABC):
    endpoint: ClassVar[str]
    model: ClassVar[Any]
    # roles allowed to create/update and to delete; everyone on staff reads
    writers: ClassVar[set[str]] = {"agent", "supervisor", "manager", "admin"}
    deleters: ClassVar[set[str]] = {"agent", "supervisor", "manager", "admin"}
    invalid_fields: ClassVar[tuple[str, ...]] = ()
    max_list_queries: ClassVar[int] = 8

    # --- to implement ----------------------------------------------------------------------------------
    @abstractmethod
    def make(self, ctx: dict[str, Any]) -> Any: ...

    @abstractmethod
    def create_data(self, ctx: dict[str, Any]) -> dict[str, Any]: ...

    @abstractmethod
    def update_data(self, ctx: dict[str, Any]) -> dict[str, Any]: ...

    @abstractmethod
    def invalid_data(self, ctx: dict[str, Any]) -> dict[str, Any]: ...

    def create_kwargs(self) -> dict[str, Any]:
        return {"format": "json"}

    # --- fixtures --------------------------------------------------------------------------------------
    @pytest.fixture
    def ctx(self, agent, other_agent, supervisor, manager, admin_user, auditor, schemes) -> dict[str, Any]:
        return {
            "agent": agent,
            "other_agent": other_agent,
            "supervisor": supervisor,
            "manager": manager,
            "admin": admin_user,
            "auditor": auditor,
            "schemes": schemes,
        }

    def url(self, obj: Any = None) -> str:
        return self.endpoint if obj is None else f"{self.endpoint}{obj.pk}/"

    # --- reads -----------------------------------------------------------------------------------------
    def test_anonymous_requests_are_refused_with_401(self, ctx):
        obj = self.make(ctx)
        for response in (APIClient().get(self.url()), APIClient().get(self.url(obj))):
            assert_problem(response, 401)
            assert response["WWW-Authenticate"].startswith("Bearer")

    def test_a_wrong_or_revoked_token_is_refused_with_401(self, ctx):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer rly_not-a-token")
        assert_problem(client.get(self.url()), 401)
        from relay.accounts.models import ApiToken
        from relay.accounts.services import api_token_revoke

        token, raw = api_token_create(user=ctx["agent"])
        api_token_revoke(token=ApiToken.objects.get(pk=token.pk))
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert_problem(client.get(self.url()), 401)

    def test_an_inactive_user_gets_nothing(self, ctx):
        self.make(ctx)
        user = ctx["other_agent"]
        client = client_for(user)
        user.is_active = False
        user.save()
        assert client.get(self.url()).status_code == 401

    @pytest.mark.parametrize("role", ["agent", "other_agent", "supervisor", "auditor"])
    def test_every_staff_role_lists_and_reads(self, ctx, role):
        obj = self.make(ctx)
        client = client_for(ctx[role])
        listing = client.get(self.url())
        assert listing.status_code == 200
        assert obj.pk in [row["id"] for row in listing.json()["results"]]
        detail = client.get(self.url(obj))
        assert detail.status_code == 200 and detail.json()["id"] == obj.pk
        if "version" in detail.json():
            assert detail["ETag"] == f'"{detail.json()["version"]}"'

    def test_an_unknown_record_is_404(self, ctx):
        client = client_for(ctx["agent"])
        assert_problem(client.get(f"{self.endpoint}999999999/"), 404)
        assert_problem(client.get(f"{self.endpoint}not-a-number/"), 404)

    def test_list_query_count_does_not_grow_with_rows(self, ctx):
        client = client_for(ctx["agent"])
        self.make(ctx)
        client.get(self.url())  # the token's first use is recorded once; don't count it
        with CaptureQueriesContext(connection) as few:
            assert client.get(self.url()).status_code == 200
        for _ in range(6):
            self.make(ctx)
        with CaptureQueriesContext(connection) as many:
            assert client.get(self.url()).status_code == 200
        assert len(many) == len(few) <= self.max_list_queries, [q["sql"] for q in many.captured_queries]

    def test_a_bad_cursor_is_400(self, ctx):
        assert_problem(client_for(ctx["agent"]).get(self.url(), {"cursor": "forged"}), 400, "cursor")

    # --- writes ----------------------------------------------------------------------------------------
    def test_create(self, ctx):
        response = client_for(ctx["agent"]).post(self.url(), self.create_data(ctx), **self.create_kwargs())
        assert response.status_code == 201, response.json()
        assert response.json()["id"]

    def test_bad_input_is_400_with_field_errors_and_writes_nothing(self, ctx):
        data = self.invalid_data(ctx)
        model_count = self._count()
        response = client_for(ctx["agent"]).post(self.url(), data, **self.create_kwargs())
        assert_problem(response, 400, *self.invalid_fields)
        assert self._count() == model_count

    def test_malformed_json_is_400(self, ctx):
        response = client_for(ctx["agent"]).post(self.url(), "{not json", content_type="application/json")
        assert response.status_code in (400, 415)
        assert response["Content-Type"].startswith(PROBLEM)

    def test_auditors_cannot_write(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["auditor"])
        assert_problem(client.post(self.url(), self.create_data(ctx), **self.create_kwargs()), 403)
        if hasattr(obj, "version"):
            assert_problem(
                client.patch(self.url(obj), {**self.update_data(ctx), "version": obj.version}, format="json"),
                403,
            )
            assert_problem(client.delete(self.url(obj), {"version": obj.version}, format="json"), 403)

    def test_update_with_if_match(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["agent"])
        etag = client.get(self.url(obj))["ETag"]
        response = client.patch(self.url(obj), self.update_data(ctx), format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 200, response.json()
        assert response.json()["version"] == obj.version + 1
        assert response["ETag"] == f'"{obj.version + 1}"'

    def test_a_stale_if_match_is_412_with_the_current_state_and_changes_nothing(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["agent"])
        assert (
            client.patch(
                self.url(obj), {**self.update_data(ctx), "version": obj.version}, format="json"
            ).status_code
            == 200
        )
        before = client.get(self.url(obj)).json()
        body = assert_problem(
            client.patch(
                self.url(obj), self.update_data(ctx), format="json", HTTP_IF_MATCH=f'"{obj.version}"'
            ),
            412,
        )
        assert body["current"]["version"] == obj.version + 1
        assert client.get(self.url(obj)).json() == before

    def test_a_stale_version_field_is_409_with_the_current_state(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["agent"])
        client.patch(self.url(obj), {**self.update_data(ctx), "version": obj.version}, format="json")
        body = assert_problem(
            client.patch(self.url(obj), {**self.update_data(ctx), "version": obj.version}, format="json"), 409
        )
        assert body["current"]["id"] == obj.pk and body["current_version"] == obj.version + 1

    def test_a_write_without_a_version_is_428(self, ctx):
        obj = self.make(ctx)
        assert_problem(
            client_for(ctx["agent"]).patch(self.url(obj), self.update_data(ctx), format="json"), 428
        )

    @pytest.mark.parametrize("role", ["agent", "supervisor"])
    def test_delete(self, ctx, role):
        obj = self.make(ctx)
        client = client_for(ctx[role])
        response = client.delete(self.url(obj), HTTP_IF_MATCH=f'"{obj.version}"')
        if role in self.deleters:
            assert response.status_code == 204
            assert_problem(client.get(self.url(obj)), 404)
        else:
            assert_problem(response, 403)
            assert client.get(self.url(obj)).status_code == 200

    def test_idempotency_key_replays_instead_of_creating_twice(self, ctx):
        client = client_for(ctx["agent"])
        data = self.create_data(ctx)
        first = client.post(self.url(), data, HTTP_IDEMPOTENCY_KEY="k-1", **self.create_kwargs())
        count = self._count()
        again = client.post(self.url(), data, HTTP_IDEMPOTENCY_KEY="k-1", **self.create_kwargs())
        assert first.status_code == 201 and again.status_code == 201
        assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
        assert self._count() == count

    def _count(self) -> int:
        return self.model._default_manager.count()
