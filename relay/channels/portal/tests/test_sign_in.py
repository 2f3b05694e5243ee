"""Sign-in links and the portal session (docs/adr/0014)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import Client

from relay.channels.portal import services
from relay.channels.portal.models import PortalSession, SignInLink
from relay.channels.portal.session import cookie_name
from relay.core import clock

from .conftest import link_token, mailed_links, make_customer, sign_in

pytestmark = pytest.mark.django_db


def _request(client, email, capture):
    with capture(execute=True):
        return client.post("/portal/", {"email": email})


def test_a_known_address_gets_one_link_after_commit(ada, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/portal/", {"email": "ADA@example.com "})
    assert response.status_code == 302 and response["Location"] == "/portal/sent/"
    assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.com"]
    [url] = mailed_links()
    assert SignInLink.objects.get().token_hash == services.hash_token(link_token(url))
    assert link_token(url) not in str(list(SignInLink.objects.values()))  # stored hashed only


def test_an_unknown_address_gets_the_same_answer_and_no_mail(ada, client, django_capture_on_commit_callbacks):
    known = _request(client, "ada@example.com", django_capture_on_commit_callbacks)
    mail.outbox.clear()
    unknown = _request(client, "nobody@example.com", django_capture_on_commit_callbacks)
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert mail.outbox == [] and not SignInLink.objects.filter(email="nobody@example.com").exists()
    page = client.get("/portal/sent/").content
    assert b"If this address is on file" in page


def test_the_link_signs_in_once(ada):
    issued = services.link_issue(email="ada@example.com")
    token = link_token(issued.url)
    browser = Client()
    assert b"Sign in" in browser.get(f"/portal/link/{token}/").content  # GET uses nothing up
    response = browser.post(f"/portal/link/{token}/")
    assert response.status_code == 302 and response["Location"] == "/portal/cases/"
    cookie = response.cookies[cookie_name()]
    assert cookie["httponly"] and cookie["path"] == "/portal/" and cookie["samesite"] == "Lax"
    assert browser.get("/portal/cases/").status_code == 200
    again = Client().post(f"/portal/link/{token}/")
    assert again.status_code == 400 and b"no longer valid" in again.content
    assert PortalSession.objects.count() == 1


def test_the_link_expires(ada, settings):
    settings.RELAY_PORTAL_LINK_MINUTES = 30
    token = link_token(services.link_issue(email="ada@example.com").url)
    with time_machine.travel(clock.now() + timedelta(minutes=31)):
        assert Client().post(f"/portal/link/{token}/").status_code == 400
    assert not PortalSession.objects.exists()


def test_a_newer_link_invalidates_the_older_one(ada):
    older = link_token(services.link_issue(email="ada@example.com").url)
    newer = link_token(services.link_issue(email="ada@example.com").url)
    assert Client().post(f"/portal/link/{older}/").status_code == 400
    assert Client().post(f"/portal/link/{newer}/").status_code == 302


def test_a_forged_token_is_refused(ada):
    assert Client().post("/portal/link/not-a-real-token/").status_code == 400


def test_removing_the_address_ends_access(ada, ada_client, agent):
    assert ada_client.get("/portal/cases/").status_code == 200
    ada.contact_points.all().delete()
    response = ada_client.get("/portal/cases/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/")


def test_the_session_lasts_its_hours(ada, ada_client, settings):
    with time_machine.travel(clock.now() + timedelta(hours=settings.RELAY_PORTAL_SESSION_HOURS, minutes=1)):
        assert ada_client.get("/portal/cases/").status_code == 302


def test_sign_out_ends_the_session(ada, ada_client):
    response = ada_client.post("/portal/sign-out/")
    assert response.status_code == 302
    assert PortalSession.objects.get().ended_at is not None
    assert ada_client.get("/portal/cases/").status_code == 302


def test_signing_in_again_rotates_the_session(ada, ada_client):
    first = PortalSession.objects.get()
    sign_in(ada_client, "ada@example.com")
    first.refresh_from_db()
    assert first.ended_at is not None and PortalSession.objects.filter(ended_at__isnull=True).count() == 1


def test_a_staff_login_is_not_a_portal_session(agent, client):
    client.force_login(agent)
    assert client.get("/portal/cases/").status_code == 302


def test_a_portal_session_is_not_a_staff_login(ada_client):
    assert cookie_name() in ada_client.cookies and "sessionid" not in ada_client.cookies
    response = ada_client.get("/cases/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert ada_client.get("/api/v1/cases/").status_code in {401, 403}


def test_a_shared_address_reaches_both_parties(agent, open_case):
    one = make_customer(agent, "Ann", "Home", "family@example.com")
    two = make_customer(agent, "Ben", "Home", "family@example.com", "ben@example.com")
    case_one, case_two = open_case(one, "Ann's"), open_case(two, "Ben's")
    shared = sign_in(Client(), "family@example.com")
    assert shared.get(f"/portal/cases/{case_one.pk}/").status_code == 200
    assert shared.get(f"/portal/cases/{case_two.pk}/").status_code == 200
    own = sign_in(Client(), "ben@example.com")
    assert own.get(f"/portal/cases/{case_one.pk}/").status_code == 404
    assert own.get(f"/portal/cases/{case_two.pk}/").status_code == 200


def test_link_requests_are_rate_limited_per_address(
    ada, client, settings, django_capture_on_commit_callbacks
):
    settings.RELAY_PORTAL_LINKS_PER_ADDRESS_HOUR = 2
    for _ in range(2):
        assert _request(client, "ada@example.com", django_capture_on_commit_callbacks).status_code == 302
    assert _request(client, "ada@example.com", django_capture_on_commit_callbacks).status_code == 429
    assert len(mail.outbox) == 2
    # the unknown address is limited the same way (no enumeration through the limit)
    for _ in range(2):
        _request(client, "nobody@example.com", django_capture_on_commit_callbacks)
    assert _request(client, "nobody@example.com", django_capture_on_commit_callbacks).status_code == 429


def test_link_requests_are_rate_limited_per_ip(ada, client, settings, django_capture_on_commit_callbacks):
    settings.RELAY_PORTAL_LINKS_PER_IP_HOUR = 3
    for n in range(3):
        assert _request(client, f"x{n}@example.com", django_capture_on_commit_callbacks).status_code == 302
    assert _request(client, "ada@example.com", django_capture_on_commit_callbacks).status_code == 429
    assert mail.outbox == []


def test_the_limit_window_passes(ada, client, settings, django_capture_on_commit_callbacks):
    settings.RELAY_PORTAL_LINKS_PER_ADDRESS_HOUR = 1
    _request(client, "ada@example.com", django_capture_on_commit_callbacks)
    assert _request(client, "ada@example.com", django_capture_on_commit_callbacks).status_code == 429
    with time_machine.travel(clock.now() + timedelta(hours=1, seconds=5)):
        assert _request(client, "ada@example.com", django_capture_on_commit_callbacks).status_code == 302


def test_csrf_is_enforced_on_the_sign_in_forms(ada):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/portal/", {"email": "ada@example.com"}).status_code == 403
    token = link_token(services.link_issue(email="ada@example.com").url)
    assert strict.post(f"/portal/link/{token}/").status_code == 403
    page = strict.get(f"/portal/link/{token}/")
    csrf = page.context["csrf_token"]
    assert strict.post(f"/portal/link/{token}/", {"csrfmiddlewaretoken": str(csrf)}).status_code == 302
    assert strict.post("/portal/sign-out/").status_code == 403


def test_the_command_prints_a_fresh_link(ada, capsys):
    from django.core.management import call_command

    call_command("portal", "link", "ada@example.com")
    url = capsys.readouterr().out.strip()
    assert "/portal/link/" in url and Client().post(urlsplit(url).path).status_code == 302


def test_the_command_refuses_an_unknown_address(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("portal", "link", "nobody@example.com")
