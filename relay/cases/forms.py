"""Forms of the agent console. They parse and check input; the services decide (and check again)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from relay.accounts.models import Department, User
from relay.activities.choices import Direction
from relay.cases.choices import OPEN_CATEGORIES, Priority, ResolutionCode, StatusCategory, Visibility
from relay.cases.models import Case, CaseCategory, CaseStatus
from relay.cases.selectors import QUEUE_ORDERINGS
from relay.core.choices import Channel
from relay.core.forms import BootstrapForm
from relay.customers.normalize import normalize_phone

NOTE_ROWS = 3


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.parent.name} / {obj.name}" if obj.parent_id else obj.name


def active_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("name")


def active_categories() -> QuerySet[CaseCategory]:
    return CaseCategory.objects.filter(is_active=True).select_related("parent").order_by("name")


def _textarea(rows: int = NOTE_ROWS) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class VersionedForm(BootstrapForm):
    """A write to a case: carries the version the user saw (a stale one is a conflict)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class AssignForm(VersionedForm):
    assignee = PersonChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Nobody (back to the queue)"
    )
    note = forms.CharField(required=False, widget=_textarea(2))

    def __init__(self, *args: Any, members: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = User.objects.filter(pk__in=[m.pk for m in members]).order_by(  # type: ignore[attr-defined]
            "first_name", "last_name", "username"
        )
        field.help_text = "Members of the case's department"


class TransferForm(VersionedForm):
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), required=False, empty_label="Keep the department"
    )
    assignee = PersonChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Person",
        empty_label="Anyone in the department (its queue)",
        help_text="Optional: a member of the department the case goes to",
    )
    reason = forms.CharField(max_length=255, help_text="Why it is not for the current handler")
    note = forms.CharField(widget=_textarea(), label="Note for the new handler")

    def __init__(self, *args: Any, case: Case, members_of: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = active_departments()  # type: ignore[attr-defined]
        chosen = self._chosen_department(case)
        people = members_of(chosen)
        self.fields["assignee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            pk__in=[p.pk for p in people]
        ).order_by("first_name", "last_name", "username")

    def _chosen_department(self, case: Case) -> Department:
        raw = self.data.get("department") if self.is_bound else None
        if raw and str(raw).isdigit():
            found = active_departments().filter(pk=int(raw)).first()
            if found is not None:
                return found
        return case.department

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("department") and not data.get("assignee"):
            self.add_error("department", "Choose a department or a person.")
        return data


class NoteForm(VersionedForm):
    body = forms.CharField(
        widget=_textarea(), label="Note", help_text="Write @username to tell a colleague", max_length=20000
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices, widget=forms.RadioSelect, initial=Visibility.INTERNAL, label="Who sees it"
    )


class InteractionForm(VersionedForm):
    """A call, e-mail, letter... with the customer, logged on the case (and so on their timeline)."""

    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.PHONE)
    direction = forms.ChoiceField(choices=Direction.choices[:2], initial=Direction.OUTBOUND)
    subject = forms.CharField(max_length=255)
    body = forms.CharField(required=False, widget=_textarea(), label="What was said or written")
    duration_minutes = forms.DecimalField(
        required=False, min_value=Decimal(0), max_value=Decimal(1440), decimal_places=1, label="Minutes"
    )
    file = forms.FileField(
        required=False,
        label="Scan or document",
        help_text="A letter or fax sent or received: its scan (PDF, image)",
    )


class RequestUpdateForm(VersionedForm):
    note = forms.CharField(
        required=False, widget=_textarea(2), label="What you would like to know", max_length=5000
    )


class StatusForm(VersionedForm):
    status = forms.ModelChoiceField(queryset=CaseStatus.objects.none(), empty_label=None)
    note = forms.CharField(required=False, widget=_textarea(2), max_length=5000)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].queryset = (  # type: ignore[attr-defined]
            CaseStatus.objects.filter(is_active=True, category__in=sorted(OPEN_CATEGORIES))
            .exclude(pk=case.status_id)
            .order_by("order", "id")
        )


class ResolveForm(VersionedForm):
    resolution_code = forms.ChoiceField(choices=[("", "—"), *ResolutionCode.choices], label="Resolution")
    resolution_summary = forms.CharField(widget=_textarea(), label="Summary", help_text="What was done")


class CloseForm(VersionedForm):
    note = forms.CharField(required=False, widget=_textarea(2), max_length=5000)


class ReopenForm(VersionedForm):
    reason = forms.CharField(max_length=255, help_text="What the customer came back about")


class FollowUpForm(BootstrapForm):
    subject = forms.CharField(max_length=255)
    description = forms.CharField(required=False, widget=_textarea())
    priority = forms.ChoiceField(choices=Priority.choices)


class MergeForm(VersionedForm):
    target = forms.ModelChoiceField(
        queryset=Case.objects.none(), label="Merge into", empty_label=None, to_field_name="pk"
    )
    reason = forms.CharField(max_length=255, required=False)
    target_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirm = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, targets: list[Case], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["target"]
        field.queryset = Case.objects.filter(pk__in=[c.pk for c in targets])  # type: ignore[attr-defined]
        field.label_from_instance = lambda c: f"{c.number} {c.subject} ({c.get_status_category_display()})"  # type: ignore[attr-defined]


