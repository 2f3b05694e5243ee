"""The screen pop's card and buttons, click-to-call, the call page: what each user may see and do."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from relay.accounts.choices import Role
from relay.activities.models import TimelineEntry
from relay.cases.models import Case
from relay.cases.services import case_open
from relay.cases.tests.factories import CaseCategoryFactory
from relay.channels.actors import channel_actor
from relay.channels.telephony import services
from relay.channels.telephony.models import Call, CallState
from relay.channels.telephony.tests.conftest import CALLER, LINE
from relay.commerce.services import commerce_sync
from relay.commerce.tests import conftest as shop
from relay.core.testing.factories import (
    DepartmentFactory,
    ExternalIdentifierFactory,
    IdentifierSchemeFactory,
    InteractionFactory,
    PartyFactory,
    RelationshipFactory,
    UserFactory,
)
from relay.core.testing.queries import assert_flat_query_count
from relay.customers.models import Party
from relay.recommendations.services import train

pytestmark = pytest.mark.django_db


def _ring(number: str = CALLER, call_id: str = "c-1", agent: str = "") -> Call:
    return services.call_ring(
        actor=channel_actor("relay-phone"),
        provider="generic",
        call_id=call_id,
        from_number=number,
        to_number=LINE,
        agent_username=agent,
    ).call


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_pop_shows_the_callers_card(line, caller, agent, care, schemes):
    RelationshipFactory(person=caller, organisation__organisation_name="Navy Labs")
    ExternalIdentifierFactory(party=caller, scheme=schemes["account"], value="ACC-4242")
    ExternalIdentifierFactory(party=caller, scheme=schemes["tax_id"], value="123-45-6789")
    caller.lifecycle_stage = "customer"
    caller.save()
    case = case_open(actor=agent, party=caller, subject="Router keeps rebooting", department=care)
    InteractionFactory(party=caller, subject="Asked about the bill", channel="email")
    call = _ring()
    html = _client(agent).get(f"/phone/pops/{call.pk}/").content.decode()
    assert 'role="dialog"' in html and "Grace Hopper" in html and "Navy Labs" in html
    assert "ACC-4242" in html and "123-45-6789" not in html  # an agent sees the tax id masked
    assert case.number in html and "Router keeps rebooting" in html and "badge-status" in html
    assert "Asked about the bill" in html
    assert "Open the file" in html and "Start a case" in html


def _sync_account(party: Party, *, orders: int = 1) -> None:
    """The caller's account as relay/commerce/tests/conftest.py syncs it, with `orders` handset orders."""
    DepartmentFactory(name="Credit Control")  # the owners of the data, with Sales and Billing
    rows = [
        {**row, "external_id": f"O-{n}", "party": party.pk}
        for n in range(orders)
        for row in shop.order_rows()
    ]
    shop.sync_account(UserFactory(username="erp.sync", role=Role.MANAGER), party.pk, orders=rows)


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_the_pop_shows_the_account_the_suspended_line_and_the_last_purchases(line, caller, care, role):
    _sync_account(caller)
    user = UserFactory(username=f"pop-{role}", role=role, departments=[care])
    html = _client(user).get(f"/phone/pops/{_ring().pk}/").content.decode()
    assert "Mobile Unlimited" in html and "Suspended: non-payment" in html  # the line, whoever asks
    assert "Overdue" in html and "Pixel handset" in html and "2 \u00d7 Phone case" in html
    if role == Role.SUPERVISOR:
        assert "45.00 USD" in html and "limit 300.00 USD" in html and "on hold" in html
    else:  # the amounts stay masked for an agent: that the account is overdue does not
        assert "45.00 USD" not in html and "300.00" not in html and "Amounts for supervisors" in html


def test_the_pop_proposes_what_the_caller_is_likely_to_buy_next_with_its_reason(line, caller, agent):
    erp = UserFactory(username="erp.sync", role=Role.MANAGER)
    commerce_sync(actor=erp, kind="products", source="erp", records=shop.product_rows())

    def bought(party: Party, *skus: str) -> None:
        lines = [{"product": sku, "quantity": 1, "unit_price": "1.00"} for sku in skus]
        row = {**shop.order_rows()[0], "external_id": f"O-{party.pk}", "party": party.pk, "lines": lines}
        commerce_sync(actor=erp, kind="orders", source="erp", records=[row])

    for _ in range(5):  # handset buyers take a case; others buy a plan only
        bought(PartyFactory(), "HS-PIXEL", "AC-CASE")
    for _ in range(4):
        bought(PartyFactory(), "PL-UNL")
    bought(caller, "HS-PIXEL")
    train(trigger="test")
    html = _client(agent).get(f"/phone/pops/{_ring().pk}/").content.decode()
    assert "Likely to buy next" in html and "Phone case" in html
    assert "83 % of customers who bought Pixel handset also bought Phone case" in html
    assert "Pixel handset</span>" not in html  # never what the caller owns


