"""Helpers shared by the staff UI views: mapping domain errors onto forms, HTMX-aware responses."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from relay.core.exceptions import ApplicationError, NotAllowed


def apply_errors(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's field errors next to the fields; anything else at the top of the form."""
    if isinstance(error, NotAllowed):
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
