"""The agent console end to end in headless Chromium: a case logged from a call, transferred through the
dialog, found in the other department's queue, resolved and closed; by keyboard; on a 390 px phone."""

import os
import re

import pytest

from relay.accounts.choices import Role
from relay.cases import services
from relay.cases.models import Case
from relay.core.testing.factories import UserFactory
from relay.customers import services as customers
from relay.customers.services import ContactInput, PartyInput
from relay.customers.tests.test_browser import browser, page, sign_in  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SHOTS = os.environ.get("RELAY_SCREENSHOTS", "")  # a directory: save screenshots there


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
    page.focus("#id_body")
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
