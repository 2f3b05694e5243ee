"""The agent console end to end in headless Chromium: a case logged from a call, transferred through the
dialog, found in the other department's queue, resolved and closed; by keyboard; on a 390 px phone."""

import os
import re

import pytest

from relay.accounts.choices import Role
from relay.cases import services
from relay.cases.models import Case
from relay.core.testing.factories import DepartmentFactory, UserFactory
from relay.customers import services as customers
from relay.customers.services import ContactInput, PartyInput
from relay.customers.tests.test_browser import browser, page, sign_in  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SHOTS = os.environ.get("RELAY_SCREENSHOTS", "")  # a directory: save screenshots there


@pytest.fixture(autouse=True)
def _patient(request):
    """Two shared cores run several suites at once: give each step 20 s, not 10."""
    if "page" in request.fixturenames:
        request.getfixturevalue("page").set_default_timeout(20_000)


def shot(page, name: str) -> None:  # noqa: F811
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def telecom(departments, _default_statuses):
    care = UserFactory(
        username="care",
        role=Role.AGENT,
        first_name="Carla",
        last_name="Care",
        departments=[departments["Customer Care"]],
    )
    billing = UserFactory(
        username="bill",
        role=Role.AGENT,
        first_name="Bill",
        last_name="Ing",
        departments=[departments["Billing"]],
    )
    john = customers.party_create(
        actor=care,
        data=PartyInput(
            given_name="John",
            family_name="Carter",
            roles=["customer"],
            contact_points=[ContactInput(kind="phone", raw="+1 415 555 0100")],
        ),
    )
    return care, billing, john


def csp_watch(page) -> list[str]:  # noqa: F811
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    return violations


def test_log_from_a_call_transfer_through_the_dialog_then_billing_resolves_and_closes(
    page,  # noqa: F811
    telecom,
    departments,
):
    _, billing, _ = telecom
    violations = csp_watch(page)
    sign_in(page, "care")
    page.click("nav a:has-text('Cases')")
    page.wait_for_url("**/cases/")
    page.click("text=Log a case from a call")
    page.wait_for_url("**/cases/new/from-call/")

    # the number in another format finds the caller
    page.fill("#id_phone", "(415) 555-0100")
    page.wait_for_selector("#caller-name:has-text('John Carter')")
    page.fill("#id_call_notes", "Cannot make any calls since this morning.")
    page.fill("#id_duration_minutes", "3")
    page.fill("#id_subject", "Cannot make calls")
    page.select_option("#id_priority", "high")
    shot(page, "cases-from-call")
    page.click("#call-submit")
    page.wait_for_url(re.compile(r".*/cases/\d+/$"))
    case = Case.objects.get()
    assert page.inner_text("#case-number") == case.number
    assert "John Carter" in page.inner_text("#case-party")
    assert "Customer Care" in page.inner_text("#case-department")
    assert "Cannot make any calls since this morning." in page.inner_text("#case-timeline")

    # transfer through the dialog: a missing reason is said next to the field, nothing is lost
    page.click("#action-transfer")
    page.wait_for_selector("#case-dialog.show #id_reason")
    page.select_option("#id_department", str(departments["Billing"].pk))
    page.wait_for_selector(
        f"#id_assignee option[value='{billing.pk}']", state="attached"
    )  # Billing's people are offered
    page.fill("#id_note", "Please check the bill.")
    page.click("#action-submit")
    page.wait_for_selector("#id_reason-errors")
    assert page.input_value("#id_note") == "Please check the bill."
    page.fill("#id_reason", "Not a care problem")
    shot(page, "cases-transfer-dialog")
    page.click("#action-submit")
    page.wait_for_selector("#case-department:has-text('Billing')")
    assert "Transferred to Billing" in page.inner_text("#case-timeline")
    assert "Not a care problem" in page.inner_text("#case-timeline")

    # Billing finds it in its queue, takes it, resolves and closes it
    page.context.clear_cookies()
    sign_in(page, "bill")
    page.goto("/cases/queue/billing/")
    page.click(f"a:has-text('{case.number}')")
    page.wait_for_url(f"**/cases/{case.pk}/")
    page.click("#action-take")
    page.wait_for_selector("#case-assignee:has-text('Bill Ing')")
    page.click("#action-resolve")
    page.wait_for_selector("#case-dialog.show #id_resolution_code")
    page.select_option("#id_resolution_code", "solved")
    page.fill("#id_resolution_summary", "The bill was unpaid and the line frozen; paid and unfrozen.")
    page.click("#action-submit")
    page.wait_for_selector("#case-status:has-text('Resolved')")
    page.click("#action-close")
    page.wait_for_selector("#case-dialog.show #action-submit")
    page.click("#action-submit")
    page.wait_for_selector("#case-status:has-text('Closed')")
    shot(page, "cases-closed-case-page")
    assert Case.objects.get().status_category == "closed"

    # the customer's file shows it, with reopen (closed just now)
    page.click("#case-party")
    page.wait_for_selector(f"#party-cases a:has-text('{case.number}')")
    assert page.locator("#party-cases a:has-text('Reopen')").count() == 1
    assert violations == []


