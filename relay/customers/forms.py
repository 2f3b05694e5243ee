from __future__ import annotations

from typing import Any

from django import forms

from relay.accounts.models import User
from relay.core.choices import Channel
from relay.core.forms import BootstrapForm
from relay.customers.choices import ContactKind, ContactLabel, LifecycleStage, PartyKind, PartyRole
from relay.customers.models import IdentifierScheme, Party


class PartyForm(BootstrapForm):
    kind = forms.ChoiceField(choices=PartyKind.choices, widget=forms.RadioSelect, initial=PartyKind.PERSON)
    given_name = forms.CharField(max_length=100, required=False)
    family_name = forms.CharField(max_length=100, required=False)
    organisation_name = forms.CharField(max_length=200, required=False, label="Organisation name")
    roles = forms.MultipleChoiceField(
        choices=PartyRole.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    preferred_channel = forms.ChoiceField(choices=[("", "—"), *Channel.choices], required=False)
    owner = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False)
    tags = forms.CharField(max_length=300, required=False, help_text="Comma-separated")
    birth_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
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

    @classmethod
    def for_party(cls, party: Party, data: Any = None) -> PartyForm:
        initial = {
            f: getattr(party, f)
            for f in (
                "kind",
                "given_name",
                "family_name",
                "organisation_name",
                "preferred_channel",
                "owner",
                "birth_date",
                "website",
                "industry",
                "about",
                "version",
            )
        }
        initial["roles"] = [r.role for r in party.role_assignments.all()]
        initial["tags"] = ", ".join(t.name for t in party.tags.all())
        return cls(data=data, initial=initial)


class NewPartyForm(PartyForm):
    """Creating a party also takes its first phone number and e-mail address."""

    phone = forms.CharField(max_length=40, required=False, help_text="Any format")
    email = forms.CharField(max_length=254, required=False, label="E-mail")
    lifecycle_stage = forms.ChoiceField(choices=[("", "—"), *LifecycleStage.choices], required=False)


class ContactPointForm(BootstrapForm):
    kind = forms.ChoiceField(choices=ContactKind.choices)
    label = forms.ChoiceField(choices=ContactLabel.choices, initial=ContactLabel.MAIN)
    raw = forms.CharField(max_length=255, required=False, label="Number or address")
    is_primary = forms.BooleanField(required=False, label="Primary")
    street = forms.CharField(max_length=255, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    locality = forms.CharField(max_length=100, required=False, label="City")
    region = forms.CharField(max_length=100, required=False)
    country = forms.CharField(max_length=2, required=False, help_text="Two letters, e.g. US")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class IdentifierForm(BootstrapForm):
    scheme = forms.ModelChoiceField(queryset=IdentifierScheme.objects.all(), to_field_name="code")
    value = forms.CharField(max_length=100)


class RelationshipForm(BootstrapForm):
    organisation = forms.CharField(max_length=200, help_text="The organisation's exact name or its number")
    job_title = forms.CharField(max_length=150, required=False)
    department = forms.CharField(max_length=150, required=False)


class LifecycleForm(BootstrapForm):
    stage = forms.ChoiceField(choices=LifecycleStage.choices)
    new_cycle = forms.BooleanField(required=False, label="Start a new cycle (upgrade)")
    note = forms.CharField(max_length=255, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
