"""The SLA configuration services: calendars, department calendars and policies are checked field by field,
versioned, audited, refused to anyone but managers and admins, and never deleted from under a user."""

from __future__ import annotations

from datetime import date

import pytest

from relay.accounts.choices import Role
from relay.cases.models import BusinessCalendar, DepartmentCalendar, SlaPolicy
from relay.cases.services import sla, sla_config
from relay.cases.services.sla_config import CalendarInput, PolicyInput
from relay.cases.tests.factories import CaseCategoryFactory
from relay.core.exceptions import ApplicationError, ConflictError, NotAllowed
from relay.core.testing.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

NINE_TO_FIVE = {str(d): [["09:00", "17:00"]] for d in range(5)}


def make_calendar(actor, name="Office hours", **fields):
    return sla_config.calendar_create(
        actor=actor, data=CalendarInput(name=name, time_zone="Europe/Berlin", hours=NINE_TO_FIVE, **fields)
    )


def make_policy(actor, name="Standard", **fields):
    fields.setdefault("resolve_minutes", 480)
    return sla_config.policy_create(actor=actor, data=PolicyInput(name=name, **fields))


def errors_of(call, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ApplicationError) as caught:
        call(*args, **kwargs)
    return caught.value.errors


# --- calendars -------------------------------------------------------------------------------------------


def test_a_calendar_is_saved_normalised_and_audited(manager):
    # given working hours typed loosely, holidays out of order and a lower-case country
    row = sla_config.calendar_create(
        actor=manager,
        data=CalendarInput(
            name="  Berlin office ",
            time_zone="Europe/Berlin",
            hours={"0": [["9:00", "12:00"], ["13:00", "17:30"]], 4: [["09:00", "24:00"]]},
            holiday_country="de",
            holiday_subdivision="by",
            custom_holidays=[
                {"date": "2026-12-31", "name": " New Year's Eve "},
                {"date": date(2026, 12, 24), "name": "Christmas Eve"},
            ],
        ),
    )
    # then every weekday is listed, times are HH:MM, codes canonical, holidays by date
    assert row.name == "Berlin office" and row.version == 1
    assert row.hours == {
        "0": [["09:00", "12:00"], ["13:00", "17:30"]],
        "1": [],
        "2": [],
        "3": [],
        "4": [["09:00", "24:00"]],
        "5": [],
        "6": [],
    }
    assert (row.holiday_country, row.holiday_subdivision) == ("DE", "BY")
    assert row.custom_holidays == [
        {"date": "2026-12-24", "name": "Christmas Eve"},
        {"date": "2026-12-31", "name": "New Year's Eve"},
    ]
    record = row.history.get()
    assert (record.history_type, record.history_user) == ("+", manager)