def test_a_supervisor_sees_the_sensitive_identifier(line, caller, supervisor, schemes):
    ExternalIdentifierFactory(party=caller, scheme=schemes["tax_id"], value="123-45-6789")
    call = _ring()
    assert "123-45-6789" in _client(supervisor).get(f"/phone/pops/{call.pk}/").content.decode()


def test_an_agent_of_another_department_cannot_fetch_the_pop(line, caller, other_agent):
    call = _ring()
    assert _client(other_agent).get(f"/phone/pops/{call.pk}/").status_code == 404
    assert _client(other_agent).get(f"/phone/calls/{call.pk}/").status_code == 404
    assert _client(other_agent).post(f"/phone/calls/{call.pk}/case/").status_code == 404


def test_a_confidential_case_of_another_department_stays_out_of_the_pop(
    line, caller, agent, manager, departments
):
    secret = CaseCategoryFactory(name="Fraud", is_confidential=True)
    billing = departments["Billing"]
    hidden = case_open(
        actor=manager, party=caller, subject="Suspected fraud", department=billing, category=secret
    )
    call = _ring()
    html = _client(agent).get(f"/phone/pops/{call.pk}/").content.decode()
    assert hidden.number not in html and "Suspected fraud" not in html
    assert "Suspected fraud" in _client(manager).get(f"/phone/pops/{call.pk}/").content.decode()


def test_the_pop_is_pushed_only_to_users_allowed_to_see_it(
    line, caller, agent, other_agent, care, inactive_user
):
    care.members.add(inactive_user, channel_actor("relay-phone"))
    lead = UserFactory(username="care_lead", role=Role.SUPERVISOR)
    care.supervisor = lead
    care.save()
    call = _ring()
    assert {u.username for u in services.pop_recipients(call)} == {"agent", "care_lead"}


