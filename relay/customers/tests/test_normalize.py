import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relay.customers.normalize import build_search_text, fold, normalize_email, normalize_phone


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


@pytest.mark.parametrize("raw", ["", "no-at-sign", "a@", "@b.com", "a b@c.com"])
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
