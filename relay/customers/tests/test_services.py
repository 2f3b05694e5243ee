"""The customer file's write operations: given / when / then."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from relay.core.audit import Origin, origin
from relay.core.exceptions import ApplicationError, ConflictError, NotAllowed
from relay.core.models import Source
from relay.customers import selectors, services
from relay.customers.choices import ContactKind, LifecycleStage, PartyKind
from relay.customers.models import ContactPoint, LifecycleChange, Party
from relay.customers.services import ContactInput, IdentifierInput, PartyInput, Provenance

pytestmark = pytest.mark.django_db


def make_party(actor, **overrides):
    data = PartyInput(
        given_name="Ada",
        family_name="Lovelace",
        roles=["customer"],
        tags=["VIP"],
        lifecycle_stage=LifecycleStage.USE,
        contact_points=[
            ContactInput(kind=ContactKind.PHONE, raw="(415) 555 0100"),
            ContactInput(kind=ContactKind.EMAIL, raw="Ada@Example.com"),
        ],
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return services.party_create(actor=actor, data=data)


def test_creating_a_person_stores_normalised_contacts_roles_tags_and_stage(agent):
    party = make_party(agent)

    party.refresh_from_db()
    assert party.display_name == "Ada Lovelace" and party.name_key == "ada lovelace"
    phones = ContactPoint.objects.filter(party=party, kind=ContactKind.PHONE)
    assert [(c.raw, c.normalized, c.is_primary) for c in phones] == [("(415) 555 0100", "+14155550100", True)]
    assert ContactPoint.objects.get(party=party, kind=ContactKind.EMAIL).normalized == "ada@example.com"
    assert list(party.role_assignments.values_list("role", flat=True)) == ["customer"]
    assert list(party.tags.values_list("slug", flat=True)) == ["vip"]
    assert party.lifecycle_stage == "use" and party.lifecycle_cycle == 1
    assert "4155550100" in party.search_text and "ada@example.com" in party.search_text


def test_a_new_party_s_list_columns_are_what_reading_its_contact_data_back_gives(agent, schemes):
    """party_create computes the search text and list columns from what it just wrote (no read-back):
    the same as recomputing them from the database, primaries, addresses and sensitive ids included."""
    party = make_party(
        agent,
        roles=["prospect", "customer", "prospect"],
        tags=["vip", "Churn risk"],
        contact_points=[
            ContactInput(kind=ContactKind.EMAIL, raw="first@example.com"),
            ContactInput(kind=ContactKind.PHONE, raw="(415) 555 0100"),
            ContactInput(kind=ContactKind.EMAIL, raw="second@example.com", is_primary=True),
            ContactInput(kind=ContactKind.ADDRESS, street="1 Main St", locality="Springfield"),
            ContactInput(kind=ContactKind.PHONE, raw="+1 415 555 0199"),
        ],
        identifiers=[
            IdentifierInput(scheme="account", value="ACC-9"),
            IdentifierInput(scheme="tax_id", value="TX-9"),
        ],
    )
    written = {name: getattr(party, name) for name in services.party_derived_columns(party)}
    stored = Party.objects.values(*written).get(pk=party.pk)
    assert written == stored == services.party_derived_columns(Party.objects.get(pk=party.pk))
    assert stored["primary_email"] == "second@example.com" and stored["primary_phone"] == "+14155550100"
    assert "acc-9" in stored["search_text"] and "tx-9" not in stored["search_text"]
    primaries = ContactPoint.objects.filter(party=party, is_primary=True)
    assert sorted(primaries.values_list("normalized", flat=True)) == [
        "+14155550100",
        "1 main st, springfield",
        "second@example.com",
    ]


def test_a_new_party_with_the_same_contact_twice_is_refused_and_nothing_is_written(agent):
    with pytest.raises(ApplicationError) as exc:
        make_party(
            agent,
            contact_points=[
                ContactInput(kind=ContactKind.EMAIL, raw="ada@example.com"),
                ContactInput(kind=ContactKind.EMAIL, raw="ADA@example.com"),
            ],
        )
    assert "contact_points.1.raw" in exc.value.errors
    assert not Party.objects.exists()


def test_every_data_point_records_its_provenance(agent, schemes):
    party = services.party_create(
        actor=agent,
        data=PartyInput(
            kind=PartyKind.ORGANISATION,
            organisation_name="Acme Ltd",
            contact_points=[ContactInput(kind=ContactKind.EMAIL, raw="info@acme.test")],
            identifiers=[IdentifierInput(scheme="account", value="ACC-1")],
        ),
        provenance=Provenance(source=Source.IMPORT, detail="trade-fair-2026.csv"),
    )
    assert party.source == Source.IMPORT and party.source_detail == "trade-fair-2026.csv"
    assert party.provenance_label == "Imported from a list: trade-fair-2026.csv"
    contact = party.contact_points.get()
    assert (contact.source, contact.entered_by) == (Source.IMPORT, None)

    by_hand = services.contact_point_create(
        actor=agent, party=party, data=ContactInput(kind=ContactKind.PHONE, raw="+44 20 7946 0958")
    )
    assert by_hand.source == Source.USER and by_hand.entered_by == agent
    assert by_hand.provenance_label == f"Entered by {agent.get_full_name()}"


def test_a_deleted_user_s_entries_stay_with_their_provenance_cleared(agent):
    party = make_party(agent)
    imported = make_party(agent, family_name="Byron", provenance=Provenance(source=Source.IMPORT))

    agent.delete()  # finds what the user entered through the partial entered_by indexes

    party.refresh_from_db()
    assert party.entered_by is None and party.source == Source.USER
    assert party.provenance_label == "Entered by a user"
    assert ContactPoint.objects.filter(party=party, entered_by=None).count() == 2
    assert Party.objects.filter(pk=imported.pk, entered_by=None).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (PartyInput(), "family_name"),
        (PartyInput(kind=PartyKind.ORGANISATION), "organisation_name"),
        (PartyInput(family_name="X", roles=["emperor"]), "roles"),
        (PartyInput(family_name="X", lifecycle_stage="reborn"), "lifecycle_stage"),
        (
            PartyInput(family_name="X", contact_points=[ContactInput(kind="phone", raw="not a number")]),
            "contact_points.0.raw",
        ),
        (
            PartyInput(family_name="X", contact_points=[ContactInput(kind="email", raw="nope")]),
            "contact_points.0.raw",
        ),
        (
            PartyInput(family_name="X", identifiers=[IdentifierInput(scheme="nope", value="1")]),
            "identifiers.0.scheme",
        ),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(agent, schemes, data, field):
    with pytest.raises(ApplicationError) as error:
        services.party_create(actor=agent, data=data)
    assert field in error.value.errors
    assert not Party.objects.exists() and not ContactPoint.objects.exists()


def test_an_identifier_is_unique_per_scheme(agent, schemes):
    first = make_party(agent, identifiers=[IdentifierInput(scheme="account", value="ACC-7")])
    with pytest.raises(ApplicationError) as error:
        make_party(agent, given_name="Bob", identifiers=[IdentifierInput(scheme="account", value="ACC-7")])
    assert "identifiers.0.value" in error.value.errors
    # the same value under another scheme is fine
    services.identifier_create(actor=agent, party=first, scheme="tax_id", value="ACC-7")
    assert Party.objects.count() == 1


def test_the_same_number_twice_on_one_party_is_refused_in_any_format(agent):
    party = make_party(agent)
    with pytest.raises(ApplicationError, match="already has"):
        services.contact_point_create(
            actor=agent, party=party, data=ContactInput(kind=ContactKind.PHONE, raw="+1 415-555-0100")
        )
    mobile = services.contact_point_create(
        actor=agent, party=party, data=ContactInput(kind=ContactKind.PHONE, raw="+1 415 555 0199")
    )
    with pytest.raises(ApplicationError, match="already has"):
        services.contact_point_update(
            actor=agent, contact=mobile, expected_version=1, changes={"raw": "(415) 555-0100"}
        )


def test_a_new_party_is_written_once_with_its_list_columns(agent, schemes):
    with CaptureQueriesContext(connection) as queries:
        party = make_party(
            agent,
            contact_points=[
                ContactInput(kind=ContactKind.PHONE, raw="(415) 555 0100"),
                ContactInput(kind=ContactKind.EMAIL, raw="Ada@Example.com"),
                ContactInput(kind=ContactKind.PHONE, raw="+44 20 7946 0958", is_primary=True),
            ],
        )
    assert not [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "customers_party"')]
    stored = Party.objects.get(pk=party.pk)
    # the number marked primary leads, the others follow in the order given
    assert stored.primary_phone == "+442079460958" and stored.primary_email == "ada@example.com"
    assert stored.search_text == "ada lovelace | ada@example.com | 442079460958 | 14155550100"
    assert (stored.role_codes, stored.tag_names) == ("customer", "VIP")
    phones = ContactPoint.objects.filter(party=party, kind=ContactKind.PHONE).order_by("id")
    assert [(c.normalized, c.is_primary) for c in phones] == [
        ("+14155550100", False),
        ("+442079460958", True),
    ]
    # an identifier's value joins the search text after it is added
    with_id = make_party(
        agent, family_name="Byron", identifiers=[IdentifierInput(scheme="account", value="ACC-9")]
    )
    assert "acc-9" in Party.objects.get(pk=with_id.pk).search_text.lower()


def test_adding_a_contact_point_does_not_ask_the_database_its_uniqueness_again(agent):
    """The service's duplicate check reads the party's contact points; Django's own check of the unique
    constraint (a SELECT in a savepoint) would ask the same question a second time."""
    party = make_party(agent)
    with CaptureQueriesContext(connection) as queries:
        services.contact_point_create(
            actor=agent, party=party, data=ContactInput(kind=ContactKind.PHONE, raw="+1 415 555 0199")
        )
    assert not [q for q in queries.captured_queries if '"_check"' in q["sql"]]


def test_a_stale_update_is_refused_and_changes_nothing(agent, supervisor):
    party = make_party(agent)
    services.party_update(
        actor=supervisor, party=party, expected_version=1, changes={"given_name": "Augusta"}
    )

    with pytest.raises(ConflictError) as error:
        services.party_update(actor=agent, party=party, expected_version=1, changes={"family_name": "King"})

    assert error.value.current_version == 2
    party.refresh_from_db()
    assert (party.given_name, party.family_name, party.version) == ("Augusta", "Lovelace", 2)


def test_an_update_that_changes_nothing_keeps_the_version(agent):
    party = make_party(agent)
    same = services.party_update(actor=agent, party=party, expected_version=1, changes={"given_name": "Ada"})
    assert same.version == 1 and party.history.count() == 1


@pytest.mark.parametrize("role_fixture", ["auditor", "inactive_user"])
def test_read_only_roles_cannot_write(request, agent, role_fixture):
    actor = request.getfixturevalue(role_fixture)
    party = make_party(agent)
    with pytest.raises(NotAllowed):
        services.party_create(actor=actor, data=PartyInput(family_name="X"))
    with pytest.raises(NotAllowed):
        services.party_update(actor=actor, party=party, expected_version=1, changes={"given_name": "Y"})
    with pytest.raises(NotAllowed):
        services.contact_point_create(actor=actor, party=party, data=ContactInput(kind="email", raw="a@b.co"))


def test_only_leads_delete_parties(agent, supervisor):
    party = make_party(agent)
    with pytest.raises(NotAllowed):
        services.party_delete(actor=agent, party=party, expected_version=1)
    services.party_delete(actor=supervisor, party=party, expected_version=1)
    assert not Party.objects.filter(pk=party.pk).exists()
    assert party.history.filter(history_type="-").get().history_user == supervisor


def test_audit_history_records_who_what_and_where_from(agent, supervisor):
    with origin(Origin.API):
        party = make_party(agent)
    with origin(Origin.COMMAND):
        services.party_update(actor=supervisor, party=party, expected_version=1, changes={"about": "Poet"})

    created, updated = party.history.order_by("history_id")
    assert (created.history_type, created.history_user, created.history_origin) == ("+", agent, "api")
    assert (updated.history_type, updated.history_user, updated.history_origin) == (
        "~",
        supervisor,
        "command",
    )
    delta = updated.diff_against(created)
    assert [(c.field, c.old, c.new) for c in delta.changes if c.field == "about"] == [("about", "", "Poet")]


def test_history_cannot_be_rewritten(agent):
    party = make_party(agent)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Party.history.filter(id=party.pk).update(given_name="Forged")
    record = party.history.first()
    with pytest.raises(Exception, match=r"cannot be deleted|append-only"):
        record.delete()


def test_lifecycle_moves_are_dated_and_an_upgrade_starts_a_new_cycle(agent):
    party = make_party(agent, lifecycle_stage=LifecycleStage.CONSIDER)
    party = services.party_set_lifecycle_stage(
        actor=agent, party=party, stage=LifecycleStage.PURCHASE, expected_version=party.version
    )
    party = services.party_set_lifecycle_stage(
        actor=agent,
        party=party,
        stage=LifecycleStage.CONSIDER,
        expected_version=party.version,
        new_cycle=True,
        note="upgrade to fibre",
    )
    changes = list(LifecycleChange.objects.filter(party=party).order_by("id"))
    assert [(c.stage, c.cycle) for c in changes] == [("consider", 1), ("purchase", 1), ("consider", 2)]
    assert all(c.left_at for c in changes[:-1]) and changes[-1].left_at is None
    assert party.lifecycle_cycle == 2


def test_changing_contact_data_refreshes_what_search_finds(agent):
    party = make_party(agent)
    phone = party.contact_points.get(kind=ContactKind.PHONE)
    services.contact_point_update(
        actor=agent, contact=phone, expected_version=1, changes={"raw": "+44 20 7946 0958"}
    )
    assert selectors.party_lookup_by_phone(actor=agent, raw="(415) 555 0100") == []  # US default region
    party.refresh_from_db()
    assert "4155550100" not in party.search_text


def test_deleting_the_primary_contact_promotes_the_next_one(agent):
    party = make_party(agent)
    second = services.contact_point_create(
        actor=agent, party=party, data=ContactInput(kind="email", raw="b@x.io")
    )
    primary = party.contact_points.get(kind="email", is_primary=True)
    assert second.is_primary is False
    services.contact_point_delete(actor=agent, contact=primary, expected_version=primary.version)
    second.refresh_from_db()
    assert second.is_primary


def test_the_list_columns_follow_every_change_of_contacts_roles_and_tags(agent):
    party = make_party(agent)
    party.refresh_from_db()
    assert party.primary_phone == "+14155550100" and party.primary_email
    email = party.contact_points.get(kind="email")
    services.contact_point_delete(actor=agent, contact=email, expected_version=email.version)
    services.party_update(
        actor=agent,
        party=party,
        expected_version=Party.objects.get(pk=party.pk).version,
        changes={},
        roles=["partner", "customer"],
        tags=["VIP", "fibre"],
    )
    party.refresh_from_db()
    assert (party.primary_email, party.role_codes, party.tag_names) == ("", "customer,partner", "fibre,VIP")
    row = selectors.party_list_rows(actor=agent, filters=selectors.PartyFilters()).items[0]
    assert (row["primary_phone"], row["role_codes"], row["tag_names"]) == (
        "+14155550100",
        "customer,partner",
        "fibre,VIP",
    )


def test_relationships_link_people_to_organisations(agent):
    person = make_party(agent)
    org = services.party_create(actor=agent, data=PartyInput(kind="organisation", organisation_name="Acme"))
    rel = services.relationship_create(actor=agent, person=person, organisation=org, job_title="CTO")
    assert list(org.people.values_list("job_title", flat=True)) == ["CTO"]
    with pytest.raises(ApplicationError):
        services.relationship_create(actor=agent, person=person, organisation=org)
    with pytest.raises(ApplicationError):
        services.relationship_create(actor=agent, person=org, organisation=person)
    services.relationship_update(
        actor=agent, relationship=rel, expected_version=1, changes={"job_title": "CEO"}
    )
    with pytest.raises(ConflictError):
        services.relationship_update(
            actor=agent, relationship=rel, expected_version=1, changes={"job_title": "X"}
        )
