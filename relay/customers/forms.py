"""Forms of the staff UI for the customer file. They parse and check input; the services decide.

Phone numbers and e-mail addresses are checked here with the same normalisers the services use, so the
inline validation (templates/_field.html) can say "not a phone number" before anything is saved.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.urls import reverse

from relay.accounts.models import User
from relay.core.choices import Channel
from relay.core.forms import BootstrapForm
from relay.customers.choices import ContactKind, ContactLabel, LifecycleStage, PartyKind, PartyRole
from relay.customers.models import ContactPoint, ExternalIdentifier, IdentifierScheme, Party, Relationship
from relay.customers.normalize import normalize_email, normalize_phone

PARTY_FIELDS = (
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
)


def _check_phone(raw: str) -> str:
    try:
        normalize_phone(raw, settings.RELAY_PHONE_REGION)
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from exc
    return raw


def _check_email(raw: str) -> str:
    try:
        normalize_email(raw)
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from exc
    return raw


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class PartyForm(BootstrapForm):
    kind = forms.ChoiceField(choices=PartyKind.choices, widget=forms.RadioSelect, initial=PartyKind.PERSON)
    given_name = forms.CharField(max_length=100, required=False)
    family_name = forms.CharField(max_length=100, required=False)
    organisation_name = forms.CharField(max_length=200, required=False, label="Organisation name")
    roles = forms.MultipleChoiceField(
        choices=PartyRole.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    preferred_channel = forms.ChoiceField(
        choices=[("", "No preference"), *Channel.choices], required=False, label="Preferred channel"
    )
    owner = OwnerChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("first_name", "last_name", "username"),
        required=False,
        empty_label="Nobody",
        help_text="Who looks after this customer",
    )
    tags = forms.CharField(max_length=300, required=False, help_text="Separate tags with commas")
    birth_date = forms.DateField(
        required=False, label="Date of birth", widget=forms.DateInput(attrs={"type": "date"})
    )
    website = forms.URLField(required=False, assume_scheme="https")
    industry = forms.CharField(max_length=100, required=False)
    about = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == PartyKind.PERSON and not (data.get("given_name") or data.get("family_name")):
            self.add_error("family_name", "Enter a given or family name.")
        if data.get("kind") == PartyKind.ORGANISATION and not data.get("organisation_name"):
            self.add_error("organisation_name", "Enter the organisation's name.")
        return data

    def tag_list(self) -> list[str]:
        return [t.strip() for t in (self.cleaned_data.get("tags") or "").split(",") if t.strip()]

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in PARTY_FIELDS}

    @staticmethod
    def values_of(party: Party) -> dict[str, Any]:
        """The party as this form shows it (initial data, and the "current values" of a conflict)."""
        values = {name: getattr(party, name) for name in PARTY_FIELDS}
        values["roles"] = sorted(r.role for r in party.role_assignments.all())
        values["tags"] = ", ".join(t.name for t in party.tags.all())
        return values

    @classmethod
    def for_party(cls, party: Party, data: Any = None) -> PartyForm:
        return cls(data=data, initial={**cls.values_of(party), "version": party.version})


class NewPartyForm(PartyForm):
    """Creating a party also takes its first phone number and e-mail address."""

    phone = forms.CharField(max_length=40, required=False, help_text="Any format, e.g. (415) 555-0100")
    email = forms.CharField(max_length=254, required=False, label="E-mail")
    lifecycle_stage = forms.ChoiceField(
        choices=[("", "—"), *LifecycleStage.choices], required=False, label="Lifecycle stage"
    )

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone", "").strip()
        return _check_phone(raw) if raw else ""

    def clean_email(self) -> str:
        raw = self.cleaned_data.get("email", "").strip()
        return _check_email(raw) if raw else ""


class ContactPointForm(BootstrapForm):
    kind = forms.ChoiceField(choices=ContactKind.choices)
    label = forms.ChoiceField(choices=ContactLabel.choices, initial=ContactLabel.MAIN)
    raw = forms.CharField(
        max_length=255, required=False, label="Number or address", help_text="Phone numbers in any format"
    )
    is_primary = forms.BooleanField(required=False, label="Primary for its kind")
    street = forms.CharField(max_length=255, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    locality = forms.CharField(max_length=100, required=False, label="City")
    region = forms.CharField(max_length=100, required=False)
    country = forms.CharField(max_length=2, min_length=2, required=False, help_text="Two letters, e.g. US")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    FIELDS = ("label", "raw", "is_primary", "street", "postal_code", "locality", "region", "country")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, raw = data.get("kind"), (data.get("raw") or "").strip()
        if kind == ContactKind.ADDRESS:
            if not (data.get("street") or data.get("locality") or data.get("postal_code")):
                self.add_error("street", "Enter the address.")
        elif kind in (ContactKind.PHONE, ContactKind.EMAIL) and "raw" not in self.errors:
            check = _check_phone if kind == ContactKind.PHONE else _check_email
            try:
                check(raw)
            except forms.ValidationError as error:
                self.add_error("raw", error)
        return data

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}

    @classmethod
    def values_of(cls, contact: ContactPoint) -> dict[str, Any]:
        return {name: getattr(contact, name) for name in ("kind", *cls.FIELDS)}


class IdentifierForm(BootstrapForm):
    scheme = forms.ModelChoiceField(
        queryset=IdentifierScheme.objects.order_by("name"), to_field_name="code", empty_label=None
    )
    value = forms.CharField(max_length=100)


class IdentifierEditForm(BootstrapForm):
    value = forms.CharField(max_length=100)
    version = forms.IntegerField(widget=forms.HiddenInput)

    @classmethod
    def for_identifier(
        cls, identifier: ExternalIdentifier, shown: str, data: Any = None
    ) -> IdentifierEditForm:
        """A masked value is never put in the form: the user types the whole new value."""
        form = cls(
            data=data,
            initial={"value": shown if shown == identifier.value else "", "version": identifier.version},
        )
        if shown != identifier.value:
            form.fields["value"].help_text = f"Currently {shown}. Type the whole new value."
            form.fields["value"].widget.attrs["aria-describedby"] = f"{form['value'].id_for_label}-help"
        return form


class RelationshipForm(BootstrapForm):
    """Links a person to an organisation. On a person's page the other side is an organisation, on an
    organisation's page a person; either is named exactly or chosen from the suggestions ("Name (#id)")."""

    other = forms.CharField(max_length=220)
    job_title = forms.CharField(max_length=150, required=False)
    department = forms.CharField(max_length=150, required=False)
    is_primary_contact = forms.BooleanField(required=False, label="Primary contact of the organisation")
    started_on = forms.DateField(
        required=False, label="Since", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, other_kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.other_kind = other_kind
        other = self.fields["other"]
        other.label = "Organisation" if other_kind == PartyKind.ORGANISATION else "Person"
        other.help_text = "Start typing a name and pick a suggestion, or give the record number"
        other.widget.attrs.update(
            {
                "list": "party-options",
                "autocomplete": "off",
                "hx-get": f"{reverse('customers:party_search')}?kind={other_kind}",
                "hx-trigger": "input changed delay:200ms",
                "hx-target": "#party-options",
                "hx-swap": "innerHTML",
            }
        )


class RelationshipEditForm(BootstrapForm):
    job_title = forms.CharField(max_length=150, required=False)
    department = forms.CharField(max_length=150, required=False)
    is_primary_contact = forms.BooleanField(required=False, label="Primary contact of the organisation")
    started_on = forms.DateField(
        required=False, label="Since", widget=forms.DateInput(attrs={"type": "date"})
    )
    ended_on = forms.DateField(required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"}))
    version = forms.IntegerField(widget=forms.HiddenInput)

    FIELDS = ("job_title", "department", "is_primary_contact", "started_on", "ended_on")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("started_on") and data.get("ended_on") and data["ended_on"] < data["started_on"]:
            self.add_error("ended_on", "Must not be before the start.")
        return data

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}

    @classmethod
    def values_of(cls, relationship: Relationship) -> dict[str, Any]:
        return {name: getattr(relationship, name) for name in cls.FIELDS}


class LifecycleForm(BootstrapForm):
    stage = forms.ChoiceField(choices=LifecycleStage.choices, label="Move to")
    new_cycle = forms.BooleanField(
        required=False,
        label="Start a new cycle (upgrade)",
        help_text="For a customer who buys again: the stages start over in a new cycle",
    )
    note = forms.CharField(max_length=255, required=False, label="Why (optional)")
    version = forms.IntegerField(widget=forms.HiddenInput)


class VersionForm(forms.Form):
    """Deletes carry the version the user saw: a record changed since is not deleted."""

    version = forms.IntegerField(min_value=1)
