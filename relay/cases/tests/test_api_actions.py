"""Every workflow action of /api/v1/cases/{id}/<action>, the calls and bulk endpoints, the case timeline,
and their refusals: 401, 403 (auditors), 404 (outside the scope), 400 (bad input), 409/412/428."""

import pytest

from relay.activities import services as timeline
from relay.activities.services import InteractionInput
from relay.cases import services
from relay.cases.models import Case, CaseEvent, CaseLink, CaseWatcher
from relay.cases.tests.factories import CaseStatusFactory, status_of
from relay.core.testing.api import PROBLEM, assert_problem, client_for
from relay.core.testing.factories import PartyFactory
from relay.customers import services as customers
from relay.customers.models import Party
from relay.customers.services import ContactInput, PartyInput

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"


def act(client, case, action, body=None, **headers):
    return client.post(f"{URL}{case.pk}/{action}/", body or {}, format="json", **headers)


def fresh(case):
    return Case.objects.get(pk=case.pk)


def kinds(case):
    return list(CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("kind", flat=True))


# --- each action ----------------------------------------------------------------------------------------


def test_assign_gives_the_case_to_a_member_and_answers_with_the_new_etag(open_case, tech_agent):
    case = open_case()
    response = act(client_for(tech_agent), case, "assign", {"assignee": tech_agent.pk, "version": 1})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["assignee"], body["assignee_name"], body["status_category"]) == (
        tech_agent.pk,
        tech_agent.display_name,
        "open",
    )
    assert body["version"] == 2 and response["ETag"] == '"2"'
    assert kinds(case) == ["created", "assigned"]


def test_assign_back_to_the_queue_and_to_someone_outside_the_department(open_case, tech_agent, other_agent):
    case = open_case(assignee=tech_agent)
    client = client_for(tech_agent)
    assert_problem(act(client, case, "assign", {"assignee": other_agent.pk, "version": 1}), 400, "assignee")
    assert_problem(act(client, case, "assign", {"assignee": 999999, "version": 1}), 400, "assignee")
    response = act(client, case, "assign", {"assignee": None, "version": 1})
    assert response.status_code == 200 and response.json()["assignee"] is None


def test_acknowledge(open_case, tech_agent):
    case = open_case()
    response = act(client_for(tech_agent), case, "acknowledge", {"note": "On it", "version": 1})
    assert response.status_code == 200
    assert response.json()["acknowledged_at"] and response.json()["status_category"] == "open"
    assert CaseEvent.objects.get(case=case, kind="acknowledged").note == "On it"


def test_transfer_needs_a_reason_and_a_note(open_case, tech_agent, billing):
    case = open_case()
    client = client_for(tech_agent)
    assert_problem(
        act(client, case, "transfer", {"department": billing.pk, "version": 1}), 400, "reason", "note"
    )
    blank = {"department": billing.pk, "reason": " ", "note": "", "version": 1}
    assert_problem(act(client, case, "transfer", blank), 400, "reason", "note")
    assert fresh(case).department_id != billing.pk
    body = {"department": billing.pk, "reason": "Not technical", "note": "Check the bill", "version": 1}
    response = act(client, case, "transfer", body)
    assert response.status_code == 200 and response.json()["department"] == billing.pk
    event = CaseEvent.objects.get(case=case, kind="transferred")
    assert (event.reason, event.note, event.to_department_id) == (
        "Not technical",
        "Check the bill",
        billing.pk,
    )
    assert_problem(
        act(client, case, "transfer", {**body, "department": 999999, "version": 2}), 400, "department"
    )


def test_notes_internal_and_for_the_customer_leave_the_version_alone(open_case, tech_agent):
    case = open_case()
    client = client_for(tech_agent)
    internal = act(client, case, "notes", {"body": "Line looks fine"})
    public = act(client, case, "notes", {"body": "We are on it", "visibility": "customer"})
    assert internal.status_code == 201 and public.status_code == 201
    assert (internal.json()["kind"], internal.json()["visibility"]) == ("note_added", "internal")
    assert public.json()["visibility"] == "customer" and public.json()["note"] == "We are on it"
    assert fresh(case).version == 1
    assert_problem(act(client, case, "notes", {"body": "  "}), 400, "body")
    assert_problem(act(client, case, "notes", {"body": "x", "visibility": "everyone"}), 400, "visibility")


