"""Issue 4's "Done when" in headless Chromium: a case opened on Friday at 16:55 in a Mon-Fri 09:00-17:00
Europe/Berlin calendar is due on Monday; waiting on the customer pauses it and opening it again moves the
due time; a sweep as of a later instant shows the breach on the case page and tells the handler, the
department's supervisor and the originating office once, and a second sweep adds nothing."""

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from relay.accounts.choices import Role
from relay.cases import services
from relay.cases.choices import Priority, StatusCategory
from relay.cases.models import BusinessCalendar, CaseStatus, SlaAlert, SlaPolicy
from relay.core.testing.factories import UserFactory
from relay.customers.services import PartyInput, party_create
from relay.customers.tests.test_browser import browser, page, sign_in  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SHOTS = os.environ.get("RELAY_SCREENSHOTS", "")  # a directory: save screenshots there
BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY, MONDAY = (2026, 12, 4), (2026, 12, 7)


def berlin(day: tuple[int, int, int], hour: int, minute: int = 0) -> datetime:
    return datetime(*day, hour, minute, tzinfo=BERLIN)


def shot(page, name: str) -> None:  # noqa: F811
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture(autouse=True)
def _patient(request):
    """Two shared cores run several suites at once: give each step 20 s, not 10."""
    if "page" in request.fixturenames:
        request.getfixturevalue("page").set_default_timeout(20_000)


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """The engine keeps built calendars by (id, version): a flushed test's row must not stand in for ours."""
    from relay.cases.services import sla

    sla._built.clear()
    yield
    sla._built.clear()


@pytest.fixture
def huey_in_memory():
    from huey.storage import MemoryStorage

    from relay.config.huey import HUEY

    original = HUEY.storage
    HUEY.storage = MemoryStorage("relay-sla-browser-test")
    yield
    HUEY.storage = original


def set_status(page, category: str) -> None:  # noqa: F811
    """Choose the default status of `category` in the case page's status dialog and send it."""
    page.click("#action-status")
    page.wait_for_selector("#case-dialog.show #id_status")
    page.select_option("#id_status", str(CaseStatus.objects.get(category=category, is_default=True).pk))
    with page.expect_navigation():
        page.click("#action-submit")


def dropped_balls_in_the_inbox(page, username: str, case) -> int:  # noqa: F811
    page.context.clear_cookies()
    sign_in(page, username)
    page.goto("/inbox/")
    return page.locator(f"li:has-text('{case.number} Dropped ball')").count()


def test_friday_1655_is_due_monday_pauses_resumes_and_the_breach_is_told_once(
    page,  # noqa: F811
    departments,
    huey_in_memory,
):
    from relay.core import outbox
    from relay.notifications.models import Notification

    care, tech = departments["Customer Care"], departments["Technical Support"]
    clerk = UserFactory(
        username="clerk", role=Role.AGENT, first_name="Olga", last_name="Office", departments=[care]
    )
    tess = UserFactory(
        username="tess", role=Role.AGENT, first_name="Tess", last_name="Tech", departments=[tech]
    )
    lead = UserFactory(
        username="lead", role=Role.SUPERVISOR, first_name="Lee", last_name="Lead", departments=[tech]
    )
    tech.supervisor = lead
    tech.save()
    office_hours = BusinessCalendar.objects.create(
        name="Berlin office hours",
        time_zone="Europe/Berlin",
        hours={str(d): [["09:00", "17:00"]] for d in range(5)},
    )
    SlaPolicy.objects.create(
        name="High priority",
        priorities=[Priority.HIGH],
        acknowledge_minutes=60,
        resolve_minutes=8 * 60,
        calendar=office_hours,
    )
    travel = time_machine.travel(berlin(FRIDAY, 16, 55), tick=False)
    clock = travel.start()
    try:
        # the office logs the case on Friday at 16:55 for Technical Support, Tess handles it
        party = party_create(actor=clerk, data=PartyInput(given_name="Carl", family_name="Citizen"))
        case = services.case_open(
            actor=clerk,
            party=party,
            subject="No dial tone",
            department=tech,
            assignee=tess,
            priority=Priority.HIGH,
        )
        clock.move_to(berlin(FRIDAY, 16, 57))
        sign_in(page, "tess")
        page.goto(f"/cases/{case.pk}/")
        assert "Mon 7 Dec 2026, 09:55 (Europe/Berlin)" in page.inner_text("#sla-clock-acknowledge .sla-due")
        assert "Mon 7 Dec 2026, 16:55 (Europe/Berlin)" in page.inner_text("#sla-clock-resolve .sla-due")
        assert "On time" in page.inner_text("#case-sla") and "High priority" in page.inner_text("#sla-policy")
        shot(page, "sla-case-on-time")

        # waiting on the customer from 16:58 pauses the clocks (3 minutes used)...
        clock.move_to(berlin(FRIDAY, 16, 58))
        set_status(page, StatusCategory.WAITING_CUSTOMER)
        assert "Paused" in page.inner_text("#case-sla")
        assert "Paused" in page.inner_text("#sla-clock-resolve .sla-due")
        # ...and open again on Monday at 9:30 moves the due times: 57 and 477 minutes are left
        clock.move_to(berlin(MONDAY, 9, 30))
        set_status(page, StatusCategory.OPEN)
        assert "Mon 7 Dec 2026, 10:27 (Europe/Berlin)" in page.inner_text("#sla-clock-acknowledge .sla-due")
        assert "Tue 8 Dec 2026, 09:27 (Europe/Berlin)" in page.inner_text("#sla-clock-resolve .sla-due")
        assert "On time · due in 57 min" in page.inner_text("#case-sla")

        # nobody answers: a sweep as of 11:00 records the dropped ball (the first response, 33 min late)
        clock.move_to(berlin(MONDAY, 11, 0))
        call_command("sla", "sweep", "--now", "2026-12-07T11:00:00+01:00")
        outbox.drain()
        page.reload()
        assert "Breached · 33 min late" in page.inner_text("#case-sla")
        assert "Breached: first response due Mon 7 Dec, 09:27, 33 min late" in page.inner_text("#sla-alerts")
        shot(page, "sla-case-breached")

        # the handler, the supervisor and the originating office each see it once in the bell; a
        # second sweep adds nothing
        call_command("sla", "sweep", "--now", "2026-12-07T11:00:30+01:00")
        outbox.drain()
        for user in (tess, clerk, lead):
            assert dropped_balls_in_the_inbox(page, user.username, case) == 1, user.username
            told = Notification.objects.filter(
                recipient_id=user.pk, case_id=case.pk, kind="case.sla.breached"
            )
            assert told.count() == 1, user.username
        assert SlaAlert.objects.filter(case=case, level=1).count() == 1

        # the supervisor finds it from the queue in the breached list and in the dropped-balls report
        page.goto("/cases/queue/technical-support/")
        shot(page, "sla-queue")
        with page.expect_navigation():
            page.click("#sla-link-breached")
        assert case.number in page.inner_text("#sla-list")
        shot(page, "sla-breached-list")
        with page.expect_navigation():
            page.click("text=Dropped balls report")
        assert page.inner_text("#report-total") == "1" and case.number in page.inner_text("#breaches")
        shot(page, "sla-dropped-balls")
    finally:
        travel.stop()
