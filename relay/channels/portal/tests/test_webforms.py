"""The embeddable web forms: key, token (minimum fill time), honeypot, limits, validation, no 500, no
partial write; web-to-case and web-to-lead; the staff page with the snippet."""

from __future__ import annotations

import pytest
from django.test import Client

from relay.activities.models import TimelineEntry
from relay.cases.models import Case
from relay.channels.portal import services
from relay.customers.models import Party

from .conftest import make_customer, sign_in

pytestmark = pytest.mark.django_db

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "';alert(1);//",
]


@pytest.fixture(autouse=True)
def _no_wait(settings):
    settings.RELAY_WEBFORM_MIN_SECONDS = 0


def _post(client, form, **fields):
    data = {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "subject": "Help",
        "message": "My line is down.",
    }
    data.update(relay_token=services.webform_token(form=form))
    data.update(fields)
    return client.post(f"/forms/{form.kind}/{form.key}/", data)


def _written():
    return (Party.objects.count(), Case.objects.count(), TimelineEntry.objects.count())


def test_web_to_case_creates_the_party_and_the_case(case_form, client, departments):
    response = _post(client, case_form)
    assert response.status_code == 200 and b"Thank you" in response.content
    party = Party.objects.get()
    assert (
        party.display_name == "Grace Hopper"
        and party.source == "system"
        and "Contact us" in party.source_detail
    )
    case = Case.objects.get()
    assert (case.party, case.channel, case.department) == (party, "web", departments["Customer Care"])
    entry = TimelineEntry.objects.get(case=case, channel="web")
    assert entry.direction == "inbound" and "My line is down." in entry.body


def test_web_to_case_finds_the_party_by_email(case_form, client, agent):
    ada = make_customer(agent, "Ada", "Lovelace", "ada@example.com")
    _post(client, case_form, email="ADA@example.com")
    assert Party.objects.count() == 1 and Case.objects.get().party == ada


def test_web_to_lead_makes_a_prospect_and_a_case_for_sales(lead_form, client, departments):
    response = _post(client, lead_form, subject="", phone="+1 415 555 0199", organisation="Navy")
    assert response.status_code == 200
    party = Party.objects.get()
    assert set(party.role_assignments.values_list("role", flat=True)) == {"prospect"}
    assert party.lifecycle_stage == "consider"
    case = Case.objects.get()
    assert case.department == departments["Sales"] and case.subject == "Sales enquiry from Grace Hopper"
    assert "Organisation: Navy" in TimelineEntry.objects.get(case=case, channel="web").body


def test_web_to_lead_marks_an_existing_customer_as_prospect(lead_form, client, agent):
    ada = make_customer(agent, "Ada", "Lovelace", "ada@example.com")
    _post(client, lead_form, email="ada@example.com")
    assert set(ada.role_assignments.values_list("role", flat=True)) == {"customer", "prospect"}


def test_a_success_url_redirects(case_form, client):
    case_form.success_url = "https://example.org/thanks"
    case_form.save()
    response = _post(client, case_form)
    assert response.status_code == 303 and response["Location"] == "https://example.org/thanks"


def test_the_honeypot_refuses(case_form, client):
    response = _post(client, case_form, website="http://spam.example")
    assert response.status_code == 400 and _written() == (0, 0, 0)


def test_a_too_fast_submission_is_refused(case_form, client, settings):
    settings.RELAY_WEBFORM_MIN_SECONDS = 3
    response = _post(client, case_form)
    assert response.status_code == 400 and b"too quickly" in response.content and _written() == (0, 0, 0)


@pytest.mark.parametrize("token", ["", "garbage", "eyJrIjoieCIsInQiOjB9:forged:sig"])
def test_a_missing_or_forged_token_is_refused(case_form, client, token):
    assert _post(client, case_form, relay_token=token).status_code == 400 and _written() == (0, 0, 0)


def test_a_token_of_another_form_is_refused(case_form, lead_form, client):
    response = _post(client, case_form, relay_token=services.webform_token(form=lead_form))
    assert response.status_code == 400 and _written() == (0, 0, 0)


def test_a_bad_key_or_kind_is_404(case_form, client):
    assert client.post("/forms/case/no-such-key/", {}).status_code == 404
    assert client.post(f"/forms/lead/{case_form.key}/", {}).status_code == 404
    assert client.get(f"/forms/lead/{case_form.key}/token.js").status_code == 404


