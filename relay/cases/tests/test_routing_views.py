"""The routing admin screens: who may reach them (every URL, guarded), the rule list and its in-place
actions, the form with inline validation and conflicts, deletion with a confirmation, and the sample test."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from relay.cases import routing_urls
from relay.cases.models import Case, CaseEvent, DepartmentRouting, RoutingRule
from relay.cases.services import routing
from relay.cases.services.routing import RuleInput
from relay.core.testing.factories import PartyFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def rule(manager, departments):
    return routing.routing_rule_create(
        actor=manager,
        data=RuleInput(
            name="unpaid bill", department=departments["Billing"], keywords=["unpaid", "not paid"]
        ),
    )


@pytest.fixture
def signed_in(client):
    def _as(user):
        client.force_login(user)
        return client

    return _as


def every_url(rule, department):
    """Every routing URL, with the method each answers (the guard below fails on a pattern not listed)."""
    args = {"pk": rule.pk}
    urls = {
        "rules": ("get", reverse("routing:rules")),
        "rule_create": ("post", reverse("routing:rule_create")),
        "rule_edit": ("post", reverse("routing:rule_edit", kwargs=args)),
        "rule_delete": ("post", reverse("routing:rule_delete", kwargs=args)),
        "rule_move": ("post", reverse("routing:rule_move", kwargs=args)),
        "rule_toggle": ("post", reverse("routing:rule_toggle", kwargs=args)),
        "department_set": ("post", reverse("routing:department_set", args=[department.pk])),
        "test": ("post", reverse("routing:test")),
        "party_options": ("get", reverse("routing:party_options") + "?party=ada"),
    }
    assert set(urls) == {p.name for p in routing_urls.urlpatterns}, (
        "a routing URL is not in the refusal guard"
    )
    return urls


@pytest.mark.parametrize("who", ["agent", "other_agent", "supervisor", "auditor"])
def test_only_managers_and_admins_reach_the_routing_screens(request, signed_in, who, rule, departments):
    client = signed_in(request.getfixturevalue(who))
    for name, (method, url) in every_url(rule, departments["Billing"]).items():
        body = {"name": "hijack", "department": departments["Sales"].pk, "version": 1, "direction": "down"}
        response = getattr(client, method)(url, body) if method == "post" else client.get(url)
        assert response.status_code == 403, (name, response.status_code)
        if method == "post":
            assert client.get(url).status_code in (403, 405), name
    assert list(RoutingRule.objects.values_list("name", "version", "order")) == [("unpaid bill", 1, 10)]
    assert not DepartmentRouting.objects.exists()


@pytest.mark.parametrize(
    ("who", "shown"),
    [("agent", False), ("supervisor", False), ("auditor", False), ("manager", True), ("admin_user", True)],
)
def test_the_menu_links_the_routing_screens_for_those_who_may_use_them_at_no_query_cost(
    request, signed_in, who, shown, django_assert_max_num_queries
):
    client = signed_in(request.getfixturevalue(who))
    client.get("/parties/")  # warm up (the session's first read)
    with django_assert_max_num_queries(3):  # session, user, the page: the menu's permission check is free
        html = client.get("/parties/").content.decode()
    assert ('id="nav-routing"' in html) is shown


def test_anonymous_users_are_sent_to_the_login_page(client, rule, departments):
    for name, (_method, url) in every_url(rule, departments["Billing"]).items():
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), name


@pytest.mark.parametrize("who", ["manager", "admin_user"])
def test_managers_and_admins_see_the_rules_in_order(request, signed_in, who, rule, departments):
    routing.routing_rule_create(
        actor=request.getfixturevalue("manager"),
        data=RuleInput(name="catch-all", department=departments["Customer Care"]),
    )
    page = signed_in(request.getfixturevalue(who)).get(reverse("routing:rules"))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("unpaid bill") < html.index("catch-all")
    assert "“unpaid”, “not paid”" in html and "Every case" in html
    assert "Assignment in each department" in html


def test_the_empty_list_says_what_to_do(signed_in, manager):
    html = signed_in(manager).get(reverse("routing:rules")).content.decode()
    assert "No routing rules yet" in html and reverse("routing:rule_create") in html


def test_moving_and_deactivating_in_place(signed_in, manager, rule, departments):
    other = routing.routing_rule_create(
        actor=manager, data=RuleInput(name="second", department=departments["Sales"], keywords=["offer"])
    )
    client = signed_in(manager)
    response = client.post(reverse("routing:rule_move", args=[other.pk]), {"direction": "up"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="rules">') and html.index("second") < html.index("unpaid bill")
    # the move renumbered both rules (a new version each); the list shows the current version
    version = RoutingRule.objects.get(pk=rule.pk).version
    assert f'name="version" value="{version}"' in html
    toggle = reverse("routing:rule_toggle", args=[rule.pk])
    response = client.post(toggle, {"version": version, "active": "0"}, **HTMX)
    assert "is inactive" in response.content.decode()
    assert RoutingRule.objects.get(pk=rule.pk).is_active is False
    # a stale version changes nothing
    response = client.post(toggle, {"version": version, "active": "1"})
    assert response.status_code == 302 and RoutingRule.objects.get(pk=rule.pk).is_active is False


def test_creating_a_rule_validates_inline_and_then_saves(signed_in, manager, rule, departments):
    client = signed_in(manager)
    url = reverse("routing:rule_create")
    # while typing: a name already in use is flagged next to the field, nothing is saved
    data = {"name": "Unpaid Bill", "department": departments["Sales"].pk, "assignment": "department"}
    inline = client.post(url, {**data, "_validate": "name"}, **HTMX)
    assert inline.status_code == 200
    assert re.search(r'id="field-name".*Another rule already has this name', inline.content.decode(), re.S)
    # also before the other required fields are filled in
    early = client.post(url, {"name": "UNPAID bill", "_validate": "name"}, **HTMX)
    assert "Another rule already has this name" in early.content.decode()
    # a submit with errors keeps the input and shows them next to the fields
    bad = client.post(url, {**data, "keywords": "!!!"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "Another rule already has this name" in html and "at least one letter or digit" in html
    assert RoutingRule.objects.count() == 1
    good = client.post(
        url,
        {
            **data,
            "name": "offers",
            "keywords": "upgrade, fibre offer",
            "channels": ["phone", "web"],
            "tags": "VIP",
        },
    )
    assert good.status_code == 302
    created = RoutingRule.objects.get(name="offers")
    assert (created.keywords, created.channels, created.tags, created.order) == (
        ["upgrade", "fibre offer"],
        ["phone", "web"],
        ["vip"],
        20,
    )
    assert created.history.get().history_user == manager


def test_editing_keeps_your_input_on_a_conflict(signed_in, manager, admin_user, rule, departments):
    client = signed_in(manager)
    url = reverse("routing:rule_edit", args=[rule.pk])
    form = client.get(url)
    assert 'value="unpaid bill"' in form.content.decode()
    routing.routing_rule_update(
        actor=admin_user, rule=rule, expected_version=1, changes={"keywords": ["arrears"]}
    )
    mine = {
        "name": "unpaid bill",
        "keywords": "unpaid\noverdue",
        "department": departments["Billing"].pk,
        "assignment": "round_robin",
        "version": 1,
    }
    response = client.post(url, mine)
    html = response.content.decode()
    assert response.status_code == 400 and "Changed by someone else" in html
    assert "arrears" in html and "overdue" in html  # theirs and yours, side by side
    assert 'name="version" value="2"' in html
    assert RoutingRule.objects.get(pk=rule.pk).keywords == ["arrears"]
    assert client.post(url, {**mine, "version": 2}).status_code == 302
    assert RoutingRule.objects.get(pk=rule.pk).keywords == ["unpaid", "overdue"]
    # the page shows who changed what
    history = client.get(url).content.decode().split("History of this rule")[1]
    assert history.count("history-record") == 3 and "[&#x27;arrears&#x27;]" in history


def test_deleting_asks_first_and_a_stale_confirmation_deletes_nothing(signed_in, manager, rule):
    client = signed_in(manager)
    url = reverse("routing:rule_delete", args=[rule.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Delete the rule “unpaid bill”?" in page.content.decode()
    assert client.post(url, {"version": 5}).status_code == 302 and RoutingRule.objects.exists()
    assert client.post(url, {"version": 1}).status_code == 302 and not RoutingRule.objects.exists()
    assert client.get(url).status_code == 404


def test_setting_a_departments_assignment(signed_in, manager, departments):
    billing = departments["Billing"]
    response = signed_in(manager).post(
        reverse("routing:department_set", args=[billing.pk]),
        {f"d{billing.pk}-strategy": "least_open"},
        **HTMX,
    )
    assert response.status_code == 200
    assert DepartmentRouting.objects.get(department=billing).strategy == "least_open"
    assert 'value="least_open" selected' in response.content.decode()


def test_the_sample_test_shows_the_decision_and_opens_nothing(signed_in, manager, rule, agent):
    party = PartyFactory(given_name="Ada", family_name="Lovelace")
    client = signed_in(manager)
    before = (Case.objects.count(), CaseEvent.objects.count())
    response = client.post(
        reverse("routing:test"),
        {
            "subject": "Facture",
            "description": "The bill was NOT paid.",
            "party": f"Ada Lovelace (#{party.pk})",
        },
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="result"')
    assert "Rule “unpaid bill” matches" in html
    assert "Routed to Billing by rule &#x27;unpaid bill&#x27;" in html
    assert "keyword &#x27;not paid&#x27; in the body" in html
    assert (Case.objects.count(), CaseEvent.objects.count()) == before
    # no match: the default queue of whoever logs it
    response = client.post(reverse("routing:test"), {"subject": "roaming", "originator": agent.pk})
    assert "No rule matches" in response.content.decode() and "Customer Care" in response.content.decode()
    # a customer that does not exist is an error on the sample, not a crash
    response = client.post(reverse("routing:test"), {"subject": "x", "party": "999999"})
    assert "No such customer" in response.content.decode()


def test_the_customer_field_suggests_parties(signed_in, manager):
    party = PartyFactory(given_name="Ada", family_name="Lovelace")
    response = signed_in(manager).get(reverse("routing:party_options"), {"party": "lovel"})
    assert f'<option value="Ada Lovelace (#{party.pk})">' in response.content.decode()


def test_the_pages_have_no_inline_scripts_or_styles(signed_in, manager, rule):
    client = signed_in(manager)
    for url in (
        reverse("routing:rules"),
        reverse("routing:rule_create"),
        reverse("routing:rule_edit", args=[rule.pk]),
        reverse("routing:rule_delete", args=[rule.pk]),
        reverse("routing:test"),
    ):
        html = client.get(url).content.decode()
        assert " style=" not in html and "<style" not in html, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"\son[a-z]+=", html), url
