"""In headless Chromium: a script in a received HTML e-mail does not run on the case page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from relay.channels.email.services import message_receive
from relay.customers.tests.test_browser import browser, page, sign_in  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOADS = (
    "<script>document.title='pwned-script'</script>"
    "<img src=x onerror=\"document.title='pwned-img'\">"
    "<svg onload=\"document.title='pwned-svg'\"></svg>"
    "<a href=\"javascript:document.title='pwned-link'\" id=evil>click me</a>"
    "<iframe srcdoc=\"<script>parent.document.title='pwned-frame'</script>\"></iframe>"
    "<form action=/logout/><button id=evil-form>Win</button></form>"
    "<p>The visible <b>part</b></p>"
)


def test_a_script_in_an_html_email_does_not_run(page, agent, mailbox, make_mail):  # noqa: F811
    receipt = message_receive(
        mailbox=mailbox, raw=make_mail(body="", html=f"<html><body>{PAYLOADS}</body></html>"), via="http"
    )
    sign_in(page, agent.username)
    page.goto(f"/cases/{receipt.case.pk}/")
    formatted = page.locator(".email-formatted")
    formatted.locator("summary").click()
    html = formatted.locator(".email-html")
    expect(html).to_contain_text("The visible part")
    assert html.locator("script, iframe, svg, form, [onerror], [onload]").count() == 0
    page.locator(".email-html a", has_text="click me").click()
    expect(page.locator("#case-title")).to_be_visible()
    assert "pwned" not in page.title()
