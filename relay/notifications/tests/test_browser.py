"""The inbox end to end in headless Chromium: the bell updates without a reload, marking read works
through HTMX, and nothing breaks the CSP."""

import os
import re

import pytest
from django.db import transaction
from huey.storage import MemoryStorage
from playwright.sync_api import expect

from relay.accounts.choices import Role
from relay.config.huey import HUEY
from relay.core import outbox
from relay.core.testing.factories import UserFactory
from relay.customers.tests.test_browser import browser, page, sign_in  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def people(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    original = HUEY.storage
    HUEY.storage = MemoryStorage("relay-browser-test")
    yield (
        UserFactory(username="care", role=Role.AGENT, first_name="Carla", last_name="Care"),
        UserFactory(username="boss", role=Role.SUPERVISOR),
    )
    HUEY.storage = original


def tell(user, actor, title):
    with transaction.atomic():
        outbox.emit(
            "case.transferred",
            payload={"title": title, "body": "Please check.", "url": "/parties/", "actor_id": actor.pk},
            recipients=[user.pk],
        )
    outbox.drain()


def test_the_bell_counts_new_notices_live_and_marking_read_clears_it(page, people):  # noqa: F811
    agent, boss = people
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, "care")
    assert page.inner_text("#notification-count").strip() == ""

    tell(agent, boss, "C-1 transferred to Billing")
    tell(agent, boss, "C-2 transferred to Billing")
    page.wait_for_selector("#notification-count .badge", timeout=15_000)  # polled every 10 s, no reload
    assert page.inner_text("#notification-count .badge").startswith("2")

    page.click("a[href='/inbox/']")
    page.wait_for_url("**/inbox/")
    row = page.locator(".list-group-item", has_text="C-2 transferred to Billing")
    row.get_by_role("button", name="Mark read").click()
    # a locator assertion waits without evaluating a string in the page (the CSP forbids eval, which
    # wait_for_function needs as soon as its first check fails)
    expect(page.locator("#notification-count .badge")).to_have_text(re.compile(r"^1"))
    assert row.get_by_role("button", name="Mark read").count() == 0

    page.get_by_role("button", name="Mark all read").click()
    page.wait_for_selector("text=1 notification marked read.")
    assert page.inner_text("#notification-count").strip() == ""
    assert violations == []
