"""End to end in a real headless Chromium (Debian's package, driven by Playwright)."""

import os
import shutil
from pathlib import Path

import pytest

from relay.accounts.choices import Role
from relay.core.testing.factories import UserFactory
from relay.customers import services
from relay.customers.services import ContactInput, PartyInput

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM = next(
    (p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed: apt-get install chromium (.ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "relay-test-pass")
    page.click("button[type=submit]")
    page.wait_for_url("**/parties/")


@pytest.fixture
def agent_with_customer(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    agent = UserFactory(username="care", role=Role.AGENT, first_name="Carla", last_name="Care")
    party = services.party_create(
        actor=agent,
        data=PartyInput(
            given_name="John",
            family_name="Carter",
            roles=["customer"],
            contact_points=[ContactInput(kind="phone", raw="+1 415 555 0100")],
        ),
    )
    return agent, party


def test_find_by_phone_in_another_format_open_the_360_page_and_log_a_call(page, agent_with_customer):
    _, party = agent_with_customer
    sign_in(page, "care")
    page.keyboard.press("/")  # the shortcut focuses the global search
    assert page.evaluate("document.activeElement.id") == "global-search"
    page.keyboard.type("(415) 555-0100")
    page.wait_for_selector("#search-results a:has-text('John Carter')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/parties/{party.pk}/")
    assert page.inner_text("#party-name") == "John Carter"

    page.click("label[for=id_channel_0]")  # the channel picker: Phone first
    assert page.is_checked("#id_channel_0")
    page.fill("#id_subject", "Cannot make calls")
    page.fill("#id_body", "No dial tone since this morning.")
    page.fill("#id_duration_minutes", "4")
    page.click("#log-submit")
    entry = page.wait_for_selector("#timeline .timeline-entry:has-text('Cannot make calls')")
    assert "No dial tone since this morning." in entry.inner_text()
    assert "4 min" in entry.inner_text()

    page.reload()  # it was stored, not just drawn
    assert page.locator("#timeline .timeline-entry").first.inner_text().count("Cannot make calls") == 1

    page.click("#history-tab")
    page.wait_for_selector(".history-record:has-text('Cannot make calls')")
    assert "Carla Care" in page.inner_text("#history")


def test_stored_xss_does_not_run(page, agent_with_customer):
    agent, _ = agent_with_customer
    evil = services.party_create(
        actor=agent,
        data=PartyInput(given_name='<img src=x onerror="alert(1)">', family_name="<script>alert(2)</script>"),
    )
    sign_in(page, "care")
    page.goto(f"/parties/{evil.pk}/")
    page.fill("#global-search", "script")
    page.wait_for_timeout(600)
    page.goto(f"/parties/{evil.pk}/?tab=history")
    page.goto("/parties/")
    assert page.dialogs == []
    assert "<script>alert(2)</script>" in page.inner_text("table")


def test_a_phone_screen_shows_the_360_page(browser, live_server, agent_with_customer):
    _, party = agent_with_customer
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    page = context.new_page()
    sign_in(page, "care")
    page.goto(f"/parties/{party.pk}/")
    assert page.is_visible("#party-name") and page.is_visible("#global-search")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    context.close()
