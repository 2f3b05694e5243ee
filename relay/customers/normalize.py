"""Pure normalisation of contact data: no database, property-testable."""

from __future__ import annotations

import functools
import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email


def normalize_phone(raw: str, region: str) -> str:
    """Return the E.164 form of a phone number typed in any common format.

    `+1 415-555-0100`, `(415) 555 0100` (in region US) and `0044 20 7946 0958` (the international
    `00` prefix, whatever the region) all work. Raises ValueError with a readable message otherwise.
    """
    text = (raw or "").strip()
    if not text:
        raise ValueError("Enter a phone number.")
    if not any(ch.isdigit() for ch in text):
        raise ValueError("A phone number needs digits.")
    compact = re.sub(r"[\s().\-/]", "", text)
    if compact.startswith("00"):
        text = "+" + compact[2:]
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"'{raw}' is not a phone number.") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"'{raw}' is not a possible phone number in {region.upper()} or abroad.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalize_phone(raw: str, region: str) -> str | None:
    try:
        return normalize_phone(raw, region)
    except ValueError:
        return None


def _from_e164(e164: str) -> phonenumbers.PhoneNumber | None:
    """The number of a stored E.164 string, without `phonenumbers.parse` (most of a format's cost):
    country calling codes are prefix-free, so the first 1-3 digits that are one are the country's."""
    digits = e164[1:]
    if not e164.startswith("+") or not digits.isdigit():
        return None
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[size:]
            if not national:
                return None
            number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
            zeros = len(national) - len(national.lstrip("0"))
            if zeros:  # Italy keeps its leading zero in the national number
                number.italian_leading_zero = True
                number.number_of_leading_zeros = zeros if zeros > 1 else None
            return number
    return None


@functools.lru_cache(maxsize=8192)
def format_phone(e164: str) -> str:
    """The international display form (+1 415-555-0100) of a stored E.164 number. Remembered: the same
    numbers are shown again and again (the first list pages, a caller's card)."""
    number = _from_e164(e164)
    if number is None:
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


MAX_EMAIL = 254


def normalize_email(raw: str) -> str:
    """Lower-case, trimmed, IDNA-encoded domain. Raises ValueError when it is not an address."""
    value = (raw or "").strip()
    if not value:
        raise ValueError("Enter an e-mail address.")
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValueError(f"'{raw}' is not an e-mail address.") from exc
    local, _, domain = value.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"'{raw}' has an invalid domain.") from exc
    address = f"{local}@{domain}".lower()
    if len(address) > MAX_EMAIL:  # what SMTP can carry (RFC 5321), and what a party's list column holds
        raise ValueError(f"An e-mail address has at most {MAX_EMAIL} characters.")
    return address


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for sorting and searching ("Zoë" -> "zoe")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def build_search_text(
    *, names: list[str], emails: list[str], phones: list[str], identifiers: list[str]
) -> str:
    """The text the trigram index searches: names folded, e-mails, phone digits and public identifiers.

    A phone is stored once, as its E.164 digits: the national number is their tail, so a fragment of it
    is found as well (a second copy would only make the trigram index larger and slower to build)."""
    parts: list[str] = [fold(n) for n in names if n]
    parts += [e.lower() for e in emails if e]
    parts += [phone.lstrip("+") for phone in phones if phone]
    parts += [fold(i) for i in identifiers if i]
    return " | ".join(dict.fromkeys(p for p in parts if p))
