"""Generic API test cases: every endpoint gets its CRUD tests *and* its refusals (after NetBox's
APIViewTestCases). A subclass names the endpoint and how to make, create, update and break a record:

    class TestNoteAPI(APIViewTests):
        endpoint = "/api/v1/notes/"
        model = TimelineEntry
        invalid_fields = ("body",)          # the fields invalid_data() gets wrong
        def make(self, ctx): ...            # an existing record, made through the services
        def create_data(self, ctx): ...     # a valid POST body
        def update_data(self, ctx): ...     # a valid PATCH body (without the version)
        def invalid_data(self, ctx): ...    # a POST body with errors on invalid_fields

Pick the parts an endpoint has: `ReadTests` (list/retrieve), `CreateTests`, `UpdateTests`, `DeleteTests`,
`ReadOnlyTests` (reads, and 405 for writes), or `APIViewTests` for all of them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import pytest
from rest_framework.test import APIClient

from relay.accounts.services import api_token_create
from relay.core.testing.queries import assert_flat_query_count, count_queries

PROBLEM = "application/problem+json"
STAFF_ROLES = ("agent", "other_agent", "supervisor", "manager", "admin", "auditor")
WRITER_ROLES = frozenset({"agent", "other_agent", "supervisor", "manager", "admin"})


def client_for(user: Any | None) -> APIClient:
    """An API client authenticated by a fresh bearer token of `user` (anonymous for None)."""
    client = APIClient()
    if user is not None:
        _, raw = api_token_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with `status` and errors on `fields`."""
    assert response.status_code == status, (response.status_code, getattr(response, "data", response.content))
    assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    body = response.json()
    assert body["status"] == status and body["title"]
    for field in fields:
        assert field in body.get("errors", {}), body
    return body


@contextmanager
def hidden_from_everyone(model: Any, pk: Any) -> Iterator[None]:
    """Pretend a confidential scope hides one record from every user: `restrict()` leaves it out."""
    from relay.accounts import permissions
    from relay.core import prepared

    label = model._meta.label_lower
    saved = permissions._scopes.get(label)
    base = saved or permissions._staff_scope

    def scope(qs: Any, user: Any, action: str) -> Any:
        return base(qs, user, action).exclude(pk=pk)

    permissions._scopes[label] = scope
    prepared.forget()  # plans compiled under the scope before
    try:
        yield
    finally:
        if saved is None:
            permissions._scopes.pop(label, None)
        else:
            permissions._scopes[label] = saved
        prepared.forget()


@pytest.mark.django_db
class APITestBase:
    endpoint: ClassVar[str]
    model: ClassVar[Any]
    # the model whose scope decides whether the record is visible (an attachment's is its entry's)
    scope_model: ClassVar[Any] = None
    max_list_queries: ClassVar[int] = 8
    max_detail_queries: ClassVar[int] = 8

    def make(self, ctx: dict[str, Any]) -> Any:
        raise NotImplementedError

    @pytest.fixture
    def ctx(
        self, agent, other_agent, supervisor, manager, admin_user, auditor, inactive_user, schemes
    ) -> dict[str, Any]:
        return {
            "agent": agent,
            "other_agent": other_agent,
            "supervisor": supervisor,
            "manager": manager,
            "admin": admin_user,
            "auditor": auditor,
            "inactive": inactive_user,
            "schemes": schemes,
        }

    def url(self, obj: Any = None) -> str:
        return self.endpoint if obj is None else f"{self.endpoint}{obj.pk}/"

    def hidden(self, obj: Any) -> Any:
        return hidden_from_everyone(self.scope_model or self.model, self.scope_pk(obj))

    def scope_pk(self, obj: Any) -> Any:
        return obj.pk

    def count(self) -> int:
        return self.model._default_manager.count()

    def ids(self, response: Any) -> list[Any]:
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]