def test_log_interaction_links_a_call_of_the_same_customer_only(open_case, tech_agent, party):
    case = open_case()
    call = timeline.interaction_log(actor=tech_agent, party=party, data=InteractionInput(channel="phone"))
    elsewhere = timeline.interaction_log(
        actor=tech_agent, party=PartyFactory(), data=InteractionInput(channel="email")
    )
    client = client_for(tech_agent)
    assert_problem(act(client, case, "log-interaction", {"interaction": elsewhere.pk}), 400, "interaction")
    assert_problem(act(client, case, "log-interaction", {"interaction": 999999}), 400, "interaction")
    response = act(client, case, "log-interaction", {"interaction": call.pk})
    assert response.status_code == 201 and response.json()["entry"] == call.pk
    call.refresh_from_db()
    assert call.case_id == case.pk
    assert_problem(act(client, case, "log-interaction", {"interaction": call.pk}), 400, "interaction")


def test_request_update(open_case, agent):
    case = open_case()
    response = act(client_for(agent), case, "request-update", {"note": "Any news?"})
    assert response.status_code == 201 and response.json()["kind"] == "update_requested"
    assert fresh(case).version == 1


def test_status_moves_between_open_statuses_but_not_to_resolved(open_case, tech_agent):
    case = open_case()
    client = client_for(tech_agent)
    waiting = status_of("waiting_customer")
    response = act(client, case, "status", {"status": waiting.pk, "version": 1})
    assert response.status_code == 200 and response.json()["status_category"] == "waiting_customer"
    assert_problem(
        act(client, case, "status", {"status": status_of("resolved").pk, "version": 2}), 400, "status"
    )
    assert_problem(act(client, case, "status", {"status": 999999, "version": 2}), 400, "status")
    inactive = CaseStatusFactory(is_active=False)
    assert_problem(act(client, case, "status", {"status": inactive.pk, "version": 2}), 400, "status")


def test_resolve_close_and_reopen(open_case, tech_agent):
    case = open_case()
    client = client_for(tech_agent)
    bad = {"resolution_code": "magic", "resolution_summary": "", "version": 1}
    assert_problem(act(client, case, "resolve", bad), 400, "resolution_code")
    no_summary = {"resolution_code": "solved", "resolution_summary": " ", "version": 1}
    assert_problem(act(client, case, "resolve", no_summary), 400, "resolution_summary")
    resolved = act(client, case, "resolve", {**no_summary, "resolution_summary": "Line reset", "version": 1})
    assert resolved.status_code == 200 and resolved.json()["status_category"] == "resolved"
    closed = act(client, case, "close", {"version": 2})
    assert closed.status_code == 200 and closed.json()["status_category"] == "closed"
    assert_problem(act(client, case, "close", {"version": 3}), 400)  # already closed
    assert_problem(act(client, case, "reopen", {"reason": "", "version": 3}), 400, "reason")
    reopened = act(client, case, "reopen", {"reason": "Fails again", "version": 3})
    assert reopened.status_code == 200
    assert (reopened.json()["status_category"], reopened.json()["reopened_count"]) == ("open", 1)
    assert kinds(case)[-3:] == ["resolved", "closed", "reopened"]


def test_follow_up_opens_a_linked_case(open_case, tech_agent, billing):
    case = open_case()
    response = act(client_for(tech_agent), case, "follow-up", {"subject": "Again", "department": billing.pk})
    assert response.status_code == 201, response.json()
    new = response.json()
    assert new["id"] != case.pk and new["party"] == case.party_id and new["department"] == billing.pk
    assert new["links"] == [
        {
            "id": new["links"][0]["id"],
            "kind": "follow_up",
            "related": case.pk,
            "related_number": case.number,
            "created_at": new["links"][0]["created_at"],
        }
    ]
    assert response["ETag"] == '"1"'
    assert_problem(act(client_for(tech_agent), case, "follow-up", {"subject": ""}), 400, "subject")


