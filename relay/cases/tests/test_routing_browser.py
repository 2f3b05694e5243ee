"""The routing screens in headless Chromium: a manager adds a rule (the name is checked while typing),
moves it above another, and tests a sample case, all under the CSP without a violation."""

import os

import pytest

from relay.accounts.choices import Role
from relay.cases.models import Case, RoutingRule
from relay.cases.services import routing
from relay.cases.services.routing import RuleInput
from relay.core.testing.factories import UserFactory
from relay.customers import services as customers
from relay.customers.services import PartyInput
from relay.customers.tests.test_browser import browser, page, sign_in  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_a_manager_adds_a_rule_reorders_it_and_tests_a_sample(page, departments):  # noqa: F811
    manager = UserFactory(username="boss", role=Role.MANAGER, first_name="Mona", last_name="Ger")
    routing.routing_rule_create(
        actor=manager, data=RuleInput(name="catch-all", department=departments["Customer Care"])
    )
    customers.party_create(actor=manager, data=PartyInput(given_name="Ada", family_name="Lovelace"))
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, "boss")
    page.goto("/routing/")
    page.click("text=New rule")
    page.wait_for_url("**/routing/rules/new/")

    # a name in use is flagged as soon as the field is left
    page.fill("#id_name", "Catch-All")
    page.press("#id_name", "Tab")
    page.wait_for_selector("#field-name .invalid-feedback:has-text('Another rule already has this name')")
    page.fill("#id_name", "unpaid bill")
    page.fill("#id_keywords", "unpaid, not paid")
    page.select_option("#id_department", label="Billing")
    page.select_option("#id_priority", "high")
    page.click("button:has-text('Add rule')")
    page.wait_for_url("**/routing/")
    assert page.locator("#rule-table tbody tr").nth(1).inner_text().startswith("2")

    # move it above the catch-all, in place
    page.click("button[aria-label='Move “unpaid bill” up']")
    page.wait_for_selector("#rule-table tbody tr:first-child:has-text('unpaid bill')")
    assert list(RoutingRule.objects.values_list("name", flat=True)) == ["unpaid bill", "catch-all"]

    # test a sample: the customer is picked from the suggestions
    page.click("text=Test a sample case")
    page.wait_for_url("**/routing/test/")
    page.fill("#id_subject", "Line frozen")
    page.fill("#id_description", "The bill is NOT paid.")
    page.fill("#id_party", "Ada")
    page.wait_for_selector("#party-options option", state="attached")
    page.fill("#id_party", page.locator("#party-options option").first.get_attribute("value") or "")
    page.click("button:has-text('Test')")
    page.wait_for_selector("#decision-text")
    assert page.inner_text("#decision-text") == "Routed to Billing by rule 'unpaid bill', priority high"
    assert "Wins" in page.inner_text("#checks")
    assert not Case.objects.exists()
    assert not violations, violations
