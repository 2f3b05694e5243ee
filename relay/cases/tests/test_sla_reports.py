"""The SLA in the staff's daily work (issue 4, points 4 and 6): countdown badges, the case page's SLA
panel, a department's at-risk and breached lists, the dropped-balls report and the metrics selectors;
the refusals (a confidential case's clocks and alerts never reach an outsider; an agent's report is about
their own cases) and query-count pins."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from relay.accounts.choices import Role
from relay.cases import services, sla_selectors
from relay.cases.choices import ClockState, Priority, SlaStatus, SlaTarget, StatusCategory
from relay.cases.models import BusinessCalendar, Case, CaseStatus, SlaAlert, SlaClock, SlaPolicy
from relay.cases.services import sla
from relay.cases.templatetags.sla_tags import badge_for, span_text
from relay.cases.tests.factories import CaseCategoryFactory
from relay.core.testing.factories import UserFactory
from relay.core.testing.queries import assert_flat_query_count

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = {str(d): [["09:00", "17:00"]] for d in range(5)}
FRIDAY = (2026, 12, 4)
MONDAY = (2026, 12, 7)
TUESDAY = (2026, 12, 8)


def berlin(day: tuple[int, int, int], hour: int, minute: int = 0) -> datetime:
    return datetime(*day, hour, minute, tzinfo=BERLIN)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def words(html: str, anchor: str = "", length: int = 100_000) -> str:
    """What the page says (tags dropped, spaces folded), from `anchor` on."""
    start = html.index(anchor) if anchor else 0
    return " ".join(re.sub(r"<[^>]+>", " ", html[start : start + length]).split())


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """The engine keeps built calendars by (id, version); a rolled-back test's calendar must not stand in
    for this test's row of the same id."""
    sla._built.clear()
    yield
    sla._built.clear()


@pytest.fixture
def calendar(db):
    return BusinessCalendar.objects.create(name="Office hours", time_zone="Europe/Berlin", hours=NINE_TO_FIVE)


@pytest.fixture
def policy(calendar):
    """Every case: first response within 1 business hour, resolved within 8."""
    return SlaPolicy.objects.create(
        name="Standard", order=10, acknowledge_minutes=60, resolve_minutes=8 * 60, calendar=calendar
    )


@pytest.fixture
def open_at(open_case, policy, tech_agent):
    """Open a case (for Technical Support, assigned to its agent unless told otherwise) at an instant."""

    def _open(at: datetime, **kwargs):
        kwargs.setdefault("assignee", tech_agent)
        with time_machine.travel(at, tick=False):
            return open_case(**kwargs)

    return _open


@pytest.fixture
def friday_case(open_at):
    return open_at(berlin(FRIDAY, 16, 55), subject="Line dead since Friday")


@pytest.fixture
def fraud(db):
    return CaseCategoryFactory(name="Fraud", is_confidential=True)


@pytest.fixture
def secret(open_at, fraud):
    """A confidential case of Technical Support (opened by the care agent: she is in its circle)."""
    return open_at(berlin(FRIDAY, 16, 55), subject="Suspected SIM swap", category=fraud)


def status(category: str) -> CaseStatus:
    return CaseStatus.objects.get(category=category, is_default=True)


def sweep_at(at: datetime):
    return sla.sweep(now=at)


# --- the badge --------------------------------------------------------------------------------------------


def test_span_text_reads_like_the_badges():
    assert span_text(timedelta(hours=3, minutes=10)) == "3 h 10 min"
    assert span_text(timedelta(hours=1, minutes=5, seconds=59)) == "1 h 05 min"
    assert span_text(25 * 60) == "25 min"
    assert span_text(30) == "less than a minute"
    assert span_text(0) == "0 min"
    assert span_text(timedelta(days=2, hours=4, minutes=7)) == "2 days 4 h"
    assert span_text(timedelta(days=1)) == "1 day"
    assert span_text(None) == ""


