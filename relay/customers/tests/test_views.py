"""The staff UI for the customer file: every page for every role, and the refusals."""

import pytest
from django.test import Client
from django.urls import reverse

from relay.customers import services
from relay.customers.models import Party
from relay.customers.services import ContactInput, IdentifierInput, PartyInput

pytestmark = pytest.mark.django_db
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def ada(agent, schemes):
    return services.party_create(
        actor=agent,
        data=PartyInput(
            given_name="Ada",
            family_name="Lovelace",
            roles=["customer"],
            tags=["vip"],
            lifecycle_stage="use",
            contact_points=[
                ContactInput(kind="phone", raw="(415) 555 0100"),
                ContactInput(kind="email", raw="ada@example.com"),
            ],
            identifiers=[IdentifierInput(scheme="tax_id", value="TX-123456")],
        ),
    )


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", ["/", "/parties/", "/parties/new/", "/search/?q=ada"])
def test_anonymous_users_are_sent_to_login(url):
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", ["agent", "other_agent", "supervisor", "manager", "admin_user", "auditor"])
def test_every_role_sees_the_list_the_360_page_and_history(request, ada, role):
    client = login(request.getfixturevalue(role))
    assert b"Ada Lovelace" in client.get("/parties/").content
    page = client.get(f"/parties/{ada.pk}/")
    assert page.status_code == 200 and b"+1 415-555-0100" in page.content
    history = client.get(f"/parties/{ada.pk}/?tab=history")
    assert b"created" in history.content and b"via" in history.content


def test_sensitive_identifiers_are_masked_on_the_page_for_agents(ada, agent, supervisor):
    assert b"TX-123456" not in login(agent).get(f"/parties/{ada.pk}/").content
    assert "•••••3456".encode() in login(agent).get(f"/parties/{ada.pk}/").content
    assert b"TX-123456" in login(supervisor).get(f"/parties/{ada.pk}/").content
    assert b"TX-123456" not in login(agent).get(f"/parties/{ada.pk}/?tab=history").content


def test_auditors_see_no_edit_buttons_and_are_refused_writes(ada, auditor):
    client = login(auditor)
    page = client.get(f"/parties/{ada.pk}/").content.decode()
    assert "Edit</a>" not in page and "Log it" not in page
    assert client.get(f"/parties/{ada.pk}/edit/").status_code == 403
    assert client.post("/parties/new/", {"kind": "person", "family_name": "X"}).status_code == 403
    assert (
        client.post(f"/parties/{ada.pk}/log/", {"channel": "phone", "direction": "inbound"}).status_code
        == 403
    )
    assert client.post(f"/parties/{ada.pk}/delete/", {"version": ada.version}).status_code == 403
    assert Party.objects.filter(pk=ada.pk).exists()


def test_agents_cannot_delete_parties(ada, agent):
    assert login(agent).post(f"/parties/{ada.pk}/delete/", {"version": ada.version}).status_code == 403


def test_a_supervisor_deletes_with_the_current_version(ada, supervisor):
    response = login(supervisor).post(f"/parties/{ada.pk}/delete/", {"version": ada.version})
    assert response.status_code == 302 and not Party.objects.filter(pk=ada.pk).exists()


@pytest.mark.parametrize(
    "url", ["/parties/999999/", "/parties/999999/edit/", "/parties/999999/contacts/new/"]
)
def test_unknown_records_are_404(agent, url):
    assert login(agent).get(url).status_code == 404


def test_creating_a_party_with_inline_errors_then_success(agent):
    client = login(agent)
    bad = client.post(
        "/parties/new/", {"kind": "person", "given_name": "", "family_name": "", "phone": "abc"}
    )
    assert bad.status_code == 200 and b"Enter a given or family name." in bad.content
    bad = client.post("/parties/new/", {"kind": "person", "family_name": "Hopper", "phone": "not a phone"})
    assert b"A phone number needs digits." in bad.content and b"Hopper" in bad.content  # the input is kept
    assert not Party.objects.exists()
    good = client.post(
        "/parties/new/",
        {
            "kind": "person",
            "given_name": "Grace",
            "family_name": "Hopper",
            "phone": "(415) 555-0199",
            "roles": ["customer"],
            "tags": "navy, vip",
        },
    )
    party = Party.objects.get()
    assert good.status_code == 302 and good["Location"] == reverse("customers:party_detail", args=[party.pk])
    assert party.contact_points.get().normalized == "+14155550199" and party.entered_by == agent


def test_a_stale_edit_shows_the_conflict_and_keeps_the_input(ada, agent, supervisor):
    services.party_update(actor=supervisor, party=ada, expected_version=ada.version, changes={"about": "VIP"})
    response = login(agent).post(
        f"/parties/{ada.pk}/edit/",
        {
            "kind": "person",
            "given_name": "Ada",
            "family_name": "King",
            "version": ada.version,
            "roles": ["customer"],
        },
    )
    assert response.status_code == 200
    assert b"Someone else changed this record" in response.content and b'value="King"' in response.content
    ada.refresh_from_db()
    assert ada.family_name == "Lovelace" and ada.about == "VIP"