class ReadTests(APITestBase):
    """List and retrieve, and who may not."""

    def test_anonymous_requests_are_refused_with_401(self, ctx):
        obj = self.make(ctx)
        for response in (APIClient().get(self.url()), APIClient().get(self.url(obj))):
            assert_problem(response, 401)
            assert response["WWW-Authenticate"].startswith("Bearer")

    def test_a_wrong_or_revoked_token_is_refused_with_401(self, ctx):
        from relay.accounts.models import ApiToken
        from relay.accounts.services import api_token_revoke

        obj = self.make(ctx)
        client = APIClient()
        for header in ("Bearer rly_not-a-token", "Bearer", "Bearer a b"):
            client.credentials(HTTP_AUTHORIZATION=header)
            assert_problem(client.get(self.url()), 401)
        token, raw = api_token_create(user=ctx["agent"])
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert client.get(self.url(obj)).status_code == 200
        api_token_revoke(token=ApiToken.objects.get(pk=token.pk))
        assert_problem(client.get(self.url()), 401)
        assert_problem(client.get(self.url(obj)), 401)

    def test_an_inactive_users_token_gets_401(self, ctx):
        self.make(ctx)
        user = ctx["other_agent"]
        client = client_for(user)
        user.is_active = False
        user.save()
        assert_problem(client.get(self.url()), 401)

    @pytest.mark.parametrize("role", STAFF_ROLES)
    def test_every_staff_role_lists_and_reads(self, ctx, role):
        obj = self.make(ctx)
        client = client_for(ctx[role])
        assert obj.pk in self.ids(client.get(self.url()))
        detail = client.get(self.url(obj))
        assert detail.status_code == 200 and detail.json()["id"] == obj.pk
        if "version" in detail.json():
            assert detail["ETag"] == f'"{detail.json()["version"]}"'

    def test_an_unknown_record_is_404(self, ctx):
        client = client_for(ctx["agent"])
        for pk in ("999999999", "not-a-number", "99999999999999999999999", "-1"):
            assert_problem(client.get(f"{self.endpoint}{pk}/"), 404)

    def test_a_record_outside_the_users_scope_is_404_and_not_listed(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["supervisor"])
        with self.hidden(obj):
            assert_problem(client.get(self.url(obj)), 404)
            assert obj.pk not in self.ids(client.get(self.url()))

    def test_list_query_count_does_not_grow_with_rows(self, ctx):
        client = client_for(ctx["agent"])
        assert_flat_query_count(
            lambda: client.get(self.url()),
            lambda n: [self.make(ctx) for _ in range(n)],
            at_most=self.max_list_queries,
        )

    def test_detail_query_count_is_pinned(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["agent"])
        client.get(self.url(obj))
        n, sql, response = count_queries(lambda: client.get(self.url(obj)))
        assert response.status_code == 200
        assert n <= self.max_detail_queries, "\n".join(sql)

    def test_a_bad_cursor_is_400(self, ctx):
        client = client_for(ctx["agent"])
        for cursor in ("forged", "WzEsMl0", "bnVsbA"):
            assert_problem(client.get(self.url(), {"cursor": cursor}), 400, "cursor")

    def test_pages_follow_the_cursor_without_gaps_or_repeats(self, ctx):
        made = {self.make(ctx).pk for _ in range(5)}
        client = client_for(ctx["agent"])
        seen: list[Any] = []
        url: str | None = f"{self.url()}?page_size=2"
        while url:
            body = client.get(url).json()
            seen += [row["id"] for row in body["results"]]
            url = body["next"]
        assert len(seen) == len(set(seen)) and made <= set(seen)


class ReadOnlyTests(ReadTests):
    """Reads only: every write method is a 405 problem."""

    def test_writes_are_405(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["admin"])
        assert_problem(client.post(self.url(), {}, format="json"), 405)
        for method in (client.put, client.patch, client.delete):
            assert_problem(method(self.url(obj), {"version": 1}, format="json"), 405)


