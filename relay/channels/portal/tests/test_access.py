"""The portal's access table (urls.ACCESS): every URL pattern is in it, and each class holds for the
anonymous visitor, a staff member, a customer and another customer (TESTING.md, Access)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from relay.channels.portal import urls
from relay.channels.portal.urls import ACCESS, CUSTOMER, MANAGER, PUBLIC, WEBFORM

from .conftest import email_in, sign_in

pytestmark = pytest.mark.django_db


def test_every_url_pattern_is_in_the_access_table():
    names = {p.name for p in urls.urlpatterns if isinstance(p, URLPattern)}
    assert all(isinstance(p, URLPattern) for p in urls.urlpatterns), "no nested includes: list each URL"
    assert names == set(ACCESS), f"not in ACCESS: {names - set(ACCESS)}; stale: {set(ACCESS) - names}"
    assert set(ACCESS.values()) <= {PUBLIC, CUSTOMER, WEBFORM, MANAGER}


def _url(name, *, case, attachment, form):
    args = {
        "link": ["some-token"],
        "case": [case.pk],
        "case_reply": [case.pk],
        "attachment": [attachment.pk],
        "webform_toggle": [form.pk],
        "webform_case": [form.key],
        "webform_lead": ["no-such-key"],
        "webform_case_token": [form.key],
        "webform_lead_token": ["no-such-key"],
    }.get(name, [])
    return reverse(f"portal:{name}", args=args)


@pytest.fixture
def world(ada, bob, open_case, agent, case_form):
    from relay.activities.services import attachment_add
    from relay.channels.portal.tests.test_pages import _pdf

    case = open_case(ada)
    attachment = attachment_add(actor=agent, entry=email_in(case, agent, "hi").entry, upload=_pdf())
    return {"case": case, "attachment": attachment, "form": case_form}


@pytest.mark.parametrize("name", sorted(ACCESS))
def test_each_url_for_each_actor(name, world, agent, manager):
    url = _url(name, **world)
    kind = ACCESS[name]
    anonymous, staff, boss = Client(), Client(), Client()
    staff.force_login(agent)
    boss.force_login(manager)
    owner = sign_in(Client(), "ada@example.com")
    other = sign_in(Client(), "bob@example.com")
    method = "post" if name in {"case_reply", "sign_out", "webform_toggle"} else "get"

    def call(client):
        return getattr(client, method)(url)

    if kind == PUBLIC:
        for client in (anonymous, staff, owner):
            assert call(client).status_code in {200, 302, 400}
    elif kind == CUSTOMER:
        for client in (anonymous, staff, boss):  # a staff login is no portal session
            response = call(client)
            assert response.status_code == 302 and response["Location"].startswith("/portal/")
        assert call(other).status_code in ({404} if name in {"case", "case_reply", "attachment"} else {200})
        assert call(owner).status_code in {200, 302, 400}
    elif kind == WEBFORM:
        expected = 404 if "no-such-key" in url else 200
        for client in (anonymous, staff, owner):
            assert call(client).status_code == expected
    elif kind == MANAGER:
        for client in (anonymous, owner):  # a portal session is no staff login
            response = call(client)
            assert response.status_code == 302 and "/login/" in response["Location"]
        assert call(staff).status_code == 404
        assert call(boss).status_code in {200, 302}
