"""The API access matrix (TESTING.md, "A generated matrix"): every route, method and actor, with the
expected answer. The guard at the bottom fails when a URL pattern under /api/v1/ is not in the matrix.

Each row runs every actor against the same records, each in its own savepoint (rolled back), so a write by
one actor never changes what the next one sees. List rows also check that the list agrees with the
decision: whoever may read the record finds it listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from relay.accounts.services import api_token_create
from relay.activities import services as timeline
from relay.activities.services import InteractionInput
from relay.cases import services as cases
from relay.cases.models import CaseStatus, SlaAlert, SlaClock
from relay.cases.services import routing, sla, sla_config
from relay.cases.services.routing import RuleInput
from relay.cases.services.sla_config import CalendarInput, PolicyInput
from relay.cases.tests.factories import CaseCategoryFactory, default_statuses
from relay.commerce import services as commerce
from relay.commerce.models import CreditTerms, Invoice, Order, Payment, Product, Subscription
from relay.core.testing import people
from relay.customers import services
from relay.customers.services import ContactInput, IdentifierInput, PartyInput
from relay.notifications import services as inbox
from relay.notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "inactive", "agent", "other_agent", "supervisor", "manager", "admin", "auditor")
STAFF = ("agent", "other_agent", "supervisor", "manager", "admin", "auditor")
LEADS = ("supervisor", "manager", "admin")


def decide(ok: int, allowed: tuple[str, ...], refused: int = 403) -> dict[str, int]:
    """`ok` for the allowed roles, `refused` for the other staff, 401 without a valid login."""
    out = {"anonymous": 401, "inactive": 401}
    out.update({role: ok if role in allowed else refused for role in STAFF})
    return out


# a bad credential is refused even where none is needed
PUBLIC = {**{actor: 200 for actor in ACTORS}, "inactive": 401}
NOBODY = {actor: 404 for actor in ACTORS}
READ = decide(200, STAFF)
CREATE = decide(201, ("agent", "other_agent", *LEADS))
EDIT = decide(200, ("agent", "other_agent", *LEADS))
REMOVE = decide(204, ("agent", "other_agent", *LEADS))
EDIT_OWN_ENTRY = decide(200, ("agent", *LEADS))  # the world's entries are the agent's own
REMOVE_BY_LEADS = decide(204, LEADS)
OWN_ONLY = decide(200, ("agent",), refused=404)  # the world's notification and preference are the agent's
ROUTING = ("manager", "admin")  # who configures routing (cases.manage_routing)
SLA = ("manager", "admin")  # who configures SLA policies and calendars (cases.manage_sla)
CASE_LEADS = decide(200, LEADS)  # merges and bulk actions
COMMERCE_SYNC = decide(200, ("manager", "admin"))  # the systems that own the commerce data push it


@dataclass
class Cell:
    expect: dict[str, int]
    path: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], Any] | None = None
    fmt: str = "json"
    # the version to send as If-Match, for writes to a versioned record
    version: Callable[[dict[str, Any]], int] | None = None
    # for lists: the id the list must show to whoever may read it
    listed: Callable[[dict[str, Any]], int] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _party_body(w: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "person", "family_name": "Matrix", "identifiers": []}


def _commerce_cells(name: str, segment: str) -> dict[tuple[str, str], Cell]:
    """list, detail and bulk of one commerce record type; the world has one record of each."""

    def listed(w: dict[str, Any]) -> int:
        return int(w[name].pk)

    def detail(w: dict[str, Any]) -> str:
        return f"/api/v1/commerce/{segment}/{w[name].pk}/"

    def batch(w: dict[str, Any]) -> dict[str, Any]:
        return {"source": "matrix", "records": _commerce_rows(w)[segment]}

    return {
        (f"commerce-{name}-list", "GET"): Cell(READ, lambda w: f"/api/v1/commerce/{segment}/", listed=listed),
        (f"commerce-{name}-detail", "GET"): Cell(READ, detail),
        (f"commerce-{name}-bulk", "POST"): Cell(
            COMMERCE_SYNC, lambda w: f"/api/v1/commerce/{segment}/bulk/", batch
        ),
    }


MATRIX: dict[tuple[str, str], Cell] = {
    # parties
    ("party-list", "GET"): Cell(READ, lambda w: "/api/v1/parties/", listed=lambda w: w["party"].pk),
    ("party-list", "POST"): Cell(CREATE, lambda w: "/api/v1/parties/", _party_body),
    ("party-detail", "GET"): Cell(READ, lambda w: f"/api/v1/parties/{w['party'].pk}/"),
    ("party-detail", "PATCH"): Cell(
        EDIT,
        lambda w: f"/api/v1/parties/{w['party'].pk}/",
        lambda w: {"about": "edited"},
        version=lambda w: w["party"].version,
    ),
    ("party-detail", "PUT"): Cell(
        EDIT,
        lambda w: f"/api/v1/parties/{w['party'].pk}/",
        lambda w: {"about": "replaced"},
        version=lambda w: w["party"].version,
    ),
    ("party-detail", "DELETE"): Cell(
        REMOVE_BY_LEADS, lambda w: f"/api/v1/parties/{w['party'].pk}/", version=lambda w: w["party"].version
    ),
    ("party-lookup", "GET"): Cell(READ, lambda w: "/api/v1/parties/lookup/?phone=(415)%20555-0142"),
    ("party-search", "GET"): Cell(READ, lambda w: "/api/v1/parties/search/?q=matrixson"),
    ("party-timeline", "GET"): Cell(
        READ, lambda w: f"/api/v1/parties/{w['party'].pk}/timeline/", listed=lambda w: w["note"].pk
    ),
    ("party-history", "GET"): Cell(READ, lambda w: f"/api/v1/parties/{w['party'].pk}/history/"),
    ("party-lifecycle", "POST"): Cell(
        EDIT,
        lambda w: f"/api/v1/parties/{w['party'].pk}/lifecycle/",
        lambda w: {"stage": "consider"},
        version=lambda w: w["party"].version,
    ),
    # contact points
    ("contactpoint-list", "GET"): Cell(
        READ, lambda w: "/api/v1/contact-points/", listed=lambda w: w["email"].pk
    ),
    ("contactpoint-list", "POST"): Cell(
        CREATE,
        lambda w: "/api/v1/contact-points/",
        lambda w: {"party": w["party"].pk, "kind": "phone", "raw": "+44 20 7946 0958"},
    ),
    ("contactpoint-detail", "GET"): Cell(READ, lambda w: f"/api/v1/contact-points/{w['email'].pk}/"),
    ("contactpoint-detail", "PATCH"): Cell(
        EDIT,
        lambda w: f"/api/v1/contact-points/{w['email'].pk}/",
        lambda w: {"label": "work"},
        version=lambda w: w["email"].version,
    ),
    ("contactpoint-detail", "PUT"): Cell(
        EDIT,
        lambda w: f"/api/v1/contact-points/{w['email'].pk}/",
        lambda w: {"label": "home"},
        version=lambda w: w["email"].version,
    ),
    ("contactpoint-detail", "DELETE"): Cell(
        REMOVE, lambda w: f"/api/v1/contact-points/{w['email'].pk}/", version=lambda w: w["email"].version
    ),
    # identifiers
    ("identifier-list", "GET"): Cell(READ, lambda w: "/api/v1/identifiers/", listed=lambda w: w["tax"].pk),
    ("identifier-list", "POST"): Cell(
        CREATE,
        lambda w: "/api/v1/identifiers/",
        lambda w: {"party": w["party"].pk, "scheme": "account", "value": "ACC-7"},
    ),
    ("identifier-detail", "GET"): Cell(READ, lambda w: f"/api/v1/identifiers/{w['tax'].pk}/"),
    ("identifier-detail", "PATCH"): Cell(
        EDIT,
        lambda w: f"/api/v1/identifiers/{w['tax'].pk}/",
        lambda w: {"value": "TX-999999"},
        version=lambda w: w["tax"].version,
    ),
    ("identifier-detail", "PUT"): Cell(
        EDIT,
        lambda w: f"/api/v1/identifiers/{w['tax'].pk}/",
        lambda w: {"value": "TX-888888"},
        version=lambda w: w["tax"].version,
    ),
    ("identifier-detail", "DELETE"): Cell(
        REMOVE, lambda w: f"/api/v1/identifiers/{w['tax'].pk}/", version=lambda w: w["tax"].version
    ),
    # relationships
    ("relationship-list", "GET"): Cell(
        READ, lambda w: "/api/v1/relationships/", listed=lambda w: w["job"].pk
    ),
    ("relationship-list", "POST"): Cell(
        CREATE,
        lambda w: "/api/v1/relationships/",
        lambda w: {"person": w["party"].pk, "organisation": w["other_org"].pk, "job_title": "Advisor"},
    ),
    ("relationship-detail", "GET"): Cell(READ, lambda w: f"/api/v1/relationships/{w['job'].pk}/"),
    ("relationship-detail", "PATCH"): Cell(
        EDIT,
        lambda w: f"/api/v1/relationships/{w['job'].pk}/",
        lambda w: {"job_title": "CEO"},
        version=lambda w: w["job"].version,
    ),
    ("relationship-detail", "PUT"): Cell(
        EDIT,
        lambda w: f"/api/v1/relationships/{w['job'].pk}/",
        lambda w: {"job_title": "CFO"},
        version=lambda w: w["job"].version,
    ),
    ("relationship-detail", "DELETE"): Cell(
        REMOVE, lambda w: f"/api/v1/relationships/{w['job'].pk}/", version=lambda w: w["job"].version
    ),
    # interactions and notes (the world's are the agent's own)
    ("interaction-list", "GET"): Cell(READ, lambda w: "/api/v1/interactions/", listed=lambda w: w["call"].pk),
    ("interaction-list", "POST"): Cell(
        CREATE,
        lambda w: "/api/v1/interactions/",
        lambda w: {"party": w["party"].pk, "channel": "letter", "subject": "Form"},
    ),
    ("interaction-detail", "GET"): Cell(READ, lambda w: f"/api/v1/interactions/{w['call'].pk}/"),
    ("interaction-detail", "PATCH"): Cell(
        EDIT_OWN_ENTRY,
        lambda w: f"/api/v1/interactions/{w['call'].pk}/",
        lambda w: {"subject": "edited"},
        version=lambda w: w["call"].version,
    ),
    ("interaction-detail", "PUT"): Cell(
        EDIT_OWN_ENTRY,
        lambda w: f"/api/v1/interactions/{w['call'].pk}/",
        lambda w: {"subject": "replaced"},
        version=lambda w: w["call"].version,
    ),
    ("interaction-detail", "DELETE"): Cell(
        REMOVE_BY_LEADS,
        lambda w: f"/api/v1/interactions/{w['call'].pk}/",
        version=lambda w: w["call"].version,
    ),
    ("note-list", "GET"): Cell(READ, lambda w: "/api/v1/notes/", listed=lambda w: w["note"].pk),
    ("note-list", "POST"): Cell(
        CREATE, lambda w: "/api/v1/notes/", lambda w: {"party": w["party"].pk, "body": "Noted"}
    ),
    ("note-detail", "GET"): Cell(READ, lambda w: f"/api/v1/notes/{w['note'].pk}/"),
    ("note-detail", "PATCH"): Cell(
        EDIT_OWN_ENTRY,
        lambda w: f"/api/v1/notes/{w['note'].pk}/",
        lambda w: {"body": "edited"},
        version=lambda w: w["note"].version,
    ),
    ("note-detail", "PUT"): Cell(
        EDIT_OWN_ENTRY,
        lambda w: f"/api/v1/notes/{w['note'].pk}/",
        lambda w: {"body": "replaced"},
        version=lambda w: w["note"].version,
    ),
    ("note-detail", "DELETE"): Cell(
        REMOVE_BY_LEADS, lambda w: f"/api/v1/notes/{w['note'].pk}/", version=lambda w: w["note"].version
    ),
    # attachments
    ("attachment-list", "GET"): Cell(READ, lambda w: "/api/v1/attachments/", listed=lambda w: w["file"].pk),
    ("attachment-list", "POST"): Cell(
        CREATE,
        lambda w: "/api/v1/attachments/",
        lambda w: {"entry": w["note"].pk, "file": SimpleUploadedFile("a.txt", b"hello")},
        fmt="multipart",
    ),
    ("attachment-detail", "GET"): Cell(READ, lambda w: f"/api/v1/attachments/{w['file'].pk}/"),
    ("attachment-download", "GET"): Cell(READ, lambda w: f"/api/v1/attachments/{w['file'].pk}/download/"),
    # people and teams, read-only
    ("user-list", "GET"): Cell(READ, lambda w: "/api/v1/users/", listed=lambda w: w["users"]["agent"].pk),
    ("user-detail", "GET"): Cell(READ, lambda w: f"/api/v1/users/{w['users']['agent'].pk}/"),
    ("department-list", "GET"): Cell(
        READ, lambda w: "/api/v1/departments/", listed=lambda w: w["department"].pk
    ),
    ("department-detail", "GET"): Cell(READ, lambda w: f"/api/v1/departments/{w['department'].pk}/"),
    # the inbox: everyone has their own; another user's is a 404
    ("notification-list", "GET"): Cell(READ, lambda w: "/api/v1/notifications/"),
    ("notification-detail", "GET"): Cell(
        OWN_ONLY, lambda w: f"/api/v1/notifications/{w['notification'].pk}/"
    ),
    ("notification-read", "POST"): Cell(
        OWN_ONLY, lambda w: f"/api/v1/notifications/{w['notification'].pk}/read/"
    ),
    ("notification-read-all", "POST"): Cell(READ, lambda w: "/api/v1/notifications/read-all/"),
    ("notificationpreference-list", "GET"): Cell(READ, lambda w: "/api/v1/notification-preferences/"),
    ("notificationpreference-list", "POST"): Cell(
        decide(201, STAFF),
        lambda w: "/api/v1/notification-preferences/",
        lambda w: {"kind": "case.", "in_app": True, "email": False},
    ),
    ("notificationpreference-detail", "GET"): Cell(
        OWN_ONLY, lambda w: f"/api/v1/notification-preferences/{w['preference'].pk}/"
    ),
    # cases (the world's case is open in Customer Care, unassigned; `resolved` is resolved)
    ("case-list", "GET"): Cell(READ, lambda w: "/api/v1/cases/", listed=lambda w: w["case"].pk),
    ("case-list", "POST"): Cell(
        CREATE,
        lambda w: "/api/v1/cases/",
        lambda w: {"party": w["party"].pk, "subject": "Matrix", "department": w["department"].pk},
    ),
    ("case-detail", "GET"): Cell(READ, lambda w: f"/api/v1/cases/{w['case'].pk}/"),
    ("case-detail", "PATCH"): Cell(
        EDIT,
        lambda w: f"/api/v1/cases/{w['case'].pk}/",
        lambda w: {"priority": "high"},
        version=lambda w: w["case"].version,
    ),
    ("case-detail", "PUT"): Cell(
        EDIT,
        lambda w: f"/api/v1/cases/{w['case'].pk}/",
        lambda w: {"subject": "Replaced"},
        version=lambda w: w["case"].version,
    ),
    ("case-by-number", "GET"): Cell(READ, lambda w: f"/api/v1/cases/by-number/{w['case'].number}/"),
    ("case-events", "GET"): Cell(READ, lambda w: f"/api/v1/cases/{w['case'].pk}/events/"),
    ("case-assign", "POST"): Cell(
        EDIT,
        lambda w: f"/api/v1/cases/{w['case'].pk}/assign/",
        lambda w: {"assignee": w["users"]["agent"].pk},
        version=lambda w: w["case"].version,
    ),
    ("case-acknowledge", "POST"): Cell(
        EDIT, lambda w: f"/api/v1/cases/{w['case'].pk}/acknowledge/", version=lambda w: w["case"].version
    ),
    ("case-transfer", "POST"): Cell(
        EDIT,
        lambda w: f"/api/v1/cases/{w['case'].pk}/transfer/",
        lambda w: {"department": w["department"].pk, "reason": "Billing question", "note": "Please check"},
        version=lambda w: w["case"].version,
    ),
    ("case-notes", "POST"): Cell(
        CREATE, lambda w: f"/api/v1/cases/{w['case'].pk}/notes/", lambda w: {"body": "Called back"}
    ),
    ("case-log-interaction", "POST"): Cell(
        CREATE,
        lambda w: f"/api/v1/cases/{w['case'].pk}/log-interaction/",
        lambda w: {"interaction": w["case_call"].pk},
    ),
    ("case-request-update", "POST"): Cell(
        CREATE, lambda w: f"/api/v1/cases/{w['case'].pk}/request-update/", lambda w: {"note": "News?"}
    ),
    ("case-status", "POST"): Cell(
        EDIT,
        lambda w: f"/api/v1/cases/{w['case'].pk}/status/",
        lambda w: {"status": w["waiting"].pk},
        version=lambda w: w["case"].version,
    ),
    ("case-resolve", "POST"): Cell(
        EDIT,
        lambda w: f"/api/v1/cases/{w['case'].pk}/resolve/",
        lambda w: {"resolution_code": "solved", "resolution_summary": "Done"},
        version=lambda w: w["case"].version,
    ),
    ("case-close", "POST"): Cell(
        EDIT, lambda w: f"/api/v1/cases/{w['resolved'].pk}/close/", version=lambda w: w["resolved"].version
    ),
    ("case-reopen", "POST"): Cell(
        EDIT,
        lambda w: f"/api/v1/cases/{w['resolved'].pk}/reopen/",
        lambda w: {"reason": "Not fixed"},
        version=lambda w: w["resolved"].version,
    ),
    ("case-follow-up", "POST"): Cell(
        CREATE, lambda w: f"/api/v1/cases/{w['resolved'].pk}/follow-up/", lambda w: {"subject": "Again"}
    ),
    ("case-merge", "POST"): Cell(
        CASE_LEADS,
        lambda w: f"/api/v1/cases/{w['duplicate'].pk}/merge/",
        lambda w: {"target": w["case"].pk},
        version=lambda w: w["duplicate"].version,
    ),
    ("case-watch", "POST"): Cell(EDIT, lambda w: f"/api/v1/cases/{w['case'].pk}/watch/"),
    ("case-unwatch", "POST"): Cell(EDIT, lambda w: f"/api/v1/cases/{w['case'].pk}/unwatch/"),
    ("case-log-from-call", "POST"): Cell(
        CREATE,
        lambda w: "/api/v1/cases/log-from-call/",
        lambda w: {"phone": "(415) 555-0142", "subject": "Calls drop", "department": w["department"].pk},
    ),
    ("case-bulk", "POST"): Cell(
        CASE_LEADS,
        lambda w: "/api/v1/cases/bulk/",
        lambda w: {"action": "close", "cases": [{"id": w["resolved"].pk, "version": w["resolved"].version}]},
    ),
    ("casecategory-list", "GET"): Cell(
        READ, lambda w: "/api/v1/case-categories/", listed=lambda w: w["category"].pk
    ),
    ("casecategory-detail", "GET"): Cell(READ, lambda w: f"/api/v1/case-categories/{w['category'].pk}/"),
    ("casestatus-list", "GET"): Cell(
        READ, lambda w: "/api/v1/case-statuses/", listed=lambda w: w["waiting"].pk
    ),
    ("casestatus-detail", "GET"): Cell(READ, lambda w: f"/api/v1/case-statuses/{w['waiting'].pk}/"),
    # routing rules: every staff member reads them; managers and admins change and test them
    ("routingrule-list", "GET"): Cell(
        READ, lambda w: "/api/v1/routing-rules/", listed=lambda w: w["rule"].pk
    ),
    ("routingrule-list", "POST"): Cell(
        decide(201, ROUTING),
        lambda w: "/api/v1/routing-rules/",
        lambda w: {"name": "Matrix rule", "department": w["department"].pk, "keywords": ["matrix"]},
    ),
    ("routingrule-detail", "GET"): Cell(READ, lambda w: f"/api/v1/routing-rules/{w['rule'].pk}/"),
    ("routingrule-detail", "PATCH"): Cell(
        decide(200, ROUTING),
        lambda w: f"/api/v1/routing-rules/{w['rule'].pk}/",
        lambda w: {"keywords": ["arrears"]},
        version=lambda w: w["rule"].version,
    ),
    ("routingrule-detail", "PUT"): Cell(
        decide(200, ROUTING),
        lambda w: f"/api/v1/routing-rules/{w['rule'].pk}/",
        lambda w: {"priority": "high"},
        version=lambda w: w["rule"].version,
    ),
    ("routingrule-detail", "DELETE"): Cell(
        decide(204, ROUTING),
        lambda w: f"/api/v1/routing-rules/{w['rule'].pk}/",
        version=lambda w: w["rule"].version,
    ),
    ("routingrule-test", "POST"): Cell(
        decide(200, ROUTING),
        lambda w: "/api/v1/routing-rules/test/",
        lambda w: {"subject": "Unpaid bill", "party": w["party"].pk},
    ),
    # SLA policies and calendars: every staff member reads them (and previews a policy); managers and admins
    # change them. Clocks and alerts are read with their cases.
    ("slapolicy-list", "GET"): Cell(
        READ, lambda w: "/api/v1/sla-policies/", listed=lambda w: w["sla_policy"].pk
    ),
    ("slapolicy-list", "POST"): Cell(
        decide(201, SLA),
        lambda w: "/api/v1/sla-policies/",
        lambda w: {"name": "Matrix 2", "resolve_minutes": 30},
    ),
    ("slapolicy-detail", "GET"): Cell(READ, lambda w: f"/api/v1/sla-policies/{w['sla_policy'].pk}/"),
    ("slapolicy-detail", "PATCH"): Cell(
        decide(200, SLA),
        lambda w: f"/api/v1/sla-policies/{w['sla_policy'].pk}/",
        lambda w: {"warn_percent": 70},
        version=lambda w: w["sla_policy"].version,
    ),
    ("slapolicy-detail", "PUT"): Cell(
        decide(200, SLA),
        lambda w: f"/api/v1/sla-policies/{w['sla_policy'].pk}/",
        lambda w: {"resolve_minutes": 90},
        version=lambda w: w["sla_policy"].version,
    ),
    ("slapolicy-detail", "DELETE"): Cell(
        decide(204, SLA),
        lambda w: f"/api/v1/sla-policies/{w['sla_policy'].pk}/",
        version=lambda w: w["sla_policy"].version,
    ),
    ("slapolicy-preview", "POST"): Cell(
        READ,
        lambda w: f"/api/v1/sla-policies/{w['sla_policy'].pk}/preview/",
        lambda w: {"start": "2026-12-04T16:55:00Z"},
    ),
    ("businesscalendar-list", "GET"): Cell(
        READ, lambda w: "/api/v1/business-calendars/", listed=lambda w: w["sla_calendar"].pk
    ),
    ("businesscalendar-list", "POST"): Cell(
        decide(201, SLA),
        lambda w: "/api/v1/business-calendars/",
        lambda w: {"name": "Matrix nights", "always_open": True},
    ),
    ("businesscalendar-detail", "GET"): Cell(
        READ, lambda w: f"/api/v1/business-calendars/{w['sla_calendar'].pk}/"
    ),
    ("businesscalendar-detail", "PATCH"): Cell(
        decide(200, SLA),
        lambda w: f"/api/v1/business-calendars/{w['sla_calendar'].pk}/",
        lambda w: {"description": "edited"},
        version=lambda w: w["sla_calendar"].version,
    ),
    ("businesscalendar-detail", "PUT"): Cell(
        decide(200, SLA),
        lambda w: f"/api/v1/business-calendars/{w['sla_calendar'].pk}/",
        lambda w: {"time_zone": "Europe/Berlin"},
        version=lambda w: w["sla_calendar"].version,
    ),
    ("businesscalendar-detail", "DELETE"): Cell(
        decide(204, SLA),
        lambda w: f"/api/v1/business-calendars/{w['sla_calendar'].pk}/",
        version=lambda w: w["sla_calendar"].version,
    ),
    ("businesscalendar-holidays", "GET"): Cell(
        READ, lambda w: f"/api/v1/business-calendars/{w['sla_calendar'].pk}/holidays/?year=2026"
    ),
    ("departmentcalendar-list", "GET"): Cell(
        READ, lambda w: "/api/v1/department-calendars/", listed=lambda w: w["department"].pk
    ),
    ("departmentcalendar-detail", "GET"): Cell(
        READ, lambda w: f"/api/v1/department-calendars/{w['department'].pk}/"
    ),
    ("departmentcalendar-list", "POST"): Cell(
        decide(200, SLA),
        lambda w: "/api/v1/department-calendars/",
        lambda w: {"department": w["department"].pk, "calendar": w["sla_calendar"].pk},
    ),
    ("slaclock-list", "GET"): Cell(READ, lambda w: "/api/v1/sla-clocks/", listed=lambda w: w["sla_clock"].pk),
    ("slaclock-detail", "GET"): Cell(READ, lambda w: f"/api/v1/sla-clocks/{w['sla_clock'].pk}/"),
    ("slaalert-list", "GET"): Cell(READ, lambda w: "/api/v1/sla-alerts/", listed=lambda w: w["sla_alert"].pk),
    ("slaalert-detail", "GET"): Cell(READ, lambda w: f"/api/v1/sla-alerts/{w['sla_alert'].pk}/"),
    # commerce data: every staff member reads it (amounts masked without VIEW_SENSITIVE, tested in
    # relay/commerce/tests/test_api.py); only sync accounts (managers, admins) push it
    **{
        key: cell
        for name, segment in (
            ("product", "products"),
            ("order", "orders"),
            ("invoice", "invoices"),
            ("payment", "payments"),
            ("creditterms", "credit-terms"),
            ("subscription", "subscriptions"),
        )
        for key, cell in _commerce_cells(name, segment).items()
    },
    ("commerce-account-detail", "GET"): Cell(READ, lambda w: f"/api/v1/commerce/accounts/{w['party'].pk}/"),
    # public: the description of the API (no data), and the problem+json 404 for unknown paths
    ("schema", "GET"): Cell(PUBLIC, lambda w: "/api/v1/openapi.json"),
    ("docs", "GET"): Cell(PUBLIC, lambda w: "/api/v1/docs"),
    ("not-found", "GET"): Cell(NOBODY, lambda w: "/api/v1/no-such-thing/"),
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The records every row reads, built once for the module (`shared_data`: each test's writes roll
    back, the world with the module)."""
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    with media, people.shared_data(django_db_blocker):
        with django_db_blocker.unblock():
            world = _world()
        yield world


