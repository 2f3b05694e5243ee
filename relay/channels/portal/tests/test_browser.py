"""The customer's whole story in headless Chromium: ask for a link, sign in, open a case with a file, see
it, reply. Locator waits only (the CSP forbids eval)."""

from __future__ import annotations

import os

import pytest
from django.core import mail
from playwright.sync_api import expect

from relay.cases.tests.factories import default_statuses
from relay.customers.tests.test_browser import browser, page  # noqa: F401  (fixtures)

from .conftest import LINK, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def customer(agent, settings, live_server, tmp_path):
    default_statuses()
    settings.RELAY_BASE_URL = live_server.url
    return make_customer(agent, "Ada", "Lovelace", "ada@example.com")


def test_request_a_link_sign_in_open_a_case_with_a_file_and_reply(page, customer, tmp_path):  # noqa: F811
    page.goto("/portal/")
    page.get_by_label("Your e-mail address").fill("ada@example.com")
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.locator("#sent-message")).to_contain_text("If this address is on file")
    [url] = [u for m in mail.outbox for u in LINK.findall(m.body)]
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My cases")).to_be_visible()
    expect(page.locator("#portal-identity")).to_contain_text("ada@example.com")

    page.get_by_role("link", name="Open a case").first.click()
    page.get_by_label("Subject").fill("Bill <b>too</b> high")
    page.get_by_label("Message").fill("Please check my <script>alert(1)</script> bill.")
    document = tmp_path / "bill.txt"
    document.write_text("Amount: 120.00\n")
    page.get_by_label("Attachments").set_input_files(str(document))
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#case-title")).to_have_text("Bill <b>too</b> high")
    expect(page.locator("#thread")).to_contain_text("Please check my <script>alert(1)</script> bill.")
    expect(page.get_by_role("link", name="bill.txt")).to_be_visible()

    page.get_by_label("Your reply").fill("Here is more detail.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#latest")).to_contain_text("Here is more detail.")
    assert page.dialogs == []  # no script ran

    page.get_by_role("link", name="My cases").first.click()
    expect(page.locator("#case-list")).to_contain_text("Bill <b>too</b> high")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