def test_merge_a_duplicate_into_the_case_that_stays(open_case, tech_supervisor, tech_agent, party):
    keep, dup = open_case(), open_case(subject="Cannot call (again)")
    elsewhere = open_case(party=PartyFactory())
    agent_client, lead = client_for(tech_agent), client_for(tech_supervisor)
    assert_problem(act(agent_client, dup, "merge", {"target": keep.pk, "version": 1}), 403)
    assert_problem(act(lead, dup, "merge", {"target": elsewhere.pk, "version": 1}), 400, "target")
    assert_problem(act(lead, dup, "merge", {"target": 999999, "version": 1}), 400, "target")
    assert_problem(act(lead, dup, "merge", {"target": keep.pk, "target_version": 7, "version": 1}), 409)
    response = act(lead, dup, "merge", {"target": keep.pk, "reason": "Same line", "version": 1})
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == keep.pk and response.json()["version"] == 2
    merged = client_for(tech_agent).get(f"{URL}{dup.pk}/").json()
    assert (merged["merged_into"], merged["merged_into_number"]) == (keep.pk, keep.number)
    assert merged["status_category"] == "closed"


def test_watch_and_unwatch_users_departments_and_oneself(open_case, tech_agent, other_agent, billing):
    case = open_case()
    client = client_for(tech_agent)
    assert act(client, case, "watch").status_code == 200
    assert act(client, case, "watch", {"department": billing.pk}).status_code == 200
    response = act(client, case, "watch", {"user": other_agent.pk})
    names = {(w["user"], w["department"]) for w in response.json()["watchers"]}
    assert names == {(tech_agent.pk, None), (None, billing.pk), (other_agent.pk, None)}
    assert response.json()["version"] == 1  # watchers leave the version alone
    assert act(client, case, "watch").status_code == 200  # twice changes nothing
    assert CaseWatcher.objects.filter(case=case).count() == 3
    gone = act(client, case, "unwatch", {"department": billing.pk})
    assert gone.status_code == 200 and len(gone.json()["watchers"]) == 2
    assert_problem(act(client, case, "watch", {"user": 999999}), 400, "user")
    both = {"user": other_agent.pk, "department": billing.pk}
    assert_problem(act(client, case, "watch", both), 400, "department")


# --- versions: If-Match (412), version (409), neither (428), on every versioned action -------------------


def _bodies(tech_agent, billing):
    return {
        "assign": {"assignee": tech_agent.pk},
        "acknowledge": {},
        "transfer": {"department": billing.pk, "reason": "r", "note": "n"},
        "status": {"status": status_of("waiting_customer").pk},
        "resolve": {"resolution_code": "solved", "resolution_summary": "done"},
    }


@pytest.mark.parametrize("action", ["assign", "acknowledge", "transfer", "status", "resolve"])
def test_a_stale_version_is_refused_with_the_current_state(open_case, tech_agent, billing, action):
    case = open_case()
    body = _bodies(tech_agent, billing)[action]
    client = client_for(tech_agent)
    client.patch(f"{URL}{case.pk}/", {"priority": "high", "version": 1}, format="json")  # now version 2
    before = client.get(f"{URL}{case.pk}/").json()
    conflict = assert_problem(act(client, case, action, {**body, "version": 1}), 409)
    assert conflict["current"] == before and conflict["current_version"] == 2
    stale = assert_problem(act(client, case, action, body, HTTP_IF_MATCH='"1"'), 412)
    assert stale["current"]["version"] == 2 and stale["current"]["priority"] == "high"
    assert_problem(act(client, case, action, body), 428, "version")
    assert_problem(act(client, case, action, body, HTTP_IF_MATCH="*"), 428)
    assert_problem(act(client, case, action, {**body, "version": "two"}), 400, "version")
    assert client.get(f"{URL}{case.pk}/").json() == before
    ok = act(client, case, action, body, HTTP_IF_MATCH='"2"')
    assert ok.status_code == 200, ok.json()
    assert ok["ETag"] == '"3"'


def test_close_and_reopen_are_versioned_too(open_case, tech_agent):
    case = open_case()
    services.case_resolve(
        actor=tech_agent, case=case, resolution_code="solved", resolution_summary="ok", expected_version=1
    )
    client = client_for(tech_agent)
    assert_problem(act(client, case, "close", {"version": 1}), 409)
    assert_problem(act(client, case, "close"), 428)
    assert act(client, case, "close", HTTP_IF_MATCH='"2"').status_code == 200
    assert_problem(act(client, case, "reopen", {"reason": "again"}, HTTP_IF_MATCH='"2"'), 412)