@pytest.mark.parametrize(
    ("status", "due_in", "text", "state"),
    [
        (SlaStatus.ON_TIME, timedelta(hours=3, minutes=10), "On time · due in 3 h 10 min", "on_time"),
        (SlaStatus.AT_RISK, timedelta(minutes=25), "At risk · due in 25 min", "at_risk"),
        (SlaStatus.BREACHED, -timedelta(hours=1, minutes=5), "Breached · 1 h 05 min late", "breached"),
        (SlaStatus.PAUSED, None, "Paused", "paused"),
        (SlaStatus.BREACHED, None, "Breached · paused", "breached"),
        # ran out since the last sweep: not "on time" any more, though nothing is recorded yet
        (SlaStatus.ON_TIME, -timedelta(minutes=2), "Overdue · 2 min late", "overdue"),
    ],
)
def test_the_badge_says_the_state_and_the_countdown_in_words(status, due_in, text, state):
    now = berlin(MONDAY, 9, 0)
    badge = badge_for(status, now + due_in if due_in is not None else None, now)
    assert badge is not None and badge.text == text and badge.state == state


def test_no_badge_without_an_sla_and_the_due_time_in_the_viewers_zone():
    now = berlin(MONDAY, 9, 0)
    assert badge_for(SlaStatus.NONE, None, now) is None
    with timezone.override(ZoneInfo("America/New_York")):
        badge = badge_for(SlaStatus.ON_TIME, berlin(MONDAY, 16, 55), now)
    assert badge is not None and badge.title == "Due Mon 7 Dec 2026, 10:55 (America/New_York)"
    assert "waits on the customer" in badge_for(SlaStatus.PAUSED, None, now).title


# --- the case page ------------------------------------------------------------------------------------------


def test_the_sla_panel_lists_each_clock_with_its_due_time_in_both_zones(friday_case, agent):
    agent.time_zone = "America/New_York"
    agent.save()
    with time_machine.travel(berlin(MONDAY, 9, 30), tick=False):
        panel = sla_selectors.case_sla(actor=agent, case=friday_case)
        text = login(agent).get(f"/cases/{friday_case.pk}/").content.decode()
    ack, resolve = panel.clocks
    assert (ack.target, resolve.target) == (SlaTarget.ACKNOWLEDGE, SlaTarget.RESOLVE)
    assert ack.due_at == berlin(MONDAY, 9, 55) and resolve.due_at == berlin(MONDAY, 16, 55)
    assert ack.used == timedelta(minutes=35) and ack.allowed == timedelta(hours=1) and ack.used_percent == 58
    assert panel.policy_names == ["Standard"] and ack.zone == "Europe/Berlin" and panel.alerts == []
    panel_html = text[text.index('id="sla-panel"') :]
    assert 'Mon 7 Dec 2026, 16:55</time> <span class="text-body-secondary">(Europe/Berlin)' in panel_html
    assert "Mon 7 Dec 2026, 10:55 your time (America/New_York)" in panel_html
    assert "35 min of 1 h 00 min (58 %)" in panel_html
    assert "SLA: On time · due in 25 min" in words(text, 'id="case-sla"', 600)


def test_the_panel_shows_pauses_and_the_breach_with_how_late(friday_case, tech_agent, agent):
    with time_machine.travel(berlin(MONDAY, 9, 10), tick=False):
        paused = services.case_set_status(
            actor=tech_agent,
            case=friday_case,
            status=status(StatusCategory.WAITING_CUSTOMER),
            expected_version=friday_case.version,
        )
    with time_machine.travel(berlin(MONDAY, 9, 40), tick=False):
        page = login(agent).get(f"/cases/{friday_case.pk}/").content.decode()
        assert "SLA: Paused (waiting on the customer or a third party)" in words(page, 'id="case-sla"', 600)
        services.case_set_status(
            actor=tech_agent, case=paused, status=status(StatusCategory.OPEN), expected_version=paused.version
        )
    # 15 min used (5 on Friday, 10 on Monday); 45 left from 9:40: due 10:25; swept at 11:00
    sweep_at(berlin(MONDAY, 11, 0))
    with time_machine.travel(berlin(MONDAY, 11, 30), tick=False):
        panel = sla_selectors.case_sla(actor=agent, case=friday_case)
        page = login(agent).get(f"/cases/{friday_case.pk}/").content.decode()
    ack = panel.clocks[0]
    assert ack.paused == timedelta(minutes=30) and ack.breaches == 1 and ack.breached
    assert ack.due_at == berlin(MONDAY, 10, 25) and ack.late == timedelta(hours=1, minutes=5)
    [breach] = panel.alerts  # the warning's time had passed too: only the breach is told
    assert (breach.kind, breach.target, breach.late) == (
        "breach",
        SlaTarget.ACKNOWLEDGE,
        timedelta(minutes=35),
    )
    assert breach.assignee_name == tech_agent.display_name and breach.department_name == "Technical Support"
    assert "Breached · 1 h 05 min late" in words(page, 'id="case-sla"', 600)
    alerts = words(page, 'id="sla-alerts"')
    assert "Breached : first response due Mon 7 Dec, 09:25, 35 min late" in alerts


