"""Reads of the customer file: caller lookup, search, list pages, masking."""

import pytest
from django.db import connection

from relay.customers import selectors, services
from relay.customers.models import ExternalIdentifier, Party
from relay.customers.selectors import PartyFilters
from relay.customers.services import ContactInput, IdentifierInput, PartyInput

pytestmark = pytest.mark.django_db


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
                ContactInput(kind="phone", raw="+1 415-555-0100"),
                ContactInput(kind="phone", raw="+44 20 7946 0958", label="work"),
                ContactInput(kind="email", raw="ada@example.com"),
            ],
            identifiers=[
                IdentifierInput(scheme="account", value="ACC-100200"),
                IdentifierInput(scheme="tax_id", value="TX-998877"),
            ],
        ),
    )


@pytest.fixture
def zoe(agent):
    return services.party_create(
        actor=agent,
        data=PartyInput(
            given_name="Zoë", family_name="Smith", roles=["prospect"], lifecycle_stage="consider"
        ),
    )


@pytest.mark.parametrize(
    "typed", ["+1 415-555-0100", "(415) 555 0100", "415.555.0100", "0014155550100", "+14155550100"]
)
def test_the_caller_is_found_whatever_format_is_typed(agent, ada, typed):
    assert selectors.party_lookup_by_phone(actor=agent, raw=typed) == [ada]


def test_an_international_number_with_00_is_found(agent, ada):
    assert selectors.party_lookup_by_phone(actor=agent, raw="0044 20 7946 0958") == [ada]


def test_lookup_of_an_unknown_or_garbage_number_finds_nobody(agent, ada):
    assert selectors.party_lookup_by_phone(actor=agent, raw="+1 212 555 0199") == []
    assert selectors.party_lookup_by_phone(actor=agent, raw="hello") == []


def test_the_caller_lookup_answers_alike_by_sql_and_through_a_filtering_scope(agent, ada, monkeypatch):
    from relay.accounts import permissions

    namesake = services.party_create(  # a second party on the same number: both, by name
        actor=agent,
        data=PartyInput(
            given_name="Aaron",
            family_name="Lovelace",
            contact_points=[ContactInput(kind="phone", raw="415 555 0100")],
        ),
    )
    email_only = services.party_create(  # an e-mail that looks like the number is no phone match
        actor=agent,
        data=PartyInput(given_name="Mail", contact_points=[ContactInput(kind="email", raw="x@example.com")]),
    )
    brief = selectors.caller_lookup(actor=agent, raw="(415) 555-0100")  # the hand-written SQL
    assert brief == [
        {
            "id": p.pk,
            "kind": "person",
            "display_name": p.display_name,
            "lifecycle_stage": p.lifecycle_stage,
            "phone": "+14155550100",
        }
        for p in (namesake, ada)
    ]
    assert email_only.pk not in {row["id"] for row in brief}

    # a scope that filters parties (none does today) takes the ORM query, with the same answer shape
    monkeypatch.setitem(
        permissions._scopes, "customers.party", lambda qs, user, action: qs.exclude(pk=namesake.pk)
    )
    assert selectors.caller_lookup(actor=agent, raw="(415) 555-0100") == brief[1:]


def test_anonymous_and_inactive_users_find_nothing(ada, inactive_user):
    from django.contrib.auth.models import AnonymousUser

    for actor in (AnonymousUser(), inactive_user):
        assert selectors.party_lookup_by_phone(actor=actor, raw="+14155550100") == []
        assert selectors.caller_lookup(actor=actor, raw="+14155550100") == []
        assert selectors.party_search(actor=actor, query="ada") == []
        assert selectors.party_list(actor=actor, filters=PartyFilters()).items == []


@pytest.mark.parametrize(
    "query",
    [
        "ada",
        "Ada Love",
        "lovel",
        "LOVELACE",
        "ada@example.com",
        "example.com",
        "(415) 555-0100",
        "5550100",
        "ACC-100200",
        "acc-100",
    ],
)
def test_search_as_you_type_finds_by_name_email_phone_and_identifier(agent, ada, zoe, query):
    assert selectors.party_search(actor=agent, query=query) == [ada]