def test_anonymous_users_get_no_pop(line, caller):
    call = _ring()
    response = Client().get(f"/phone/pops/{call.pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_unknown_number_pops_the_new_caller_form_and_one_click_files_them(line, agent):
    call = _ring("+14155550999")
    client = _client(agent)
    html = client.get(f"/phone/pops/{call.pk}/").content.decode()
    assert "New caller" in html and 'value="+14155550999"' in html and 'name="family_name"' in html
    response = client.post(
        f"/phone/calls/{call.pk}/case/",
        {"given_name": "Alan", "family_name": "Turing", "subject": "No signal"},
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    party = Party.objects.get(display_name="Alan Turing")
    assert party.contact_points.get().normalized == "+14155550999"
    call.refresh_from_db()
    assert (call.party, call.case, case.party, case.subject, case.channel) == (
        party,
        case,
        party,
        "No signal",
        "phone",
    )
    # the call ends: logged on the new file and on the case started from the pop
    services.call_end(
        actor=channel_actor("relay-phone"), provider="generic", call_id="c-1", duration_seconds=30
    )
    call.refresh_from_db()
    assert call.interaction.party == party and call.interaction.case == case


def test_start_a_case_is_one_click_and_links_the_call(line, caller, agent, care):
    older = case_open(actor=agent, party=caller, subject="Older problem", department=care)
    call = _ring()
    client = _client(agent)
    client.post(f"/phone/calls/{call.pk}/case/")
    client.post(f"/phone/calls/{call.pk}/case/")  # a double click opens one case
    new = Case.objects.exclude(pk=older.pk).get()
    assert new.party == caller and new.channel == "phone" and new.subject == "Call from +1 415-555-0142"
    services.call_end(
        actor=channel_actor("relay-phone"), provider="generic", call_id="c-1", duration_seconds=30
    )
    call.refresh_from_db()
    assert call.case == new and call.interaction.case == new  # the case started from the pop wins


def test_start_a_case_after_the_call_ended_links_the_logged_call(line, caller, agent):
    call = _ring()
    services.call_end(
        actor=channel_actor("relay-phone"), provider="generic", call_id="c-1", duration_seconds=30
    )
    _client(agent).post(f"/phone/calls/{call.pk}/case/")
    call.refresh_from_db()
    assert call.interaction.case == call.case == Case.objects.get()


def test_an_auditor_may_look_but_not_start_a_case(line, caller, auditor, care):
    care.members.add(auditor)
    call = _ring()
    client = _client(auditor)
    html = client.get(f"/phone/pops/{call.pk}/").content.decode()
    assert "Grace Hopper" in html and "Start a case" not in html
    assert client.post(f"/phone/calls/{call.pk}/case/").status_code == 403
    assert not Case.objects.exists()


def test_click_to_call_then_log_the_outcome(line, caller, agent):
    client = _client(agent)
    page = client.get(f"/parties/{caller.pk}/").content.decode()
    assert 'action="/phone/dial/"' in page and f'value="{CALLER}"' in page
    response = client.post("/phone/dial/", {"party": caller.pk, "number": CALLER})
    call = Call.objects.get()
    assert response["Location"] == f"/phone/calls/{call.pk}/"
    assert (call.direction, call.agent, call.party, call.state) == ("outbound", agent, caller, "in_progress")
    page = client.get(f"/phone/calls/{call.pk}/").content.decode()
    assert f'href="tel:{CALLER}"' in page and "Log the outcome" in page
    response = client.post(
        f"/phone/calls/{call.pk}/",
        {"disposition": "voicemail", "duration_minutes": 2, "notes": "Call back Monday"},
    )
    assert response.status_code == 302
    call.refresh_from_db()
    entry = call.interaction
    assert call.state == CallState.ENDED and entry.direction == "outbound" and entry.duration_seconds == 120
    assert (
        "voicemail" in entry.body and "Call back Monday" in entry.body and entry.subject.startswith("Call to")
    )
    again = client.post(f"/phone/calls/{call.pk}/", {"disposition": "completed", "duration_minutes": 1})
    assert again.status_code == 400 and TimelineEntry.objects.filter(kind="interaction").count() == 1


def test_click_to_call_refuses_a_number_not_on_file(line, caller, agent):
    response = _client(agent).post("/phone/dial/", {"party": caller.pk, "number": "+14155550000"})
    assert response.status_code == 302 and not Call.objects.exists()


def test_the_pop_costs_a_fixed_number_of_queries(line, caller, agent, care, schemes):
    call = _ring()
    client = _client(agent)
    n = {"i": 0}

    def add_rows(count):
        for _ in range(count):
            n["i"] += 1
            case_open(actor=agent, party=caller, subject=f"Problem {n['i']}", department=care)
            InteractionFactory(party=caller)
            ExternalIdentifierFactory(
                party=caller, scheme=IdentifierSchemeFactory(code=f"s{n['i']}", name=f"S{n['i']}")
            )
            RelationshipFactory(person=caller)
        _sync_account(caller, orders=n["i"])  # more orders, the same invoices: re-sent unchanged

    def fetch():
        response = client.get(f"/phone/pops/{call.pk}/")
        assert response.status_code == 200

    assert_flat_query_count(fetch, add_rows, few=2, many=8, at_most=16)


# --- the access table --------------------------------------------------------------------------------------

# every URL of the phone and push apps: who may use it (machines sign; staff by the rules above)
ACCESS = {
    "telephony:twilio_voice": "Twilio signature (X-Twilio-Signature), else 403",
    "telephony:twilio_status": "Twilio signature, else 403",
    "telephony:call_hook": "HMAC (X-Relay-Signature + X-Relay-Timestamp), else 403",
    "telephony:fax_hook": "HMAC, else 403",
    "telephony:pop": "staff who may see the call (agent, line department, managers) and the party, else 404",
    "telephony:call_detail": "as pop; the outcome form needs activities.add_interaction",
    "telephony:start_case": "as pop, and cases.add_case (else 403)",
    "telephony:dial": "staff with activities.add_interaction, the party visible (else 404)",
    "push:stream": "a signed-in staff member (401/403 problem+json otherwise); only their own topic",
}


def _names(patterns, namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _names(p.url_patterns, ns)
        elif isinstance(p, URLPattern):
            yield f"{namespace}{p.name}"


def test_every_url_of_the_phone_and_push_apps_is_in_the_access_table():
    ours = {n for n in _names(get_resolver().url_patterns) if n.startswith(("telephony:", "push:"))}
    assert ours == set(ACCESS)


def test_start_a_case_after_the_call_was_logged_on_another_open_case(line, caller, agent, care):
    older = case_open(actor=agent, party=caller, subject="Older problem", department=care)
    call = _ring()
    services.call_end(
        actor=channel_actor("relay-phone"), provider="generic", call_id="c-1", duration_seconds=30
    )
    response = _client(agent).post(f"/phone/calls/{call.pk}/case/")
    new = Case.objects.exclude(pk=older.pk).get()
    assert response["Location"] == new.get_absolute_url()
    call.refresh_from_db()
    assert call.case == new and call.interaction.case == older  # the logged call stays where it was