def test_an_inactive_form_is_closed(case_form, client):
    case_form.is_active = False
    case_form.save()
    assert _post(client, case_form).status_code == 410 and _written() == (0, 0, 0)
    assert client.get(f"/forms/case/{case_form.key}/").status_code == 410


def test_submissions_are_rate_limited_per_ip(case_form, client, settings):
    settings.RELAY_WEBFORM_PER_IP_HOUR = 2
    assert [_post(client, case_form).status_code for _ in range(3)] == [200, 200, 429]
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"email": "not-an-address"},
        {"name": ""},
        {"message": ""},
        {"subject": "x" * 201},
        {"message": "bad\x00byte"},
    ],
)
def test_bad_input_is_a_400_with_the_errors(case_form, client, fields):
    response = _post(client, case_form, **fields)
    assert response.status_code == 400 and b"invalid-feedback" in response.content
    assert _written() == (0, 0, 0)


def test_a_bad_phone_on_a_lead_is_a_400(lead_form, client):
    response = _post(client, lead_form, phone="not a phone")
    assert response.status_code == 400 and _written() == (0, 0, 0)


def test_oversize_and_odd_bodies_never_500(case_form, client):
    url = f"/forms/case/{case_form.key}/"
    assert client.post(url, {"message": "x" * 70_000}).status_code == 413
    assert client.post(url, data=b'{"a": 1}', content_type="application/json").status_code == 415
    assert client.put(url).status_code == 405
    assert _written() == (0, 0, 0)


def test_the_endpoints_need_no_csrf_cookie(case_form):
    strict = Client(enforce_csrf_checks=True)
    assert _post(strict, case_form).status_code == 200


def test_the_hosted_page_and_the_token_script(case_form, client):
    page = client.get(f"/forms/case/{case_form.key}/")
    assert page.status_code == 200 and b'name="relay_token"' in page.content
    script = client.get(f"/forms/case/{case_form.key}/token.js")
    assert script["Content-Type"].startswith("text/javascript") and script["Cache-Control"] == "no-store"
    assert f'data-relay-form=\\"{case_form.key}\\"'.encode() in script.content


def test_xss_payloads_are_stored_and_rendered_escaped(case_form, client, agent):
    for payload in XSS:
        response = _post(client, case_form, name=f"Eve {payload}", subject=payload, message=payload)
        assert response.status_code == 200
        bad = _post(client, case_form, name=payload, email=payload, subject=payload, message=payload)
        assert (
            bad.status_code == 400 and payload.encode() not in bad.content
        ) or payload == "javascript:alert(1)"
    case = Case.objects.filter(subject=XSS[0]).get()
    entry = TimelineEntry.objects.get(case=case, channel="web")
    assert XSS[0] in entry.body  # stored as sent
    portal = sign_in(Client(), "grace@example.com")
    html = portal.get(f"/portal/cases/{case.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    cases_html = portal.get("/portal/cases/").content.decode()
    assert "<svg/onload" not in cases_html and "<img src=x" not in cases_html


def test_the_staff_page_lists_the_forms_with_their_snippet(case_form, lead_form, manager, agent, settings):
    staff = Client()
    assert staff.get("/forms/").status_code == 302  # anonymous: to the login
    staff.force_login(agent)
    assert staff.get("/forms/").status_code == 404
    staff.force_login(manager)
    html = staff.get("/forms/").content.decode()
    assert f"{settings.RELAY_BASE_URL}/forms/case/{case_form.key}/" in html
    assert f"/forms/lead/{lead_form.key}/token.js" in html and "Copy snippet" in html


def test_a_manager_creates_and_deactivates_a_form(manager, departments, client):
    client.force_login(manager)
    response = client.post(
        "/forms/",
        {"name": "Outage report", "kind": "case", "department": departments["Technical Support"].pk},
    )
    assert response.status_code == 302
    from relay.channels.portal.models import WebForm

    form = WebForm.objects.get(name="Outage report")
    assert form.history.count() == 1
    client.post(f"/forms/{form.pk}/active/", {"active": "0"})
    form.refresh_from_db()
    assert not form.is_active
    bad = client.post(
        "/forms/",
        {"name": "x", "kind": "case", "department": departments["Sales"].pk, "success_url": "ftp://x"},
    )
    assert bad.status_code == 400


def test_the_demo_forms(admin_user, departments):
    from relay.channels.portal.demo import load_demo_portal

    made = load_demo_portal(admin=admin_user, departments=departments)
    assert sorted(f.kind for f in made) == ["case", "lead"]
    assert load_demo_portal(admin=admin_user, departments=departments) == made  # idempotent