def test_search_ignores_accents_and_matches_short_prefixes(agent, ada, zoe):
    assert selectors.party_search(actor=agent, query="zoe") == [zoe]
    assert selectors.party_search(actor=agent, query="Zoë Sm") == [zoe]
    assert selectors.party_search(actor=agent, query="z") == [zoe]
    assert selectors.party_search(actor=agent, query="ad") == [ada]


def test_sensitive_identifiers_are_searchable_and_visible_only_to_granted_roles(
    agent, supervisor, auditor, ada
):
    assert selectors.party_search(actor=agent, query="TX-998877") == []
    assert selectors.party_search(actor=supervisor, query="TX-998877") == [ada]
    assert selectors.party_search(actor=auditor, query="TX-998877") == [ada]
    tax = ExternalIdentifier.objects.get(value="TX-998877")
    assert selectors.identifier_display_value(actor=agent, identifier=tax) == "•••••8877"
    assert selectors.identifier_display_value(actor=supervisor, identifier=tax) == "TX-998877"
    account = ExternalIdentifier.objects.get(value="ACC-100200")
    assert selectors.identifier_display_value(actor=agent, identifier=account) == "ACC-100200"


@pytest.mark.parametrize(
    "query", ["", "   ", "'; DROP TABLE customers_party; --", '"unbalanced', "*", "a" * 500]
)
def test_odd_search_input_is_harmless(agent, ada, query):
    selectors.party_search(actor=agent, query=query)
    assert Party.objects.count() == 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (PartyFilters(role="customer"), ["Ada Lovelace"]),
        (PartyFilters(role="prospect"), ["Zoë Smith"]),
        (PartyFilters(stage="consider"), ["Zoë Smith"]),
        (PartyFilters(tag="vip"), ["Ada Lovelace"]),
        (PartyFilters(phone="(415) 555-0100"), ["Ada Lovelace"]),
        (PartyFilters(email="ADA@example.com"), ["Ada Lovelace"]),
        (PartyFilters(q="smith"), ["Zoë Smith"]),
        (PartyFilters(), ["Ada Lovelace", "Zoë Smith"]),
    ],
)
def test_list_filters(agent, ada, zoe, filters, expected):
    page = selectors.party_list(actor=agent, filters=filters)
    assert [p.display_name for p in page.items] == expected


def test_list_pages_forward_and_back_without_gaps_or_repeats(agent):
    for i in range(7):
        services.party_create(actor=agent, data=PartyInput(family_name=f"Person {i % 3}"))  # duplicate names
    seen, cursor, pages = [], None, []
    while True:
        page = selectors.party_list(actor=agent, filters=PartyFilters(), cursor=cursor, size=3)
        pages.append(page)
        seen += [p.pk for p in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    expected = list(Party.objects.order_by("name_key", "id").values_list("pk", flat=True))
    assert seen == expected and len(pages) == 3
    back = selectors.party_list(actor=agent, filters=PartyFilters(), cursor=pages[2].previous_cursor, size=3)
    assert [p.pk for p in back.items] == [p.pk for p in pages[1].items]


def test_party_get_loads_the_360_data_in_a_fixed_number_of_queries(agent, ada, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        party = selectors.party_get(actor=agent, pk=ada.pk)
        _ = [c.display_value for c in party.contact_points.all()]
        _ = [(i.scheme.name, i.value) for i in party.identifiers.all()]
        _ = list(party.tags.all()), list(party.role_assignments.all())


def test_names_sort_by_their_folded_bytes_alike_on_both_databases(agent):
    """name_key compares byte by byte (SQLite's BINARY, COLLATE "C" on PostgreSQL): a locale's collation
    would put the Greek and Cyrillic names elsewhere on one database than on the other."""
    for name in ["Ωmega", "Zed", "Ämma", "Ива", "bob", "Ada"]:
        services.party_create(actor=agent, data=PartyInput(organisation_name=name, kind="organisation"))
    keys = list(Party.objects.order_by("name_key").values_list("name_key", flat=True))
    assert keys == sorted(keys, key=lambda key: key.encode())
    assert keys[:3] == ["ada", "amma", "bob"]


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite compares text by bytes already")
def test_the_sort_and_lookup_keys_are_binary_collated_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE (table_name, column_name) IN (('customers_party', 'name_key'), "
            "('customers_contactpoint', 'kind'), ('customers_contactpoint', 'normalized'))"
        )
        assert {row[2] for row in cursor.fetchall()} == {"C"}
