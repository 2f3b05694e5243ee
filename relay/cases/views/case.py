"""The case page and every action on it.

The actions that take input (assign, transfer, note, request an update, status, resolve, close, reopen,
merge) share one view: GET gives the form (an HTMX request gets the dialog's content, loaded into the
page's Bootstrap modal; without JavaScript the same form is a page), POST validates it and calls the one
service. Errors stay next to the fields; a stale version re-shows the form with everything the user typed,
bound to the current version, next to the case as it is now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relay.accounts.models import User
from relay.activities.services import InteractionInput, attachment_add
from relay.cases import selectors, services, sla_selectors
from relay.cases.choices import Visibility
from relay.cases.forms import (
    AssignForm,
    CloseForm,
    FollowUpForm,
    InteractionForm,
    MergeForm,
    NoteForm,
    ReopenForm,
    RequestUpdateForm,
    ResolveForm,
    StatusForm,
    TransferForm,
)
from relay.cases.models import Case
from relay.cases.views._common import CONFLICT, actor_of, case_or_404, require, with_version
from relay.core.exceptions import ApplicationError, ConflictError
from relay.core.ui import apply_errors, is_partial, redirect, validating

OTHER_CASES = 20  # the party's other cases shown on the case page (open ones first, then the newest)

# --- the case page --------------------------------------------------------------------------------------


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    return case_page(request, actor, case_or_404(actor, pk))


def case_page(
    request: HttpRequest, actor: User, case: Case, *, note_form: NoteForm | None = None, status: int = 200
) -> HttpResponse:
    party_cases = selectors.party_cases(actor=actor, party=case.party, limit=OTHER_CASES + 1)
    watchers = selectors.case_watchers(actor=actor, case=case)
    targets = selectors.merge_targets(case=case, party_cases=party_cases)
    context = {
        "case": case,
        "events": list(reversed(selectors.case_events(actor=actor, case=case))),
        "watchers": watchers,
        "links": selectors.case_links(actor=actor, case=case),
        "sla": sla_selectors.case_sla(actor=actor, case=case),  # the SLA panel: clocks and alerts
        "other_cases": [c for c in party_cases if c.pk != case.pk][:OTHER_CASES],
        "actions": selectors.case_actions(
            actor=actor, case=case, watchers=watchers, merge_targets=len(targets)
        ),
        # its own ids: the page also holds the action dialogs, whose forms use the default ones
        "note_form": note_form
        or NoteForm(initial={"version": case.version, "visibility": Visibility.INTERNAL}, auto_id="note-%s"),
    }
    return render(request, "cases/case_detail.html", context, status=status)


# --- actions with a form ----------------------------------------------------------------------------------


FormFactory = Callable[[Any, Case, User], forms.Form]
Run = Callable[[User, Case, dict[str, Any]], Any]


@dataclass(frozen=True)
class Action:
    title: str
    submit: str
    done: str
    form: FormFactory
    run: Run
    intro: str = ""
    danger: bool = False
    perm: str = "cases.change_case"


def _members(case: Case) -> list[User]:
    return selectors.department_members(department=case.department)


def _transfer_form(data: Any, case: Case, actor: User) -> forms.Form:
    return TransferForm(
        data,
        initial={"version": case.version},
        case=case,
        members_of=lambda department: selectors.department_members(department=department),
    )


def _merge_form(data: Any, case: Case, actor: User) -> forms.Form:
    targets = selectors.merge_targets(
        case=case, party_cases=selectors.party_cases(actor=actor, party=case.party)
    )
    return MergeForm(data, initial={"version": case.version}, targets=targets)


ACTIONS: dict[str, Action] = {
    "assign": Action(
        title="Assign the case",
        submit="Assign",
        done="Assigned.",
        form=lambda data, case, actor: AssignForm(
            data, initial={"version": case.version, "assignee": case.assignee_id}, members=_members(case)
        ),
        run=lambda actor, case, d: services.case_assign(
            actor=actor, case=case, assignee=d["assignee"], note=d["note"], expected_version=d["version"]
        ),
    ),
    "transfer": Action(
        title="Transfer the case",
        submit="Transfer",
        done="Transferred.",
        intro="Hand the case to another department and/or person. They, the watchers and the originator "
        "are told.",
        form=_transfer_form,
        run=lambda actor, case, d: services.case_transfer(
            actor=actor,
            case=case,
            department=d["department"],
            assignee=d["assignee"],
            reason=d["reason"],
            note=d["note"],
            expected_version=d["version"],
        ),
    ),
    "note": Action(
        title="Add a note",
        submit="Add the note",
        done="Note added.",
        form=lambda data, case, actor: NoteForm(
            data, initial={"version": case.version, "visibility": Visibility.INTERNAL}
        ),
        run=lambda actor, case, d: services.case_add_note(
            actor=actor, case=case, body=d["body"], visibility=d["visibility"], expected_version=d["version"]
        ),
    ),
    "log": Action(
        title="Log a call, e-mail or letter",
        submit="Log it",
        done="Logged on the case and the customer's timeline.",
        intro="A contact with the customer about this case; an outbound one counts as the first response.",
        form=lambda data, case, actor: InteractionForm(data, initial={"version": case.version}),
        run=lambda actor, case, d: log_with_scan(actor, case, d),
    ),
    "request-update": Action(
        title="Ask for an update",
        submit="Ask",
        done="Update requested.",
        intro="The handler (the assignee, or the department while nobody has it) is asked for news.",
        form=lambda data, case, actor: RequestUpdateForm(data, initial={"version": case.version}),
        run=lambda actor, case, d: services.case_request_update(
            actor=actor, case=case, note=d["note"], expected_version=d["version"]
        ),
    ),
    "status": Action(
        title="Set the status",
        submit="Set the status",
        done="Status set.",
        form=lambda data, case, actor: StatusForm(data, initial={"version": case.version}, case=case),
        run=lambda actor, case, d: services.case_set_status(
            actor=actor, case=case, status=d["status"], note=d["note"], expected_version=d["version"]
        ),
    ),
    "resolve": Action(
        title="Resolve the case",
        submit="Resolve",
        done="Resolved.",
        intro="The watchers, the originator, the handler and the department's supervisor get a copy.",
        form=lambda data, case, actor: ResolveForm(data, initial={"version": case.version}),
        run=lambda actor, case, d: services.case_resolve(
            actor=actor,
            case=case,
            resolution_code=d["resolution_code"],
            resolution_summary=d["resolution_summary"],
            expected_version=d["version"],
        ),
    ),
    "close": Action(
        title="Close the case",
        submit="Close",
        done="Closed.",
        intro="A closed case can be reopened for a while; after that a follow-up case is opened instead.",
        form=lambda data, case, actor: CloseForm(data, initial={"version": case.version}),
        run=lambda actor, case, d: services.case_close(
            actor=actor, case=case, note=d["note"], expected_version=d["version"]
        ),
    ),
    "reopen": Action(
        title="Reopen the case",
        submit="Reopen",
        done="Reopened.",
        form=lambda data, case, actor: ReopenForm(data, initial={"version": case.version}),
        run=lambda actor, case, d: services.case_reopen(
            actor=actor, case=case, reason=d["reason"], expected_version=d["version"]
        ),
    ),
    "merge": Action(
        title="Merge into another case",
        submit="Continue",
        done="Merged.",
        intro="Merge this duplicate into another case of the same customer: its history, watchers and "
        "links move there and this case is closed.",
        form=_merge_form,
        run=lambda actor, case, d: services.case_merge(
            actor=actor,
            duplicate=case,
            target=d["target"],
            reason=d["reason"],
            expected_version=d["version"],
            target_version=d["target_version"],
        ),
        danger=True,
        perm="cases.merge_case",
    ),
}


def log_with_scan(actor: User, case: Case, d: dict[str, Any]) -> Any:
    """Log the contact on the case and attach its scan (a letter or fax), all or nothing."""
    with transaction.atomic():
        return _log_and_attach(actor, case, d)


def _log_and_attach(actor: User, case: Case, d: dict[str, Any]) -> Any:
    event = services.case_log_interaction(
        actor=actor,
        case=case,
        data=InteractionInput(
            channel=d["channel"],
            direction=d["direction"],
            subject=d["subject"],
            body=d["body"],
            duration_seconds=int(d["duration_minutes"] * 60) if d["duration_minutes"] is not None else None,
        ),
        expected_version=d["version"],
    )
    if d.get("file") and event.entry is not None:
        attachment_add(actor=actor, entry=event.entry, upload=d["file"])
    return event


@login_required
@require_http_methods(["GET", "POST"])
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    spec = ACTIONS[action]
    actor = actor_of(request)
    case = case_or_404(actor, pk)
    require(actor, spec.perm)
    form = spec.form(request.POST if request.method == "POST" else None, case, actor)
    if request.method == "POST" and form.is_multipart():
        form.files = request.FILES  # the log dialog's scan of a letter or fax
    conflict: Case | None = None
    confirming = False
    if request.method == "POST" and form.is_valid() and not validating(request):
        data = form.cleaned_data
        if action == "merge" and not data.get("confirm"):
            confirming = True  # the confirmation step: nothing is written yet
        else:
            try:
                result = spec.run(actor, case, data)
            except ConflictError:
                conflict = case_or_404(actor, pk)
                rebound = with_version(request.POST, conflict.version)
                rebound.pop("confirm", None)
                form = spec.form(rebound, conflict, actor)
                form.is_valid()
                form.add_error(None, CONFLICT)
                case = conflict
            except Case.DoesNotExist as exc:
                raise Http404("No such case.") from exc
            except ApplicationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, spec.done)
                target = result if isinstance(result, Case) and action == "merge" else case
                return redirect(request, target.get_absolute_url())
    context = {
        "case": case,
        "form": form,
        "spec": spec,
        "action": action,
        "action_url": request.path,
        "conflict": conflict,
        "confirming": confirming,
    }
    if is_partial(request):
        return render(request, "cases/_dialog.html", context)
    failed = request.method == "POST" and (conflict is not None or bool(form.errors))
    return render(
        request, "cases/action_page.html", context, status=409 if conflict else 400 if failed else 200
    )


# --- a follow-up case -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """A new case linked to an earlier one (a closed case beyond the reopen window)."""
    actor = actor_of(request)
    case = case_or_404(actor, pk)
    require(actor, "cases.add_case")
    form = FollowUpForm(
        request.POST or None,
        initial={"subject": f"Follow-up: {case.subject}"[:255], "priority": case.priority},
    )
    if request.method == "POST" and form.is_valid() and not validating(request):
        d = form.cleaned_data
        try:
            new = services.case_open_follow_up(
                actor=actor,
                case=case,
                subject=d["subject"],
                description=d["description"],
                priority=d["priority"],
            )
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{new.number} opened as a follow-up of {case.number}.")
            return redirect(request, new.get_absolute_url())
    spec = Action(
        title="Open a follow-up case",
        submit="Open the follow-up",
        done="",
        intro=f"A new case on {case.party.display_name}'s file, linked to {case.number}, "
        "which stays as it is.",
        form=lambda *a: form,
        run=lambda *a: None,
    )
    context = {"case": case, "form": form, "spec": spec, "action": "follow-up", "action_url": request.path}
    if is_partial(request):
        return render(request, "cases/_dialog.html", context)
    return render(request, "cases/action_page.html", context, status=400 if form.errors else 200)


# --- one-click actions ------------------------------------------------------------------------------------


def _take(actor: User, case: Case, version: int | None) -> str:
    services.case_assign(actor=actor, case=case, assignee=actor, expected_version=version)
    return "The case is yours."


def _acknowledge(actor: User, case: Case, version: int | None) -> str:
    services.case_acknowledge(actor=actor, case=case, expected_version=version)
    return "Acknowledged: the originator is told the case is in the right hands."


def _watch(actor: User, case: Case, version: int | None) -> str:
    services.case_watch(actor=actor, case=case)
    return "You watch the case: you get a copy of everything that happens on it."


def _unwatch(actor: User, case: Case, version: int | None) -> str:
    services.case_unwatch(actor=actor, case=case)
    return "You no longer watch the case."


QUICK: dict[str, Callable[[User, Case, int | None], str]] = {
    "take": _take,
    "acknowledge": _acknowledge,
    "watch": _watch,
    "unwatch": _unwatch,
}


class _VersionOnly(forms.Form):
    version = forms.IntegerField(min_value=0, required=False)


@login_required
@require_POST
def case_quick(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take, acknowledge, watch, unwatch: a button, nothing typed. A stale version changes nothing and
    says what the case is now."""
    actor = actor_of(request)
    case = case_or_404(actor, pk)
    form = _VersionOnly(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    if version is None and action in ("take", "acknowledge"):
        messages.error(request, "Nothing was done: the form was incomplete. Try again.")
        return redirect(request, case.get_absolute_url())
    try:
        done = QUICK[action](actor, case, version)
    except ConflictError:
        current = case_or_404(actor, pk)
        who = current.assignee.display_name if current.assignee else "nobody"
        messages.error(
            request,
            f"Someone else changed the case meanwhile; nothing was done. It is now {current.status.name}, "
            f"in {current.department.name}, assigned to {who}. Check it, then try again.",
        )
    except Case.DoesNotExist as exc:
        raise Http404("No such case.") from exc
    except ApplicationError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from error
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(request, case.get_absolute_url())
