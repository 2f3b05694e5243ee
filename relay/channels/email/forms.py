from __future__ import annotations

from django import forms

from relay.accounts.models import Department
from relay.channels.email.models import EmailTemplate, ImapSecurity


class MailboxForm(forms.Form):
    name = forms.CharField(max_length=100)
    address = forms.EmailField(help_text="Mail to this address lands in Relay.")
    department = forms.ModelChoiceField(queryset=Department.objects.filter(is_active=True).order_by("name"))
    is_active = forms.BooleanField(required=False, initial=True, label="Takes mail in")
    auto_acknowledge = forms.BooleanField(
        required=False, initial=True, label="Acknowledge new cases with their reference"
    )
    imap_enabled = forms.BooleanField(required=False, label="Poll an IMAP mailbox")
    imap_host = forms.CharField(required=False, max_length=255, label="IMAP host")
    imap_port = forms.IntegerField(
        required=False, min_value=1, max_value=65535, initial=993, label="IMAP port"
    )
    imap_security = forms.ChoiceField(
        choices=ImapSecurity.choices, initial=ImapSecurity.SSL, label="Security"
    )
    imap_username = forms.CharField(required=False, max_length=255, label="IMAP user name")
    imap_password = forms.CharField(
        required=False,
        max_length=255,
        widget=forms.PasswordInput(render_value=False),
        label="IMAP password",
        help_text="Leave empty to keep the stored one.",
    )
    imap_folder = forms.CharField(required=False, max_length=255, initial="INBOX", label="Folder")

    def cleaned(self) -> dict:
        data = dict(self.cleaned_data)
        data["imap_port"] = data.get("imap_port") or 993
        data["imap_folder"] = data.get("imap_folder") or "INBOX"
        return data


class TemplateForm(forms.Form):
    department = forms.ModelChoiceField(queryset=Department.objects.none())
    name = forms.CharField(max_length=100)
    subject = forms.CharField(max_length=255, required=False)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Placeholders: {{ customer_name }}, {{ case_number }}, {{ case_subject }}, "
        "{{ agent_name }}, {{ department }}.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="In use")
    is_acknowledgement = forms.BooleanField(
        required=False, label="Use as the automatic acknowledgement of new cases"
    )

    def __init__(self, *args: object, departments: list[Department], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["department"].queryset = Department.objects.filter(pk__in=[d.pk for d in departments])  # type: ignore[attr-defined]


class SignatureForm(forms.Form):
    body = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Added under every e-mail of the department. Placeholders as in templates. Empty: none.",
    )


class ReplyForm(forms.Form):
    to = forms.CharField(max_length=1000, required=False, help_text="Empty: the customer's address.")
    cc = forms.CharField(max_length=1000, required=False)
    subject = forms.CharField(max_length=255, required=False)
    template = forms.ModelChoiceField(queryset=EmailTemplate.objects.none(), required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    with_signature = forms.BooleanField(required=False, initial=True, label="Add the department's signature")

    def __init__(self, *args: object, templates: list[EmailTemplate], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["template"].queryset = EmailTemplate.objects.filter(pk__in=[t.pk for t in templates])  # type: ignore[attr-defined]
