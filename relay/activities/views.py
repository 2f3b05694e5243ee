"""Staff UI for the timeline: log calls, letters, faxes, e-mails and notes; page through; download files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from relay.accounts.models import User
from relay.activities import selectors, services
from relay.activities.forms import InteractionForm, NoteForm
from relay.activities.models import Attachment, TimelineEntry
from relay.core.choices import Channel
from relay.core.downloads import file_download
from relay.core.exceptions import ApplicationError
from relay.core.ui import apply_errors, is_partial, redirect
from relay.customers.models import Party
from relay.customers.views import TIMELINE_PAGE_SIZE, _actor, _party, _require, party_page


@login_required
@require_GET
def party_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The timeline panel of the 360 page (channel chips), or with `cursor` the next page ("load more")."""
    party = _party(request, pk)
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        channel = ""
    cursor = request.GET.get("cursor")
    try:
        page = selectors.party_timeline(
            actor=_actor(request), party=party, channel=channel, cursor=cursor, size=TIMELINE_PAGE_SIZE
        )
    except ApplicationError as exc:
        raise Http404("No such page of the timeline.") from exc
    context = {"party": party, "timeline": page, "channel": channel, "channels": Channel.choices}
    return render(
        request, "activities/_timeline.html#page" if cursor else "activities/_timeline.html", context
    )


Create = Callable[[User, Party, Any], TimelineEntry]


def _log(
    request: HttpRequest, pk: int, form_class: type[InteractionForm | NoteForm], create: Create
) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    _require(actor, "activities.add_interaction")
    form = form_class(request.POST, request.FILES)
    entry = None
    if form.is_valid():
        try:
            with transaction.atomic():  # an attachment that is refused undoes the entry
                entry = create(actor, party, form)
                upload = form.cleaned_data.get("file")
                if upload:
                    services.attachment_add(actor=actor, entry=entry, upload=upload)
        except ApplicationError as error:
            entry = None
            error.errors = {
                ("duration_minutes" if k == "duration_seconds" else k): v for k, v in error.errors.items()
            }
            apply_errors(form, error)
    name = "note_form" if form_class is NoteForm else "interaction_form"
    if entry is None:
        if is_partial(request):
            return render(request, f"activities/_log_forms.html#{name}", {"party": party, name: form})
        return party_page(request, party, status=400, **{name: form})
    if not is_partial(request):
        messages.success(request, "Logged.")
        return redirect(request, reverse("customers:party_detail", args=[party.pk]))
    fresh = form_class(initial={"channel": form.cleaned_data.get("channel", Channel.PHONE)})
    context = {
        "party": party,
        name: fresh,
        "entry": selectors.entry_get(actor=actor, pk=entry.pk),
        "logged": True,
    }
    return render(request, f"activities/_log_forms.html#{name}", context)


def _create_interaction(actor: User, party: Party, form: InteractionForm) -> TimelineEntry:
    d = form.cleaned_data
    return services.interaction_log(
        actor=actor,
        party=party,
        data=services.InteractionInput(
            channel=d["channel"],
            direction=d["direction"],
            subject=d["subject"],
            body=d["body"],
            occurred_at=d["occurred_at"],
            duration_seconds=form.duration_seconds(),
        ),
    )


def _create_note(actor: User, party: Party, form: NoteForm) -> TimelineEntry:
    return services.note_add(actor=actor, party=party, body=form.cleaned_data["body"])


@login_required
@require_POST
def interaction_log(request: HttpRequest, pk: int) -> HttpResponse:
    return _log(request, pk, InteractionForm, _create_interaction)


@login_required
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _log(request, pk, NoteForm, _create_note)


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Only for staff who may see the entry (404 otherwise); always a download, never rendered inline."""
    try:
        attachment = selectors.attachment_get(actor=_actor(request), pk=pk)
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
    return file_download(attachment.file, filename=attachment.filename, content_type=attachment.content_type)
