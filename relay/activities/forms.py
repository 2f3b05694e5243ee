from __future__ import annotations

from django import forms

from relay.activities.choices import Direction
from relay.core.choices import Channel
from relay.core.forms import BootstrapForm


class InteractionForm(BootstrapForm):
    channel = forms.ChoiceField(choices=Channel.choices)
    direction = forms.ChoiceField(choices=Direction.choices[:2], initial=Direction.INBOUND)
    subject = forms.CharField(max_length=255, required=False)
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="What was said")
    occurred_at = forms.DateTimeField(
        required=False,
        label="When",
        help_text="Empty: now",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    duration_minutes = forms.DecimalField(
        required=False, min_value=0, max_value=10080, decimal_places=1, label="Minutes"
    )
    file = forms.FileField(required=False, label="Attachment")


class NoteForm(BootstrapForm):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Note")
    file = forms.FileField(required=False, label="Attachment")
