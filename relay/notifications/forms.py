from __future__ import annotations

from django import forms

from relay.core.forms import BootstrapForm
from relay.notifications.preferences import is_valid_kind


class PreferenceForm(BootstrapForm):
    kind = forms.CharField(
        label="Kind of notice",
        max_length=100,
        widget=forms.TextInput(
            attrs={"list": "kind-suggestions", "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text='An event such as "case.transferred", or a family ending with a dot such as "case.".',
    )
    in_app = forms.BooleanField(label="In the app", required=False, initial=True)
    email = forms.BooleanField(label="By e-mail", required=False, initial=True)

    def clean_kind(self) -> str:
        kind = self.cleaned_data["kind"].strip()
        if not is_valid_kind(kind):
            raise forms.ValidationError(
                'Use an event name such as "case.transferred" or a family such as "case.".'
            )
        return kind