def test_a_case_without_an_sla_has_no_panel_and_no_badge(open_case, agent, policy):
    policy.delete()
    case = open_case()
    page = login(agent).get(f"/cases/{case.pk}/").content.decode()
    assert 'id="sla-panel"' not in page and "badge-sla" not in page


def test_an_outsider_never_reads_a_confidential_cases_clocks_or_alerts(secret, other_agent, agent, manager):
    sweep_at(berlin(MONDAY, 11, 0))
    assert SlaAlert.objects.filter(case=secret).exists()
    hidden = sla_selectors.case_sla(actor=other_agent, case=secret)
    assert hidden.clocks == [] and hidden.alerts == []
    assert sla_selectors.case_sla_metrics(actor=other_agent, case=secret).breaches == {
        t: 0 for t in SlaTarget.values
    }
    assert len(sla_selectors.case_sla(actor=agent, case=secret).alerts) == 1  # in the circle
    assert len(sla_selectors.case_sla(actor=manager, case=secret).clocks) == 2


# --- queue rows, my cases and the lists ---------------------------------------------------------------------


def test_queue_and_my_cases_rows_carry_the_countdown(friday_case, tech_agent, tech_supervisor):
    with time_machine.travel(berlin(MONDAY, 9, 0), tick=False):
        queue = login(tech_supervisor).get("/cases/queue/technical-support/").content.decode()
        mine = login(tech_agent).get("/cases/").content.decode()
    for page in (queue, mine):
        assert '<th scope="col" class="d-none d-md-table-cell">SLA</th>' in page
        assert "SLA: On time · due in 55 min" in words(page)
        assert 'title="Due Mon 7 Dec 2026, 08:55 (UTC)"' in page  # the viewer's zone: the site's here
        assert '<span class="visually-hidden">SLA: </span>' in page  # said, not only coloured


def test_the_queue_links_to_its_at_risk_and_breached_lists_with_counts(open_at, tech_supervisor):
    late = open_at(berlin(FRIDAY, 16, 55), subject="Late one")
    soon = open_at(berlin(MONDAY, 9, 0), subject="Fresh one")
    open_at(berlin(MONDAY, 9, 50), subject="Calm one")
    # the Friday case's first response ran out at 9:55; the Monday one's is due at 10:00 (warned 9:48)
    sweep_at(berlin(MONDAY, 9, 58))
    assert (fresh(late).sla_status, fresh(soon).sla_status) == (SlaStatus.BREACHED, SlaStatus.AT_RISK)
    client = login(tech_supervisor)
    with time_machine.travel(berlin(MONDAY, 9, 58), tick=False):
        queue = client.get("/cases/queue/technical-support/")
        assert queue.context["sla_counts"] == {SlaStatus.AT_RISK: 1, SlaStatus.BREACHED: 1}
        text = queue.content.decode()
        assert 'href="/cases/queue/technical-support/breached/"' in text
        assert 'href="/cases/queue/technical-support/at-risk/"' in text
        breached = client.get("/cases/queue/technical-support/breached/").content.decode()
        at_risk = client.get("/cases/queue/technical-support/at-risk/").content.decode()
    assert (
        "Late one" in breached and "Fresh one" not in breached and "Breached · 3 min late" in words(breached)
    )
    assert "Fresh one" in at_risk and "At risk · due in 2 min" in words(at_risk)
    assert "Late one" not in at_risk and "Calm one" not in at_risk