def test_the_case_page_works_by_keyboard(page, telecom, departments):  # noqa: F811
    care, _, john = telecom
    case = services.case_open(
        actor=care, party=john, subject="No dial tone", department=departments["Customer Care"]
    )
    sign_in(page, "care")
    page.goto(f"/cases/{case.pk}/")
    page.focus("#action-transfer")
    page.keyboard.press("Enter")  # a link styled as a button: Enter opens the dialog
    page.wait_for_selector("#case-dialog.show #id_department")
    page.wait_for_selector("#id_department:focus")  # the first field has the focus
    page.keyboard.press("Escape")
    page.wait_for_selector("#case-dialog", state="hidden")
    page.wait_for_selector("#action-transfer:focus")  # the focus is back where it was

    # a note typed and sent with the keyboard only
    page.focus("#note-body")
    page.keyboard.type("Called the customer back.")
    page.keyboard.press("Tab")  # the visibility choice
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "note-submit"
    page.keyboard.press("Enter")
    page.wait_for_selector("#case-timeline :text('Called the customer back.')")

    # the skip link lands on the content
    page.keyboard.press("Home")
    page.goto(f"/cases/{case.pk}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className").startswith("visually-hidden-focusable")


@pytest.mark.parametrize(
    "path", ["/cases/", "/cases/queue/customer-care/", "/cases/{pk}/", "/cases/new/from-call/"]
)
def test_the_console_fits_a_390px_phone(browser, live_server, telecom, departments, path):  # noqa: F811
    care, _, john = telecom
    case = services.case_open(
        actor=care,
        party=john,
        subject="A rather long subject line about a broken line that keeps dropping calls",
        department=departments["Customer Care"],
        assignee=care,
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    phone = context.new_page()
    sign_in(phone, "care")
    phone.goto(path.format(pk=case.pk))
    width = phone.evaluate("document.documentElement.scrollWidth")
    shot(phone, "cases-390px-" + (path.strip("/").replace("/", "-").replace("{pk}", "case") or "home"))
    context.close()
    assert width <= 390, f"{path} scrolls sideways ({width}px)"


def test_stored_xss_in_a_case_does_not_run(page, telecom, departments):  # noqa: F811
    care, _, john = telecom
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    case = services.case_open(
        actor=care, party=john, subject=evil, description=evil, department=departments["Customer Care"]
    )
    services.case_add_note(actor=care, case=case, body=evil)
    sign_in(page, "care")
    for path in (f"/cases/{case.pk}/", "/cases/queue/customer-care/", f"/parties/{john.pk}/", "/cases/"):
        page.goto(path)
    page.goto(f"/cases/{case.pk}/")
    page.click("#action-transfer")  # the dialog shows the number, and nothing of the subject runs
    page.wait_for_selector("#case-dialog.show #id_reason")
    assert page.dialogs == []
    assert "<script>alert(2)</script>" in page.inner_text("#case-title")


# --- the two stories of issue 3, in the browser ---------------------------------------------------------


def dialog(page, action: str, fields: dict[str, str] | None = None, choose: dict[str, str] | None = None):  # noqa: F811
    """Open an action's dialog on the case page, fill it, send it and wait for the page to reload."""
    page.click(f"#action-{action}")
    page.wait_for_selector("#case-dialog.show #action-submit")
    for selector, value in (choose or {}).items():
        page.select_option(selector, value)
    for selector, value in (fields or {}).items():
        page.fill(selector, value)
    with page.expect_navigation():
        page.click("#action-submit")


def note(page, text: str) -> None:  # noqa: F811
    page.fill("#note-body", text)
    with page.expect_navigation():
        page.click("#note-submit")


def switch(page, username: str) -> None:  # noqa: F811
    page.context.clear_cookies()
    sign_in(page, username)


@pytest.fixture
def huey_in_memory():
    from huey.storage import MemoryStorage

    from relay.config.huey import HUEY

    original = HUEY.storage
    HUEY.storage = MemoryStorage("relay-cases-browser-test")
    yield
    HUEY.storage = original


def told(user, case) -> list[str]:
    """The notification kinds the user received about the case (after delivering the outbox)."""
    from relay.core import outbox
    from relay.notifications.models import Notification

    outbox.drain()
    return list(Notification.objects.filter(recipient=user, case_id=case.pk).values_list("kind", flat=True))


def test_telecom_story_care_to_tech_to_billing_then_resolved_and_read_by_another_department(
    page,  # noqa: F811
    telecom,
    departments,
    huey_in_memory,
):
    _, billing, john = telecom
    tech = UserFactory(
        username="tech",
        role=Role.AGENT,
        first_name="Tess",
        last_name="Tech",
        departments=[departments["Technical Support"]],
    )
    UserFactory(username="sales", role=Role.AGENT, departments=[departments["Sales"]])
    dept = {name: str(d.pk) for name, d in departments.items()}

    # care logs the call and the case, and hands it to technical support
    sign_in(page, "care")
    page.goto("/cases/new/from-call/")
    page.fill("#id_phone", "415-555-0100")
    page.wait_for_selector("#caller-name:has-text('John Carter')")
    page.fill("#id_call_notes", "He cannot make calls.")
    page.fill("#id_subject", "Cannot make calls")
    page.select_option("#id_department", dept["Customer Care"])
    with page.expect_navigation():
        page.click("#call-submit")
    case = Case.objects.get()
    dialog(
        page,
        "transfer",
        {"#id_reason": "Looks technical", "#id_note": "Please test the line."},
        {"#id_department": dept["Technical Support"]},
    )
    assert "case.transferred" in told(tech, case)

    # technical support: not technical, on to billing
    switch(page, "tech")
    page.goto("/cases/queue/technical-support/")
    with page.expect_navigation():
        page.click(f"a:has-text('{case.number}')")
    with page.expect_navigation():
        page.click("#action-take")
    note(page, "The network and the line are fine: not technical.")
    dialog(
        page,
        "transfer",
        {"#id_reason": "Not technical", "#id_note": "Please check his bill."},
        {"#id_department": dept["Billing"]},
    )
    assert "case.transferred" in told(billing, case)

    # billing finds the bill unpaid and the line frozen
    switch(page, "bill")
    page.goto("/cases/queue/billing/")
    with page.expect_navigation():
        page.click(f"a:has-text('{case.number}')")
    with page.expect_navigation():
        page.click("#action-take")
    note(page, "This month's bill is unpaid and the line is frozen.")

    # care calls the customer back and e-mails him, then resolves and closes
    switch(page, "care")
    page.goto(f"/cases/{case.pk}/")
    dialog(
        page,
        "log",
        {"#id_subject": "Called back", "#id_body": "Explained the frozen line; he pays today."},
        {"#id_channel": "phone", "#id_direction": "outbound"},
    )
    dialog(
        page,
        "log",
        {"#id_subject": "Your line", "#id_body": "How to pay and when the line comes back."},
        {"#id_channel": "email", "#id_direction": "outbound"},
    )
    dialog(
        page,
        "resolve",
        {"#id_resolution_summary": "Bill paid; the line is unfrozen."},
        {"#id_resolution_code": "solved"},
    )
    dialog(page, "close")
    assert page.inner_text("#case-status") == "Closed"

    # someone of another department reads the whole story on the customer's file, in order
    switch(page, "sales")
    page.goto(f"/parties/{john.pk}/")
    story = page.inner_text("#timeline")
    steps = [
        "Closed",
        "Resolved",
        "Your line",
        "How to pay and when the line comes back.",
        "Called back",
        "Explained the frozen line; he pays today.",
        "the line is frozen",
        "Transferred to Billing",
        "not technical",
        "Transferred to Technical Support",
        "Opened: Cannot make calls",
        "He cannot make calls.",
    ]
    positions = [story.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions), "the timeline is newest first, in the order it happened"
    shot(page, "cases-story-telecom-360")


def test_public_office_story_water_acknowledges_forwards_resolves_and_the_citizen_calls_again(
    page,  # noqa: F811
    departments,
    huey_in_memory,
):
    office_dept = DepartmentFactory(name="Official's Office")
    water_dept = DepartmentFactory(name="Water")
    official = UserFactory(username="official", role=Role.SUPERVISOR, departments=[office_dept])
    office_dept.supervisor = official
    office_dept.save()
    clerk = UserFactory(
        username="clerk", role=Role.AGENT, first_name="Olga", last_name="Office", departments=[office_dept]
    )
    she = UserFactory(
        username="wanda", role=Role.AGENT, first_name="Wanda", last_name="Water", departments=[water_dept]
    )
    expert = UserFactory(
        username="sven", role=Role.AGENT, first_name="Sven", last_name="Mains", departments=[water_dept]
    )
    lead = UserFactory(username="wlead", role=Role.SUPERVISOR, departments=[water_dept])
    water_dept.supervisor = lead
    water_dept.save()
    citizen = customers.party_create(
        actor=clerk,
        data=PartyInput(
            given_name="Carl",
            family_name="Citizen",
            contact_points=[ContactInput(kind="phone", raw="+1 510 555 0142")],
        ),
    )

    # the office logs the call; the office watches; Water gets it
    sign_in(page, "clerk")
    page.goto("/cases/new/from-call/")
    page.fill("#id_phone", "(510) 555-0142")
    page.wait_for_selector("#caller-name:has-text('Carl Citizen')")
    page.fill("#id_subject", "Water leak in the street")
    page.fill("#id_call_notes", "Water running down Elm Street since yesterday.")
    page.select_option("#id_department", str(water_dept.pk))
    page.check("#id_copy_my_department")
    with page.expect_navigation():
        page.click("#call-submit")
    case = Case.objects.get()
    assert "case.created" in told(official, case) and "case.created" in told(she, case)

    # a Water employee acknowledges (the office is told) and forwards it to a colleague who knows more
    switch(page, "wanda")
    page.goto(f"/cases/{case.pk}/")
    with page.expect_navigation():
        page.click("#action-acknowledge")
    assert "case.acknowledged" in told(clerk, case) and "case.acknowledged" in told(official, case)
    dialog(
        page,
        "transfer",
        {"#id_reason": "He knows the mains", "#id_note": "Probably the main under Elm Street."},
        {"#id_assignee": str(expert.pk)},
    )
    assert "case.transferred" in told(expert, case)
    assert "Sven Mains" in page.inner_text("#case-assignee")

    # resolved with copies to the office and her supervisor, then closed
    switch(page, "sven")
    page.goto(f"/cases/{case.pk}/")
    dialog(
        page,
        "resolve",
        {"#id_resolution_summary": "The main was repaired overnight."},
        {"#id_resolution_code": "solved"},
    )
    assert "case.resolved" in told(clerk, case) and "case.resolved" in told(lead, case)
    dialog(page, "close")

    # the citizen calls back about something else: a new case on his file, the background in view
    switch(page, "clerk")
    page.goto("/cases/new/from-call/")
    page.fill("#id_phone", "510 555 0142")
    page.wait_for_selector("#caller-name:has-text('Carl Citizen')")
    page.fill("#id_subject", "Pothole after the repair")
    page.select_option("#id_department", str(water_dept.pk))
    with page.expect_navigation():
        page.click("#call-submit")
    second = Case.objects.exclude(pk=case.pk).get()
    assert second.party_id == citizen.pk
    others = page.inner_text("#other-cases")
    assert case.number in others and "Water leak in the street" in others
    page.click("#case-party")
    page.wait_for_selector("#party-cases")
    panel = page.inner_text("#party-cases")
    assert panel.index("Pothole after the repair") < panel.index("Water leak in the street")
    assert "The main was repaired overnight." in page.inner_text("#timeline")
    shot(page, "cases-story-public-office-360")
