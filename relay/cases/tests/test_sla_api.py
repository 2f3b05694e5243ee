"""/api/v1/sla-policies/, business-calendars/, department-calendars/, sla-clocks/ and sla-alerts/: the
generic CRUD and refusal tests, the preview and holiday list, bad input as 4xx problems, and clocks and
alerts of confidential cases hidden from those outside their circle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relay.accounts.models import Department
from relay.cases import services
from relay.cases.models import BusinessCalendar, DepartmentCalendar, SlaAlert, SlaClock, SlaPolicy
from relay.cases.services import sla, sla_config
from relay.cases.services.sla_config import CalendarInput, PolicyInput
from relay.cases.tests.factories import CaseCategoryFactory
from relay.core.testing.api import APIViewTests, ReadOnlyTests, ReadTests, assert_problem, client_for
from relay.core.testing.factories import DepartmentFactory, PartyFactory

pytestmark = pytest.mark.django_db

NINE_TO_FIVE = {str(d): [["09:00", "17:00"]] for d in range(5)}
BIG = 2457994227352299363273859626172416


def _manager_ctx(agent, other_agent, supervisor, manager, admin_user, auditor, inactive_user, schemes):
    """The generic cases write as `ctx["agent"]` and, for a second writer, `ctx["supervisor"]`: here a
    manager and an admin. The real agent's and supervisor's refusals are the tests below the classes."""
    return {
        "agent": manager,
        "other_agent": other_agent,
        "supervisor": admin_user,
        "manager": manager,
        "admin": admin_user,
        "auditor": auditor,
        "inactive": inactive_user,
        "schemes": schemes,
    }


class TestSlaPolicyAPI(APIViewTests):
    endpoint = "/api/v1/sla-policies/"
    model = SlaPolicy
    invalid_fields = ("name", "priorities.0", "warn_percent", "escalation.0.after_minutes")
    deleters = frozenset({"agent", "supervisor"})  # the manager and the admin, see _manager_ctx

    @pytest.fixture
    def ctx(self, agent, other_agent, supervisor, manager, admin_user, auditor, inactive_user, schemes):
        return _manager_ctx(
            agent, other_agent, supervisor, manager, admin_user, auditor, inactive_user, schemes
        )

    def make(self, ctx: dict[str, Any]) -> SlaPolicy:
        n = SlaPolicy.objects.count()
        return sla_config.policy_create(
            actor=ctx["manager"],
            data=PolicyInput(name=f"policy {n}", priorities=["high"], resolve_minutes=480),
        )

    def create_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": f"new {SlaPolicy.objects.count()} {datetime.now(UTC).timestamp()}",
            "priorities": ["urgent"],
            "acknowledge_minutes": 15,
            "resolve_minutes": 240,
            "escalation": [{"after_minutes": 0, "raise_priority": True}, {"after_minutes": 60}],
        }

    def update_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"resolve_minutes": 960, "warn_percent": 90}

    def invalid_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": "",
            "priorities": ["whenever"],
            "warn_percent": 100,
            "resolve_minutes": 60,
            "escalation": [{"after_minutes": -5}],
        }


class TestBusinessCalendarAPI(APIViewTests):
    endpoint = "/api/v1/business-calendars/"
    model = BusinessCalendar
    invalid_fields = ("name", "custom_holidays.0.date")
    deleters = frozenset({"agent", "supervisor"})

    @pytest.fixture
    def ctx(self, agent, other_agent, supervisor, manager, admin_user, auditor, inactive_user, schemes):
        return _manager_ctx(
            agent, other_agent, supervisor, manager, admin_user, auditor, inactive_user, schemes
        )

    def make(self, ctx: dict[str, Any]) -> BusinessCalendar:
        n = BusinessCalendar.objects.count()
        return sla_config.calendar_create(
            actor=ctx["manager"],
            data=CalendarInput(name=f"calendar {n}", time_zone="Europe/Berlin", hours=NINE_TO_FIVE),
        )

    def create_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": f"new {BusinessCalendar.objects.count()} {datetime.now(UTC).timestamp()}",
            "time_zone": "America/New_York",
            "hours": {"0": [["08:00", "12:00"], ["13:00", "17:00"]], "1": [["08:00", "17:00"]]},
            "holiday_country": "US",
            "custom_holidays": [{"date": "2026-12-24", "name": "Christmas Eve"}],
        }

    def update_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"hours": {"5": [["10:00", "14:00"]]}, "holiday_country": "DE", "holiday_subdivision": "BE"}

    def invalid_data(self, ctx: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": "",
            "hours": {"0": [["17:00", "09:00"]]},
            "custom_holidays": [{"date": "24.12.", "name": "x"}],
        }


class TestDepartmentCalendarAPI(ReadTests):
    """Every department and the calendar it works to (null: the default one)."""

    endpoint = "/api/v1/department-calendars/"
    model = Department

    def make(self, ctx: dict[str, Any]) -> Any:
        department = DepartmentFactory()
        calendar = BusinessCalendar.objects.first() or sla_config.calendar_create(
            actor=ctx["manager"], data=CalendarInput(name="Office", hours=NINE_TO_FIVE)
        )
        sla_config.department_calendar_set(actor=ctx["manager"], department=department, calendar=calendar)
        return department


def _open_timed_case(ctx: dict[str, Any]) -> Any:
    """A case opened by the agent under a policy with two targets (made the first time)."""
    if not SlaPolicy.objects.filter(name="API timers").exists():
        sla_config.policy_create(
            actor=ctx["admin"],
            data=PolicyInput(name="API timers", acknowledge_minutes=30, resolve_minutes=240),
        )
    return services.case_open(actor=ctx["agent"], party=PartyFactory(), subject="Timed")


class TestSlaClockAPI(ReadOnlyTests):
    endpoint = "/api/v1/sla-clocks/"
    model = SlaClock

    def make(self, ctx: dict[str, Any]) -> SlaClock:
        case = _open_timed_case(ctx)
        return SlaClock.objects.get(case=case, target="resolve")


class TestSlaAlertAPI(ReadOnlyTests):
    endpoint = "/api/v1/sla-alerts/"
    model = SlaAlert

    def make(self, ctx: dict[str, Any]) -> SlaAlert:
        case = _open_timed_case(ctx)
        clock = SlaClock.objects.get(case=case, target="acknowledge")
        assert clock.due_at is not None
        return SlaAlert.objects.create(
            clock=clock,
            case=case,
            target="acknowledge",
            cycle=1,
            level=1,
            due_at=clock.due_at,
            at=clock.due_at + timedelta(minutes=1),
            late_seconds=60,
            department_id=case.department_id,
            token="t",
        )


# --- refusals --------------------------------------------------------------------------------------------


@pytest.fixture
def calendar(manager):
    return sla_config.calendar_create(
        actor=manager, data=CalendarInput(name="Office hours", time_zone="Europe/Berlin", hours=NINE_TO_FIVE)
    )


@pytest.fixture
def policy(manager, calendar):
    return sla_config.policy_create(
        actor=manager,
        data=PolicyInput(
            name="High", priorities=["high"], acknowledge_minutes=60, resolve_minutes=480, calendar=calendar
        ),
    )


@pytest.mark.parametrize("who", ["agent", "other_agent", "supervisor", "auditor"])
def test_staff_read_but_only_managers_and_admins_write(request, who, policy, calendar, billing):
    client = client_for(request.getfixturevalue(who))
    assert client.get(f"/api/v1/sla-policies/{policy.pk}/").status_code == 200
    assert client.get(f"/api/v1/business-calendars/{calendar.pk}/").status_code == 200
    assert client.get(f"/api/v1/business-calendars/{calendar.pk}/holidays/").status_code == 200
    assert client.get(f"/api/v1/department-calendars/{billing.pk}/").status_code == 200
    assert client.post(f"/api/v1/sla-policies/{policy.pk}/preview/", {}, format="json").status_code == 200
    writes = [
        client.post("/api/v1/sla-policies/", {"name": "mine", "resolve_minutes": 5}, format="json"),
        client.patch(f"/api/v1/sla-policies/{policy.pk}/", {"name": "x", "version": 1}, format="json"),
        client.delete(f"/api/v1/sla-policies/{policy.pk}/?version=1"),
        client.post("/api/v1/business-calendars/", {"name": "mine", "always_open": True}, format="json"),
        client.put(f"/api/v1/business-calendars/{calendar.pk}/", {"name": "x", "version": 1}, format="json"),
        client.delete(f"/api/v1/business-calendars/{calendar.pk}/?version=1"),
        client.post(
            "/api/v1/department-calendars/",
            {"department": billing.pk, "calendar": calendar.pk},
            format="json",
        ),
        client.post(
            "/api/v1/department-calendars/", {"department": billing.pk, "calendar": None}, format="json"
        ),
    ]
    for response in writes:
        assert_problem(response, 403)
    assert list(SlaPolicy.objects.values_list("name", "version")) == [("High", 1)]
    assert list(BusinessCalendar.objects.values_list("name", "version")) == [("Office hours", 1)]
    assert not DepartmentCalendar.objects.exists()


# --- the preview and the holidays ------------------------------------------------------------------------


def test_the_preview_counts_business_time_on_the_calendar(manager, policy):
    # a case opened on Friday at 16:55 in Berlin, on a 9-17 calendar
    friday = datetime(2026, 12, 4, 16, 55, tzinfo=sla_config.zoneinfo.ZoneInfo("Europe/Berlin"))
    response = client_for(manager).post(
        f"/api/v1/sla-policies/{policy.pk}/preview/", {"start": friday.isoformat()}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["calendar"], body["calendar_name"], body["time_zone"]) == (
        policy.calendar_id,
        "Office hours",
        "Europe/Berlin",
    )
    due = {k: datetime.fromisoformat(v) if v else None for k, v in body["due"].items()}
    # 5 minutes on Friday, 55 on Monday morning; the resolution 8 hours of business time: Monday 16:55
    assert due["acknowledge"] == datetime(2026, 12, 7, 8, 55, tzinfo=UTC)
    assert due["resolve"] == datetime(2026, 12, 7, 15, 55, tzinfo=UTC)
    assert due["update"] is None
    assert datetime.fromisoformat(body["start"]) == friday


def test_the_preview_uses_the_departments_calendar_when_the_policy_names_none(manager, billing, calendar):
    bare = sla_config.policy_create(actor=manager, data=PolicyInput(name="Bare", resolve_minutes=60))
    client = client_for(manager)
    start = "2026-12-05T10:00:00Z"  # a Saturday
    anywhere = client.post(f"/api/v1/sla-policies/{bare.pk}/preview/", {"start": start}, format="json").json()
    assert (anywhere["calendar"], anywhere["time_zone"]) == (None, "UTC")
    assert anywhere["due"]["resolve"].startswith("2026-12-05T11:00")  # 24/7 without any calendar
    sla_config.department_calendar_set(actor=manager, department=billing, calendar=calendar)
    body = client.post(
        f"/api/v1/sla-policies/{bare.pk}/preview/", {"start": start, "department": billing.pk}, format="json"
    ).json()
    assert body["calendar"] == calendar.pk
    assert datetime.fromisoformat(body["due"]["resolve"]) == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        {"start": "yesterday"},
        {"start": "1900-01-01T00:00:00Z"},
        {"start": "9999-12-31T23:59:59-23:59"},
        {"department": 999_999},
        {"department": BIG},
        {"department": "x"},
    ],
)
def test_a_bad_preview_is_400(manager, policy, body):
    assert_problem(
        client_for(manager).post(f"/api/v1/sla-policies/{policy.pk}/preview/", body, format="json"), 400
    )


def test_the_holidays_of_a_year_list_the_presets_and_the_own_dates(manager, calendar):
    sla_config.calendar_update(
        actor=manager,
        calendar=calendar,
        expected_version=1,
        changes={
            "holiday_country": "DE",
            "custom_holidays": [{"date": "2026-12-24", "name": "Christmas Eve"}],
        },
    )
    client = client_for(manager)
    body = client.get(f"/api/v1/business-calendars/{calendar.pk}/holidays/?year=2026").json()
    assert body["year"] == 2026 and body["calendar"] == calendar.pk
    assert {"date": "2026-12-24", "name": "Christmas Eve", "custom": True} in body["holidays"]
    assert {"date": "2026-10-03", "name": "German Unity Day", "custom": False} in body["holidays"]
    for bad in ("1800", "2500", "twenty", "-1", "2026.5", "²⁰²⁶"):
        assert_problem(
            client.get(f"/api/v1/business-calendars/{calendar.pk}/holidays/?year={bad}"), 400, "year"
        )


# --- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "resolve_minutes": 0},
        {"name": "x", "resolve_minutes": 525_601},
        {"name": "x", "resolve_minutes": "soon"},
        {"name": "x"},  # no target
        {"name": "x", "resolve_minutes": 5, "categories": [BIG]},
        {"name": "x", "resolve_minutes": 5, "categories": [999_999]},
        {"name": "x", "resolve_minutes": 5, "departments": [999_999]},
        {"name": "x", "resolve_minutes": 5, "channels": ["pigeon"]},
        {"name": "x", "resolve_minutes": 5, "tiers": ["***"]},
        {"name": "x", "resolve_minutes": 5, "calendar": 999_999},
        {"name": "x", "resolve_minutes": 5, "calendar": BIG},
        {"name": "x", "resolve_minutes": 5, "on_transfer": "forget"},
        {"name": "x", "resolve_minutes": 5, "escalation": [{}] * 6},
        {"name": "x", "resolve_minutes": 5, "escalation": [{"after_minutes": 0}, {"after_minutes": 0}]},
        {"name": "x", "resolve_minutes": 5, "escalation": [{"reassign": "department"}]},
        {
            "name": "x",
            "resolve_minutes": 5,
            "escalation": [{"reassign": "department", "department": 999_999}],
        },
        {"name": "x", "resolve_minutes": 5, "escalation": [{"reassign": "department", "department": BIG}]},
        {"name": "x", "resolve_minutes": 5, "escalation": "raise"},
        {"name": "x\x00", "resolve_minutes": 5},
        {"name": "high", "resolve_minutes": 5},  # taken
    ],
)
def test_bad_policies_are_400_and_write_nothing(manager, policy, body):
    assert_problem(client_for(manager).post("/api/v1/sla-policies/", body, format="json"), 400)
    assert SlaPolicy.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "time_zone": "Mars/Olympus"},
        {"name": "x", "hours": ["09:00-17:00"]},
        {"name": "x", "hours": {"8": [["09:00", "17:00"]]}},
        {"name": "x", "hours": {"0": [["09:00", "17:00", "18:00"]]}},
        {"name": "x", "hours": {"0": [["nine", "five"]]}},
        {"name": "x", "hours": {"0": [["09:00", "12:00"], ["11:00", "17:00"]]}},
        {"name": "x", "hours": {"0": [["09:00", "17:00\x00"]]}},
        {"name": "x", "hours": {}},
        {"name": "x", "holiday_country": "XX", "always_open": True},
        {"name": "x", "holiday_country": "DE", "holiday_subdivision": "XX", "always_open": True},
        {"name": "x", "always_open": True, "custom_holidays": [{"date": "2026-12-24"}]},
        {"name": "x", "always_open": True, "custom_holidays": [{"date": "2026-12-24", "name": "a\x00"}]},
        {"name": "x", "always_open": True, "custom_holidays": [{"date": "0000-01-01", "name": "a"}]},
        {"name": "office HOURS", "always_open": True},
    ],
)
def test_bad_calendars_are_400_and_write_nothing(manager, calendar, body):
    assert_problem(client_for(manager).post("/api/v1/business-calendars/", body, format="json"), 400)
    assert BusinessCalendar.objects.count() == 1


def test_a_calendar_in_use_is_not_deleted_409(manager, policy, calendar):
    body = assert_problem(
        client_for(manager).delete(f"/api/v1/business-calendars/{calendar.pk}/?version=1"), 409
    )
    assert "used by the policy High" in body["detail"]
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()


def test_the_default_flag_moves_through_the_api(manager, calendar):
    client = client_for(manager)
    client.patch(
        f"/api/v1/business-calendars/{calendar.pk}/", {"is_default": True, "version": 1}, format="json"
    )
    other = client.post(
        "/api/v1/business-calendars/",
        {"name": "Nights", "always_open": True, "is_default": True},
        format="json",
    )
    assert other.status_code == 201 and other.json()["is_default"] is True
    mine = client.get(f"/api/v1/business-calendars/{calendar.pk}/").json()
    assert (mine["is_default"], mine["version"]) == (False, 3)


def test_a_calendar_lists_who_uses_it(manager, policy, calendar, billing):
    sla_config.department_calendar_set(actor=manager, department=billing, calendar=calendar)
    body = client_for(manager).get(f"/api/v1/business-calendars/{calendar.pk}/").json()
    assert (body["policies"], body["departments"]) == ([policy.pk], [billing.pk])


def test_department_calendars_are_set_and_cleared(manager, calendar, billing, care):
    client = client_for(manager)
    url = "/api/v1/department-calendars/"
    response = client.post(url, {"department": billing.pk, "calendar": calendar.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "id": billing.pk,
        "name": "Billing",
        "is_active": True,
        "calendar": calendar.pk,
        "calendar_name": "Office hours",
    }
    again = client.post(url, {"department": billing.pk, "calendar": calendar.pk}, format="json")
    assert again.json() == response.json() and DepartmentCalendar.history.count() == 1
    rows = {r["id"]: r["calendar"] for r in client.get(url).json()["results"]}
    assert rows[billing.pk] == calendar.pk and rows[care.pk] is None
    assert client.get(f"{url}{billing.pk}/").json()["calendar_name"] == "Office hours"
    cleared = client.post(url, {"department": billing.pk, "calendar": None}, format="json")
    assert cleared.json()["calendar"] is None and not DepartmentCalendar.objects.exists()
    for body in (
        {"department": billing.pk, "calendar": 999_999},
        {"department": billing.pk, "calendar": BIG},
        {"department": billing.pk, "calendar": "x"},
        {"department": billing.pk},
        {"department": 999_999, "calendar": None},
        {"department": BIG, "calendar": None},
        {},
    ):
        assert_problem(client.post(url, body, format="json"), 400)
    assert_problem(client.get(f"{url}999999/"), 404)
    for method in (client.put, client.patch, client.delete):
        assert_problem(method(f"{url}{billing.pk}/", {"calendar": None}, format="json"), 405)


# --- clocks, alerts and cases ----------------------------------------------------------------------------


@pytest.fixture
def fraud(db):
    return CaseCategoryFactory(name="Fraud", is_confidential=True)


def test_clocks_and_alerts_of_a_confidential_case_are_hidden_outside_its_circle(
    manager, policy, open_case, fraud, agent, tech_agent, other_agent, auditor
):
    # given a confidential high-priority case opened by care for Technical Support, and a public one
    secret = open_case(category=fraud, subject="SIM swap", priority="high")
    public = open_case(subject="No dial tone", priority="high")
    # when the first-response target runs out for both
    sla.sweep(now=secret.opened_at + timedelta(days=7))
    assert SlaAlert.objects.filter(case=secret, level=1).exists()
    for who, sees_secret in (
        (agent, True),
        (tech_agent, True),
        (manager, True),
        (other_agent, False),
        (auditor, False),
    ):
        client = client_for(who)
        clocks = {c["case"] for c in client.get("/api/v1/sla-clocks/").json()["results"]}
        alerts = {a["case"] for a in client.get("/api/v1/sla-alerts/").json()["results"]}
        assert (secret.pk in clocks, secret.pk in alerts) == (sees_secret, sees_secret), who
        assert public.pk in clocks and public.pk in alerts, who
        one = SlaClock.objects.filter(case=secret).first()
        alert = SlaAlert.objects.filter(case=secret).first()
        assert client.get(f"/api/v1/sla-clocks/{one.pk}/").status_code == (200 if sees_secret else 404)
        assert client.get(f"/api/v1/sla-alerts/{alert.pk}/").status_code == (200 if sees_secret else 404)
        assert client.get(f"/api/v1/sla-clocks/?case={secret.pk}").json()["results"] == [] or sees_secret


def test_alerts_filter_by_case_department_level_and_period(manager, policy, open_case, tech):
    case = open_case(subject="Slow line", priority="high")
    later = case.opened_at + timedelta(days=30)
    sla.sweep(now=later)
    client = client_for(manager)

    def levels(query: str) -> list[tuple[str, int]]:
        response = client.get(f"/api/v1/sla-alerts/?{query}")
        assert response.status_code == 200, response.json()
        return sorted((a["target"], a["level"]) for a in response.json()["results"])

    everything = levels(f"case={case.pk}")
    assert ("acknowledge", 1) in everything and ("resolve", 1) in everything
    assert levels(f"case={case.pk}&breach=true") == [x for x in everything if x[1] >= 1]
    assert levels(f"case={case.pk}&breach=false") == [x for x in everything if x[1] == 0]
    assert levels(f"case={case.pk}&level=1") == [x for x in everything if x[1] == 1]
    assert levels(f"department={tech.pk}&target=resolve") == [x for x in everything if x[0] == "resolve"]
    assert levels(f"since={(later + timedelta(seconds=1)).isoformat().replace('+', '%2B')}") == []
    assert levels(f"until={later.isoformat().replace('+', '%2B')}") == []
    kinds = {a["kind"] for a in client.get(f"/api/v1/sla-alerts/?case={case.pk}").json()["results"]}
    assert "breach" in kinds
    assert levels("since=2026-01-01T00:00:00%2B19:43") == everything  # beyond PostgreSQL's offsets
    bad_queries = (
        "level=high",
        "level=-1",
        f"case={BIG}",
        "breach=maybe",
        "since=soon",
        "target=coffee",
        "until=0001-01-01T00:00:00%2B01:00",
        "since=9999-12-31T23:59:59-23:59",
    )
    for bad in bad_queries:
        assert_problem(client.get(f"/api/v1/sla-alerts/?{bad}"), 400)
    for bad in ("state=lost", f"case={BIG}", "target=coffee"):
        assert_problem(client.get(f"/api/v1/sla-clocks/?{bad}"), 400)


def test_a_cases_clocks_and_its_sla_fields(agent, policy, open_case):
    case = open_case(subject="Router", priority="high")
    client = client_for(agent)
    detail = client.get(f"/api/v1/cases/{case.pk}/").json()
    assert detail["sla_status"] == "on_time" and detail["sla_due_at"]
    by_target = {c["target"]: c for c in detail["sla"]}
    assert set(by_target) == {"acknowledge", "resolve"}
    assert by_target["resolve"]["state"] == "running" and by_target["resolve"]["level"] == 0
    assert {"due_at", "warn_at", "business_minutes", "paused_seconds", "breaches"} <= set(
        by_target["resolve"]
    )
    listed = next(c for c in client.get("/api/v1/cases/").json()["results"] if c["id"] == case.pk)
    assert listed["sla_status"] == "on_time" and "sla" not in listed
    clocks = client.get(f"/api/v1/sla-clocks/?case={case.pk}").json()["results"]
    assert {c["target"] for c in clocks} == {"acknowledge", "resolve"}
    resolve = next(c for c in clocks if c["target"] == "resolve")
    assert (resolve["policy_name"], resolve["target_minutes"], resolve["case_number"]) == (
        "High",
        480,
        case.number,
    )
    assert client.get(f"/api/v1/sla-clocks/?case={case.pk}&target=acknowledge&state=running").json()[
        "results"
    ]
