"""The two stories of issue 3 through the REST API only (their browser versions are in test_browser.py).

Every actor works with their own bearer token, reads the case before acting on it and names the version
it read (If-Match); every outcome is read back through the API: the case (department, assignee, status),
each recipient's own inbox (/notifications/, after the outbox is delivered as a worker would), the case's
events and the party's timeline, in order. Each story also meets refusals that must hold on the way.

The clock is moved on between steps (time-machine) so the order on the timeline is the order of the
story, not an accident of ids."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from relay.accounts.choices import Role
from relay.core import outbox
from relay.core.testing.api import assert_problem, client_for
from relay.core.testing.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"


class Actor:
    """One person at their own API client (their own token)."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.api = client_for(user)

    @property
    def pk(self) -> int:
        return int(self.user.pk)

    def get(self, path: str, expect: int = 200, **params: Any) -> Any:
        response = self.api.get(API + path, params)
        assert response.status_code == expect, (path, response.status_code, response.content[:500])
        return response.json()

    def post(self, path: str, body: dict[str, Any] | None = None, expect: int = 201, **headers: Any) -> Any:
        response = self.api.post(API + path, body or {}, format="json", **headers)
        assert response.status_code == expect, (path, response.status_code, response.content[:500])
        return response.json()

    def case(self, pk: int) -> dict[str, Any]:
        return self.get(f"cases/{pk}/")

    def act(self, pk: int, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Read the case, then run a versioned action with the ETag read (as a client should)."""
        response = self.api.get(f"{API}cases/{pk}/")
        assert response.status_code == 200, response.content[:500]
        done = self.api.post(
            f"{API}cases/{pk}/{action}/", body or {}, format="json", HTTP_IF_MATCH=response["ETag"]
        )
        assert done.status_code == 200, (action, done.status_code, done.content[:500])
        assert done["ETag"] == f'"{done.json()["version"]}"'
        return done.json()

    def refused(self, pk: int, action: str, body: dict[str, Any], status: int, *fields: str) -> None:
        """The action is refused with a problem document, and the case is as it was."""
        before = self.case(pk)
        response = self.api.post(f"{API}cases/{pk}/{action}/", body, format="json")
        assert_problem(response, status, *fields)
        assert self.case(pk) == before

    def inbox(self, case_id: int) -> list[str]:
        """The kinds of this person's notifications about the case, oldest first (after the worker ran)."""
        outbox.drain()
        rows = self.get("notifications/", page_size=200)["results"]
        return [n["kind"] for n in reversed(rows) if n["case_id"] == case_id]

    def notifications(self) -> list[dict[str, Any]]:
        return list(self.get("notifications/", page_size=200)["results"])


def person(username: str, first: str, last: str, department: Any, role: str = Role.AGENT) -> Actor:
    user = UserFactory(
        username=username, first_name=first, last_name=last, role=role, departments=[department]
    )
    return Actor(user)


def events(actor: Actor, case_id: int) -> list[str]:
    return [e["kind"] for e in actor.get(f"cases/{case_id}/events/")]


def timeline(actor: Actor, party_id: int) -> list[dict[str, Any]]:
    """The party's timeline as the actor reads it, oldest first (the API serves it newest first)."""
    page = actor.get(f"parties/{party_id}/timeline/", page_size=200)
    assert page["next"] is None
    return list(reversed(page["results"]))


@pytest.fixture
def later() -> Iterator[Any]:
    """A Monday morning; `later(minutes)` moves the clock on (it keeps ticking in between)."""
    with time_machine.travel(datetime(2026, 3, 2, 8, 55, tzinfo=UTC), tick=True) as traveller:
        yield lambda minutes=5: traveller.shift(timedelta(minutes=minutes))


# --- the telecom ----------------------------------------------------------------------------------------


def test_telecom_story_care_to_tech_to_billing_resolved_and_read_by_another_department(
    departments, auditor, later
):
    care = person("care", "Carla", "Care", departments["Customer Care"])
    tech = person("tech", "Tess", "Tech", departments["Technical Support"])
    bill = person("bill", "Bill", "Ing", departments["Billing"])
    sales = person("sales", "Sam", "Sales", departments["Sales"])
    care_dept, tech_dept, billing_dept = (
        departments[name].pk for name in ("Customer Care", "Technical Support", "Billing")
    )
    john = care.post(
        "parties/",
        {
            "given_name": "John",
            "family_name": "Carter",
            "roles": ["customer"],
            "contact_points": [{"kind": "phone", "raw": "+1 415 555 0100"}],
        },
    )

    # a customer calls care: he cannot make calls; the number, in another format, finds him
    later(60)
    callers = care.get("parties/lookup/", phone="(415) 555-0100")
    assert [c["id"] for c in callers] == [john["id"]]
    logged = care.post(
        "cases/log-from-call/",
        {
            "phone": "(415) 555-0100",
            "party": john["id"],
            "subject": "Cannot make calls",
            "description": "Since this morning every call he makes fails.",
            "call": {"subject": "He cannot make calls", "body": "No call goes out.", "duration_seconds": 180},
            "department": care_dept,
            "priority": "high",
        },
    )
    case_id = logged["id"]
    assert (logged["party"], logged["party_created"], logged["department_name"]) == (
        john["id"],
        False,
        "Customer Care",
    )
    assert (logged["status_category"], logged["channel"], logged["priority"]) == ("new", "phone", "high")
    assert (logged["call"]["party"], logged["call"]["channel"]) == (john["id"], "phone")

    # care hands it to technical support, whose members are told
    later()
    moved = care.act(
        case_id,
        "transfer",
        {"department": tech_dept, "reason": "Looks technical", "note": "Please test the line."},
    )
    assert (moved["department_name"], moved["assignee"]) == ("Technical Support", None)
    assert tech.inbox(case_id) == ["case.transferred"]
    assert bill.inbox(case_id) == []

    # technical support finds it in its queue and takes it
    later(20)
    queue = tech.get("cases/", department=tech_dept, unassigned="true")["results"]
    assert [c["id"] for c in queue] == [case_id]
    read_before_taking = tech.case(case_id)
    taken = tech.act(case_id, "assign", {"assignee": tech.pk})
    assert (taken["assignee_name"], taken["status_category"]) == ("Tess Tech", "open")
    later()
    tech.post(f"cases/{case_id}/notes/", {"body": "The network and the line are fine: not technical."})
    # refused: a transfer in the name of the version read before the case was taken (a stale write)
    stale = {
        "department": billing_dept,
        "reason": "Not technical",
        "note": "Please check his bill.",
        "version": read_before_taking["version"],
    }
    tech.refused(case_id, "transfer", stale, 409)
    later()
    moved = tech.act(
        case_id,
        "transfer",
        {"department": billing_dept, "reason": "Not technical", "note": "Please check his bill."},
    )
    assert (moved["department_name"], moved["assignee"]) == ("Billing", None)
    assert bill.inbox(case_id) == ["case.transferred"]
    # care logged the case: it hears of the note and the hand-off, not of its own steps
    assert care.inbox(case_id) == ["case.note_added", "case.transferred"]

    # billing finds the month's bill unpaid and the line frozen
    later(30)
    queue = bill.get("cases/", department=billing_dept, unassigned="true")["results"]
    assert [c["id"] for c in queue] == [case_id]
    assert bill.act(case_id, "assign", {"assignee": bill.pk})["assignee_name"] == "Bill Ing"
    later()
    bill.post(f"cases/{case_id}/notes/", {"body": "This month's bill is unpaid and the line is frozen."})
    assert care.inbox(case_id)[-1] == "case.note_added"

    # care calls the customer back and e-mails him; both logged on his file and linked to the case
    later(15)
    for contact in (
        {
            "channel": "phone",
            "subject": "Called back",
            "body": "Explained the frozen line; he pays today.",
            "duration_seconds": 240,
        },
        {"channel": "email", "subject": "Your line", "body": "How to pay, and when the line comes back."},
    ):
        entry = care.post("interactions/", {"party": john["id"], "direction": "outbound", **contact})
        linked = care.post(f"cases/{case_id}/log-interaction/", {"interaction": entry["id"]})
        assert (linked["kind"], linked["entry"]) == ("interaction_logged", entry["id"])
        later(2)
    # refused: closing a case nobody resolved
    care.refused(case_id, "close", {"version": care.case(case_id)["version"]}, 400)

    # resolved (the handler in billing gets a copy) and closed
    later(60)
    resolved = care.act(
        case_id,
        "resolve",
        {"resolution_code": "solved", "resolution_summary": "Bill paid; the line is unfrozen."},
    )
    assert (resolved["status_category"], resolved["assignee_name"]) == ("resolved", "Bill Ing")
    later()
    closed = care.act(case_id, "close")
    assert closed["status_category"] == "closed" and closed["closed_at"]
    # billing, the handler, hears of care's call and e-mail and gets the copies
    assert bill.inbox(case_id) == [
        "case.transferred",
        "case.interaction_logged",
        "case.interaction_logged",
        "case.resolved",
        "case.closed",
    ]
    assert tech.inbox(case_id) == ["case.transferred"]  # it left tech's hands before any of the rest

    # refused: an auditor reads the case but works none; nobody reads another's inbox; no token, no story
    auditor_api = Actor(auditor)
    assert auditor_api.case(case_id)["status_category"] == "closed"
    assert_problem(
        auditor_api.api.post(
            f"{API}cases/{case_id}/reopen/", {"reason": "Again", "version": closed["version"]}, format="json"
        ),
        403,
    )
    bills_notice = bill.notifications()[0]["id"]
    assert_problem(sales.api.get(f"{API}notifications/{bills_notice}/"), 404)
    assert_problem(client_for(None).get(f"{API}parties/{john['id']}/timeline/"), 401)

    # someone of another department opens the customer and reads the whole story, in order
    later(120)
    assert sales.get(f"parties/{john['id']}/")["display_name"] == "John Carter"
    cases = sales.get("cases/", party=john["id"])["results"]
    assert [(c["id"], c["status_category"], c["resolution_code"]) for c in cases] == [
        (case_id, "closed", "solved")
    ]
    assert events(sales, case_id) == [
        "created",
        "interaction_logged",
        "transferred",
        "assigned",
        "note_added",
        "transferred",
        "assigned",
        "note_added",
        "interaction_logged",
        "interaction_logged",
        "resolved",
        "closed",
    ]
    number = logged["number"]
    story = [
        (e["kind"], e["channel"], e["direction"], e["subject"], e["actor_name"])
        for e in timeline(sales, john["id"])
    ]
    assert story == [
        ("interaction", "phone", "inbound", "He cannot make calls", "Carla Care"),
        ("case", "", "internal", f"{number} · Opened: Cannot make calls", "Carla Care"),
        ("case", "", "internal", f"{number} · Transferred to Technical Support", "Carla Care"),
        ("case", "", "internal", f"{number} · Assigned to Tess Tech", "Tess Tech"),
        ("case", "", "internal", f"{number} · Internal note", "Tess Tech"),
        ("case", "", "internal", f"{number} · Transferred to Billing", "Tess Tech"),
        ("case", "", "internal", f"{number} · Assigned to Bill Ing", "Bill Ing"),
        ("case", "", "internal", f"{number} · Internal note", "Bill Ing"),
        ("interaction", "phone", "outbound", "Called back", "Carla Care"),
        ("interaction", "email", "outbound", "Your line", "Carla Care"),
        ("case", "", "internal", f"{number} · Resolved: Solved", "Carla Care"),
        ("case", "", "internal", f"{number} · Closed", "Carla Care"),
    ]
    bodies = [e["body"] for e in timeline(sales, john["id"])]
    for i, text in {
        0: "No call goes out.",
        2: "Reason: Looks technical\n\nPlease test the line.",
        4: "The network and the line are fine: not technical.",
        5: "Reason: Not technical\n\nPlease check his bill.",
        7: "This month's bill is unpaid and the line is frozen.",
        8: "Explained the frozen line; he pays today.",
        9: "How to pay, and when the line comes back.",
        10: "Bill paid; the line is unfrozen.",
    }.items():
        assert bodies[i] == text, (i, bodies[i])


# --- the public office ----------------------------------------------------------------------------------


def test_public_office_story_routed_to_water_forwarded_resolved_and_the_citizen_calls_again(
    manager, auditor, later
):
    office_dept, water_dept = DepartmentFactory(name="Official's Office"), DepartmentFactory(name="Water")
    official = person("official", "Olivia", "Official", office_dept, Role.SUPERVISOR)
    office_dept.supervisor = official.user
    office_dept.save()
    clerk = person("clerk", "Olga", "Office", office_dept)
    wanda = person("wanda", "Wanda", "Water", water_dept)
    sven = person("sven", "Sven", "Mains", water_dept)
    lead = person("wlead", "Lena", "Lead", water_dept, Role.SUPERVISOR)
    water_dept.supervisor = lead.user
    water_dept.save()

    # the routing rule of the demo (relay/cases/routing_demo.py), set by a manager; an agent may not
    rule = {
        "name": "water",
        "description": "Citizens' water problems, logged by the official's office, go to Water.",
        "department": water_dept.pk,
        "keywords": ["water", "leak", "pipe", "flooding"],
        "originating_departments": [office_dept.pk],
    }
    assert_problem(clerk.api.post(f"{API}routing-rules/", rule, format="json"), 403)
    assert Actor(manager).post("routing-rules/", rule)["department_name"] == "Water"

    # a citizen calls the official's office: nobody has his number yet, so the call puts him on file;
    # the office watches the case and the rule sends it to Water
    later(60)
    assert clerk.get("parties/lookup/", phone="(510) 555-0142") == []
    logged = clerk.post(
        "cases/log-from-call/",
        {
            "phone": "(510) 555-0142",
            "new_caller": {"given_name": "Carl", "family_name": "Citizen"},
            "subject": "Water leak in the street",
            "description": "Water running down Elm Street since yesterday.",
            "watcher_departments": [office_dept.pk],
        },
    )
    case_id, citizen = logged["id"], logged["party"]
    assert (logged["party_name"], logged["party_created"]) == ("Carl Citizen", True)
    assert (logged["department_name"], logged["assignee"], logged["status_category"]) == (
        "Water",
        None,
        "new",
    )
    assert (logged["originator"], [w["department"] for w in logged["watchers"]]) == (
        clerk.pk,
        [office_dept.pk],
    )
    routed = [e for e in clerk.get(f"cases/{case_id}/events/") if e["kind"] == "routed"]
    assert [e["headline"] for e in routed] == ["Routed to Water by rule 'water'"]
    assert official.inbox(case_id) == ["case.created"]
    for water_member in (wanda, sven, lead):
        assert water_member.inbox(case_id) == ["case.created"]
    assert clerk.inbox(case_id) == []  # nobody is told of their own step

    # a Water employee acknowledges it; the office is told
    later(25)
    acknowledged = wanda.act(case_id, "acknowledge", {"note": "We are on it."})
    assert acknowledged["acknowledged_at"] and acknowledged["status_category"] == "open"
    assert clerk.inbox(case_id) == ["case.acknowledged"]
    assert official.inbox(case_id) == ["case.created", "case.acknowledged"]

    # she forwards it to a colleague who knows the mains; a forward outside Water is refused
    later()
    forward = {"reason": "He knows the mains", "note": "Probably the main under Elm Street."}
    wanda.refused(
        case_id,
        "transfer",
        {**forward, "assignee": clerk.pk, "version": acknowledged["version"]},
        400,
        "assignee",
    )
    forwarded = wanda.act(case_id, "transfer", {**forward, "assignee": sven.pk})
    assert (forwarded["department_name"], forwarded["assignee_name"]) == ("Water", "Sven Mains")
    assert sven.inbox(case_id) == ["case.created", "case.transferred"]
    assert [c["id"] for c in sven.get("cases/", assignee=sven.pk)["results"]] == [case_id]

    # resolved, with copies to the office and the supervisor; an auditor may not close it; closed
    later(600)
    resolved = sven.act(
        case_id,
        "resolve",
        {"resolution_code": "solved", "resolution_summary": "The main was repaired overnight."},
    )
    assert resolved["status_category"] == "resolved"
    assert clerk.inbox(case_id)[-1] == "case.resolved"
    assert official.inbox(case_id)[-1] == "case.resolved"
    assert lead.inbox(case_id) == ["case.created", "case.resolved"]
    assert wanda.inbox(case_id) == ["case.created"]  # she handed it on: no copy for her
    Actor(auditor).refused(case_id, "close", {"version": resolved["version"]}, 403)
    later()
    assert sven.act(case_id, "close")["status_category"] == "closed"
    assert clerk.inbox(case_id)[-1] == "case.closed"
    # nobody reads another's notifications, not even their own department's supervisor
    assert_problem(official.api.get(f"{API}notifications/{clerk.notifications()[0]['id']}/"), 404)

    # the citizen calls back about something else: the number finds his file, the new case opens on it
    later(60 * 24 * 3)
    assert [c["id"] for c in clerk.get("parties/lookup/", phone="510 555 0142")] == [citizen]
    again = clerk.post(
        "cases/log-from-call/",
        {
            "phone": "510 555 0142",
            "subject": "Pothole after the repair",
            "description": "The street was not closed properly after the works.",
            "department": water_dept.pk,
        },
    )
    assert (again["party"], again["party_created"], again["department_name"]) == (citizen, False, "Water")
    assert again["id"] != case_id and again["number"] != logged["number"]

    # with all the background in view: the earlier case, its history, his file
    on_file = clerk.get("cases/", party=citizen)["results"]
    assert [(c["id"], c["status_category"]) for c in on_file] == [(again["id"], "new"), (case_id, "closed")]
    earlier = clerk.case(case_id)
    assert (earlier["resolution_code"], earlier["resolution_summary"]) == (
        "solved",
        "The main was repaired overnight.",
    )
    history = clerk.get(f"cases/{case_id}/events/")
    assert [e["kind"] for e in history] == [
        "created",
        "routed",
        "interaction_logged",
        "acknowledged",
        "transferred",
        "resolved",
        "closed",
    ]
    hand_off = history[4]
    assert (hand_off["actor_name"], hand_off["to_assignee_name"], hand_off["reason"]) == (
        "Wanda Water",
        "Sven Mains",
        "He knows the mains",
    )
    number, second = logged["number"], again["number"]
    story = [(e["kind"], e["channel"], e["subject"]) for e in timeline(clerk, citizen)]
    assert story == [
        ("interaction", "phone", "Water leak in the street"),
        ("case", "", f"{number} · Opened: Water leak in the street"),  # its body says how it was routed
        ("case", "", f"{number} · Acknowledged by Water"),
        ("case", "", f"{number} · Transferred to Water (Sven Mains)"),
        ("case", "", f"{number} · Resolved: Solved"),
        ("case", "", f"{number} · Closed"),
        ("interaction", "phone", "Pothole after the repair"),
        ("case", "", f"{second} · Opened: Pothole after the repair"),
    ]
