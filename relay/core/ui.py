"""Helpers shared by the staff UI views: domain errors onto forms, HTMX-aware responses, conflicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from relay.core.exceptions import ApplicationError, NotAllowed


def apply_errors(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's field errors next to the fields; anything else at the top of the form.
    A refusal is a 403, never a form error."""
    if isinstance(error, NotAllowed) or error.status == 403:
        raise PermissionDenied(error.message)
    placed = False
    for key, messages in error.errors.items():
        name = key.split(".")[-1]
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that also works for HTMX requests (full-page navigation)."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def is_partial(request: HttpRequest) -> bool:
    """An HTMX request that wants a fragment (not a boosted link and not a history restore)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request  # type: ignore[union-attr]


def validating(request: HttpRequest) -> str:
    """The field being validated inline (templates/_field.html), or "" for a real submit."""
    return request.POST.get("_validate", "") if request.method == "POST" else ""


@dataclass
class Difference:
    field: str
    current: str
    yours: str


def differences(form: forms.Form, current: dict[str, Any]) -> list[Difference]:
    """The fields where what the user typed differs from what was saved meanwhile (a version conflict),
    as the form would show them."""
    rows = []
    for name, now in current.items():
        field = form.fields[name]
        mine = form.cleaned_data.get(name)
        if _comparable(mine) != _comparable(now):
            label = str(field.label or name.replace("_", " ").capitalize())
            rows.append(Difference(field=label, current=_shown(field, now), yours=_shown(field, mine)))
    return rows


def _comparable(value: Any) -> Any:
    if value is None or value == "":
        return ""
    if isinstance(value, list | tuple | set):
        return tuple(sorted(str(v) for v in value))
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, str) and "," in value:  # tag lists
        return tuple(sorted(t.strip().lower() for t in value.split(",") if t.strip()))
    return value


def _shown(field: forms.Field, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    plain_choices = isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField)
    choices = dict(field.choices) if plain_choices else {}  # type: ignore[attr-defined]
    if isinstance(value, list | tuple):
        return ", ".join(str(choices.get(v, v)) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return str(choices.get(value, value))