def test_a_24_7_calendar_needs_no_hours(manager):
    row = sla_config.calendar_create(actor=manager, data=CalendarInput(name="Always", always_open=True))
    assert row.always_open and row.time_zone == "UTC"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"name": "OFFICE HOURS"}, "name"),  # taken, whatever the case
        ({"description": "x" * 2001}, "description"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "localtime"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"time_zone": 7}, "time_zone"),
        ({"always_open": "yes"}, "always_open"),
        ({"is_default": 1}, "is_default"),
        ({"hours": ["09:00-17:00"]}, "hours"),
        ({"hours": {"7": [["09:00", "17:00"]]}}, "hours"),
        ({"hours": {"monday": [["09:00", "17:00"]]}}, "hours"),
        ({"hours": {"0": "09:00-17:00"}}, "hours.0"),
        ({"hours": {"0": [["09:00"]]}}, "hours.0"),
        ({"hours": {"0": [["9", "17"]]}}, "hours.0"),
        ({"hours": {"0": [["09:00:30", "17:00"]]}}, "hours.0"),
        ({"hours": {"0": [[9, 17]]}}, "hours.0"),
        ({"hours": {"1": [["17:00", "09:00"]]}}, "hours.1"),
        ({"hours": {"2": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "hours.2"),
        ({"hours": {"3": [["13:00", "17:00"], ["09:00", "12:00"]]}}, "hours.3"),
        ({"hours": {"4": [["25:00", "26:00"]]}}, "hours.4"),
        ({"hours": {"5": [["24:00", "24:00"]]}}, "hours.5"),
        ({"hours": {"6": [["09:00", "09:30"]] * 13}}, "hours.6"),
        ({"hours": {}}, "hours"),
        ({"hours": {"0": [["09:00", "09:30"]]}}, "hours"),  # less than an hour a week
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, "holiday_subdivision"),
        ({"holiday_subdivision": "BY"}, "holiday_subdivision"),
        ({"custom_holidays": {"date": "2026-12-24"}}, "custom_holidays"),
        ({"custom_holidays": ["2026-12-24"]}, "custom_holidays.0"),
        ({"custom_holidays": [{"date": "2026-02-30", "name": "Nope"}]}, "custom_holidays.0"),
        ({"custom_holidays": [{"date": "20261224", "name": "Compact"}]}, "custom_holidays.0"),
        ({"custom_holidays": [{"date": "2026-W52-4", "name": "Week date"}]}, "custom_holidays.0"),
        ({"custom_holidays": [{"date": "2026-12-24", "name": ""}]}, "custom_holidays.0"),
        ({"custom_holidays": [{"date": "2026-12-24", "name": "x\x00"}]}, "custom_holidays.0"),
        ({"custom_holidays": [{"date": "2026-12-24", "name": "Eve", "closed": True}]}, "custom_holidays.0"),
        (
            {
                "custom_holidays": [
                    {"date": "2026-12-24", "name": "Eve"},
                    {"date": "2026-12-24", "name": "Again"},
                ]
            },
            "custom_holidays.1",
        ),
        ({"custom_holidays": [{"date": "2026-01-01", "name": "x"}] * 1001}, "custom_holidays"),
    ],
)
def test_every_bad_calendar_field_is_an_error_on_that_field(manager, changes, field):
    make_calendar(manager)
    data = CalendarInput(name="Second", time_zone="Europe/Berlin", hours=NINE_TO_FIVE)
    for key, value in changes.items():
        setattr(data, key, value)
    errors = errors_of(sla_config.calendar_create, actor=manager, data=data)
    assert field in errors, errors
    assert BusinessCalendar.objects.count() == 1


def test_making_a_calendar_the_default_takes_the_flag_from_the_previous_one(manager, admin_user):
    first = make_calendar(manager, is_default=True)
    second = make_calendar(admin_user, name="Support hours", is_default=True)
    first.refresh_from_db()
    assert second.is_default and not first.is_default
    assert first.version == 2 and first.history.latest().history_user == admin_user
    # and the default calendar itself may be changed
    sla_config.calendar_update(
        actor=manager, calendar=second, expected_version=1, changes={"time_zone": "Europe/Paris"}
    )
    second.refresh_from_db()
    assert (second.time_zone, second.is_default, second.version) == ("Europe/Paris", True, 2)


def test_a_calendar_update_validates_the_whole_result_and_a_stale_one_changes_nothing(manager):
    row = make_calendar(manager)
    updated = sla_config.calendar_update(
        actor=manager, calendar=row, expected_version=1, changes={"hours": {"5": [["10:00", "14:00"]]}}
    )
    assert updated.version == 2 and updated.hours["5"] == [["10:00", "14:00"]] and updated.hours["0"] == []
    with pytest.raises(ConflictError):
        sla_config.calendar_update(actor=manager, calendar=row, expected_version=1, changes={"name": "Old"})
    errors = errors_of(
        sla_config.calendar_update, actor=manager, calendar=row, expected_version=2, changes={"colour": "red"}
    )
    assert errors == {"colour": ["Not a field of a calendar."]}
    row.refresh_from_db()
    assert (row.name, row.version) == ("Office hours", 2)


def test_a_calendar_in_use_or_the_default_cannot_be_deleted(manager, billing):
    row = make_calendar(manager)
    policy = make_policy(manager, calendar=row)
    with pytest.raises(ApplicationError, match="used by the policy Standard"):
        sla_config.calendar_delete(actor=manager, calendar=row, expected_version=1)
    sla_config.policy_update(actor=manager, policy=policy, expected_version=1, changes={"calendar": None})
    sla_config.department_calendar_set(actor=manager, department=billing, calendar=row)
    with pytest.raises(ApplicationError, match="used by the department Billing"):
        sla_config.calendar_delete(actor=manager, calendar=row, expected_version=1)
    sla_config.department_calendar_set(actor=manager, department=billing, calendar=None)
    sla_config.calendar_update(actor=manager, calendar=row, expected_version=1, changes={"is_default": True})
    with pytest.raises(ApplicationError, match="is the default calendar") as caught:
        sla_config.calendar_delete(actor=manager, calendar=row, expected_version=2)
    assert caught.value.status == 409
    sla_config.calendar_update(actor=manager, calendar=row, expected_version=2, changes={"is_default": False})
    with pytest.raises(ConflictError):
        sla_config.calendar_delete(actor=manager, calendar=row, expected_version=2)
    sla_config.calendar_delete(actor=manager, calendar=row, expected_version=3)
    assert not BusinessCalendar.objects.exists()
    assert BusinessCalendar.history.filter(id=row.pk, history_type="-").get().history_user == manager