def _world() -> dict[str, Any]:
    departments = people.departments()
    people.schemes()
    # the matrix's actor names for the conftest users
    names = {"admin_user": "admin", "inactive_user": "inactive"}
    users = {names.get(name, name): make(departments) for name, make in people.USERS.items()}
    agent, manager = users["agent"], users["manager"]
    party = services.party_create(
        actor=agent,
        data=PartyInput(
            given_name="Mia",
            family_name="Matrixson",
            contact_points=[
                ContactInput(kind="phone", raw="+1 415 555 0142"),
                ContactInput(kind="email", raw="mia@example.com"),
            ],
            identifiers=[IdentifierInput(scheme="tax_id", value="TX-424242")],
        ),
    )
    org = services.party_create(actor=agent, data=PartyInput(kind="organisation", organisation_name="Org"))
    other_org = services.party_create(
        actor=agent, data=PartyInput(kind="organisation", organisation_name="Other Org")
    )
    note = timeline.note_add(actor=agent, party=party, body="Prefers mornings")
    cases_world = _cases_world(agent, departments)
    sla_world = _sla_world(manager, cases_world["case"])
    commerce_world = _commerce_world(manager, party)
    return {
        **cases_world,
        **sla_world,
        **commerce_world,
        "users": users,
        "department": departments["Billing"],
        "party": party,
        "email": party.contact_points.get(kind="email"),
        "tax": party.identifiers.get(),
        "other_org": other_org,
        "job": services.relationship_create(actor=agent, person=party, organisation=org, job_title="CTO"),
        "call": timeline.interaction_log(actor=agent, party=party, data=InteractionInput(channel="phone")),
        "note": note,
        "file": timeline.attachment_add(
            actor=agent, entry=note, upload=SimpleUploadedFile("scan.txt", b"scanned")
        ),
        "notification": NotificationFactory(recipient=agent),
        "preference": inbox.preference_set(actor=agent, kind="case.transferred", in_app=True, email=True),
        "rule": routing.routing_rule_create(
            actor=manager,
            data=RuleInput(name="unpaid bill", department=departments["Billing"], keywords=["unpaid"]),
        ),
    }


