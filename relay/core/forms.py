from __future__ import annotations

from typing import Any

from django import forms


class BootstrapForm(forms.Form):
    """Gives every widget Bootstrap's classes, and `is-invalid` plus the ARIA links to its error text
    (see templates/_field.html) to fields with errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple | forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault("class", "form-control")
            if field.help_text and not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault("aria-describedby", f"{self[name].id_for_label}-help")

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self._mark_invalid(name)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        if field in self.fields:
            self._mark_invalid(field)

    def _mark_invalid(self, name: str) -> None:
        widget = self.fields[name].widget
        if "is-invalid" not in widget.attrs.get("class", ""):
            widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"
        widget.attrs["aria-invalid"] = "true"
        described = f"{self[name].id_for_label}-errors"
        if described not in widget.attrs.get("aria-describedby", ""):
            widget.attrs["aria-describedby"] = (
                widget.attrs.get("aria-describedby", "") + " " + described
            ).strip()