def test_the_lists_put_the_soonest_due_first_the_paused_breaches_last_and_page_by_keyset(
    open_at, tech_agent, tech_supervisor, tech
):
    cases = [open_at(berlin(FRIDAY, 16, 50 + i), subject=f"Case {i}") for i in range(4)]
    with time_machine.travel(berlin(FRIDAY, 16, 58), tick=False):
        waiting = services.case_set_status(
            actor=tech_agent,
            case=cases[0],
            status=status(StatusCategory.WAITING_CUSTOMER),
            expected_version=cases[0].version,
        )
    sweep_at(berlin(MONDAY, 11, 0))  # the others' first response: due 9:51.. 9:53, breached
    assert fresh(waiting).sla_status == SlaStatus.PAUSED  # paused before anything ran out
    with time_machine.travel(berlin(MONDAY, 11, 5), tick=False):
        services.case_set_status(
            actor=tech_agent, case=fresh(waiting), status=status(StatusCategory.OPEN), expected_version=None
        )
    sweep_at(berlin(MONDAY, 13, 0))  # its first response: 8 min used, due again 11:57
    with time_machine.travel(berlin(MONDAY, 13, 10), tick=False):
        again = fresh(waiting)
        services.case_set_status(
            actor=tech_agent,
            case=again,
            status=status(StatusCategory.WAITING_THIRD_PARTY),
            expected_version=again.version,
        )
    assert fresh(waiting).sla_status == SlaStatus.BREACHED and fresh(waiting).sla_due_at is None
    first = sla_selectors.sla_list(actor=tech_supervisor, department=tech, status="breached", size=2)
    second = sla_selectors.sla_list(
        actor=tech_supervisor, department=tech, status="breached", size=2, cursor=first.next_cursor
    )
    order = [c.subject for c in first.items + second.items]
    assert order == ["Case 1", "Case 2", "Case 3", "Case 0"] and second.next_cursor is None
    back = sla_selectors.sla_list(
        actor=tech_supervisor, department=tech, status="breached", size=2, cursor=second.previous_cursor
    )
    assert [c.subject for c in back.items] == ["Case 1", "Case 2"]
    with pytest.raises(Exception, match="Invalid list"):
        sla_selectors.sla_list(actor=tech_supervisor, department=tech, status="on_time")


def test_the_lists_keep_a_confidential_case_inside_its_circle(secret, friday_case, other_agent, tech_agent):
    sweep_at(berlin(MONDAY, 10, 0))
    outsider = login(other_agent).get("/cases/queue/technical-support/breached/")
    assert outsider.status_code == 200
    text = outsider.content.decode()
    assert "Line dead since Friday" in text and "SIM swap" not in text
    assert outsider.context["counts"][SlaStatus.BREACHED] == 1
    inside = login(tech_agent).get("/cases/queue/technical-support/breached/")
    assert "SIM swap" in inside.content.decode() and inside.context["counts"][SlaStatus.BREACHED] == 2
    queue = login(other_agent).get("/cases/queue/technical-support/")
    assert queue.context["sla_counts"][SlaStatus.BREACHED] == 1


def test_a_forged_cursor_gives_the_first_page_and_an_unknown_department_a_404(friday_case, agent):
    client = login(agent)
    response = client.get("/cases/queue/technical-support/at-risk/?cursor=not-a-cursor", follow=True)
    assert response.status_code == 200 and "no longer valid" in response.content.decode()
    assert client.get("/cases/queue/nowhere/breached/").status_code == 404


# --- the dropped-balls report ------------------------------------------------------------------------------


