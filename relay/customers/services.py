"""Every write to the customer file. Keyword-only, actor first, one transaction, audited."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from relay.accounts.models import User
from relay.core import clock
from relay.core.exceptions import ApplicationError, NotAllowed
from relay.core.models import Source
from relay.core.services import apply_changes, delete_audited, lock_current, save_audited
from relay.customers.choices import ContactKind, LifecycleStage, PartyKind, PartyRole
from relay.customers.models import (
    ContactPoint,
    ExternalIdentifier,
    IdentifierScheme,
    LifecycleChange,
    Party,
    PartyRoleAssignment,
    Relationship,
    Tag,
)
from relay.customers.normalize import build_search_text, fold, normalize_email, normalize_phone

PARTY_FIELDS = {
    "kind",
    "given_name",
    "family_name",
    "organisation_name",
    "birth_date",
    "website",
    "industry",
    "about",
    "preferred_channel",
    "owner",
}
CONTACT_FIELDS = {
    "kind",
    "label",
    "raw",
    "is_primary",
    "street",
    "locality",
    "region",
    "postal_code",
    "country",
}


@dataclass
class ContactInput:
    kind: str
    raw: str = ""
    label: str = "main"
    is_primary: bool = False
    street: str = ""
    locality: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass
class IdentifierInput:
    scheme: str
    value: str


@dataclass
class Provenance:
    source: str = Source.USER
    detail: str = ""


@dataclass
class PartyInput:
    kind: str = PartyKind.PERSON
    given_name: str = ""
    family_name: str = ""
    organisation_name: str = ""
    birth_date: date | None = None
    website: str = ""
    industry: str = ""
    about: str = ""
    preferred_channel: str = ""
    owner: User | None = None
    roles: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    lifecycle_stage: str = ""
    contact_points: list[ContactInput] = field(default_factory=list)
    identifiers: list[IdentifierInput] = field(default_factory=list)


def _require(actor: User, perm: str, obj: Any = None) -> None:
    if not actor.has_perm(perm, obj):
        raise NotAllowed("You may not change the customer file.")


def _validation_error(exc: ValidationError) -> ApplicationError:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return ApplicationError("Some fields are not valid.", errors=errors)


def _provenance(actor: User | None, provenance: Provenance | None) -> dict[str, Any]:
    p = provenance or Provenance()
    return {
        "source": p.source,
        "source_detail": p.detail,
        "entered_by": actor if p.source == Source.USER else None,
    }


# --- search text -------------------------------------------------------------------------------------


def party_derived_columns(party: Party) -> dict[str, Any]:
    """The columns computed from the party and its contact data, roles, tags and identifiers: the search
    text, and what a line of the list shows (the primary phone and e-mail, the roles, the tags)."""
    contacts = list(
        party.contact_points.exclude(kind=ContactKind.ADDRESS)
        .order_by("-is_primary", "id")
        .values_list("kind", "normalized")
    )
    return _derived_columns(
        party,
        contacts=contacts,
        identifiers=list(
            party.identifiers.filter(scheme__is_sensitive=False).values_list("value", flat=True)
        ),
        roles=list(party.role_assignments.values_list("role", flat=True)),
        tags=list(party.tags.values_list("name", flat=True)),
    )


def _derived_columns(
    party: Party,
    *,
    contacts: list[tuple[str, str]],
    identifiers: list[str],
    roles: list[str],
    tags: list[str],
) -> dict[str, Any]:
    """`contacts`: (kind, normalized) without addresses, the primary ones first."""
    emails = [v for k, v in contacts if k == ContactKind.EMAIL]
    phones = [v for k, v in contacts if k == ContactKind.PHONE]
    return {
        "search_text": build_search_text(
            names=[party.display_name, party.organisation_name if party.is_person() else ""],
            emails=emails,
            phones=phones,
            identifiers=identifiers,
        ),
        "primary_phone": phones[0] if phones else "",
        "primary_email": emails[0] if emails else "",
        "role_codes": ",".join(sorted(roles)),
        "tag_names": ",".join(sorted(tags, key=str.lower)),
    }


def _refresh_party(party: Party, *, touch: bool = True, derived: dict[str, Any] | None = None) -> None:
    """Recompute the derived columns after any change to the party or its contact data (`derived`: the
    caller computed them from what it just wrote)."""
    party.display_name = party.compute_display_name()
    party.name_key = fold(party.display_name)
    updates: dict[str, Any] = {
        "display_name": party.display_name,
        "name_key": party.name_key,
        **(derived if derived is not None else party_derived_columns(party)),
    }
    if touch:
        updates["updated_at"] = clock.now()
    Party.objects.filter(pk=party.pk).update(**updates)
    for name, value in updates.items():
        setattr(party, name, value)


# --- parties -------------------------------------------------------------------------------------------


@transaction.atomic
def party_create(*, actor: User, data: PartyInput, provenance: Provenance | None = None) -> Party:
    _require(actor, "customers.add_party")
    party = Party(
        kind=data.kind,
        given_name=data.given_name.strip(),
        family_name=data.family_name.strip(),
        organisation_name=data.organisation_name.strip(),
        birth_date=data.birth_date,
        website=data.website,
        industry=data.industry,
        about=data.about,
        preferred_channel=data.preferred_channel,
        owner=data.owner,
        **_provenance(actor, provenance),
    )
    party.display_name = party.compute_display_name()
    party.name_key = fold(party.display_name)
    _validate_party(party)
    if data.lifecycle_stage:
        _check_choice("lifecycle_stage", data.lifecycle_stage, LifecycleStage)
        party.lifecycle_stage, party.lifecycle_cycle = data.lifecycle_stage, 1
    roles = list(dict.fromkeys(data.roles))
    for role in roles:
        _check_choice("roles", role, PartyRole)
    # the party is new: its contact points are the ones given here, so the duplicate and primary checks
    # and the derived columns need no reading back, and the party is written with its list columns
    contacts: list[ContactPoint] = []
    for index, contact in enumerate(data.contact_points):
        built, _ = _contact_point_build(
            actor=actor,
            party=party,
            data=contact,
            provenance=provenance,
            on_file=contacts,
            error_prefix=f"contact_points.{index}.",
        )
        contacts.append(built)
    tags = _tags(data.tags) if data.tags else []

    def derived(identifiers: list[str]) -> dict[str, Any]:
        listed = sorted(
            (c for c in contacts if c.kind != ContactKind.ADDRESS), key=lambda c: not c.is_primary
        )  # a stable sort: in the order given, as their ids will be
        return _derived_columns(
            party,
            contacts=[(c.kind, c.normalized) for c in listed],
            identifiers=identifiers,
            roles=roles,
            tags=[t.name for t in tags],
        )

    for name, value in derived([]).items():
        setattr(party, name, value)
    save_audited(party, actor=actor)
    if data.lifecycle_stage:
        LifecycleChange.objects.create(
            party=party, stage=party.lifecycle_stage, cycle=1, entered_at=clock.now(), actor=actor
        )
    for role in roles:
        PartyRoleAssignment.objects.create(party=party, role=role)
    if tags:
        party.tags.set(tags)
    for contact_point in contacts:
        contact_point.party = party  # built before the party had its id
        _contact_point_save(contact_point, actor=actor)
    identifiers = [
        _identifier_add(
            actor=actor,
            party=party,
            scheme_code=identifier.scheme,
            value=identifier.value,
            provenance=provenance,
            error_prefix=f"identifiers.{index}.",
        )
        for index, identifier in enumerate(data.identifiers)
    ]
    if identifiers:  # their values join the search text
        _refresh_party(
            party, touch=False, derived=derived([i.value for i in identifiers if not i.scheme.is_sensitive])
        )
    return party


def _validate_party(party: Party) -> None:
    if party.kind == PartyKind.PERSON and not (party.given_name or party.family_name):
        raise ApplicationError(
            "A person needs a name.", errors={"family_name": ["Enter a given or family name."]}
        )
    if party.kind == PartyKind.ORGANISATION and not party.organisation_name:
        raise ApplicationError(
            "An organisation needs a name.", errors={"organisation_name": ["Enter the organisation's name."]}
        )


def _check_choice(field_name: str, value: str, choices: Any) -> None:
    if value not in choices.values:
        raise ApplicationError(
            f"Unknown {field_name} value.", errors={field_name: [f"'{value}' is not a valid choice."]}
        )


def _tags(names: list[str]) -> list[Tag]:
    tags = []
    for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
        slug = slugify(name)[:50]
        if not slug:
            raise ApplicationError("Invalid tag.", errors={"tags": [f"'{name}' is not a usable tag."]})
        tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name": name[:50]})
        tags.append(tag)
    return tags


@transaction.atomic
def party_update(
    *,
    actor: User,
    party: Party,
    expected_version: int | None,
    changes: dict[str, Any],
    roles: list[str] | None = None,
    tags: list[str] | None = None,
) -> Party:
    _require(actor, "customers.change_party", party)
    current = lock_current(Party, party.pk, expected_version)
    try:
        changed = apply_changes(current, changes, allowed=PARTY_FIELDS)
    except ValueError as exc:
        raise ApplicationError(str(exc)) from exc
    if roles is not None:
        for role in roles:
            _check_choice("roles", role, PartyRole)
        have = set(current.role_assignments.values_list("role", flat=True))
        want = set(roles)
        if have != want:
            current.role_assignments.filter(role__in=have - want).delete()
            PartyRoleAssignment.objects.bulk_create(
                [PartyRoleAssignment(party=current, role=r) for r in want - have]
            )
            changed.append("roles")
    if tags is not None:
        new_tags = _tags(tags)
        if {t.pk for t in new_tags} != set(current.tags.values_list("pk", flat=True)):
            current.tags.set(new_tags)
            changed.append("tags")
    if not changed:
        return current
    current.display_name = current.compute_display_name()
    current.name_key = fold(current.display_name)
    _validate_party(current)
    try:
        save_audited(current, actor=actor)
    except ValidationError as exc:
        raise _validation_error(exc) from exc
    _refresh_party(current)
    return current


@transaction.atomic
def party_delete(*, actor: User, party: Party, expected_version: int | None) -> None:
    _require(actor, "customers.delete_party", party)
    current = lock_current(Party, party.pk, expected_version)
    delete_audited(current, actor=actor)


# --- lifecycle -----------------------------------------------------------------------------------------


def _set_stage(*, actor: User | None, party: Party, stage: str, new_cycle: bool, note: str) -> None:
    _check_choice("lifecycle_stage", stage, LifecycleStage)
    now = clock.now()
    LifecycleChange.objects.filter(party=party, left_at__isnull=True).update(left_at=now)
    if new_cycle or party.lifecycle_cycle == 0:
        party.lifecycle_cycle += 1
    party.lifecycle_stage = stage
    LifecycleChange.objects.create(
        party=party, stage=stage, cycle=party.lifecycle_cycle, entered_at=now, actor=actor, note=note[:255]
    )
    Party.objects.filter(pk=party.pk).update(lifecycle_stage=stage, lifecycle_cycle=party.lifecycle_cycle)


@transaction.atomic
def party_set_lifecycle_stage(
    *,
    actor: User,
    party: Party,
    stage: str,
    expected_version: int | None,
    new_cycle: bool = False,
    note: str = "",
) -> Party:
    """Move the party to `stage`. `new_cycle=True` (an upgrade) starts a new buying cycle."""
    _require(actor, "customers.change_party", party)
    current = lock_current(Party, party.pk, expected_version)
    if current.lifecycle_stage == stage and not new_cycle:
        return current
    _set_stage(actor=actor, party=current, stage=stage, new_cycle=new_cycle, note=note)
    save_audited(current, actor=actor)
    _refresh_party(current)
    return current


# --- contact points ------------------------------------------------------------------------------------


def _normalize_contact(kind: str, raw: str, *, prefix: str = "") -> str:
    try:
        if kind == ContactKind.PHONE:
            return normalize_phone(raw, settings.RELAY_PHONE_REGION)
        if kind == ContactKind.EMAIL:
            return normalize_email(raw)
    except ValueError as exc:
        raise ApplicationError(str(exc), errors={f"{prefix}raw": [str(exc)]}) from exc
    return ""


# the per-party uniqueness `_contact_point_build` and `contact_point_update` check against the party's
# contact points themselves: Django need not ask the database the same again
_CHECKED_BY_SERVICE = ("contact_unique_per_party",)


def _contact_point_build(
    *,
    actor: User | None,
    party: Party,
    data: ContactInput,
    provenance: Provenance | None,
    on_file: Iterable[ContactPoint],
    error_prefix: str = "",
) -> tuple[ContactPoint, list[ContactPoint]]:
    """A new contact point, normalised and checked against the party's others (`on_file`), not saved yet;
    and those of `on_file` it takes the primary flag from (already unflagged in memory)."""
    _check_choice(f"{error_prefix}kind", data.kind, ContactKind)
    contact = ContactPoint(
        party=party,
        kind=data.kind,
        label=data.label,
        raw=data.raw.strip(),
        is_primary=data.is_primary,
        street=data.street,
        locality=data.locality,
        region=data.region,
        postal_code=data.postal_code,
        country=data.country.upper(),
        **_provenance(actor, provenance),
    )
    if data.kind == ContactKind.ADDRESS:
        if not (data.street or data.locality or data.postal_code):
            raise ApplicationError(
                "An address needs a street, a place or a postal code.",
                errors={f"{error_prefix}street": ["Enter the address."]},
            )
        contact.normalized = fold(contact.display_value)[:255]
    else:
        contact.normalized = _normalize_contact(data.kind, data.raw, prefix=error_prefix)
    earlier = [c for c in on_file if c.kind == contact.kind]
    if contact.kind != ContactKind.ADDRESS and any(c.normalized == contact.normalized for c in earlier):
        raise ApplicationError(
            "This party already has that contact point.",
            errors={f"{error_prefix}raw": ["Already on file for this party."]},
        )
    demoted = [c for c in earlier if c.is_primary] if contact.is_primary else []
    for c in demoted:
        c.is_primary = False
    if not contact.is_primary:
        contact.is_primary = not earlier
    return contact, demoted


def _contact_point_save(contact: ContactPoint, *, actor: User | None) -> ContactPoint:
    try:
        save_audited(contact, actor=actor, checked=_CHECKED_BY_SERVICE)
    except ValidationError as exc:
        raise _validation_error(exc) from exc
    return contact


@transaction.atomic
def contact_point_create(
    *, actor: User, party: Party, data: ContactInput, provenance: Provenance | None = None
) -> ContactPoint:
    _require(actor, "customers.add_contactpoint", party)
    contact, demoted = _contact_point_build(
        actor=actor,
        party=party,
        data=data,
        provenance=provenance,
        on_file=ContactPoint.objects.filter(party=party).only("kind", "normalized", "is_primary"),
    )
    if demoted:
        ContactPoint.objects.filter(pk__in=[c.pk for c in demoted]).update(is_primary=False)
    _contact_point_save(contact, actor=actor)
    _refresh_party(party)
    return contact


@transaction.atomic
def contact_point_update(
    *, actor: User, contact: ContactPoint, expected_version: int | None, changes: dict[str, Any]
) -> ContactPoint:
    _require(actor, "customers.change_contactpoint", contact)
    current = lock_current(ContactPoint, contact.pk, expected_version)
    if "country" in changes:
        changes["country"] = (changes["country"] or "").upper()
    if "raw" in changes:
        changes["raw"] = (changes["raw"] or "").strip()
    try:
        changed = apply_changes(current, changes, allowed=CONTACT_FIELDS)
    except ValueError as exc:
        raise ApplicationError(str(exc)) from exc
    if not changed:
        return current
    if current.kind == ContactKind.ADDRESS:
        current.normalized = fold(current.display_value)[:255]
    else:
        current.normalized = _normalize_contact(current.kind, current.raw)
        clash = ContactPoint.objects.filter(
            party=current.party_id, kind=current.kind, normalized=current.normalized
        )
        if clash.exclude(pk=current.pk).exists():
            raise ApplicationError(
                "This party already has that contact point.",
                errors={"raw": ["Already on file for this party."]},
            )
    if "is_primary" in changed and current.is_primary:
        ContactPoint.objects.filter(party=current.party_id, kind=current.kind, is_primary=True).exclude(
            pk=current.pk
        ).update(is_primary=False)
    try:
        save_audited(current, actor=actor, checked=_CHECKED_BY_SERVICE)
    except ValidationError as exc:
        raise _validation_error(exc) from exc
    _refresh_party(current.party)
    return current


@transaction.atomic
def contact_point_delete(*, actor: User, contact: ContactPoint, expected_version: int | None) -> None:
    _require(actor, "customers.delete_contactpoint", contact)
    current = lock_current(ContactPoint, contact.pk, expected_version)
    party = current.party
    delete_audited(current, actor=actor)
    if current.is_primary:
        successor = ContactPoint.objects.filter(party=party, kind=current.kind).order_by("id").first()
        if successor:
            ContactPoint.objects.filter(pk=successor.pk).update(is_primary=True)
    _refresh_party(party)


# --- relationships -------------------------------------------------------------------------------------

RELATIONSHIP_FIELDS = {"job_title", "department", "is_primary_contact", "started_on", "ended_on"}


@transaction.atomic
def relationship_create(
    *,
    actor: User,
    person: Party,
    organisation: Party,
    job_title: str = "",
    department: str = "",
    is_primary_contact: bool = False,
    started_on: date | None = None,
    provenance: Provenance | None = None,
) -> Relationship:
    _require(actor, "customers.add_relationship")
    if not person.is_person():
        raise ApplicationError(
            "Only a person can work for an organisation.", errors={"person": ["Choose a person."]}
        )
    if organisation.is_person():
        raise ApplicationError(
            "A person can only be linked to an organisation.",
            errors={"organisation": ["Choose an organisation."]},
        )
    if Relationship.objects.filter(person=person, organisation=organisation).exists():
        raise ApplicationError(
            "These two are already linked.", errors={"organisation": ["Already linked to this person."]}
        )
    relationship = Relationship(
        person=person,
        organisation=organisation,
        job_title=job_title,
        department=department,
        is_primary_contact=is_primary_contact,
        started_on=started_on,
        **_provenance(actor, provenance),
    )
    try:
        save_audited(relationship, actor=actor)
    except ValidationError as exc:
        raise _validation_error(exc) from exc
    return relationship


@transaction.atomic
def relationship_update(
    *, actor: User, relationship: Relationship, expected_version: int | None, changes: dict[str, Any]
) -> Relationship:
    _require(actor, "customers.change_relationship", relationship)
    current = lock_current(Relationship, relationship.pk, expected_version)
    try:
        changed = apply_changes(current, changes, allowed=RELATIONSHIP_FIELDS)
    except ValueError as exc:
        raise ApplicationError(str(exc)) from exc
    if changed:
        if current.ended_on and current.started_on and current.ended_on < current.started_on:
            raise ApplicationError(
                "The end is before the start.", errors={"ended_on": ["Must not be before the start."]}
            )
        save_audited(current, actor=actor)
    return current


@transaction.atomic
def relationship_delete(*, actor: User, relationship: Relationship, expected_version: int | None) -> None:
    _require(actor, "customers.delete_relationship", relationship)
    delete_audited(lock_current(Relationship, relationship.pk, expected_version), actor=actor)


# --- external identifiers ------------------------------------------------------------------------------


def _identifier_add(
    *,
    actor: User | None,
    party: Party,
    scheme_code: str,
    value: str,
    provenance: Provenance | None,
    error_prefix: str = "",
) -> ExternalIdentifier:
    scheme = IdentifierScheme.objects.filter(code=scheme_code).first()
    if scheme is None:
        raise ApplicationError(
            "Unknown identifier scheme.",
            errors={f"{error_prefix}scheme": [f"'{scheme_code}' is not a known scheme."]},
        )
    value = value.strip()
    _check_identifier(scheme, value, error_prefix)
    if ExternalIdentifier.objects.filter(scheme=scheme, value=value).exists():
        raise ApplicationError(
            "Another party already has this identifier.",
            errors={f"{error_prefix}value": ["Already used by another party."]},
        )
    identifier = ExternalIdentifier(party=party, scheme=scheme, value=value, **_provenance(actor, provenance))
    try:
        with transaction.atomic():
            save_audited(identifier, actor=actor)
    except (ValidationError, IntegrityError) as exc:
        raise ApplicationError(
            "Another party already has this identifier.",
            errors={f"{error_prefix}value": ["Already used by another party."]},
        ) from exc
    return identifier


def _check_identifier(scheme: IdentifierScheme, value: str, error_prefix: str = "") -> None:
    if not value:
        raise ApplicationError(
            "Enter the identifier.", errors={f"{error_prefix}value": ["This field is required."]}
        )
    if scheme.pattern and not re.fullmatch(scheme.pattern, value):
        raise ApplicationError(
            "The identifier has the wrong format.",
            errors={f"{error_prefix}value": [f"Not a valid {scheme.name}."]},
        )


@transaction.atomic
def identifier_create(
    *, actor: User, party: Party, scheme: str, value: str, provenance: Provenance | None = None
) -> ExternalIdentifier:
    _require(actor, "customers.add_externalidentifier", party)
    identifier = _identifier_add(
        actor=actor, party=party, scheme_code=scheme, value=value, provenance=provenance
    )
    _refresh_party(party)
    return identifier


@transaction.atomic
def identifier_update(
    *, actor: User, identifier: ExternalIdentifier, expected_version: int | None, value: str
) -> ExternalIdentifier:
    _require(actor, "customers.change_externalidentifier", identifier)
    current = lock_current(ExternalIdentifier, identifier.pk, expected_version)
    value = value.strip()
    if value == current.value:
        return current
    _check_identifier(current.scheme, value)
    if ExternalIdentifier.objects.filter(scheme=current.scheme, value=value).exclude(pk=current.pk).exists():
        raise ApplicationError(
            "Another party already has this identifier.", errors={"value": ["Already used by another party."]}
        )
    current.value = value
    save_audited(current, actor=actor)
    _refresh_party(current.party)
    return current


@transaction.atomic
def identifier_delete(*, actor: User, identifier: ExternalIdentifier, expected_version: int | None) -> None:
    _require(actor, "customers.delete_externalidentifier", identifier)
    current = lock_current(ExternalIdentifier, identifier.pk, expected_version)
    party = current.party
    delete_audited(current, actor=actor)
    _refresh_party(party)