# --- refusals: anonymous, auditors, outside the scope -----------------------------------------------------

ACTIONS = [
    "assign",
    "acknowledge",
    "transfer",
    "notes",
    "log-interaction",
    "request-update",
    "status",
    "resolve",
    "close",
    "reopen",
    "follow-up",
    "merge",
    "watch",
    "unwatch",
]


@pytest.fixture
def bodies(tech_agent, billing, party, open_case):
    other = open_case(subject="The other one")
    call = timeline.interaction_log(actor=tech_agent, party=party, data=InteractionInput(channel="phone"))
    return {
        **_bodies(tech_agent, billing),
        "notes": {"body": "x"},
        "log-interaction": {"interaction": call.pk},
        "request-update": {},
        "close": {},
        "reopen": {"reason": "again"},
        "follow-up": {"subject": "again"},
        "merge": {"target": other.pk},
        "watch": {},
        "unwatch": {},
    }


@pytest.mark.parametrize("action", ACTIONS)
def test_anonymous_actions_are_401(open_case, bodies, action):
    case = open_case()
    response = act(client_for(None), case, action, {**bodies[action], "version": 1})
    assert_problem(response, 401)
    assert kinds(case) == ["created"]


@pytest.mark.parametrize("action", ACTIONS)
def test_auditors_may_read_but_not_act(open_case, bodies, auditor, action):
    case = open_case()
    client = client_for(auditor)
    assert client.get(f"{URL}{case.pk}/").status_code == 200
    assert_problem(act(client, case, action, {**bodies[action], "version": 1}), 403)
    assert kinds(case) == ["created"] and fresh(case).version == 1


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_on_a_case_outside_the_scope_are_404(open_case, bodies, confidential, other_agent, action):
    case = open_case(category=confidential)
    response = act(client_for(other_agent), case, action, {**bodies[action], "version": 1})
    assert_problem(response, 404)
    assert kinds(case) == ["created"] and fresh(case).version == 1


def test_unknown_cases_are_404_for_every_action(agent):
    client = client_for(agent)
    for action in ACTIONS:
        for pk in ("999999", "abc", "99999999999999999999999"):
            assert_problem(client.post(f"{URL}{pk}/{action}/", {"version": 1}, format="json"), 404)


def test_malformed_action_bodies_are_4xx_problems(open_case, agent):
    case = open_case()
    client = client_for(agent)
    for action in ACTIONS:
        for body, content_type in (("{nope", "application/json"), ("[1]", "application/json")):
            response = client.post(f"{URL}{case.pk}/{action}/", body, content_type=content_type)
            assert 400 <= response.status_code < 500, (action, body, response.status_code)
            assert response["Content-Type"].startswith(PROBLEM)
    assert kinds(case) == ["created"]


