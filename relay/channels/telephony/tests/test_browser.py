"""The screen pop in a real headless Chromium, pushed live by a real ASGI server (relay/channels/push/
testing.py: a uvicorn process on the test's database): an agent has Relay open, the phone system's
webhook fires, and the caller's card appears in the open tab without a reload."""

from __future__ import annotations

import json
import os

import pytest
from django.test import Client
from playwright.sync_api import expect

from relay.cases.services import case_open
from relay.channels.push.testing import database_url_for_servers, post_json, relay_servers
from relay.channels.telephony.models import PhoneLine
from relay.channels.telephony.signing import sign
from relay.core.testing.factories import ContactPointFactory, PartyFactory
from relay.customers.tests.test_browser import browser  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
SECRET = b"browser-secret"


@pytest.fixture
def world(departments, agent, settings, tmp_path):
    settings.RELAY_PUSH = "database"
    settings.RELAY_PHONE_WEBHOOK_SECRET = SECRET.decode()
    care = departments["Customer Care"]
    PhoneLine.objects.create(number="+14155550100", name="Care line", department=care)
    party = PartyFactory(given_name="Grace", family_name="Hopper")
    ContactPointFactory(party=party, kind="phone", raw="+14155550142", normalized="+14155550142")
    case = case_open(actor=agent, party=party, subject="Router keeps rebooting", department=care)
    client = Client()
    client.force_login(agent)
    return {"party": party, "case": case, "session": client.cookies["sessionid"].value}


def _ring(server, number: str, call_id: str) -> None:
    body = json.dumps({"event": "ringing", "call_id": call_id, "from": number, "to": "+14155550100"}).encode()
    status, answer = post_json(server.url + "/phone/hooks/call", body, sign(body, key=SECRET))
    assert status == 201, answer


def _open_relay(browser, server, session):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    context.add_cookies([{"name": "sessionid", "value": session, "url": server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/parties/")
    expect(page.locator("#pop-root")).to_have_attribute("data-live", "1")  # the EventSource is open
    return context, page


def test_the_pop_appears_in_the_open_tab_with_the_callers_card(browser, world, tmp_path):  # noqa: F811
    with relay_servers(1, database_url=database_url_for_servers(tmp_path), var_dir=tmp_path) as (server,):
        context, page = _open_relay(browser, server, world["session"])
        try:
            _ring(server, "+14155550142", "browser-1")
            pop = page.locator(".pop")
            expect(pop).to_be_visible(timeout=3_000)
            expect(pop).to_have_attribute("role", "dialog")
            expect(pop.locator(".pop-title")).to_have_text("Grace Hopper")
            expect(pop).to_contain_text(world["case"].number)
            expect(pop).to_contain_text("Router keeps rebooting")
            expect(pop.get_by_role("link", name="Open the file")).to_be_visible()
            expect(pop.get_by_role("button", name="Start a case")).to_be_visible()
            expect(pop).to_be_focused()
            page.keyboard.press("Escape")
            expect(page.locator(".pop")).to_have_count(0)
            expect(page.locator("#global-search")).to_be_visible()  # the page under it is untouched
        finally:
            context.close()


def test_an_unknown_caller_pops_the_new_caller_form_and_starts_a_case(browser, world, tmp_path):  # noqa: F811
    with relay_servers(1, database_url=database_url_for_servers(tmp_path), var_dir=tmp_path) as (server,):
        context, page = _open_relay(browser, server, world["session"])
        try:
            _ring(server, "+14155550999", "browser-2")
            pop = page.locator(".pop")
            expect(pop.locator(".pop-title")).to_have_text("New caller", timeout=3_000)
            expect(pop.get_by_label("Number")).to_have_value("+14155550999")
            expect(pop.get_by_label("Given name")).to_be_focused()
            pop.get_by_label("Given name").fill("Alan")
            pop.get_by_label("Family name").fill("Turing")
            pop.get_by_label("What is the call about?").fill("No signal at home")
            pop.get_by_role("button", name="Add the caller and start a case").click()
            expect(page.locator("h1")).to_contain_text("No signal at home")
            expect(page.locator("main")).to_contain_text("Alan Turing")
        finally:
            context.close()
