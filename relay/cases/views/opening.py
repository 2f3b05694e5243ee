"""Opening cases: "New case" from a customer's 360 page, and logging a case from a call in one screen."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from relay.accounts.models import User
from relay.activities.choices import Direction
from relay.activities.services import InteractionInput
from relay.cases import services
from relay.cases.forms import FromCallForm, NewCaseForm
from relay.cases.views._common import actor_of, require
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError
from relay.core.ui import apply_errors, redirect, validating
from relay.customers import selectors as customers
from relay.customers.models import Party
from relay.customers.services import PartyInput


def _party(actor: User, pk: Any) -> Party:
    try:
        return customers.party_get(actor=actor, pk=pk)
    except (Party.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such customer.") from exc


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    """A new case on a customer's file (`?party=<id>`, from the 360 page)."""
    actor = actor_of(request)
    require(actor, "cases.add_case")
    raw = request.POST.get("party") if request.method == "POST" else request.GET.get("party")
    if not raw or not str(raw).isdigit():
        raise Http404("Open a case from the customer's page.")
    party = _party(actor, int(raw))
    form = NewCaseForm(request.POST or None, initial={"party": party.pk})
    if request.method == "POST" and form.is_valid() and not validating(request):
        d = form.cleaned_data
        try:
            case = services.case_open(
                actor=actor,
                party=party,
                subject=d["subject"],
                description=d["description"],
                category=d["category"],
                priority=d["priority"],
                channel=d["channel"],
                department=d["department"],
            )
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{case.number} opened for {case.department.name}.")
            return redirect(request, case.get_absolute_url())
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "cases/case_new.html", {"form": form, "party": party}, status=status)


def _callers(actor: User, phone: str) -> list[Party]:
    return customers.party_lookup_by_phone(actor=actor, raw=phone) if phone.strip() else []


@login_required
@require_GET
def caller_lookup(request: HttpRequest) -> HttpResponse:
    """The caller block of the call screen, as the number is typed: who has it, or a new-caller form."""
    actor = actor_of(request)
    phone = request.GET.get("phone", "")[:40]
    form = FromCallForm(initial={"phone": phone})
    context = {
        "form": form,
        "callers": _callers(actor, phone),
        "phone": phone,
        "looked_up": bool(phone.strip()),
    }
    return render(request, "cases/from_call.html#caller", context)


@login_required
@require_http_methods(["GET", "POST"])
def case_from_call(request: HttpRequest) -> HttpResponse:
    """One screen, one submit: the caller (found by number or new), the call, the case."""
    actor = actor_of(request)
    require(actor, "cases.add_case")
    form = FromCallForm(request.POST or None, initial={"phone": request.GET.get("phone", "")[:40]})
    if request.method == "POST" and form.is_valid() and not validating(request):
        d = form.cleaned_data
        party = _party(actor, d["party"]) if d["party"] else None
        new_caller = (
            PartyInput(given_name=d["given_name"], family_name=d["family_name"], roles=["customer"])
            if d["given_name"] or d["family_name"]
            else None
        )
        call = InteractionInput(
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            subject=d["call_subject"] or d["subject"],
            body=d["call_notes"],
            duration_seconds=form.duration_seconds(),
        )
        try:
            result = services.case_log_from_call(
                actor=actor,
                phone=d["phone"],
                party=party,
                new_caller=new_caller,
                call=call,
                subject=d["subject"],
                description=d["description"],
                category=d["category"],
                priority=d["priority"],
                department=d["department"],
                watchers=list(actor.departments.filter(is_active=True)) if d["copy_my_department"] else [],
            )
        except ApplicationError as error:
            error.errors = {
                ("family_name" if k in ("new_caller", "display_name") else k): v
                for k, v in error.errors.items()
            }
            apply_errors(form, error)
        else:
            case = result.case
            who = (
                f"{result.party.display_name} (new on file)"
                if result.party_created
                else result.party.display_name
            )
            messages.success(
                request, f"{case.number} opened for {case.department.name}; the call with {who} is logged."
            )
            return redirect(request, case.get_absolute_url())
    phone = (form.data.get("phone") if form.is_bound else form.initial.get("phone")) or ""
    context = {
        "form": form,
        "callers": _callers(actor, str(phone)),
        "phone": phone,
        "looked_up": bool(str(phone).strip()),
    }
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "cases/from_call.html", context, status=status)