def test_a_department_calendar_is_set_changed_and_cleared_with_history(manager, billing):
    office, always = make_calendar(manager), make_calendar(manager, name="Always", always_open=True)
    link = sla_config.department_calendar_set(actor=manager, department=billing, calendar=office)
    assert link is not None and DepartmentCalendar.objects.get(department=billing).calendar == office
    sla_config.department_calendar_set(actor=manager, department=billing, calendar=always)
    sla_config.department_calendar_set(actor=manager, department=billing, calendar=always)  # no change
    assert DepartmentCalendar.objects.get(department=billing).calendar == always
    assert sla_config.department_calendar_set(actor=manager, department=billing, calendar=None) is None
    assert not DepartmentCalendar.objects.exists()
    kinds = list(
        DepartmentCalendar.history.order_by("history_id").values_list("history_type", "history_user")
    )
    assert kinds == [("+", manager.pk), ("~", manager.pk), ("-", manager.pk)]


def test_the_calendar_a_case_gets_follows_each_change_of_the_cached_configuration(manager, billing, care):
    """calendar_for reads the departments' calendars and the default from the configuration cache: each
    write (set, change, clear, a new default, a deleted calendar) is seen by the next read."""
    office, always = make_calendar(manager), make_calendar(manager, name="Always", always_open=True)
    assert sla.calendar_for(None, billing.pk) is None  # cached: nothing of its own, no default
    sla_config.department_calendar_set(actor=manager, department=billing, calendar=office)
    assert sla.calendar_for(None, billing.pk) == office and sla.calendar_for(None, care.pk) is None
    sla_config.department_calendar_set(actor=manager, department=billing, calendar=always)
    assert sla.calendar_for(None, billing.pk) == always
    sla_config.calendar_update(
        actor=manager, calendar=office, expected_version=office.version, changes={"is_default": True}
    )
    assert sla.calendar_for(None, care.pk) == office and sla.calendar_for(None, None) == office
    sla_config.department_calendar_set(actor=manager, department=billing, calendar=None)
    assert sla.calendar_for(None, billing.pk) == office  # the default, now


def test_the_holidays_of_a_year_are_the_presets_and_the_own_dates(manager):
    row = make_calendar(
        manager,
        holiday_country="DE",
        holiday_subdivision="BY",
        custom_holidays=[{"date": "2026-12-24", "name": "Christmas Eve"}],
    )
    found = sla_config.holidays_in(row, 2026)
    assert (date(2026, 12, 24), "Christmas Eve", True) in found
    assert (date(2026, 1, 6), "Epiphany", False) in found  # Bavaria's, in English
    assert [d for d, _, _ in found] == sorted(d for d, _, _ in found)
    assert sla_config.holidays_in(row, 2027)[-1][0].year == 2027


# --- policies --------------------------------------------------------------------------------------------