def test_an_action_replays_its_response_for_the_same_idempotency_key(open_case, tech_agent):
    case = open_case()
    client = client_for(tech_agent)
    first = act(client, case, "notes", {"body": "Once"}, HTTP_IDEMPOTENCY_KEY="note-1")
    again = act(client, case, "notes", {"body": "Once"}, HTTP_IDEMPOTENCY_KEY="note-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert kinds(case).count("note_added") == 1
    assign = act(client, case, "assign", {"assignee": tech_agent.pk, "version": 1}, HTTP_IDEMPOTENCY_KEY="a")
    retry = act(client, case, "assign", {"assignee": tech_agent.pk, "version": 1}, HTTP_IDEMPOTENCY_KEY="a")
    assert retry.status_code == 200 and retry["ETag"] == assign["ETag"] == '"2"'
    assert kinds(case).count("assigned") == 1


# --- confidential cases ---------------------------------------------------------------------------------


@pytest.fixture
def confidential():
    from relay.cases.tests.factories import CaseCategoryFactory

    return CaseCategoryFactory(name="Staff complaints", is_confidential=True)


def test_a_confidential_case_is_invisible_outside_its_circle_everywhere(
    open_case, confidential, other_agent, tech_agent, manager, party
):
    secret = open_case(category=confidential)
    plain = open_case(subject="Plain")
    outsider, insider, boss = client_for(other_agent), client_for(tech_agent), client_for(manager)
    for path in (f"{URL}{secret.pk}/", f"{URL}{secret.pk}/events/", f"{URL}by-number/{secret.number}/"):
        assert_problem(outsider.get(path), 404)
        assert insider.get(path).status_code == 200 and boss.get(path).status_code == 200
    for query in ("", f"?party={party.pk}", f"?number={secret.number}", f"?category={confidential.pk}"):
        listed = [r["id"] for r in outsider.get(f"{URL}{query}").json()["results"]]
        assert secret.pk not in listed, query
        assert secret.pk in [r["id"] for r in insider.get(f"{URL}{query}").json()["results"]], query
    assert plain.pk in [r["id"] for r in outsider.get(URL).json()["results"]]
    assert insider.get(f"{URL}{secret.pk}/").json()["confidential"] is True
    # nor can it be reached through another case (merge target, bulk)
    lead = client_for(other_agent)
    assert_problem(act(lead, plain, "merge", {"target": secret.pk, "version": 1}), 400, "target")


def test_a_watcher_joins_the_circle(open_case, confidential, other_agent, tech_agent):
    secret = open_case(category=confidential)
    assert_problem(client_for(other_agent).get(f"{URL}{secret.pk}/"), 404)
    act(client_for(tech_agent), secret, "watch", {"user": other_agent.pk})
    assert client_for(other_agent).get(f"{URL}{secret.pk}/").status_code == 200


# --- the case timeline, numbers, lists --------------------------------------------------------------------


def test_events_tell_the_story_in_order(open_case, tech_agent, billing):
    case = open_case()
    client = client_for(tech_agent)
    act(client, case, "notes", {"body": "@billing_agent please check"})
    act(
        client,
        case,
        "transfer",
        {"department": billing.pk, "reason": "Not technical", "note": "n", "version": 1},
    )
    events = client.get(f"{URL}{case.pk}/events/").json()
    assert [e["kind"] for e in events] == ["created", "note_added", "transferred"]
    transfer = events[-1]
    assert (transfer["from_department_name"], transfer["to_department_name"]) == (
        "Technical Support",
        "Billing",
    )
    assert transfer["actor_name"] == tech_agent.display_name and transfer["reason"] == "Not technical"
    assert transfer["headline"].startswith("Transferred to Billing") and transfer["entry"]


def test_events_query_count_does_not_grow(open_case, tech_agent):
    from relay.core.testing.queries import assert_flat_query_count

    case = open_case()
    client = client_for(tech_agent)

    def add(n):
        for i in range(n):
            services.case_add_note(actor=tech_agent, case=case, body=f"note {i}")

    assert_flat_query_count(lambda: client.get(f"{URL}{case.pk}/events/"), add, at_most=8)


def test_by_number_finds_the_case_in_any_case_of_letters(open_case, agent):
    case = open_case()
    client = client_for(agent)
    for number in (case.number, case.number.lower()):
        response = client.get(f"{URL}by-number/{number}/")
        assert response.status_code == 200 and response.json()["id"] == case.pk
        assert response["ETag"] == '"1"'
    assert_problem(client.get(f"{URL}by-number/C-999999/"), 404)
    assert_problem(client.get(f"{URL}by-number/C-1%00/"), 400)
    assert_problem(client_for(None).get(f"{URL}by-number/{case.number}/"), 401)


def test_list_filters(open_case, tech_agent, billing, party, agent):
    from relay.cases.tests.factories import CaseCategoryFactory

    outage = CaseCategoryFactory(name="Outage")
    a = open_case(priority="urgent", category=outage)
    b = open_case(assignee=tech_agent)
    c = open_case(department=billing, party=PartyFactory())
    services.case_resolve(
        actor=tech_agent, case=b, resolution_code="solved", resolution_summary="ok", expected_version=1
    )
    client = client_for(agent)

    def ids(query):
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["results"]}

    assert ids("") == {a.pk, b.pk, c.pk}
    assert ids(f"department={billing.pk}") == {c.pk}
    assert ids(f"assignee={tech_agent.pk}") == {b.pk}
    assert ids("unassigned=true") == {a.pk, c.pk}
    assert ids("status_category=resolved") == {b.pk}
    assert ids("status_category=new&status_category=resolved") == {a.pk, b.pk, c.pk}
    assert ids("priority=urgent") == {a.pk}
    assert ids(f"party={party.pk}") == {a.pk, b.pk}
    assert ids(f"category={outage.pk}") == {a.pk}
    assert ids(f"number={c.number.lower()}") == {c.pk}
    assert ids(f"status={status_of('resolved').pk}") == {b.pk}
    assert ids("updated_since=2999-01-01T00:00:00Z") == set()
    assert ids("updated_since=2000-01-01T00:00:00Z") == {a.pk, b.pk, c.pk}