class CreateTests(APITestBase):
    """POST: creation, bad input, refusals and Idempotency-Key."""

    invalid_fields: ClassVar[tuple[str, ...]] = ()

    def create_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def invalid_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def post(self, client: APIClient, data: Any, **extra: Any) -> Any:
        return client.post(self.url(), data, format="json", **extra)

    def test_create(self, ctx):
        data = self.create_data(ctx)
        before = self.count()
        response = self.post(client_for(ctx["agent"]), data)
        assert response.status_code == 201, response.json()
        assert response.json()["id"] and self.count() == before + 1
        if "version" in response.json():
            assert response["ETag"] == f'"{response.json()["version"]}"'

    def test_anonymous_create_is_401_and_writes_nothing(self, ctx):
        data = self.create_data(ctx)
        before = self.count()
        assert_problem(self.post(APIClient(), data), 401)
        assert self.count() == before

    def test_bad_input_is_400_with_field_errors_and_writes_nothing(self, ctx):
        data = self.invalid_data(ctx)
        before = self.count()
        assert_problem(self.post(client_for(ctx["agent"]), data), 400, *self.invalid_fields)
        assert self.count() == before

    def test_malformed_bodies_are_4xx_problems(self, ctx):
        client = client_for(ctx["agent"])
        for body, content_type in (
            ("{not json", "application/json"),
            ("[1, 2]", "application/json"),
            ("null", "application/json"),
            (b"\xff\xfe", "application/json"),
            ("a=b", "text/plain"),
        ):
            response = client.post(self.url(), body, content_type=content_type)
            assert 400 <= response.status_code < 500, (body, response.status_code)
            assert response["Content-Type"].startswith(PROBLEM)

    def test_auditors_cannot_create(self, ctx):
        data = self.create_data(ctx)
        before = self.count()
        assert_problem(self.post(client_for(ctx["auditor"]), data), 403)
        assert self.count() == before

    def test_idempotency_key_replays_instead_of_creating_twice(self, ctx):
        client = client_for(ctx["agent"])
        data = self.create_data(ctx)
        first = self.post(client, data, HTTP_IDEMPOTENCY_KEY="k-1")
        count = self.count()
        again = self.post(client, self.create_data_again(data), HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == 201 and again.status_code == 201
        assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
        assert again.get("ETag") == first.get("ETag")
        assert self.count() == count

    def test_idempotency_key_with_another_body_is_422_and_writes_nothing(self, ctx):
        client = client_for(ctx["agent"])
        self.post(client, self.create_data(ctx), HTTP_IDEMPOTENCY_KEY="k-2")
        other = {**self.create_data(ctx), "note_to_self": "another request"}
        count = self.count()
        assert_problem(self.post(client, other, HTTP_IDEMPOTENCY_KEY="k-2"), 422)
        assert self.count() == count

    def test_a_failed_request_does_not_use_up_its_idempotency_key(self, ctx):
        client = client_for(ctx["agent"])
        assert_problem(self.post(client, self.invalid_data(ctx), HTTP_IDEMPOTENCY_KEY="k-3"), 400)
        assert self.post(client, self.create_data(ctx), HTTP_IDEMPOTENCY_KEY="k-3").status_code == 201

    def test_idempotency_keys_belong_to_one_user(self, ctx):
        first, second = self.create_data(ctx), self.create_data(ctx)
        before = self.count()
        assert self.post(client_for(ctx["agent"]), first, HTTP_IDEMPOTENCY_KEY="k-4").status_code == 201
        response = self.post(client_for(ctx["supervisor"]), second, HTTP_IDEMPOTENCY_KEY="k-4")
        assert response.status_code == 201 and "Idempotent-Replayed" not in response
        assert self.count() == before + 2

    def create_data_again(self, data: dict[str, Any]) -> dict[str, Any]:
        """The same request once more (an upload's file must be rewound, for instance)."""
        return data


class UpdateTests(APITestBase):
    """PATCH and PUT with optimistic concurrency: If-Match (stale: 412), version (stale: 409), none: 428."""

    def update_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def test_update_with_if_match(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["agent"])
        etag = client.get(self.url(obj))["ETag"]
        response = client.patch(self.url(obj), self.update_data(ctx), format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 200, response.json()
        assert response.json()["version"] == obj.version + 1
        assert response["ETag"] == f'"{obj.version + 1}"'

    def test_put_with_a_version_field(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["agent"])
        response = client.put(self.url(obj), {**self.update_data(ctx), "version": obj.version}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["version"] == obj.version + 1

    def test_a_stale_if_match_is_412_with_the_current_state_and_changes_nothing(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["agent"])
        first = client.patch(self.url(obj), {**self.update_data(ctx), "version": obj.version}, format="json")
        assert first.status_code == 200, first.json()
        before = client.get(self.url(obj)).json()
        body = assert_problem(
            client.patch(
                self.url(obj), self.update_data(ctx), format="json", HTTP_IF_MATCH=f'"{obj.version}"'
            ),
            412,
        )
        assert body["current"]["version"] == obj.version + 1 == body["current_version"]
        assert client.get(self.url(obj)).json() == before

    def test_a_stale_version_field_is_409_with_the_current_state_and_changes_nothing(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["agent"])
        client.patch(self.url(obj), {**self.update_data(ctx), "version": obj.version}, format="json")
        before = client.get(self.url(obj)).json()
        body = assert_problem(
            client.put(self.url(obj), {**self.update_data(ctx), "version": obj.version}, format="json"), 409
        )
        assert body["current"]["id"] == obj.pk and body["current_version"] == obj.version + 1
        assert client.get(self.url(obj)).json() == before

    def test_a_write_without_a_version_is_428_and_changes_nothing(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["agent"])
        before = client.get(self.url(obj)).json()
        assert_problem(client.patch(self.url(obj), self.update_data(ctx), format="json"), 428, "version")
        star = client.put(self.url(obj), self.update_data(ctx), format="json", HTTP_IF_MATCH="*")
        assert_problem(star, 428)
        assert client.get(self.url(obj)).json() == before

    def test_a_malformed_version_is_400(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["agent"])
        for bad in ("three", True, -1, 1.5, [1], 2**40):
            response = client.patch(self.url(obj), {**self.update_data(ctx), "version": bad}, format="json")
            assert_problem(response, 400, "version")
        response = client.patch(self.url(obj), self.update_data(ctx), format="json", HTTP_IF_MATCH="v3")
        assert_problem(response, 400, "If-Match")

    def test_auditors_cannot_update(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["auditor"])
        body = {**self.update_data(ctx), "version": obj.version}
        assert_problem(client.patch(self.url(obj), body, format="json"), 403)
        assert_problem(client.put(self.url(obj), body, format="json"), 403)
        assert client.get(self.url(obj)).json()["version"] == obj.version

    def test_a_record_outside_the_users_scope_cannot_be_updated(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["supervisor"])
        with self.hidden(obj):
            body = {**self.update_data(ctx), "version": obj.version}
            assert_problem(client.patch(self.url(obj), body, format="json"), 404)
        assert client.get(self.url(obj)).json()["version"] == obj.version

    def test_update_query_count_is_pinned(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["agent"])
        client.get(self.url(obj))
        body = {**self.update_data(ctx), "version": obj.version}
        n, sql, response = count_queries(lambda: client.patch(self.url(obj), body, format="json"))
        assert response.status_code == 200, response.json()
        assert n <= self.max_detail_queries * 4, "\n".join(sql)


class DeleteTests(APITestBase):
    """DELETE with optimistic concurrency, and who may."""

    deleters: ClassVar[Collection[str]] = WRITER_ROLES

    @pytest.mark.parametrize("role", ["agent", "other_agent", "supervisor", "auditor"])
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

    def test_a_stale_delete_is_refused_and_deletes_nothing(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["supervisor"])
        stale = obj.version + 7
        assert_problem(client.delete(self.url(obj), HTTP_IF_MATCH=f'"{stale}"'), 412)
        assert_problem(client.delete(self.url(obj), {"version": stale}, format="json"), 409)
        assert_problem(client.delete(f"{self.url(obj)}?version={stale}"), 409)
        assert_problem(client.delete(self.url(obj)), 428)
        assert client.get(self.url(obj)).status_code == 200
        assert client.delete(f"{self.url(obj)}?version={obj.version}").status_code == 204

    def test_a_record_outside_the_users_scope_cannot_be_deleted(self, ctx):
        obj = self.make(ctx)
        client = client_for(ctx["admin"])
        with self.hidden(obj):
            assert_problem(client.delete(self.url(obj), HTTP_IF_MATCH=f'"{obj.version}"'), 404)
        assert client.get(self.url(obj)).status_code == 200


class APIViewTests(ReadTests, CreateTests, UpdateTests, DeleteTests):
    """Everything an editable record's endpoint must do and refuse."""
