"""The staff side of the phone channel: the screen pop's card, its "Start a case" button, click-to-call
and the call page with its "log outcome" form. Thin: selectors read, services write; a call the user
may not see is a 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relay.accounts.models import User
from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability
from relay.channels.telephony import selectors, services
from relay.channels.telephony.models import Call, CallState
from relay.core.exceptions import ApplicationError, NotAllowed
from relay.core.ui import redirect
from relay.customers.selectors import party_queryset
from relay.customers.services import PartyInput


def _actor(request: HttpRequest) -> User:
    if not has_capability(request.user, VIEW_CUSTOMERS):
        raise PermissionDenied("Your account has no staff role.")
    return request.user  # type: ignore[return-value]


def _call(actor: User, pk: int) -> Call:
    try:
        return selectors.call_get(actor=actor, pk=pk)
    except Call.DoesNotExist as exc:
        raise Http404("No such call.") from exc


class StartCaseForm(forms.Form):
    subject = forms.CharField(max_length=255, required=False)
    given_name = forms.CharField(max_length=100, required=False, label="Given name")
    family_name = forms.CharField(max_length=100, required=False, label="Family name")
    party = forms.IntegerField(required=False, widget=forms.HiddenInput)


class OutcomeForm(forms.Form):
    DISPOSITIONS = [
        ("completed", "Talked to the customer"),
        ("no-answer", "No answer"),
        ("busy", "Busy"),
        ("voicemail", "Left a voicemail"),
        ("failed", "Could not connect"),
    ]
    disposition = forms.ChoiceField(choices=DISPOSITIONS, label="Outcome")
    duration_minutes = forms.IntegerField(
        min_value=0, max_value=24 * 60, initial=0, label="Duration (minutes)"
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)


class DialForm(forms.Form):
    party = forms.IntegerField()
    number = forms.CharField(max_length=40)


@login_required
@require_GET
def pop(request: HttpRequest, pk: int) -> HttpResponse:
    """The pop's card (fetched by relay/static/relay/pop.js when a call event arrives)."""
    actor = _actor(request)
    call = _call(actor, pk)
    card = selectors.pop_card(actor=actor, call=call)
    return render(
        request,
        "telephony/_pop.html",
        {"card": card, "call": call, "form": StartCaseForm(), "can_open": actor.has_perm("cases.add_case")},
    )


@login_required
@require_POST
def start_case(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    call = _call(actor, pk)
    form = StartCaseForm(request.POST)
    if not form.is_valid():
        raise Http404
    d = form.cleaned_data
    party = None
    if d["party"] and call.party_id is None:
        party = party_queryset(actor=actor).filter(pk=d["party"]).first()
        if party is None:
            raise Http404("No such customer.")
    new_caller = None
    if d["given_name"] or d["family_name"]:
        new_caller = PartyInput(given_name=d["given_name"], family_name=d["family_name"], roles=["customer"])
    try:
        case = services.call_start_case(
            actor=actor, call=call, subject=d["subject"], party=party, new_caller=new_caller
        )
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(request, f"/phone/calls/{call.pk}/")
    messages.success(
        request, f"{case.number} opened for {case.party.display_name}; the call is linked to it."
    )
    return redirect(request, case.get_absolute_url())


@login_required
@require_POST
def dial(request: HttpRequest) -> HttpResponse:
    """Click-to-call from the 360 page: record the outbound call, then the call page dials it."""
    actor = _actor(request)
    form = DialForm(request.POST)
    if not form.is_valid():
        raise Http404
    party = party_queryset(actor=actor).filter(pk=form.cleaned_data["party"]).first()
    if party is None:
        raise Http404("No such customer.")
    try:
        call = services.call_dial(actor=actor, party=party, number=form.cleaned_data["number"])
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(request, reverse("customers:party_detail", args=[party.pk]))
    return redirect(request, f"/phone/calls/{call.pk}/")


@login_required
@require_http_methods(["GET", "POST"])
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One call: who, when, how it went; for a call no provider reports on, the "log outcome" form."""
    actor = _actor(request)
    call = _call(actor, pk)
    form = OutcomeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.call_log_outcome(
                actor=actor,
                call=call,
                duration_seconds=form.cleaned_data["duration_minutes"] * 60,
                disposition=form.cleaned_data["disposition"],
                notes=form.cleaned_data["notes"],
            )
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "The call is logged on the customer's timeline.")
            return redirect(request, f"/phone/calls/{call.pk}/")
    call.refresh_from_db()
    card = selectors.pop_card(actor=actor, call=call)
    return render(
        request,
        "telephony/call_detail.html",
        {
            "call": call,
            "card": card,
            "form": form,
            "start_form": StartCaseForm(),
            "can_log": call.state != CallState.ENDED and actor.has_perm("activities.add_interaction"),
            "can_open": actor.has_perm("cases.add_case"),
        },
        status=400 if form.errors else 200,
    )