def _cases_world(agent: Any, departments: dict[str, Any]) -> dict[str, Any]:
    """A customer of their own (the world's party stays deletable) with an open case, a duplicate of it
    and a resolved one, all in Customer Care, and a call to link; a category; a status."""
    default_statuses()
    care = departments["Customer Care"]
    party = services.party_create(actor=agent, data=PartyInput(given_name="Cas", family_name="Caller"))
    case = cases.case_open(actor=agent, party=party, subject="No dial tone", department=care)
    duplicate = cases.case_open(actor=agent, party=party, subject="No dial tone (again)", department=care)
    resolved = cases.case_open(actor=agent, party=party, subject="Slow line", department=care)
    resolved = cases.case_resolve(
        actor=agent, case=resolved, resolution_code="solved", resolution_summary="Reset", expected_version=1
    )
    return {
        "case_call": timeline.interaction_log(
            actor=agent, party=party, data=InteractionInput(channel="phone")
        ),
        "case": case,
        "duplicate": duplicate,
        "resolved": resolved,
        "category": CaseCategoryFactory(name="Line faults"),
        "waiting": CaseStatus.objects.get(category="waiting_customer", is_default=True),
    }


def _sla_world(manager: Any, case: Any) -> dict[str, Any]:
    """A calendar nobody uses (deletable), a policy every case matches, the world's case's clocks under it
    and a breach of its resolution clock."""
    calendar = sla_config.calendar_create(
        actor=manager, data=CalendarInput(name="Matrix hours", hours={"0": [["09:00", "17:00"]]})
    )
    policy = sla_config.policy_create(actor=manager, data=PolicyInput(name="Matrix SLA", resolve_minutes=60))
    with transaction.atomic():
        sla.sync(case)
    clock = SlaClock.objects.get(case=case, target="resolve")
    assert clock.due_at is not None
    alert = SlaAlert.objects.create(
        clock=clock,
        case=case,
        target="resolve",
        cycle=1,
        level=1,
        due_at=clock.due_at,
        at=clock.due_at,
        department_id=case.department_id,
        token="matrix",
    )
    return {"sla_calendar": calendar, "sla_policy": policy, "sla_clock": clock, "sla_alert": alert}