def test_list_orderings_are_allow_listed(open_case, agent):
    first, second = open_case(), open_case()
    client = client_for(agent)
    newest = [r["id"] for r in client.get(URL).json()["results"]]
    oldest = [r["id"] for r in client.get(f"{URL}?ordering=opened").json()["results"]]
    assert newest == [second.pk, first.pk] and oldest == [first.pk, second.pk]
    assert client.get(f"{URL}?ordering=-activity").status_code == 200
    for bad in ("subject", "-id; DROP TABLE cases_case", "party__display_name"):
        assert_problem(client.get(URL, {"ordering": bad}), 400, "ordering")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("department=1.5", "department"),
        ("party=-1", "party"),
        ("assignee=99999999999999999999999", "assignee"),
        ("status_category=gone", "status_category"),
        ("priority=whenever", "priority"),
        ("unassigned=maybe", "unassigned"),
        ("updated_since=yesterday", "updated_since"),
        ("number=%00", "number"),
    ],
)
def test_bad_filters_are_400(agent, query, field):
    assert_problem(client_for(agent).get(f"{URL}?{query}"), 400, field)


# --- a case from a call ---------------------------------------------------------------------------------


def test_log_from_call_creates_the_caller_logs_the_call_and_opens_the_case(agent, tech):
    client = client_for(agent)
    body = {
        "phone": "(415) 555-0199",
        "new_caller": {"given_name": "Alan", "family_name": "Turing"},
        "call": {"subject": "No dial tone", "duration_seconds": 120},
        "subject": "Cannot make calls",
        "department": tech.pk,
    }
    response = client.post(f"{URL}log-from-call/", body, format="json")
    assert response.status_code == 201, response.json()
    result = response.json()
    assert result["party_created"] is True and result["channel"] == "phone"
    assert result["department"] == tech.pk and response["ETag"] == '"1"'
    assert result["call"]["channel"] == "phone" and result["call"]["duration_seconds"] == 120
    party = Party.objects.get(pk=result["party"])
    assert party.family_name == "Turing"
    assert party.contact_points.get(kind="phone").normalized == "+14155550199"
    case = Case.objects.get(pk=result["id"])
    assert kinds(case) == ["created", "interaction_logged"]
    # the same caller again is found by the number, in any format
    again = client.post(
        f"{URL}log-from-call/", {"phone": "+1 415 555 0199", "subject": "Still broken"}, format="json"
    )
    assert again.status_code == 201 and again.json()["party"] == party.pk
    assert again.json()["party_created"] is False


def test_log_from_call_refusals(agent, auditor):
    client = client_for(agent)
    parties = Party.objects.count()
    unknown = {"phone": "+1 415 555 0188", "subject": "Who?"}
    assert_problem(client.post(f"{URL}log-from-call/", unknown, format="json"), 400, "new_caller")
    assert_problem(client.post(f"{URL}log-from-call/", {"phone": "x"}, format="json"), 400, "subject")
    with_caller = {**unknown, "new_caller": {"family_name": "Nobody"}}
    assert_problem(client_for(auditor).post(f"{URL}log-from-call/", with_caller, format="json"), 403)
    assert_problem(client_for(None).post(f"{URL}log-from-call/", with_caller, format="json"), 401)
    assert Party.objects.count() == parties and not Case.objects.exists()