@pytest.fixture
def dropped(open_at, tech_agent, tech_colleague, tech_supervisor, secret):
    """Three dropped balls of Technical Support on Monday 7 December: two of the agent (one of them the
    confidential case), one of her colleague; and one of November, outside the default period."""
    open_at(berlin(FRIDAY, 16, 55), subject="Agent's case")
    open_at(berlin(FRIDAY, 16, 55), subject="Colleague's case", assignee=tech_colleague)
    open_at(berlin((2026, 11, 2), 9, 0), subject="Old case")
    sweep_at(berlin((2026, 11, 2), 18, 0))  # its first response and its resolution
    sweep_at(berlin(MONDAY, 11, 0))
    return SlaAlert.objects.filter(level=1)


def report(user, query: str = ""):
    with time_machine.travel(berlin(MONDAY, 12, 0), tick=False):
        return login(user).get(f"/cases/sla/dropped-balls/{query}")


def test_a_supervisor_sees_the_breaches_per_department_and_person_with_compliance(
    dropped, tech_supervisor, tech_agent, tech_colleague
):
    response = report(tech_supervisor)
    assert response.status_code == 200
    r = response.context["report"]
    assert r.total == 3 and r.by_target == {"acknowledge": 3, "resolve": 0, "update": 0}
    assert [(t.name, t.total) for t in r.departments] == [("Technical Support", 3)]
    assert [(t.name, t.total) for t in r.people] == [
        (tech_agent.display_name, 2),
        (tech_colleague.display_name, 1),
    ]
    text = response.content.decode()
    assert "SIM swap" in text and "Colleague&#x27;s case" in text and "Old case" not in text
    assert text.count('class="breach-row"') == 3
    compliance = words(text, 'id="compliance"', 3000)  # nothing done yet: breaches, no percentages
    assert "Technical Support — — — 3 —" in compliance
    assert "still open" in text and "2 h 05 min" in text  # due 9:55, still not answered at 12:00


def test_an_agent_sees_only_her_own_dropped_balls_and_no_compliance(dropped, tech_agent, tech_colleague):
    response = report(tech_colleague)
    r = response.context["report"]
    assert r.total == 1 and [t.name for t in r.people] == [tech_colleague.display_name]
    text = response.content.decode()
    assert "Colleague&#x27;s case" in text and "Agent&#x27;s case" not in text
    assert 'id="compliance"' not in text and 'id="per-department"' not in text
    # a person filter in the URL does not widen an agent's report
    wider = report(tech_colleague, f"?person={tech_agent.pk}")
    assert wider.context["report"].total == 1


def test_auditors_read_the_report_but_not_a_confidential_cases_breach(dropped, auditor, manager):
    response = report(auditor)
    assert response.status_code == 200 and response.context["report"].total == 2
    assert "SIM swap" not in response.content.decode()
    assert report(manager).context["report"].total == 3


def test_the_period_department_and_person_filters(dropped, tech_supervisor, tech_agent, billing):
    november = report(tech_supervisor, "?from=2026-11-01&to=2026-11-30")
    assert november.context["report"].total == 2 and "Old case" in november.content.decode()
    assert report(tech_supervisor, "?department=billing").context["report"].total == 0
    assert (
        "No dropped balls in this period" in report(tech_supervisor, "?department=billing").content.decode()
    )
    person = report(tech_supervisor, f"?person={tech_agent.pk}")
    assert person.context["report"].total == 2 and person.context["person"] == tech_agent.display_name


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?from=2026-12-07&to=2026-12-01", "The end of the period is before its start."),
        ("?from=2025-01-01&to=2026-12-07", "At most a year at a time."),
        ("?from=yesterday", "Enter a valid date."),
        ("?department=nowhere", "Select a valid choice."),
    ],
)
def test_a_bad_period_is_said_next_to_the_field(dropped, tech_supervisor, query, message):
    response = report(tech_supervisor, query)
    assert response.status_code == 400 and response.context["report"] is None
    assert message in response.content.decode()


def test_the_default_period_is_the_last_30_days(dropped, tech_supervisor):
    response = report(tech_supervisor)
    form = response.context["form"]
    assert form.cleaned_data["from"].isoformat() == "2026-11-08"
    assert form.cleaned_data["to"].isoformat() == "2026-12-07"


# --- metrics ----------------------------------------------------------------------------------------------


