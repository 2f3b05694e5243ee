"""The customer-file endpoints: generic CRUD and refusals, plus lookup, search, filters, history."""

from itertools import count
from typing import Any

import pytest

from relay.core.testing.api import APIViewTests, assert_problem, client_for
from relay.core.testing.queries import assert_flat_query_count
from relay.customers import services
from relay.customers.models import ContactPoint, ExternalIdentifier, Party, Relationship
from relay.customers.services import ContactInput, IdentifierInput, PartyInput

pytestmark = pytest.mark.django_db
_unique = count(1000)


def new_party(actor, n: int = 0, **extra: Any) -> Party:
    return services.party_create(
        actor=actor,
        data=PartyInput(
            given_name="Ada",
            family_name=f"Lovelace {n}",
            roles=["customer"],
            tags=["vip"],
            contact_points=[
                ContactInput(kind="phone", raw=f"+1 415 555 {n:04d}"),
                ContactInput(kind="email", raw=f"ada{n}@example.com"),
            ],
            **extra,
        ),
    )


class TestPartyAPI(APIViewTests):
    endpoint = "/api/v1/parties/"
    model = Party
    deleters = {"supervisor", "manager", "admin"}
    invalid_fields = ("kind", "roles.0")

    def make(self, ctx):
        return new_party(ctx["agent"], Party.objects.count() + 1)

    def create_data(self, ctx):
        return {
            "kind": "organisation",
            "organisation_name": "Acme Ltd",
            "roles": ["prospect"],
            "contact_points": [{"kind": "phone", "raw": "(415) 555-0199"}],
            "identifiers": [{"scheme": "account", "value": f"ACC-{next(_unique)}"}],
        }

    def update_data(self, ctx):
        return {"about": "Prefers e-mail", "tags": ["vip", "fibre"]}

    def invalid_data(self, ctx):
        return {"kind": "alien", "roles": ["emperor"]}


class TestContactPointAPI(APIViewTests):
    endpoint = "/api/v1/contact-points/"
    model = ContactPoint
    invalid_fields = ("kind",)

    def make(self, ctx):
        party = new_party(ctx["agent"], Party.objects.count() + 1)
        return party.contact_points.get(kind="email")

    def create_data(self, ctx):
        party = new_party(ctx["agent"], next(_unique))
        return {"party": party.pk, "kind": "phone", "raw": "0044 20 7946 0958"}

    def update_data(self, ctx):
        return {"label": "work"}

    def invalid_data(self, ctx):
        return {"party": new_party(ctx["agent"], 901).pk, "kind": "pigeon"}


class TestIdentifierAPI(APIViewTests):
    endpoint = "/api/v1/identifiers/"
    model = ExternalIdentifier
    invalid_fields = ("scheme",)

    def make(self, ctx):
        party = new_party(ctx["agent"], Party.objects.count() + 1)
        return services.identifier_create(
            actor=ctx["agent"], party=party, scheme="account", value=f"ACC-{party.pk}"
        )

    def create_data(self, ctx):
        n = next(_unique)
        return {"party": new_party(ctx["agent"], n).pk, "scheme": "account", "value": f"ACC-{n}"}

    def update_data(self, ctx):
        return {"value": f"ACC-NEW-{ExternalIdentifier.objects.count()}-{Party.objects.count()}"}

    def invalid_data(self, ctx):
        return {"party": new_party(ctx["agent"], 901).pk, "scheme": "not a slug!", "value": "1"}


class TestRelationshipAPI(APIViewTests):
    endpoint = "/api/v1/relationships/"
    model = Relationship
    invalid_fields = ("person",)

    def make(self, ctx):
        n = Party.objects.count() + 1
        org = services.party_create(
            actor=ctx["agent"], data=PartyInput(kind="organisation", organisation_name=f"Org {n}")
        )
        return services.relationship_create(
            actor=ctx["agent"], person=new_party(ctx["agent"], n), organisation=org, job_title="CTO"
        )

    def create_data(self, ctx):
        org = services.party_create(
            actor=ctx["agent"], data=PartyInput(kind="organisation", organisation_name="Acme")
        )
        person = new_party(ctx["agent"], next(_unique))
        return {"person": person.pk, "organisation": org.pk, "job_title": "Buyer"}

    def update_data(self, ctx):
        return {"job_title": "Head of Purchasing"}

    def invalid_data(self, ctx):
        return {"person": "nobody", "organisation": 1}


# --- beyond CRUD -------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["+1 415-555-0100", "(415) 555 0100", "0014155550100"])
def test_caller_lookup_in_any_format(agent, typed):
    ada = new_party(agent, 100)
    response = client_for(agent).get("/api/v1/parties/lookup/", {"phone": typed})
    assert response.status_code == 200 and [p["id"] for p in response.json()] == [ada.pk]


def test_caller_lookup_needs_a_number(agent):
    assert_problem(client_for(agent).get("/api/v1/parties/lookup/"), 400, "phone")


