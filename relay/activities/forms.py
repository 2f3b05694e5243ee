from __future__ import annotations

from decimal import Decimal

from django import forms

from relay.activities.choices import Direction
from relay.core.choices import Channel
from relay.core.forms import BootstrapForm


class InteractionForm(BootstrapForm):
    """Log a call, letter, fax, e-mail, chat, SMS, web message or visit."""

    channel = forms.ChoiceField(choices=Channel.choices, widget=forms.RadioSelect, initial=Channel.PHONE)
    direction = forms.ChoiceField(choices=Direction.choices[:2], initial=Direction.INBOUND)
    subject = forms.CharField(max_length=255, required=False)
    body = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="What was said or written"
    )
    occurred_at = forms.DateTimeField(
        required=False,
        label="When",
        help_text="Leave empty for now",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    duration_minutes = forms.DecimalField(
        required=False, min_value=Decimal(0), max_value=Decimal(10080), decimal_places=1, label="Minutes"
    )
    file = forms.FileField(required=False, label="Attachment", help_text="A scan, a recording, a document")

    def duration_seconds(self) -> int | None:
        minutes = self.cleaned_data.get("duration_minutes")
        return int(minutes * 60) if minutes is not None else None


class NoteForm(BootstrapForm):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Note")
    file = forms.FileField(required=False, label="Attachment")