class CaseForm(BootstrapForm):
    """A new case on a customer's file."""

    subject = forms.CharField(max_length=255)
    description = forms.CharField(required=False, widget=_textarea(4))
    category = CategoryChoiceField(queryset=CaseCategory.objects.none(), required=False, empty_label="—")
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        required=False,
        empty_label="Routed by the rules",
        help_text="Who handles it; empty: the routing rules decide (else your own department)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = active_categories()  # type: ignore[attr-defined]
        self.fields["department"].queryset = active_departments()  # type: ignore[attr-defined]


class NewCaseForm(CaseForm):
    channel = forms.ChoiceField(choices=[("", "—"), *Channel.choices], required=False, label="Came in by")
    party = forms.IntegerField(widget=forms.HiddenInput)


def _check_phone(raw: str) -> str:
    try:
        normalize_phone(raw, settings.RELAY_PHONE_REGION)
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from exc
    return raw


class FromCallForm(CaseForm):
    """One screen for a call: the caller (found by number, or new), the call, and the case."""

    phone = forms.CharField(
        max_length=40, label="Caller's number", help_text="Any format, e.g. (415) 555-0100"
    )
    party = forms.IntegerField(required=False, widget=forms.HiddenInput)
    given_name = forms.CharField(max_length=100, required=False)
    family_name = forms.CharField(max_length=100, required=False)
    call_subject = forms.CharField(
        max_length=255, required=False, label="Call subject", help_text="Empty: the case subject"
    )
    call_notes = forms.CharField(required=False, widget=_textarea(3), label="What was said")
    duration_minutes = forms.DecimalField(
        required=False, min_value=Decimal(0), max_value=Decimal(1440), decimal_places=1, label="Minutes"
    )
    copy_my_department = forms.BooleanField(
        required=False,
        label="Keep my department informed",
        help_text="Your department watches the case: its members get a copy of what happens",
    )

    field_order = [
        "phone",
        "party",
        "given_name",
        "family_name",
        "call_subject",
        "call_notes",
        "duration_minutes",
    ]

    def clean_phone(self) -> str:
        return _check_phone(self.cleaned_data.get("phone", "").strip())

    def duration_seconds(self) -> int | None:
        minutes = self.cleaned_data.get("duration_minutes")
        return int(minutes * 60) if minutes is not None else None


# --- the queue -------------------------------------------------------------------------------------------

QUEUE_SORTS = [
    ("-opened", "Newest first"),
    ("opened", "Oldest first"),
    ("-priority", "Most urgent first"),
    ("priority", "Least urgent first"),
    ("-updated", "Recently updated"),
    ("updated", "Least recently updated"),
]
assert {value for value, _ in QUEUE_SORTS} <= set(QUEUE_ORDERINGS)
ALL_OPEN = ""
UNASSIGNED = "none"
STATUS_TABS = [(ALL_OPEN, "All open"), *StatusCategory.choices]


class QueueFilterForm(forms.Form):
    """The allow-listed filters and sorts of a queue (unknown values are form errors, never lookups)."""

    status = forms.ChoiceField(choices=STATUS_TABS, required=False)
    priority = forms.ChoiceField(choices=[("", "Any priority"), *Priority.choices], required=False)
    assignee = forms.ChoiceField(required=False)
    ordering = forms.ChoiceField(choices=QUEUE_SORTS, required=False)

    def __init__(self, *args: Any, members: list[User], actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = [(str(m.pk), m.display_name) for m in members if m.pk != actor.pk]
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", "Anyone"),
            (UNASSIGNED, "Unassigned"),
            (str(actor.pk), f"Me ({actor.display_name})"),
            *people,
        ]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"


BULK_ACTIONS = [("assign", "Assign"), ("transfer", "Transfer"), ("close", "Close")]


class BulkForm(BootstrapForm):
    """Several cases at once (supervisors): the checked rows as `case=<id>:<version>`."""

    action = forms.ChoiceField(
        choices=[("", "Choose an action"), *BULK_ACTIONS], label="With the chosen cases"
    )
    assignee = PersonChoiceField(
        queryset=User.objects.none(), required=False, label="Person", empty_label="Nobody (the queue)"
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), required=False, label="To department", empty_label="—"
    )
    reason = forms.CharField(max_length=255, required=False)
    note = forms.CharField(max_length=5000, required=False)

    def __init__(self, *args: Any, members: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            pk__in=[m.pk for m in members]
        ).order_by("first_name", "last_name", "username")
        self.fields["department"].queryset = active_departments()  # type: ignore[attr-defined]
        self.selected: list[tuple[int, int]] = []
        if self.is_bound:
            for raw in self.data.getlist("case") if hasattr(self.data, "getlist") else []:
                pk, _, version = str(raw).partition(":")
                if pk.isdigit() and version.isdigit():
                    self.selected.append((int(pk), int(version)))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.selected:
            self.add_error(None, "Choose at least one case (tick its box).")
        if data.get("action") == "transfer":
            if not data.get("department"):
                self.add_error("department", "Choose the department the cases go to.")
            if not data.get("reason"):
                self.add_error("reason", "Say why the cases are transferred.")
            if not data.get("note"):
                self.add_error("note", "Write a note for the new handler.")
        return data
