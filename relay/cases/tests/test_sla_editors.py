"""The SLA editors: who may reach them (every URL, guarded), the policy list and its in-place actions, the
policy and calendar forms with their errors next to the fields (line-numbered for holidays), conflicts,
deletion with a confirmation, department calendars, and the live previews."""

from __future__ import annotations

import pytest
from django.urls import reverse

from relay.cases import sla_urls
from relay.cases.models import BusinessCalendar, DepartmentCalendar, SlaPolicy
from relay.cases.services import sla_config
from relay.cases.services.sla_config import CalendarInput, PolicyInput

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NINE_TO_FIVE = {str(d): [["09:00", "17:00"]] for d in range(5)}


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
            name="High",
            priorities=["high"],
            acknowledge_minutes=60,
            resolve_minutes=480,
            calendar=calendar,
            escalation=[{"after_minutes": 0, "raise_priority": True}],
        ),
    )


@pytest.fixture
def signed_in(client):
    def _as(user):
        client.force_login(user)
        return client

    return _as


def policy_post(**changes):
    """A valid policy form, as the browser posts it."""
    data = {
        "name": "Standard",
        "is_active": "on",
        "acknowledge": "2",
        "acknowledge_unit": "hours",
        "resolve": "3",
        "resolve_unit": "hours",
        "update": "",
        "update_unit": "hours",
        "warn_percent": "80",
        "calendar": "",
        "on_transfer": "keep",
        "esc1_reassign": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def calendar_post(**changes):
    data = {
        "name": "Support hours",
        "time_zone": "Europe/Berlin",
        "day_0": "09:00-12:00, 13:00-17:00",
        "day_1": "09:00-17:00",
        "holiday_country": "",
        "holiday_subdivision": "",
        "custom_holidays": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def every_url(policy, calendar, department):
    """Every SLA editor URL with the method it answers (the guard fails on a pattern not listed)."""
    urls = {
        "policies": ("get", reverse("sla:policies")),
        "policy_create": ("post", reverse("sla:policy_create")),
        "policy_preview": ("post", reverse("sla:policy_preview")),
        "policy_edit": ("post", reverse("sla:policy_edit", args=[policy.pk])),
        "policy_delete": ("post", reverse("sla:policy_delete", args=[policy.pk])),
        "policy_move": ("post", reverse("sla:policy_move", args=[policy.pk])),
        "policy_toggle": ("post", reverse("sla:policy_toggle", args=[policy.pk])),
        "calendars": ("get", reverse("sla:calendars")),
        "calendar_create": ("post", reverse("sla:calendar_create")),
        "calendar_preview": ("post", reverse("sla:calendar_preview")),
        "subdivisions": ("get", reverse("sla:subdivisions") + "?holiday_country=DE"),
        "calendar_edit": ("post", reverse("sla:calendar_edit", args=[calendar.pk])),
        "calendar_delete": ("post", reverse("sla:calendar_delete", args=[calendar.pk])),
        "departments": ("get", reverse("sla:departments")),
        "department_set": ("post", reverse("sla:department_set", args=[department.pk])),
    }
    assert set(urls) == {p.name for p in sla_urls.urlpatterns}, "an SLA URL is not in the refusal guard"
    return urls


@pytest.mark.parametrize("who", ["agent", "other_agent", "supervisor", "auditor"])
def test_only_managers_and_admins_reach_the_sla_editors(request, signed_in, who, policy, calendar, billing):
    client = signed_in(request.getfixturevalue(who))
    for name, (method, url) in every_url(policy, calendar, billing).items():
        body = {
            **policy_post(name="hijack"),
            **calendar_post(name="hijack"),
            "version": 1,
            "direction": "down",
        }
        body[f"d{billing.pk}-calendar"] = calendar.pk
        response = getattr(client, method)(url, body) if method == "post" else client.get(url)
        assert response.status_code == 403, (name, response.status_code)
    assert list(SlaPolicy.objects.values_list("name", "version", "order")) == [("High", 1, 10)]
    assert list(BusinessCalendar.objects.values_list("name", "version")) == [("Office hours", 1)]
    assert not DepartmentCalendar.objects.exists()


def test_anonymous_users_are_sent_to_the_login_page(client, policy, calendar, billing):
    for name, (_method, url) in every_url(policy, calendar, billing).items():
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), name


@pytest.mark.parametrize(
    ("who", "shown"),
    [("agent", False), ("supervisor", False), ("auditor", False), ("manager", True), ("admin_user", True)],
)
def test_the_menu_links_the_sla_editors_for_those_who_may_use_them(request, signed_in, who, shown):
    html = signed_in(request.getfixturevalue(who)).get("/parties/").content.decode()
    assert ('id="nav-sla"' in html) is shown


# --- policies --------------------------------------------------------------------------------------------


def test_the_policy_list_shows_the_policies_in_order_with_what_they_do(signed_in, manager, policy, tech):
    sla_config.policy_create(
        actor=manager,
        data=PolicyInput(
            name="Catch-all",
            resolve_minutes=90,
            escalation=[{}, {"after_minutes": 120, "reassign": "department", "department": tech.pk}],
        ),
    )
    page = signed_in(manager).get(reverse("sla:policies"))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("High") < html.index("Catch-all")
    assert "Every case" in html and "1 h 30 min" in html and "8 h" in html
    assert "Level 1, at the breach: raise the priority" in html
    assert "Level 2, 2 h after the due time: transfer to Technical Support" in html
    assert "Calendar “Office hours”" in html


def test_the_empty_policy_list_says_what_to_do(signed_in, manager):
    html = signed_in(manager).get(reverse("sla:policies")).content.decode()
    assert "No SLA policies yet" in html and reverse("sla:policy_create") in html


def test_moving_and_deactivating_in_place(signed_in, manager, policy):
    other = sla_config.policy_create(actor=manager, data=PolicyInput(name="Second", resolve_minutes=60))
    client = signed_in(manager)
    response = client.post(reverse("sla:policy_move", args=[other.pk]), {"direction": "up"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and html.index("Second") < html.index("High")
    assert list(SlaPolicy.objects.order_by("order").values_list("name", flat=True)) == ["Second", "High"]
    policy.refresh_from_db()  # renumbered by the move: a new version
    toggle = reverse("sla:policy_toggle", args=[policy.pk])
    response = client.post(toggle, {"active": "0", "version": policy.version}, **HTMX)
    assert "is inactive" in response.content.decode()
    stale = client.post(toggle, {"active": "1", "version": policy.version}, **HTMX)
    assert "changed by someone else" in stale.content.decode()
    policy.refresh_from_db()
    assert not policy.is_active
    # without JavaScript: back to the list page
    assert client.post(reverse("sla:policy_move", args=[policy.pk]), {"direction": "up"}).status_code == 302


def test_a_new_policy_with_targets_in_hours_and_minutes_and_escalation_levels(
    signed_in, manager, calendar, tech
):
    client = signed_in(manager)
    assert client.get(reverse("sla:policy_create")).status_code == 200
    body = policy_post(
        priorities=["high", "urgent"],
        acknowledge="45",
        acknowledge_unit="minutes",
        resolve="1.5",
        calendar=str(calendar.pk),
        on_transfer="restart",
        esc1_on="on",
        esc1_raise="on",
        esc2_on="on",
        esc2_after="2",
        esc2_after_unit="hours",
        esc2_reassign="department",
        esc2_department=str(tech.pk),
    )
    response = client.post(reverse("sla:policy_create"), body)
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = SlaPolicy.objects.get(name="Standard")
    assert (saved.acknowledge_minutes, saved.resolve_minutes, saved.update_minutes) == (45, 90, None)
    assert (saved.calendar, saved.on_transfer, saved.priorities) == (calendar, "restart", ["high", "urgent"])
    assert saved.escalation == [
        {"after_minutes": 0, "raise_priority": True, "reassign": "", "department": None},
        {"after_minutes": 120, "raise_priority": False, "reassign": "department", "department": tech.pk},
    ]
    # the edit form shows it as saved
    html = client.get(reverse("sla:policy_edit", args=[saved.pk])).content.decode()
    assert 'name="acknowledge" value="45"' in html and 'name="esc2_after" value="2"' in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required"),
        ({"name": "HIGH"}, "name", "Another policy already has this name"),
        ({"acknowledge": "", "resolve": ""}, "acknowledge", "Set at least one target"),
        ({"acknowledge": "1.333", "acknowledge_unit": "hours"}, "acknowledge", "Use whole minutes"),
        ({"resolve": "9000", "resolve_unit": "hours"}, "resolve", "525,600"),
        ({"warn_percent": "100"}, "warn_percent", "less than or equal to 99"),
        ({"esc2_on": "on"}, "esc2_on", "Turn on the levels before level 2"),
        ({"esc1_on": "on", "esc2_on": "on"}, "esc2_after", "Say how long after the due time"),
        ({"esc1_on": "on", "esc1_reassign": "department"}, "esc1_department", "Choose the department"),
        (
            {
                "esc1_on": "on",
                "esc2_on": "on",
                "esc2_after": "1",
                "esc3_on": "on",
                "esc3_after": "30",
                "esc3_after_unit": "minutes",
            },
            "esc3_after",
            "must come later than level 2",
        ),
    ],
)
def test_policy_errors_are_shown_next_to_their_fields(signed_in, manager, policy, changes, field, message):
    response = signed_in(manager).post(reverse("sla:policy_create"), policy_post(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}-errors"' in html or f"Level {field[3]}:" in html, html[:3000]
    assert message in html
    assert SlaPolicy.objects.count() == 1


def test_a_policy_field_is_checked_inline_while_typing(signed_in, manager, policy):
    body = {**policy_post(name="high"), "_validate": "name"}
    response = signed_in(manager).post(reverse("sla:policy_create"), body, **HTMX)
    assert response.status_code == 200
    assert "Another policy already has this name" in response.content.decode()
    assert SlaPolicy.objects.count() == 1


def test_editing_a_policy_and_a_conflict_keeps_what_was_typed(signed_in, manager, policy):
    client = signed_in(manager)
    url = reverse("sla:policy_edit", args=[policy.pk])
    page = client.get(url).content.decode()
    assert "History of this policy" in page
    sla_config.policy_update(actor=manager, policy=policy, expected_version=1, changes={"warn_percent": 70})
    body = policy_post(
        name="High", priorities=["high"], resolve="10", version="1", calendar=str(policy.calendar_id)
    )
    response = client.post(url, body)
    html = response.content.decode()
    assert response.status_code == 400 and "Someone else changed this policy" in html
    assert 'name="resolve" value="10"' in html and 'name="version" value="2"' in html
    assert client.post(url, {**body, "version": "2"}).status_code == 302
    policy.refresh_from_db()
    assert (policy.resolve_minutes, policy.version) == (600, 3)


def test_deleting_a_policy_asks_first(signed_in, manager, policy):
    client = signed_in(manager)
    url = reverse("sla:policy_delete", args=[policy.pk])
    assert "Delete the policy “High”?" in client.get(url).content.decode()
    assert client.post(url, {"version": "7"}).status_code == 302
    assert SlaPolicy.objects.exists()
    assert client.post(url, {"version": "1"}).status_code == 302
    assert not SlaPolicy.objects.exists()


def test_the_policy_preview_says_when_a_case_opened_then_is_due(signed_in, manager, policy):
    body = policy_post(
        name="High",  # the saved policy's own name: no matter for a preview
        priorities=["high"],
        acknowledge="1",
        resolve="8",
        calendar=str(policy.calendar_id),
        **{"preview-start": "2026-12-04T16:55", "preview-priority": "high"},
    )
    signed_in(manager)
    client = signed_in(manager)
    session = client.session
    response = client.post(reverse("sla:policy_preview"), body, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    # the manager's zone is the site's (UTC): Friday 16:55 UTC is 17:55 in Berlin, after hours
    assert "with priority high is due at" in html
    assert "Mon 7 Dec, 10:00</strong> (first response)" in html
    assert "Mon 7 Dec, 17:00</strong> (resolution)" in html
    assert "Europe/Berlin" in html and "your time" in html
    assert session is not None


def test_the_policy_preview_explains_what_is_missing_and_other_priorities(signed_in, manager, policy):
    client = signed_in(manager)
    empty = client.post(reverse("sla:policy_preview"), policy_post(acknowledge="", resolve=""), **HTMX)
    assert "Set at least one target" in empty.content.decode()
    other = client.post(
        reverse("sla:policy_preview"),
        policy_post(priorities=["urgent"], **{"preview-priority": "low"}),
        **HTMX,
    )
    assert "does not apply to priority low" in other.content.decode()
    anytime = client.post(reverse("sla:policy_preview"), policy_post(), **HTMX).content.decode()
    assert "opened <strong>now</strong>" in anytime and "every hour counts (24/7)" in anytime


# --- calendars -------------------------------------------------------------------------------------------


def test_the_calendar_list_shows_hours_holidays_and_who_uses_them(
    signed_in, manager, policy, calendar, billing
):
    sla_config.department_calendar_set(actor=manager, department=billing, calendar=calendar)
    html = signed_in(manager).get(reverse("sla:calendars")).content.decode()
    assert "Office hours" in html and "Mon</span> 09:00-17:00" in html and "Europe/Berlin" in html
    assert "Policy <a" in html and "Billing" in html


def test_the_empty_calendar_list_says_what_to_do(signed_in, manager):
    html = signed_in(manager).get(reverse("sla:calendars")).content.decode()
    assert "No business calendars yet" in html


def test_a_new_calendar_from_the_form(signed_in, manager, calendar):
    client = signed_in(manager)
    page = client.get(reverse("sla:calendar_create")).content.decode()
    assert 'value="09:00-17:00"' in page  # Monday to Friday nine to five, to start from
    body = calendar_post(
        holiday_country="DE",
        holiday_subdivision="BY",
        custom_holidays="2026-12-24 Christmas Eve\n\n2026-12-31 — New Year's Eve\n",
        is_default="on",
    )
    response = client.post(reverse("sla:calendar_create"), body)
    assert response.status_code == 302, response.content.decode()[:3000]
    row = BusinessCalendar.objects.get(name="Support hours")
    assert row.hours["0"] == [["09:00", "12:00"], ["13:00", "17:00"]] and row.hours["2"] == []
    assert (row.holiday_country, row.holiday_subdivision, row.is_default) == ("DE", "BY", True)
    assert [h["name"] for h in row.custom_holidays] == ["Christmas Eve", "New Year's Eve"]
    html = client.get(reverse("sla:calendar_edit", args=[row.pk])).content.decode()
    assert "2026-12-24 Christmas Eve" in html and "History of this calendar" in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "office HOURS"}, "name", "Another calendar already has this name"),
        ({"day_0": "9 to 5"}, "day_0", "is not an interval"),
        ({"day_1": "17:00-09:00"}, "day_1", "the end must be after the start"),
        ({"day_2": "09:00-13:00, 12:00-17:00"}, "day_2", "overlaps"),
        ({"day_0": "", "day_1": ""}, "day_0", "Give some working hours"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Select a valid choice"),
        ({"holiday_subdivision": "BY"}, "holiday_subdivision", "Select a valid choice"),
        ({"custom_holidays": "2026-12-24 Eve\n2026-13-01 Never"}, "custom_holidays", "Line 2: “2026-13-01”"),
        ({"custom_holidays": "\n2026-12-24"}, "custom_holidays", "Line 2: give the holiday a name"),
        (
            {"custom_holidays": "2026-12-24 Eve\n2026-12-25 Day\n2026-12-24 Again"},
            "custom_holidays",
            "Line 3: 2026-12-24 is listed twice",
        ),
    ],
)
def test_calendar_errors_are_shown_next_to_their_fields(
    signed_in, manager, calendar, changes, field, message
):
    response = signed_in(manager).post(reverse("sla:calendar_create"), calendar_post(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}-errors"' in html, html[:3000]
    assert message in html
    assert BusinessCalendar.objects.count() == 1


def test_a_calendar_field_is_checked_inline(signed_in, manager, calendar):
    body = {**calendar_post(day_3="12:00-10:00"), "_validate": "day_3"}
    response = signed_in(manager).post(reverse("sla:calendar_create"), body, **HTMX)
    assert response.status_code == 200 and "the end must be after the start" in response.content.decode()


def test_the_region_select_follows_the_country(signed_in, manager):
    html = (
        signed_in(manager).get(reverse("sla:subdivisions") + "?holiday_country=DE", **HTMX).content.decode()
    )
    assert 'value="BY"' in html and 'id="field-holiday_subdivision"' in html
    none = (
        signed_in(manager).get(reverse("sla:subdivisions") + "?holiday_country=ZZ", **HTMX).content.decode()
    )
    assert "The whole country" in none and 'value="BY"' not in none


def test_editing_a_calendar_and_a_conflict(signed_in, manager, calendar):
    client = signed_in(manager)
    url = reverse("sla:calendar_edit", args=[calendar.pk])
    body = calendar_post(name="Office hours", version="1", day_5="10:00-14:00")
    assert client.post(url, body).status_code == 302
    calendar.refresh_from_db()
    assert calendar.hours["5"] == [["10:00", "14:00"]] and calendar.version == 2
    response = client.post(url, {**body, "day_6": "10:00-12:00"})  # version 1 again
    assert response.status_code == 400 and "Someone else changed this calendar" in response.content.decode()


def test_deleting_a_calendar_in_use_is_refused_and_explained(signed_in, manager, policy, calendar):
    client = signed_in(manager)
    url = reverse("sla:calendar_delete", args=[calendar.pk])
    page = client.get(url).content.decode()
    assert "cannot be deleted while it is in use" in page and "High" in page
    response = client.post(url, {"version": "1"}, follow=True)
    assert "used by the policy High" in response.content.decode()
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()
    sla_config.policy_delete(actor=manager, policy=policy, expected_version=1)
    assert client.post(url, {"version": "1"}).status_code == 302
    assert not BusinessCalendar.objects.exists()


def test_the_calendar_preview_shows_due_times_and_the_years_holidays(signed_in, manager, policy):
    body = calendar_post(
        day_0="09:00-17:00",
        day_1="09:00-17:00",
        day_4="09:00-17:00",
        holiday_country="DE",
        custom_holidays="2026-12-07 Team day",
        **{"preview-start": "2026-12-04T15:00", "preview-policy": str(policy.pk)},
    )
    response = signed_in(manager).post(reverse("sla:calendar_preview"), body, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    # Friday 16:00 Berlin: 1 h left that day; Monday is the team day; so Tuesday
    assert "Fri 4 Dec, 17:00</strong> (first response)" in html
    assert "Tue 8 Dec, 16:00</strong> (resolution)" in html
    assert "Closed in 2026" in html and "Team day" in html and "Christmas Day" in html
    sample = (
        signed_in(manager)
        .post(reverse("sla:calendar_preview"), calendar_post(**{"preview-hours": "2"}), **HTMX)
        .content.decode()
    )
    assert "A target of 2 business hours" in sample
    broken = signed_in(manager).post(reverse("sla:calendar_preview"), calendar_post(day_0="x"), **HTMX)
    assert "Monday: “x” is not an interval" in broken.content.decode()


# --- department calendars --------------------------------------------------------------------------------


def test_department_calendars_are_set_in_place(signed_in, manager, calendar, billing):
    client = signed_in(manager)
    page = client.get(reverse("sla:departments")).content.decode()
    assert "Billing" in page and "The default calendar" in page
    url = reverse("sla:department_set", args=[billing.pk])
    response = client.post(url, {f"d{billing.pk}-calendar": calendar.pk}, **HTMX)
    assert "Billing works to “Office hours”" in response.content.decode()
    assert DepartmentCalendar.objects.get(department=billing).calendar == calendar
    response = client.post(url, {f"d{billing.pk}-calendar": ""}, **HTMX)
    assert "works to the default calendar" in response.content.decode()
    assert not DepartmentCalendar.objects.exists()
    bad = client.post(url, {f"d{billing.pk}-calendar": "999999"}, **HTMX)
    assert "Choose one of the calendars" in bad.content.decode()
    assert client.post(reverse("sla:department_set", args=[999999]), {}).status_code == 404
