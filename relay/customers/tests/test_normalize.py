import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relay.customers.normalize import (
    build_search_text,
    fold,
    format_phone,
    normalize_email,
    normalize_phone,
)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 415-555-0100", "US", "+14155550100"),
        ("(415) 555 0100", "US", "+14155550100"),
        ("415.555.0100", "US", "+14155550100"),
        ("0044 20 7946 0958", "US", "+442079460958"),
        ("004420 7946 0958", "DE", "+442079460958"),
        ("+44 (0)20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("  +49 30 901820  ", "US", "+4930901820"),
    ],
)
def test_phone_numbers_in_any_format_normalise_to_e164(raw, region, expected):
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "   ", "abc", "12", "+1 415 555 01000000000"])
def test_impossible_phone_numbers_are_refused_with_a_message(raw):
    with pytest.raises(ValueError, match=r"\w"):
        normalize_phone(raw, "US")


@given(st.sampled_from(["US", "GB", "DE", "FR", "AU", "IN"]), st.integers(min_value=0, max_value=10**6))
def test_formatting_a_number_any_way_gives_the_same_e164(region, seed):
    example = phonenumbers.example_number(region)
    assert example is not None
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert normalize_phone(national, region) == e164
    assert normalize_phone(international, "US") == e164
    assert normalize_phone("00" + e164[1:], "US") == e164
    assert normalize_phone(e164, "US") == e164  # idempotent


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Zoe@Example.COM", "zoe@example.com"),
        ("  a.b+tag@sub.example.org ", "a.b+tag@sub.example.org"),
        ("user@bücher.de", "user@xn--bcher-kva.de"),
    ],
)
def test_emails_are_normalised(raw, expected):
    assert normalize_email(raw) == expected


def test_the_longest_address_smtp_carries_is_accepted():
    assert len(LONGEST) == 254 and normalize_email(LONGEST) == LONGEST


LONGEST = "a" * 64 + "@" + ".".join(["b" * 61] * 3) + ".ccc"  # 254 characters


@pytest.mark.parametrize("raw", ["", "no-at-sign", "a@", "@b.com", "a b@c.com", "x" + LONGEST])
def test_bad_emails_are_refused(raw):
    with pytest.raises(ValueError):
        normalize_email(raw)


def test_fold_ignores_case_accents_and_spacing():
    assert fold("  Zoë   ÉLODIE ") == "zoe elodie"
    assert fold("Straße") == "strasse"


def test_search_text_holds_names_emails_and_phone_digits_whose_tail_is_the_national_number():
    text = build_search_text(
        names=["Zoë Smith"], emails=["zoe@example.com"], phones=["+14155550100"], identifiers=["A-1"]
    )
    for part in ("zoe smith", "zoe@example.com", "14155550100", "4155550100", "a-1"):
        assert part in text
    assert text.count("4155550100") == 1


def test_display_form_is_phonenumbers_own_for_every_example_number_of_every_region():
    """format_phone builds the number from the E.164 digits instead of parsing them: the same answer as
    phonenumbers' parse and format, for the example numbers of every region and type (Italy's leading
    zeros included)."""
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(12):  # phonenumbers.PhoneNumberType's values
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            parsed = phonenumbers.parse(e164, None)
            assert format_phone(e164) == phonenumbers.format_number(
                parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            ), (region, kind, e164)
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize("stored", ["", "+", "+0", "+1", "12345", "not a number"])
def test_a_display_form_of_something_not_e164_is_the_text_itself(stored):
    assert format_phone(stored) == stored
