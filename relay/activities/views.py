"""Staff UI for the timeline: log calls, letters, faxes, e-mails and notes; page through; download files."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from relay.activities import selectors, services
from relay.activities.forms import InteractionForm, NoteForm
from relay.activities.models import Attachment, TimelineEntry
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError
from relay.core.ui import apply_errors, redirect
from relay.customers.views import _actor, _party


@login_required
@require_GET
def party_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of a party's timeline (the "Load more" button)."""
    party = _party(request, pk)
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        channel = ""
    try:
        page = selectors.party_timeline(
            actor=_actor(request), party=party, channel=channel, cursor=request.GET.get("cursor"), size=20
        )
    except ApplicationError as exc:
        raise Http404("Invalid page.") from exc
    return render(
        request, "activities/_timeline_page.html", {"party": party, "timeline": page, "channel": channel}
    )


def _log(request: HttpRequest, pk: int, form_class: type, create: Any, template: str) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    if not actor.has_perm("activities.add_interaction"):
        raise PermissionDenied
    form = form_class(request.POST, request.FILES)
    entry = None
    if form.is_valid():
        try:
            with transaction.atomic():
                entry = create(actor, party, form.cleaned_data)
                upload = form.cleaned_data.get("file")
                if upload:
                    services.attachment_add(actor=actor, entry=entry, upload=upload)
        except ApplicationError as error:
            entry = None
            apply_errors(form, error)
    if entry is not None and not getattr(request, "htmx", None):
        messages.success(request, "Logged.")
        return redirect(request, reverse("customers:party_detail", args=[party.pk]))
    if entry is not None:
        entry = selectors.entry_get(actor=actor, pk=entry.pk)
        fresh = form_class(initial={"channel": form.cleaned_data.get("channel", "phone")})
        return render(request, template, {"party": party, "form": fresh, "entry": entry, "logged": True})
    if not getattr(request, "htmx", None):
        messages.error(
            request,
            "Nothing was logged: "
            + "; ".join(
                f"{name}: {' '.join(errors)}" if name != "__all__" else " ".join(errors)
                for name, errors in form.errors.items()
            ),
        )
        return redirect(request, reverse("customers:party_detail", args=[party.pk]))
    return render(request, template, {"party": party, "form": form})


def _create_interaction(actor: Any, party: Any, d: dict[str, Any]) -> TimelineEntry:
    minutes = d.get("duration_minutes")
    return services.interaction_log(
        actor=actor,
        party=party,
        data=services.InteractionInput(
            channel=d["channel"],
            direction=d["direction"],
            subject=d["subject"],
            body=d["body"],
            occurred_at=d["occurred_at"],
            duration_seconds=int(minutes * 60) if minutes is not None else None,
        ),
    )


def _create_note(actor: Any, party: Any, d: dict[str, Any]) -> TimelineEntry:
    return services.note_add(actor=actor, party=party, body=d["body"])


@login_required
@require_POST
def interaction_log(request: HttpRequest, pk: int) -> HttpResponse:
    return _log(request, pk, InteractionForm, _create_interaction, "activities/_interaction_form.html")


@login_required
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _log(request, pk, NoteForm, _create_note, "activities/_note_form.html")


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    try:
        attachment = selectors.attachment_get(actor=_actor(request), pk=pk)
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