def test_log_from_call_with_several_matches_needs_the_caller(agent):
    for name in ("One", "Two"):
        customers.party_create(
            actor=agent,
            data=PartyInput(
                family_name=name, contact_points=[ContactInput(kind="phone", raw="+1 415 555 0177")]
            ),
        )
    client = client_for(agent)
    body = {"phone": "+1 415 555 0177", "subject": "Shared line"}
    assert_problem(client.post(f"{URL}log-from-call/", body, format="json"), 400, "party")
    chosen = Party.objects.get(family_name="Two")
    response = client.post(f"{URL}log-from-call/", {**body, "party": chosen.pk}, format="json")
    assert response.status_code == 201 and response.json()["party"] == chosen.pk


def test_log_from_call_replays_for_the_same_idempotency_key(agent):
    client = client_for(agent)
    body = {"phone": "+1 415 555 0166", "new_caller": {"family_name": "Once"}, "subject": "Once"}
    first = client.post(f"{URL}log-from-call/", body, format="json", HTTP_IDEMPOTENCY_KEY="call-1")
    again = client.post(f"{URL}log-from-call/", body, format="json", HTTP_IDEMPOTENCY_KEY="call-1")
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again["ETag"] == first["ETag"]
    assert Case.objects.count() == 1 and Party.objects.filter(family_name="Once").count() == 1


# --- bulk -----------------------------------------------------------------------------------------------


def test_bulk_assign_transfer_and_close(open_case, tech_supervisor, tech_agent, billing):
    one, two = open_case(), open_case()
    lead = client_for(tech_supervisor)
    items = [{"id": one.pk, "version": 1}, {"id": two.pk, "version": 1}]
    response = lead.post(
        f"{URL}bulk/", {"action": "assign", "cases": items, "assignee": tech_agent.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert {(r["id"], r["assignee"], r["version"]) for r in response.json()["results"]} == {
        (one.pk, tech_agent.pk, 2),
        (two.pk, tech_agent.pk, 2),
    }
    items = [{"id": one.pk, "version": 2}, {"id": two.pk, "version": 2}]
    body = {"action": "transfer", "cases": items, "department": billing.pk, "reason": "r", "note": "n"}
    assert lead.post(f"{URL}bulk/", body, format="json").status_code == 200
    assert set(Case.objects.values_list("department_id", flat=True)) == {billing.pk}
    for case in (one, two):
        services.case_resolve(
            actor=tech_supervisor,
            case=case,
            resolution_code="solved",
            resolution_summary="ok",
            expected_version=3,
        )
    items = [{"id": one.pk, "version": 4}, {"id": two.pk, "version": 4}]
    closed = lead.post(f"{URL}bulk/", {"action": "close", "cases": items}, format="json")
    assert closed.status_code == 200
    assert set(Case.objects.values_list("status_category", flat=True)) == {"closed"}


def test_bulk_is_all_or_nothing_and_for_supervisors(open_case, tech_supervisor, tech_agent, auditor):
    one, two = open_case(), open_case()
    services.case_assign(actor=tech_agent, case=two, assignee=tech_agent, expected_version=1)
    body = {
        "action": "assign",
        "cases": [{"id": one.pk, "version": 1}, {"id": two.pk, "version": 1}],
        "assignee": tech_supervisor.pk,
    }
    lead = client_for(tech_supervisor)
    conflict = assert_problem(lead.post(f"{URL}bulk/", body, format="json"), 409)
    assert conflict["current"]["id"] == two.pk and conflict["current"]["assignee"] == tech_agent.pk
    assert fresh(one).version == 1 and fresh(one).assignee_id is None  # nothing half-done
    for user in (tech_agent, auditor):
        assert_problem(client_for(user).post(f"{URL}bulk/", body, format="json"), 403)
    for bad, field in (
        ({**body, "cases": [{"id": 999999, "version": 1}]}, "cases.0.id"),
        ({**body, "cases": [{"id": one.pk}]}, "cases.0.version"),
        ({**body, "action": "delete"}, "action"),
        ({**body, "cases": []}, "cases"),
    ):
        assert_problem(lead.post(f"{URL}bulk/", bad, format="json"), 400, field)
    assert fresh(one).version == 1 and fresh(two).version == 2
    assert not CaseLink.objects.exists()
