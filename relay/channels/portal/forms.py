"""Forms of the portal and the web forms. Files are read from request.FILES and checked by the service;
the `files` field is here for its widget and for its errors."""

from __future__ import annotations

from typing import Any

from django import forms

from relay.accounts.models import Department
from relay.channels.portal.choices import FormKind
from relay.channels.portal.services import MESSAGE_MAX, NAME_MAX, SUBJECT_MAX
from relay.customers.models import Party


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def _files_field() -> forms.FileField:
    return forms.FileField(
        required=False,
        label="Attachments",
        help_text="Optional: up to 5 files (PDF, images, text, office documents), 10 MB each.",
        widget=MultipleFileInput(attrs={"class": "form-control"}),
    )


class EmailForm(forms.Form):
    email = forms.EmailField(
        label="Your e-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"class": "form-control", "autocomplete": "email", "autofocus": True}),
    )


class CaseForm(forms.Form):
    party = forms.ModelChoiceField(queryset=Party.objects.none(), label="On behalf of", required=True)
    subject = forms.CharField(max_length=SUBJECT_MAX, widget=forms.TextInput(attrs={"class": "form-control"}))
    message = forms.CharField(
        max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"class": "form-control", "rows": 6})
    )
    attachments = _files_field()

    def __init__(self, *args: Any, parties: list[Party], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["party"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Party.objects.filter(pk__in=[p.pk for p in parties]).order_by("display_name", "id")
        field.widget.attrs["class"] = "form-select"
        if len(parties) == 1:
            field.initial = parties[0].pk
            field.widget = forms.HiddenInput()


class ReplyForm(forms.Form):
    message = forms.CharField(
        label="Your reply",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
    )
    attachments = _files_field()


class WebFormForm(forms.ModelForm):
    """The staff form that creates an embeddable form."""

    class Meta:
        from relay.channels.portal.models import WebForm

        model = WebForm
        fields = ["name", "kind", "department", "success_url", "success_message"]
        widgets = {
            "name": forms.TextInput(attrs={"class": "form-control"}),
            "kind": forms.Select(attrs={"class": "form-select"}, choices=FormKind.choices),
            "department": forms.Select(attrs={"class": "form-select"}),
            "success_url": forms.URLInput(attrs={"class": "form-control"}),
            "success_message": forms.TextInput(attrs={"class": "form-control"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.filter(is_active=True).order_by("name")


# the public web form's fields: name -> max length (the honeypot and the token are read separately)
WEBFORM_FIELDS: dict[str, dict[str, int]] = {
    FormKind.CASE: {"name": NAME_MAX, "email": 254, "subject": SUBJECT_MAX, "message": MESSAGE_MAX},
    FormKind.LEAD: {
        "name": NAME_MAX,
        "email": 254,
        "phone": 40,
        "organisation": NAME_MAX,
        "subject": SUBJECT_MAX,
        "message": MESSAGE_MAX,
    },
}
HONEYPOT = "website"
TOKEN = "relay_token"