def test_case_metrics_wall_and_business_times_paused_time_and_breaches(friday_case, tech_agent, manager):
    with time_machine.travel(berlin(MONDAY, 9, 20), tick=False):
        case = services.case_acknowledge(
            actor=tech_agent, case=friday_case, expected_version=friday_case.version
        )
    with time_machine.travel(berlin(MONDAY, 10, 0), tick=False):
        case = services.case_set_status(
            actor=tech_agent,
            case=case,
            status=status(StatusCategory.WAITING_CUSTOMER),
            expected_version=case.version,
        )
    with time_machine.travel(berlin(TUESDAY, 10, 0), tick=False):
        case = services.case_set_status(
            actor=tech_agent, case=case, status=status(StatusCategory.OPEN), expected_version=case.version
        )
    sweep_at(berlin(TUESDAY, 18, 0))  # the resolution: 5 + 60 min, then 415 from Tuesday 10:00: 16:55
    with time_machine.travel(berlin((2026, 12, 9), 9, 30), tick=False):
        case = services.case_resolve(
            actor=tech_agent,
            case=case,
            resolution_code="solved",
            resolution_summary="Replaced the line card.",
            expected_version=case.version,
        )
    m = sla_selectors.case_sla_metrics(actor=manager, case=case)
    assert m.time_to_acknowledge == timedelta(days=2, hours=16, minutes=25)
    assert m.business_time_to_acknowledge == timedelta(minutes=25)
    assert m.time_to_resolve == berlin((2026, 12, 9), 9, 30) - berlin(FRIDAY, 16, 55)
    assert m.business_time_to_resolve == timedelta(minutes=5 + 60 + 420 + 30)
    assert m.time_paused == timedelta(days=1)
    assert m.breaches == {"acknowledge": 0, "resolve": 1, "update": 0}
    assert sla_selectors.cases_sla_metrics(actor=manager, cases=[case]) == {case.pk: m}


def test_an_open_case_has_no_resolution_times_yet(friday_case, manager):
    m = sla_selectors.case_sla_metrics(actor=manager, case=friday_case, at=berlin(MONDAY, 9, 0))
    assert m.time_to_acknowledge is None and m.time_to_resolve is None
    assert m.business_time_to_acknowledge is None and m.time_paused == timedelta(0)


def test_department_compliance_counts_met_and_missed_but_not_cancelled(
    open_at, tech_agent, manager, tech, tech_supervisor
):
    on_time = open_at(berlin(MONDAY, 9, 0), subject="Answered on time")
    late = open_at(berlin(MONDAY, 9, 0), subject="Answered late")
    merged = open_at(berlin(MONDAY, 9, 0), subject="Duplicate")
    with time_machine.travel(berlin(MONDAY, 9, 30), tick=False):
        services.case_acknowledge(actor=tech_agent, case=on_time, expected_version=on_time.version)
        services.case_merge(
            actor=tech_supervisor,
            duplicate=merged,
            target=on_time,
            reason="the same problem",
            expected_version=merged.version,
            target_version=fresh(on_time).version,
        )
    sweep_at(berlin(MONDAY, 10, 30))
    with time_machine.travel(berlin(MONDAY, 11, 0), tick=False):
        services.case_acknowledge(actor=tech_agent, case=late, expected_version=fresh(late).version)
    assert SlaClock.objects.filter(case=merged, state=ClockState.CANCELLED).count() == 2
    start, end = berlin(MONDAY, 0, 0), berlin(TUESDAY, 0, 0)
    [m] = sla_selectors.department_sla_metrics(actor=manager, start=start, end=end)
    ack = m.targets[SlaTarget.ACKNOWLEDGE]
    assert (m.name, ack.met, ack.missed, ack.percent, m.breaches) == ("Technical Support", 1, 1, 50.0, 1)
    assert m.average_first_response == timedelta(hours=1, minutes=15)  # (30 + 120) / 2
    assert m.average_first_response_business == timedelta(hours=1, minutes=15)
    assert m.targets[SlaTarget.RESOLVE].percent is None  # nothing resolved yet
    assert sla_selectors.department_sla_metrics(actor=manager, start=start, end=end, department=tech) == [m]
    page = report(manager, "?from=2026-12-07&to=2026-12-07").content.decode()
    assert '50.0 %</span> <span class="small text-body-secondary">(1 of 2)' in page
    with pytest.raises(Exception, match="Invalid period"):
        sla_selectors.department_sla_metrics(actor=manager, start=end, end=start)