def test_a_policy_is_saved_normalised_after_the_others_and_audited(manager, billing, tech):
    first = make_policy(manager, name="Urgent", priorities=["urgent"], acknowledge_minutes=15)
    category = CaseCategoryFactory()
    policy = make_policy(
        manager,
        name="Gold customers",
        priorities=["high", "high", "urgent"],
        categories=[category.pk],
        departments=[billing.pk],
        channels=["phone", "email"],
        tiers=["Gold Plus", "gold-plus"],
        acknowledge_minutes=60,
        resolve_minutes=2400,
        update_minutes=None,
        warn_percent=75,
        on_transfer="restart",
        escalation=[
            {"after_minutes": 0, "raise_priority": True},
            {"after_minutes": 120, "reassign": "supervisor", "department": tech.pk},
            {"after_minutes": 480, "reassign": "department", "department": tech.pk},
        ],
    )
    assert (first.order, policy.order) == (10, 20)
    assert policy.priorities == ["high", "urgent"] and policy.tiers == ["gold-plus"]
    assert policy.escalation == [
        {"after_minutes": 0, "raise_priority": True, "reassign": "", "department": None},
        {"after_minutes": 120, "raise_priority": False, "reassign": "supervisor", "department": None},
        {"after_minutes": 480, "raise_priority": False, "reassign": "department", "department": tech.pk},
    ]
    assert policy.history.get().history_user == manager


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "standard"}, "name"),
        ({"name": None}, "name"),
        ({"description": 5}, "description"),
        ({"is_active": "no"}, "is_active"),
        ({"order": -1}, "order"),
        ({"order": 2**31}, "order"),
        ({"resolve_minutes": None}, "acknowledge_minutes"),  # no target at all
        ({"acknowledge_minutes": 0}, "acknowledge_minutes"),
        ({"acknowledge_minutes": -5}, "acknowledge_minutes"),
        ({"resolve_minutes": 525_601}, "resolve_minutes"),
        ({"resolve_minutes": True}, "resolve_minutes"),
        ({"update_minutes": 1.5}, "update_minutes"),
        ({"update_minutes": "60"}, "update_minutes"),
        ({"warn_percent": 0}, "warn_percent"),
        ({"warn_percent": 100}, "warn_percent"),
        ({"warn_percent": None}, "warn_percent"),
        ({"priorities": ["asap"]}, "priorities"),
        ({"priorities": "high"}, "priorities"),
        ({"channels": ["pigeon"]}, "channels"),
        ({"categories": [999_999]}, "categories"),
        ({"categories": [2**70]}, "categories"),
        ({"categories": ["1"]}, "categories"),
        ({"departments": [999_999]}, "departments"),
        ({"departments": [True]}, "departments"),
        ({"tiers": ["***"]}, "tiers"),
        ({"tiers": [f"t{i}" for i in range(51)]}, "tiers"),
        ({"calendar": BusinessCalendar(name="unsaved")}, "calendar"),
        ({"on_transfer": "forget"}, "on_transfer"),
        ({"escalation": {"after_minutes": 0}}, "escalation"),
        ({"escalation": [{"after_minutes": 0}] + [{"after_minutes": n} for n in range(1, 6)]}, "escalation"),
        ({"escalation": ["raise"]}, "escalation.0"),
        ({"escalation": [{"after_minutes": 0, "colour": "red"}]}, "escalation.0"),
        ({"escalation": [{"after_minutes": 30}]}, "escalation.0.after_minutes"),
        ({"escalation": [{"after_minutes": 0}, {"after_minutes": 0}]}, "escalation.1.after_minutes"),
        (
            {"escalation": [{"after_minutes": 0}, {"after_minutes": 60}, {"after_minutes": 60}]},
            "escalation.2.after_minutes",
        ),
        ({"escalation": [{"after_minutes": 0}, {"after_minutes": -1}]}, "escalation.1.after_minutes"),
        ({"escalation": [{"after_minutes": 0}, {"after_minutes": 600_000}]}, "escalation.1.after_minutes"),
        ({"escalation": [{"after_minutes": 0, "raise_priority": "yes"}]}, "escalation.0.raise_priority"),
        ({"escalation": [{"after_minutes": 0, "reassign": "boss"}]}, "escalation.0.reassign"),
        ({"escalation": [{"after_minutes": 0, "reassign": "department"}]}, "escalation.0.department"),
        (
            {"escalation": [{"after_minutes": 0, "reassign": "department", "department": 999_999}]},
            "escalation.0.department",
        ),
        (
            {"escalation": [{"after_minutes": 0, "reassign": "department", "department": "3"}]},
            "escalation.0.department",
        ),
    ],
)
def test_every_bad_policy_field_is_an_error_on_that_field(manager, changes, field):
    make_policy(manager)
    data = PolicyInput(name="Second", resolve_minutes=60)
    for key, value in changes.items():
        setattr(data, key, value)
    errors = errors_of(sla_config.policy_create, actor=manager, data=data)
    assert field in errors, errors
    assert SlaPolicy.objects.count() == 1


def test_an_inactive_escalation_department_is_refused(manager):
    closed = DepartmentFactory(name="Closed desk", is_active=False)
    level = {"after_minutes": 0, "reassign": "department", "department": closed.pk}
    errors = errors_of(make_policy, manager, escalation=[level])
    assert errors == {"escalation.0.department": ["This department is no longer active."]}


