"""Staff UI of the inbox: the bell's badge (polled), the inbox page, marking read, preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relay.accounts.models import User
from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability
from relay.core.exceptions import ApplicationError
from relay.core.ui import apply_errors, is_partial, redirect
from relay.notifications import selectors, services
from relay.notifications.forms import PreferenceForm
from relay.notifications.models import Notification

STOP_POLLING = 286  # htmx stops an `every` trigger on this status


def _actor(request: HttpRequest) -> User:
    if not has_capability(request.user, VIEW_CUSTOMERS):
        raise PermissionDenied("Your account has no staff role.")
    return request.user  # type: ignore[return-value]


def _notification(actor: User, pk: int) -> Notification:
    try:
        return selectors.notification_get(actor=actor, pk=pk)
    except Notification.DoesNotExist as exc:
        raise Http404("No such notification.") from exc


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The unread count in the header, polled every 10 s. Signed out: empty, and the polling stops."""
    if not has_capability(request.user, VIEW_CUSTOMERS):
        return HttpResponse("", status=STOP_POLLING)
    count = selectors.unread_count(actor=request.user)
    response = render(request, "notifications/_badge.html", {"count": count})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    unread_only = request.GET.get("show") == "unread"
    try:
        page = selectors.inbox(actor=actor, unread_only=unread_only, cursor=request.GET.get("cursor"))
    except ApplicationError:
        messages.warning(request, "That page link is no longer valid; here is the first page.")
        page = selectors.inbox(actor=actor, unread_only=unread_only)
    context = {
        "page": page,
        "unread_only": unread_only,
        "unread": selectors.unread_count(actor=actor),
        "query": "show=unread" if unread_only else "",
    }
    template = "notifications/inbox.html#results" if is_partial(request) else "notifications/inbox.html"
    return render(request, template, context)


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    notification = services.notification_mark_read(actor=actor, notification=_notification(actor, pk))
    if is_partial(request):
        context = {"n": notification, "count": selectors.unread_count(actor=actor), "oob": True}
        return render(request, "notifications/_row_response.html", context)
    return redirect(request, reverse("notifications:inbox"))


@login_required
@require_POST
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark it read and go to what it is about (only ever a path on this site)."""
    actor = _actor(request)
    notification = services.notification_mark_read(actor=actor, notification=_notification(actor, pk))
    target = notification.url
    if (
        not target
        or not url_has_allowed_host_and_scheme(target, allowed_hosts=None)
        or target.startswith("//")
    ):
        target = reverse("notifications:inbox")
    return redirect(request, target)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    marked = services.notification_mark_all_read(actor=_actor(request))
    messages.success(request, f"{marked} notification{'s' if marked != 1 else ''} marked read.")
    return redirect(request, reverse("notifications:inbox"))


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = PreferenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.preference_set(actor=actor, **form.cleaned_data)
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Saved: how you hear about {form.cleaned_data['kind']}.")
            return redirect(request, reverse("notifications:preferences"))
    saved = selectors.preference_list(actor=actor)
    configured = {p.kind for p in saved}
    suggestions = [k for k in ["case.", *selectors.known_kinds(actor=actor)] if k not in configured]
    context = {"form": form, "preferences": saved, "suggestions": suggestions}
    return render(request, "notifications/preferences.html", context, status=400 if form.errors else 200)