def test_a_confidential_cases_clocks_do_not_count_for_an_outsider(secret, open_at, other_agent, manager):
    with time_machine.travel(berlin(MONDAY, 9, 30), tick=False):
        services.case_acknowledge(actor=manager, case=secret, expected_version=secret.version)
    start, end = berlin(MONDAY, 0, 0), berlin(TUESDAY, 0, 0)
    assert sla_selectors.department_sla_metrics(actor=other_agent, start=start, end=end) == []
    [m] = sla_selectors.department_sla_metrics(actor=manager, start=start, end=end)
    assert m.targets[SlaTarget.ACKNOWLEDGE].met == 1


# --- the guard and query counts -----------------------------------------------------------------------------

SLA_PAGES = {
    "queue_at_risk": "/cases/queue/technical-support/at-risk/",
    "queue_breached": "/cases/queue/technical-support/breached/",
    "dropped_balls": "/cases/sla/dropped-balls/",
}


def test_every_sla_page_is_in_this_guard_table():
    from relay.cases import urls
    from relay.cases.tests.test_views import CONSOLE_PAGES

    names = {p.name for p in urls.urlpatterns if p.name and not p.name.startswith("routing")}
    assert set(SLA_PAGES) <= names
    assert not names - set(CONSOLE_PAGES) - set(SLA_PAGES), "add the new page to a guard table"


@pytest.mark.parametrize("name", sorted(SLA_PAGES))
def test_sla_pages_send_the_anonymous_to_login_read_only_and_refuse_non_staff(name, tech, friday_case):
    url = SLA_PAGES[name]
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert login(UserFactory(role=Role.AGENT)).post(url).status_code == 405
    nobody = UserFactory(role="")
    assert login(nobody).get(url).status_code == 403


def test_the_sla_list_costs_the_same_queries_for_few_and_many_cases(open_at, tech_supervisor):
    client = login(tech_supervisor)
    made = iter(range(1000))

    def add(n):
        for _ in range(n):
            open_at(berlin(FRIDAY, 16, 55), subject=f"Case {next(made)}", priority=Priority.HIGH)
        sweep_at(berlin(MONDAY, 10, 0))

    def call():
        assert client.get("/cases/queue/technical-support/breached/").status_code == 200

    assert_flat_query_count(call, add, few=3, many=20, at_most=11)


def test_the_report_costs_the_same_queries_for_few_and_many_breaches(open_at, tech_supervisor, departments):
    client = login(tech_supervisor)
    people = [UserFactory(role=Role.AGENT, departments=[departments["Technical Support"]]) for _ in range(5)]
    made = iter(range(1000))

    def add(n):
        for _ in range(n):
            i = next(made)
            open_at(berlin(FRIDAY, 16, 55), subject=f"Case {i}", assignee=people[i % len(people)])
        sweep_at(berlin(MONDAY, 11, 0))

    def call():
        with time_machine.travel(berlin(MONDAY, 12, 0), tick=False):
            assert client.get("/cases/sla/dropped-balls/").status_code == 200

    assert_flat_query_count(call, add, few=3, many=20, at_most=14)


def test_the_case_page_reads_the_clocks_in_one_query_and_the_alerts_only_when_there_are_some(
    friday_case, agent
):
    from relay.core.testing.queries import count_queries

    client = login(agent)
    client.get(f"/cases/{friday_case.pk}/")
    before, sql, _ = count_queries(lambda: client.get(f"/cases/{friday_case.pk}/"))
    assert sum("cases_slaalert" in q for q in sql) == 0
    sweep_at(berlin(MONDAY, 11, 0))
    after, sql, _ = count_queries(lambda: client.get(f"/cases/{friday_case.pk}/"))
    assert after == before + 1 and sum('FROM "cases_slaalert"' in q for q in sql) == 1