def test_a_policy_update_a_stale_one_and_unknown_fields(manager):
    policy = make_policy(manager)
    updated = sla_config.policy_update(
        actor=manager, policy=policy, expected_version=1, changes={"resolve_minutes": 240, "warn_percent": 90}
    )
    assert (updated.resolve_minutes, updated.warn_percent, updated.version) == (240, 90, 2)
    with pytest.raises(ConflictError):
        sla_config.policy_update(actor=manager, policy=policy, expected_version=1, changes={"name": "Old"})
    errors = errors_of(
        sla_config.policy_update, actor=manager, policy=policy, expected_version=2, changes={"colour": "red"}
    )
    assert errors == {"colour": ["Not a field of a policy."]}
    errors = errors_of(
        sla_config.policy_update,
        actor=manager,
        policy=policy,
        expected_version=2,
        changes={"warn_percent": 0},
    )
    assert "warn_percent" in errors
    policy.refresh_from_db()
    assert (policy.name, policy.warn_percent, policy.version) == ("Standard", 90, 2)


def test_policies_move_up_and_down_and_are_numbered_evenly(manager):
    a, b, c = (make_policy(manager, name=n) for n in ("A", "B", "C"))

    def order():
        return list(SlaPolicy.objects.order_by("order", "id").values_list("name", "order"))

    sla_config.policy_move(actor=manager, policy=c, direction="up")
    assert order() == [("A", 10), ("C", 20), ("B", 30)]
    sla_config.policy_move(actor=manager, policy=a, direction="up")  # already first: nothing moves
    sla_config.policy_move(actor=manager, policy=a, direction="down")
    assert order() == [("C", 10), ("A", 20), ("B", 30)]
    with pytest.raises(ApplicationError):
        sla_config.policy_move(actor=manager, policy=b, direction="sideways")


def test_a_policy_is_deactivated_and_deleted_with_its_versions(manager):
    policy = make_policy(manager)
    with pytest.raises(ConflictError):
        sla_config.policy_set_active(actor=manager, policy=policy, active=False, expected_version=5)
    off = sla_config.policy_set_active(actor=manager, policy=policy, active=False, expected_version=1)
    assert (off.is_active, off.version) == (False, 2)
    same = sla_config.policy_set_active(actor=manager, policy=policy, active=False, expected_version=2)
    assert same.version == 2
    with pytest.raises(ConflictError):
        sla_config.policy_delete(actor=manager, policy=policy, expected_version=1)
    sla_config.policy_delete(actor=manager, policy=policy, expected_version=2)
    assert not SlaPolicy.objects.exists()
    assert SlaPolicy.history.filter(id=policy.pk, history_type="-").get().history_user == manager


# --- who may ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["agent", "supervisor", "auditor"])
def test_only_managers_and_admins_configure_sla(request, who, manager, billing):
    actor = request.getfixturevalue(who)
    row = make_calendar(manager)
    policy = make_policy(manager)
    attempts = [
        lambda: sla_config.calendar_create(actor=actor, data=CalendarInput(name="Mine", always_open=True)),
        lambda: sla_config.calendar_update(
            actor=actor, calendar=row, expected_version=1, changes={"name": "x"}
        ),
        lambda: sla_config.calendar_delete(actor=actor, calendar=row, expected_version=1),
        lambda: sla_config.department_calendar_set(actor=actor, department=billing, calendar=row),
        lambda: sla_config.policy_create(actor=actor, data=PolicyInput(name="Mine", resolve_minutes=5)),
        lambda: sla_config.policy_update(
            actor=actor, policy=policy, expected_version=1, changes={"name": "x"}
        ),
        lambda: sla_config.policy_set_active(actor=actor, policy=policy, active=False, expected_version=1),
        lambda: sla_config.policy_move(actor=actor, policy=policy, direction="down"),
        lambda: sla_config.policy_delete(actor=actor, policy=policy, expected_version=1),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            attempt()
    assert list(BusinessCalendar.objects.values_list("name", "version")) == [("Office hours", 1)]
    assert list(SlaPolicy.objects.values_list("name", "version", "is_active")) == [("Standard", 1, True)]
    assert not DepartmentCalendar.objects.exists()


def test_admins_configure_sla_too(admin_user):
    assert admin_user.role == Role.ADMIN
    row = make_calendar(admin_user)
    assert make_policy(admin_user, calendar=row).calendar == row