def test_search_finds_by_name_email_and_phone(agent):
    ada = new_party(agent, 7)
    client = client_for(agent)
    for q in ("lovel", "ada7@example.com", "415 555 0007"):
        assert [p["id"] for p in client.get("/api/v1/parties/search/", {"q": q}).json()] == [ada.pk]
    assert_problem(client.get("/api/v1/parties/search/", {"q": "x", "limit": "lots"}), 400, "limit")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"role": "emperor"}, "role"),
        ({"stage": "reborn"}, "stage"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"owner": "abc"}, "owner"),
    ],
)
def test_bad_filters_are_400_with_the_field(agent, params, field):
    assert_problem(client_for(agent).get("/api/v1/parties/", params), 400, field)


def test_filters_and_ordering(agent):
    a, b = new_party(agent, 1), new_party(agent, 2)
    services.party_update(actor=agent, party=b, expected_version=b.version, changes={}, roles=["prospect"])
    client = client_for(agent)
    assert [p["id"] for p in client.get("/api/v1/parties/", {"role": "prospect"}).json()["results"]] == [b.pk]
    assert [
        p["id"] for p in client.get("/api/v1/parties/", {"phone": "(415) 555-0001"}).json()["results"]
    ] == [a.pk]
    assert [p["id"] for p in client.get("/api/v1/parties/", {"ordering": "-name"}).json()["results"]] == [
        b.pk,
        a.pk,
    ]
    # only the allow-listed orderings: anything else is refused before it could reach order_by()
    for bad in ("password", "-id", "name_key", "owner__password"):
        assert_problem(client.get("/api/v1/parties/", {"ordering": bad}), 400, "ordering")


def test_list_pages_by_cursor(agent):
    made = [new_party(agent, n) for n in range(5)]
    client = client_for(agent)
    seen, url = [], "/api/v1/parties/?page_size=2"
    while url:
        body = client.get(url).json()
        seen += [p["id"] for p in body["results"]]
        url = body["next"]
    assert seen == [p.pk for p in sorted(made, key=lambda p: (p.name_key, p.pk))]


def test_sensitive_identifiers_are_masked_for_agents_everywhere(agent, supervisor, schemes):
    party = new_party(agent, 3, identifiers=[IdentifierInput(scheme="tax_id", value="TX-123456")])
    for user, expected in ((agent, "•••••3456"), (supervisor, "TX-123456")):
        client = client_for(user)
        detail = client.get(f"/api/v1/parties/{party.pk}/").json()
        assert [i["value"] for i in detail["identifiers"]] == [expected]
        listed = client.get("/api/v1/identifiers/", {"party": party.pk}).json()["results"]
        assert [i["value"] for i in listed] == [expected]
        history = client.get(f"/api/v1/parties/{party.pk}/history/").json()
        values = [c["new"] for r in history for c in r["changes"] if c["field"] == "value"]
        assert values == [expected]


def test_history_shows_who_when_where_and_before_after(agent, supervisor):
    party = new_party(agent, 4)
    client = client_for(supervisor)
    client.patch(f"/api/v1/parties/{party.pk}/", {"about": "VIP since 2020", "version": 1}, format="json")
    records = client_for(agent).get(f"/api/v1/parties/{party.pk}/history/").json()
    latest = records[0]
    assert (latest["type"], latest["user"], latest["origin"]) == ("changed", supervisor.pk, "api")
    assert {"field": "about", "old": None, "new": "VIP since 2020"} in latest["changes"]
    assert any(r["model"] == "contact point" and r["type"] == "created" for r in records)


def test_lifecycle_endpoint_starts_a_new_cycle(agent):
    party = new_party(agent, 5, lifecycle_stage="use")
    client = client_for(agent)
    response = client.post(
        f"/api/v1/parties/{party.pk}/lifecycle/",
        {"stage": "consider", "new_cycle": True, "version": party.version},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["lifecycle_stage"], response.json()["lifecycle_cycle"]) == ("consider", 2)


def test_detail_query_count_is_fixed(agent, django_assert_max_num_queries):
    party = new_party(agent, 6)
    client = client_for(agent)
    with django_assert_max_num_queries(12):
        assert client.get(f"/api/v1/parties/{party.pk}/").status_code == 200


def test_session_auth_works_for_the_ui(agent, client):
    client.force_login(agent)
    assert client.get("/api/v1/parties/").status_code == 200


def test_users_and_departments_are_read_only(agent, departments):
    client = client_for(agent)
    assert client.get("/api/v1/departments/").status_code == 200
    assert client.get("/api/v1/users/").status_code == 200
    assert client.post("/api/v1/departments/", {"name": "X"}, format="json").status_code == 405
    assert client.patch(f"/api/v1/users/{agent.pk}/", {"role": "admin"}, format="json").status_code == 405


