"""What the routing admin screens (routing_views.py) and the SLA editors (sla_views.py) share: the manager
guard, the version a form posted, the form page (400 when a submit failed), the list that HTMX swaps in
place, move up/down, activate/deactivate, a delete after its confirmation, and a form reloaded after a
version conflict. The callers name the rows ("rule", "policy", "calendar") and call their own services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from relay.accounts.models import User
from relay.core.exceptions import ApplicationError, ConflictError
from relay.core.ui import is_partial, redirect, validating


def manager(request: HttpRequest, perm: str, refusal: str) -> User:
    """The user, who must hold `perm`; anyone else gets a 403 page saying `refusal`."""
    user = request.user
    if not user.has_perm(perm):
        raise PermissionDenied(refusal)
    return user  # type: ignore[return-value]


def posted_version(request: HttpRequest) -> int:
    """The version the user saw (a hidden field); -1, which never matches, when it is missing or bad."""
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return -1


def render_page(request: HttpRequest, template: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    """The page, or its `partial` for HTMX; a 400 when a real submit of the context's form failed."""
    form = context.get("form")
    failed = request.method == "POST" and not validating(request) and form is not None and bool(form.errors)
    name = f"{template}#{partial}" if is_partial(request) else template
    return render(request, name, context, status=400 if failed else 200)


def back_to_list(
    request: HttpRequest, partial: str, context: Callable[[], dict[str, Any]], url: str
) -> HttpResponse:
    """HTMX swaps the list in place (messages included); without JavaScript, back to the list page."""
    if is_partial(request):
        return render(request, partial, context())
    return redirect(request, url)


def move_row(request: HttpRequest, move: Callable[[str], Any]) -> None:
    """Move a row up or down (`move(direction)`); a refusal is shown as a message."""
    try:
        move(request.POST.get("direction", ""))
    except ApplicationError as error:
        messages.error(request, error.message)


def toggle_row(request: HttpRequest, name: str, set_active: Callable[[bool, int], Any]) -> None:
    """Activate or deactivate the row called `name` (`set_active(active, expected_version)`)."""
    active = request.POST.get("active") == "1"
    try:
        set_active(active, posted_version(request))
    except ConflictError:
        messages.error(request, f"“{name}” was changed by someone else meanwhile; nothing was changed.")
    else:
        messages.success(request, f"“{name}” is {'active' if active else 'inactive'}.")


def delete_confirmed(
    request: HttpRequest,
    *,
    delete: Callable[[int], Any],
    noun: str,
    name: str,
    retry_url: str,
    done_url: str,
    refusals: tuple[type[ApplicationError], ...] = (),
) -> HttpResponse:
    """The POST of a delete confirmation: `delete(expected_version)` at the version the user saw. A row
    changed meanwhile (or one of the service's `refusals`) goes back to the confirmation with a message."""
    try:
        delete(posted_version(request))
    except ConflictError:
        messages.error(
            request, f"The {noun} changed since you opened it; nothing was deleted. Check it again."
        )
        return redirect(request, retry_url)
    except refusals as error:
        messages.error(request, error.message)
        return redirect(request, retry_url)
    messages.success(request, f"{noun.capitalize()} “{name}” was deleted.")
    return redirect(request, done_url)


def reloaded_form[Form: forms.Form](
    request: HttpRequest, form_class: type[Form], current: Any, conflict: str
) -> Form:
    """After a version conflict: the user's input again, at the version saved meanwhile, with `conflict`
    on top (saving it again keeps what the user typed)."""
    posted = request.POST.copy()
    posted["version"] = str(current.version)
    form = form_class(posted, initial=form_class.initial_of(current))  # type: ignore[attr-defined]
    form.is_valid()
    form.add_error(None, conflict)
    return form
