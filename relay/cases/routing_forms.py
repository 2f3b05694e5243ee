"""Forms of the routing admin screens: a rule, a department's assignment setting, a sample case."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.urls import reverse

from relay.accounts.models import Department, User
from relay.cases.choices import Priority
from relay.cases.models import CaseCategory, RoutingRule
from relay.cases.routing import DEPARTMENT_STRATEGIES, Assignment
from relay.cases.services.routing import RuleInput
from relay.core.choices import Channel
from relay.core.forms import BootstrapForm
from relay.customers.choices import PartyRole

_SPLIT = re.compile(r"[\n,;]+")
_PARTY_REF = re.compile(r"^(?:.*\(#)?(\d{1,18})\)?$")


def split_values(text: str) -> list[str]:
    """Values typed one per line or separated by commas."""
    return [v.strip() for v in _SPLIT.split(text or "") if v.strip()]


class _CategoryChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.parent.name} / {obj.name}" if obj.parent_id else obj.name


class _PersonChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.username})"


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class RuleForm(BootstrapForm):
    name = forms.CharField(max_length=100)
    description = forms.CharField(
        max_length=2000, required=False, widget=_textarea(2), help_text="Why the rule exists (for colleagues)"
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    # conditions
    keywords = forms.CharField(
        required=False,
        widget=_textarea(3),
        help_text="One per line or separated by commas; whole words or phrases, in the subject or the "
        "description, ignoring case and accents",
    )
    categories = _CategoryChoice(
        queryset=CaseCategory.objects.none(),
        required=False,
        help_text="Each includes the categories below it",
    )
    channels = forms.MultipleChoiceField(
        choices=Channel.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    tiers = forms.CharField(
        required=False,
        help_text="Tier names, comma-separated: the tier “gold” is the customer's tag tier-gold",
    )
    tags = forms.CharField(required=False, help_text="Customer tags, comma-separated (any of them)")
    regions = forms.CharField(
        required=False, help_text="Region or country of the customer's postal address, e.g. CA, US"
    )
    roles = forms.MultipleChoiceField(
        choices=PartyRole.choices, required=False, widget=forms.CheckboxSelectMultiple, label="Customer roles"
    )
    originators = _PersonChoice(
        queryset=User.objects.none(), required=False, help_text="Cases logged by these people"
    )
    originating_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(), required=False, help_text="Cases logged by these departments"
    )
    # actions
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), label="Send to", empty_label="Choose a department"
    )
    priority = forms.ChoiceField(
        choices=[("", "Keep the case's priority"), *Priority.choices],
        required=False,
        label="Set the priority to",
    )
    assignment = forms.ChoiceField(choices=Assignment.choices, initial=Assignment.DEPARTMENT)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    CONDITIONS = (
        "keywords",
        "categories",
        "channels",
        "tiers",
        "tags",
        "regions",
        "roles",
        "originators",
        "originating_departments",
    )
    ACTIONS = ("department", "priority", "assignment")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["categories"].queryset = CaseCategory.objects.select_related("parent").filter(is_active=True)
        fields["originators"].queryset = User.objects.filter(is_active=True).order_by(
            "first_name", "username"
        )
        fields["originating_departments"].queryset = Department.objects.filter(is_active=True)
        fields["department"].queryset = Department.objects.filter(is_active=True)
        for name in ("categories", "originators", "originating_departments"):
            fields[name].widget.attrs["size"] = 5

    def to_input(self) -> RuleInput:
        """The rule as the services take it (from what validated so far, for inline checks)."""
        d = self.cleaned_data

        def ids(name: str) -> list[int]:
            return [o.pk for o in d.get(name) or []]

        return RuleInput(
            name=d.get("name") or "",
            description=d.get("description") or "",
            is_active=bool(d.get("is_active")),
            department=d.get("department"),
            keywords=split_values(d.get("keywords") or ""),
            categories=ids("categories"),
            channels=list(d.get("channels") or []),
            tiers=split_values(d.get("tiers") or ""),
            tags=split_values(d.get("tags") or ""),
            regions=split_values(d.get("regions") or ""),
            roles=list(d.get("roles") or []),
            originators=ids("originators"),
            originating_departments=ids("originating_departments"),
            priority=d.get("priority") or "",
            assignment=d.get("assignment") or Assignment.DEPARTMENT,
        )

    @classmethod
    def initial_of(cls, rule: RoutingRule) -> dict[str, Any]:
        return {
            "name": rule.name,
            "description": rule.description,
            "is_active": rule.is_active,
            "department": rule.department_id,
            "keywords": "\n".join(rule.keywords),
            "categories": rule.categories,
            "channels": rule.channels,
            "tiers": ", ".join(rule.tiers),
            "tags": ", ".join(rule.tags),
            "regions": ", ".join(rule.regions),
            "roles": rule.roles,
            "originators": rule.originators,
            "originating_departments": rule.originating_departments,
            "priority": rule.priority,
            "assignment": rule.assignment,
            "version": rule.version,
        }


class DepartmentStrategyForm(BootstrapForm):
    strategy = forms.ChoiceField(
        choices=[(v, Assignment(v).label) for v in DEPARTMENT_STRATEGIES], label="Assignment"
    )


class SampleForm(BootstrapForm):
    """A case that is not opened: which rule would take it, and what would happen."""

    subject = forms.CharField(max_length=255, required=False)
    description = forms.CharField(max_length=10_000, required=False, widget=_textarea(3))
    category = forms.ModelChoiceField(
        queryset=CaseCategory.objects.none(), required=False, empty_label="No category"
    )
    channel = forms.ChoiceField(choices=[("", "None"), *Channel.choices], required=False)
    party = forms.CharField(
        max_length=220,
        required=False,
        label="Customer",
        help_text="Start typing a name and pick a suggestion, or give the record number",
    )
    originator = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Me", label="Logged by"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["category"].queryset = CaseCategory.objects.filter(is_active=True)
        fields["originator"].queryset = User.objects.filter(is_active=True).order_by("first_name", "username")
        fields["party"].widget.attrs.update(
            {
                "list": "party-options",
                "autocomplete": "off",
                "hx-get": reverse("routing:party_options"),
                "hx-trigger": "input changed delay:200ms",
                "hx-target": "#party-options",
                "hx-swap": "innerHTML",
            }
        )

    def clean_party(self) -> int | None:
        raw = (self.cleaned_data.get("party") or "").strip()
        if not raw:
            return None
        found = _PARTY_REF.match(raw)
        if not found:
            raise forms.ValidationError("Pick a customer from the suggestions, or give the record number.")
        return int(found.group(1))