def test_idempotency_key_with_another_body_is_422(agent):
    client = client_for(agent)
    client.post("/api/v1/parties/", {"family_name": "One"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert_problem(
        client.post("/api/v1/parties/", {"family_name": "Two"}, format="json", HTTP_IDEMPOTENCY_KEY="same"),
        422,
    )
    assert Party.objects.count() == 1


# --- query-count pins beyond the generic list and detail ---------------------------------------------


def test_detail_query_count_does_not_grow_with_the_file(agent, schemes):
    party = new_party(agent, 8)
    org = services.party_create(actor=agent, data=PartyInput(kind="organisation", organisation_name="Org"))
    services.relationship_create(actor=agent, person=party, organisation=org)
    client = client_for(agent)
    made = iter(range(10_000))

    def add(n):
        for _ in range(n):
            i = next(made)
            services.contact_point_create(
                actor=agent, party=party, data=ContactInput(kind="email", raw=f"extra{i}@example.com")
            )
            services.identifier_create(actor=agent, party=party, scheme="tax_id", value=f"TX-{i:06d}")
            colleague = new_party(agent, 2000 + i)
            services.relationship_create(actor=agent, person=colleague, organisation=org)
            services.relationship_create(
                actor=agent,
                person=party,
                organisation=services.party_create(
                    actor=agent, data=PartyInput(kind="organisation", organisation_name=f"Employer {i}")
                ),
            )

    assert_flat_query_count(lambda: client.get(f"/api/v1/parties/{party.pk}/"), add, at_most=14)


def test_history_query_count_does_not_grow_with_the_changes(agent, schemes):
    party = new_party(agent, 9)
    org = services.party_create(actor=agent, data=PartyInput(kind="organisation", organisation_name="Org"))
    services.relationship_create(actor=agent, person=party, organisation=org, job_title="CTO")
    client = client_for(agent)
    made = iter(range(10_000))

    def add(n):
        from relay.activities import services as timeline

        for _ in range(n):
            i = next(made)
            current = Party.objects.get(pk=party.pk)
            services.party_update(
                actor=agent, party=current, expected_version=current.version, changes={"about": f"v{i}"}
            )
            services.identifier_create(actor=agent, party=party, scheme="tax_id", value=f"TX-{i:06d}")
            timeline.note_add(actor=agent, party=party, body=f"note {i}")

    assert_flat_query_count(lambda: client.get(f"/api/v1/parties/{party.pk}/history/"), add, at_most=20)


def test_search_and_lookup_query_counts_do_not_grow_with_matches(agent):
    client = client_for(agent)

    def add(n):
        for _ in range(n):
            new_party(agent, 0)  # every one has the number +1 415 555 0000 and the name Lovelace

    assert_flat_query_count(
        lambda: client.get("/api/v1/parties/lookup/", {"phone": "(415) 555-0000"}), add, at_most=6
    )
    assert_flat_query_count(
        lambda: client.get("/api/v1/parties/search/", {"q": "lovelace", "limit": 50}), add, at_most=10
    )


def test_history_shows_the_newest_changes_of_a_long_file(agent):
    from relay.activities import services as timeline

    party = new_party(agent, 10)
    for i in range(30):
        timeline.note_add(actor=agent, party=party, body=f"note {i}")
    current = Party.objects.get(pk=party.pk)
    services.party_update(
        actor=agent, party=current, expected_version=current.version, changes={"about": "last"}
    )
    from relay.activities.selectors import party_history

    records = party_history(actor=agent, party=party, limit=10)
    assert len(records) == 10
    assert records[0].model == "party" and records[0].type == "changed"
    assert [c.field for c in records[0].changes] == ["about"]
    assert {"note 29", "note 21"} <= {c.new for r in records for c in r.changes if c.field == "body"}


def test_history_survives_a_deleted_organisation(agent, supervisor):
    person = new_party(agent, 11)
    org = services.party_create(
        actor=agent, data=PartyInput(kind="organisation", organisation_name="Gone Ltd")
    )
    services.relationship_create(actor=agent, person=person, organisation=org, job_title="CTO")
    services.party_delete(actor=supervisor, party=Party.objects.get(pk=org.pk), expected_version=org.version)
    response = client_for(agent).get(f"/api/v1/parties/{person.pk}/history/")
    assert response.status_code == 200
    relationship_rows = [r for r in response.json() if r["model"] == "relationship"]
    assert [r["type"] for r in relationship_rows] == ["deleted", "created"]
    assert all(r["object"].startswith("relationship #") for r in relationship_rows)


def test_a_conflicts_current_state_masks_sensitive_identifiers_too(agent, schemes):
    party = new_party(agent, 12, identifiers=[IdentifierInput(scheme="tax_id", value="TX-987654")])
    identifier = party.identifiers.get()
    client = client_for(agent)
    url = f"/api/v1/identifiers/{identifier.pk}/"
    assert client.patch(url, {"value": "TX-111111", "version": 1}, format="json").status_code == 200
    body = assert_problem(client.patch(url, {"value": "TX-222222", "version": 1}, format="json"), 409)
    assert body["current"]["value"] == "•••••1111"
    stale = client.patch(url, {"value": "TX-222222"}, format="json", HTTP_IF_MATCH='"1"')
    assert assert_problem(stale, 412)["current"]["value"] == "•••••1111"