def test_stored_xss_is_escaped_everywhere(agent):
    party = services.party_create(
        actor=agent, data=PartyInput(given_name=XSS, family_name=XSS, tags=[XSS[:40]])
    )
    client = login(agent)
    for url in (
        "/parties/",
        f"/parties/{party.pk}/",
        f"/parties/{party.pk}/?tab=history",
        "/search/?q=script",
    ):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body and "onerror=alert" not in body.replace("onerror=alert(1)&gt;", "")


def test_search_box_finds_by_phone_in_another_format(ada, agent):
    body = login(agent).get("/search/", {"q": "+1 415-555-0100"}).content.decode()
    assert "Ada Lovelace" in body and f"/parties/{ada.pk}/" in body


def test_list_filters_sorting_and_bad_input(ada, agent):
    client = login(agent)
    assert b"Ada Lovelace" in client.get("/parties/", {"role": "customer", "phone": "415 555 0100"}).content
    assert b"No customer matches" in client.get("/parties/", {"role": "prospect"}).content
    assert b"not valid" in client.get("/parties/", {"role": "emperor"}).content
    assert client.get("/parties/", {"ordering": "password"}).status_code == 200
    assert client.get("/parties/", {"cursor": "forged"}).status_code == 200


def test_choice_filters_given_alone_filter_as_the_form_does(agent, monkeypatch):
    """role, stage and kind with valid values skip the filter form (relay.customers.views): the same rows
    as through the form, for every value; a value not among the choices still goes to the form's error."""
    from relay.customers import views
    from relay.customers.choices import LifecycleStage, PartyKind, PartyRole

    for n, (role, stage, kind) in enumerate(
        zip(PartyRole.values, LifecycleStage.values * 2, PartyKind.values * 4)
    ):
        services.party_create(
            actor=agent,
            data=PartyInput(
                kind=kind, given_name="G", family_name=f"F{n}", organisation_name=f"O{n}", roles=[role]
            ),
        )
        Party.objects.filter(family_name=f"F{n}").update(lifecycle_stage=stage)
    client = login(agent)
    queries = [{"role": r} for r in PartyRole.values] + [{"stage": s} for s in LifecycleStage.values]
    queries += [{"kind": k, "role": r} for k in PartyKind.values for r in PartyRole.values[:2]]
    fast = [client.get("/parties/", q).context["rows"] for q in queries]
    monkeypatch.setattr(views, "_CHOICE_VALUES", {})  # every filter through the form
    assert [client.get("/parties/", q).context["rows"] for q in queries] == fast
    assert any(fast) and not all(len(rows) == len(fast[0]) for rows in fast)
    assert b"not valid" in client.get("/parties/", {"stage": "USE"}).content


def test_list_and_360_query_counts_do_not_grow(agent, django_assert_max_num_queries):
    for n in range(30):
        services.party_create(
            actor=agent,
            data=PartyInput(
                family_name=f"P{n}",
                roles=["customer"],
                tags=["t"],
                contact_points=[ContactInput(kind="phone", raw=f"+1 415 555 {n:04d}")],
            ),
        )
    client = login(agent)
    with django_assert_max_num_queries(12):
        client.get("/parties/")
    party = Party.objects.first()
    with django_assert_max_num_queries(25):
        client.get(f"/parties/{party.pk}/")


def test_contact_points_identifiers_relationships_and_lifecycle(ada, agent):
    client = login(agent)
    assert (
        client.post(
            f"/parties/{ada.pk}/contacts/new/", {"kind": "phone", "label": "work", "raw": "0044 20 7946 0958"}
        ).status_code
        == 302
    )
    bad = client.post(f"/parties/{ada.pk}/contacts/new/", {"kind": "email", "label": "main", "raw": "nope"})
    assert b"is not an e-mail address" in bad.content
    assert (
        client.post(
            f"/parties/{ada.pk}/identifiers/new/", {"scheme": "account", "value": "ACC-1"}
        ).status_code
        == 302
    )
    org = services.party_create(actor=agent, data=PartyInput(kind="organisation", organisation_name="Acme"))
    assert (
        client.post(
            f"/parties/{ada.pk}/relationships/new/", {"other": "Acme", "job_title": "CTO"}
        ).status_code
        == 302
    )
    assert org.people.get().job_title == "CTO"
    ada.refresh_from_db()
    client.post(
        f"/parties/{ada.pk}/lifecycle/", {"stage": "consider", "new_cycle": "on", "version": ada.version}
    )
    ada.refresh_from_db()
    assert (ada.lifecycle_stage, ada.lifecycle_cycle) == ("consider", 2)


def test_list_filters_show_what_was_typed_escaped_and_the_chosen_options_selected(ada, agent):
    body = (
        login(agent)
        .get("/parties/", {"q": XSS, "role": "customer", "kind": "person", "ordering": "-updated"})
        .content.decode()
    )
    assert 'value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;' in body and "<script>alert" not in body
    assert '<option value="customer" selected>' in body and '<option value="prospect">' in body
    assert '<option value="person" selected>' in body and '<option value="-updated" selected>' in body
    assert '<option value="" selected>Any stage</option>' in body  # no stage chosen: "any"
    assert f'<option value="{agent.pk}">Me (' in body