def _commerce_rows(w: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One valid record of each type for the world's party (what the bulk rows send)."""
    party = w["party"].pk
    return {
        "products": [
            {
                "external_id": "M-P",
                "sku": "M-SKU",
                "name": "Matrix phone",
                "category": "phones",
                "unit_price": "9.00",
                "currency": "USD",
            }
        ],
        "orders": [
            {
                "external_id": "M-O",
                "party": party,
                "ordered_at": "2026-11-02T10:00:00Z",
                "currency": "USD",
                "lines": [{"product": "M-SKU", "unit_price": "9.00"}],
            }
        ],
        "invoices": [
            {
                "external_id": "M-I",
                "party": party,
                "issued_on": "2026-11-01",
                "due_on": "2026-11-21",
                "amount": "9.00",
                "currency": "USD",
            }
        ],
        "payments": [
            {
                "external_id": "M-PAY",
                "party": party,
                "invoice": "M-I",
                "received_on": "2026-11-10",
                "amount": "9.00",
                "currency": "USD",
            }
        ],
        "credit-terms": [
            {
                "external_id": "M-C",
                "party": party,
                "credit_limit": "100.00",
                "currency": "USD",
                "department": "billing",
            }
        ],
        "subscriptions": [
            {
                "external_id": "M-S",
                "party": party,
                "product": "M-SKU",
                "name": "Matrix line",
                "started_on": "2026-01-01",
                "currency": "USD",
            }
        ],
    }


def _commerce_world(manager: Any, party: Any) -> dict[str, Any]:
    """The world's party has one record of each commerce type (synced by a manager, source "matrix")."""
    rows = _commerce_rows({"party": party})
    for kind in ("products", "orders", "invoices", "payments", "credit-terms", "subscriptions"):
        commerce.commerce_sync(actor=manager, kind=kind, source="matrix", records=rows[kind])
    return {
        "product": Product.objects.get(sku="M-SKU"),
        "order": Order.objects.get(external_id="M-O"),
        "invoice": Invoice.objects.get(external_id="M-I"),
        "payment": Payment.objects.get(external_id="M-PAY"),
        "creditterms": CreditTerms.objects.get(external_id="M-C"),
        "subscription": Subscription.objects.get(external_id="M-S"),
    }


def _client(world: dict[str, Any], actor: str) -> APIClient:
    client = APIClient()
    if actor != "anonymous":
        _, raw = api_token_create(user=world["users"][actor])
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.parametrize(("route", "method"), sorted(MATRIX), ids=lambda v: str(v))
def test_access_matrix(world, route, method):
    cell = MATRIX[(route, method)]
    clients = {actor: _client(world, actor) for actor in ACTORS}
    for actor in ACTORS:
        with transaction.atomic():
            kwargs: dict[str, Any] = {}
            if cell.body is not None:
                kwargs = {"data": cell.body(world), "format": cell.fmt}
            headers = dict(cell.headers)
            if cell.version is not None:
                headers["HTTP_IF_MATCH"] = f'"{cell.version(world)}"'
            response = getattr(clients[actor], method.lower())(cell.path(world), **kwargs, **headers)
            expected = cell.expect[actor]
            assert response.status_code == expected, (actor, response.status_code, response.content[:500])
            if expected >= 400:
                assert response["Content-Type"].startswith("application/problem+json"), actor
            if cell.listed is not None and expected == 200:
                rows = response.json()["results"]
                assert cell.listed(world) in [row["id"] for row in rows], actor
            transaction.set_rollback(True)


# --- the guard -----------------------------------------------------------------------------------------


def api_routes() -> set[tuple[str, str]]:
    """Every (URL name, HTTP method) the URLconf serves under /api/v1/."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern).lstrip("^")
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("api/v1/"):
                callback = p.callback
                actions = getattr(callback, "actions", None)
                if actions:  # a viewset route: the methods it maps (HEAD answers as GET does)
                    methods = {m.upper() for m in actions} - {"HEAD"}
                elif p.name == "not-found":
                    methods = {"GET"}
                else:
                    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
                    methods = {
                        m.upper()
                        for m in ("get", "post", "put", "patch", "delete")
                        if view_class is not None and hasattr(view_class, m)
                    }
                assert p.name, f"unnamed API route {route}"
                found.update((p.name, m) for m in methods)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_route_and_method_is_in_the_access_matrix():
    served = api_routes()
    missing, stale = served - set(MATRIX), set(MATRIX) - served
    assert not missing, f"routes without a row in the access matrix: {sorted(missing)}"
    assert not stale, f"matrix rows for routes that no longer exist: {sorted(stale)}"


def test_the_matrix_names_every_actor_in_every_row():
    for key, cell in MATRIX.items():
        assert set(cell.expect) == set(ACTORS), key
