"""The customer portal (/portal/...), the public web form endpoints (/forms/<kind>/<key>/) and the staff
page that lists the web forms (/forms/). Thin: parse, call one service or selector, render.

ACCESS (urls.py) says who may reach each URL; a guard test fails when a pattern is missing from it."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relay.accounts.models import User
from relay.activities.models import Attachment
from relay.cases.models import Case
from relay.cases.services.handling import can_reopen
from relay.channels.portal import ratelimit, selectors, services
from relay.channels.portal.choices import FormKind
from relay.channels.portal.forms import (
    HONEYPOT,
    TOKEN,
    WEBFORM_FIELDS,
    CaseForm,
    EmailForm,
    ReplyForm,
    WebFormForm,
)
from relay.channels.portal.models import WebForm
from relay.channels.portal.selectors import CUSTOMER_STATUS, MESSAGE_CHANNELS, PortalCustomer
from relay.channels.portal.session import (
    clear_cookie,
    current_session,
    portal_required,
    private,
    set_cookie,
)
from relay.core.downloads import file_download
from relay.core.exceptions import ApplicationError
from relay.core.ui import apply_errors
from relay.customers.models import Party

logger = logging.getLogger(__name__)
_LIMITED = "Too many requests. Please wait a while and try again."
WEBFORM_MAX_BYTES = 64 * 1024
WEBFORM_LABELS = {
    "name": "Your name",
    "email": "E-mail",
    "phone": "Phone",
    "organisation": "Organisation",
    "subject": "Subject",
    "message": "Message",
}
_OPTIONAL = {"phone", "organisation"}


def _limited(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return private(render(request, template, {**context, "limited": _LIMITED}, status=429))


# --- sign-in ------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link. The answer is the same whether the address is known or not."""
    if request.method == "GET" and current_session(request) is not None:
        return HttpResponseRedirect(reverse("portal:cases"))
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if not (
            ratelimit.hit("link-ip", ratelimit.client_ip(request)) and ratelimit.hit("link-address", email)
        ):
            return _limited(request, "portal/start.html", {"form": form})
        services.link_request(email=email)
        return HttpResponseRedirect(reverse("portal:sent"))
    return private(render(request, "portal/start.html", {"form": form}, status=400 if form.errors else 200))


@require_GET
def sent(request: HttpRequest) -> HttpResponse:
    minutes = services._setting("RELAY_PORTAL_LINK_MINUTES", 30)
    return private(render(request, "portal/sent.html", {"minutes": minutes}))


@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners that follow links do not use them up); POST signs in."""
    if request.method == "GET":
        found = services.link_check(token=token)
        response = render(request, "portal/link.html", {"link": found}, status=200 if found else 400)
        response["Referrer-Policy"] = "no-referrer"
        return private(response)
    try:
        signed_in = services.link_redeem(token=token, previous_session=current_session(request))
    except ApplicationError as exc:
        response = render(request, "portal/link.html", {"link": None, "error": exc.message}, status=400)
        response["Referrer-Policy"] = "no-referrer"
        return private(response)
    rotate_token(request)  # a new CSRF secret with the new session
    response = HttpResponseRedirect(reverse("portal:cases"))
    set_cookie(request, response, signed_in.token)
    response["Referrer-Policy"] = "no-referrer"
    return private(response)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    session = current_session(request)
    if session is not None:
        services.session_end(session=session)
    response = HttpResponseRedirect(reverse("portal:start") + "?signed_out=1")
    clear_cookie(response)
    return private(response)


# --- the customer's cases -------------------------------------------------------------------------------


def _case_or_404(customer: PortalCustomer, pk: int) -> Case:
    try:
        return selectors.portal_case_get(customer=customer, pk=pk)
    except Case.DoesNotExist as exc:
        raise Http404("No such case.") from exc


@require_GET
@portal_required
def cases(request: HttpRequest, customer: PortalCustomer) -> HttpResponse:
    rows = [
        (case, CUSTOMER_STATUS.get(case.status_category, ""))
        for case in selectors.portal_cases(customer=customer)
    ]
    return render(request, "portal/cases.html", {"customer": customer, "rows": rows})


def _uploads(request: HttpRequest) -> list[Any]:
    return list(request.FILES.getlist("attachments"))


@require_http_methods(["GET", "POST"])
@portal_required
def case_new(request: HttpRequest, customer: PortalCustomer) -> HttpResponse:
    form = CaseForm(request.POST or None, parties=customer.parties)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            party: Party = form.cleaned_data["party"]
            if not ratelimit.hit("portal-case", customer.email):
                return _limited(request, "portal/case_new.html", {"customer": customer, "form": form})
            try:
                case = services.portal_case_open(
                    customer=customer,
                    party=party,
                    subject=form.cleaned_data["subject"],
                    message=form.cleaned_data["message"],
                    uploads=_uploads(request),
                )
            except ApplicationError as exc:
                apply_errors(form, exc)
                status = exc.status if exc.status in {400, 413, 415} else 400
            else:
                return HttpResponseRedirect(reverse("portal:case", args=[case.pk]) + "?opened=1")
    return render(request, "portal/case_new.html", {"customer": customer, "form": form}, status=status)


def _entries(customer: PortalCustomer, case: Case) -> list[dict[str, Any]]:
    """The customer-visible events, in the customer's words: no staff names, no internal data."""
    rows: list[dict[str, Any]] = []
    for event in selectors.portal_case_events(customer=customer, case=case):
        entry = event.entry
        row: dict[str, Any] = {"at": event.at, "id": event.pk, "files": [], "body": "", "title": ""}
        if event.kind == "note_added":
            row.update(title="Message from our team", body=event.note, who="team")
        elif event.kind == "resolved":
            row.update(title="Resolved", body=event.note, who="team")
        elif entry is not None:
            inbound = entry.direction == "inbound"
            channel = entry.get_channel_display()
            if entry.channel in MESSAGE_CHANNELS:
                title = f"Your message ({channel.lower()})" if inbound else f"Our reply ({channel.lower()})"
                row.update(
                    title=title, subject=entry.subject, body=entry.body, who="you" if inbound else "team"
                )
                row["files"] = list(entry.attachments.all())
            else:
                what = "call" if entry.channel == "phone" else "contact"
                row.update(
                    title=f"{channel} {what} ({'from you' if inbound else 'from us'})",
                    who="you" if inbound else "team",
                )
        else:
            continue
        rows.append(row)
    return rows


def _case_page(
    request: HttpRequest,
    customer: PortalCustomer,
    case: Case,
    form: ReplyForm,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    context = {
        "customer": customer,
        "case": case,
        "status_label": CUSTOMER_STATUS.get(case.status_category, ""),
        "entries": _entries(customer, case),
        "form": form,
        "can_reply": case.is_open() or can_reopen(case),
        "opened": request.GET.get("opened") == "1",
        "replied": request.GET.get("replied"),
        **extra,
    }
    return render(request, "portal/case_detail.html", context, status=status)


@require_GET
@portal_required
def case_detail(request: HttpRequest, customer: PortalCustomer, pk: int) -> HttpResponse:
    case = _case_or_404(customer, pk)
    if case.merged_into_id is not None:
        return HttpResponseRedirect(reverse("portal:case", args=[case.merged_into_id]))
    return _case_page(request, customer, case, ReplyForm())


@require_POST
@portal_required
def case_reply(request: HttpRequest, customer: PortalCustomer, pk: int) -> HttpResponse:
    case = _case_or_404(customer, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _case_page(request, customer, case, form, status=400)
    if not ratelimit.hit("portal-reply", customer.email):
        return _case_page(request, customer, case, form, status=429, limited=_LIMITED)
    try:
        result = services.portal_case_reply(
            customer=customer, case=case, message=form.cleaned_data["message"], uploads=_uploads(request)
        )
    except ApplicationError as exc:
        apply_errors(form, exc)
        return _case_page(
            request, customer, case, form, status=exc.status if exc.status in {400, 413, 415} else 400
        )
    flag = "reopened" if result.reopened else "1"
    return HttpResponseRedirect(reverse("portal:case", args=[result.case.pk]) + f"?replied={flag}#latest")


@require_GET
@portal_required
def attachment(request: HttpRequest, customer: PortalCustomer, pk: int) -> FileResponse:
    """A file of a visible entry of the customer's own case; always a download, never rendered inline."""
    try:
        found = selectors.portal_attachment_get(customer=customer, pk=pk)
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
    return file_download(found.file, filename=found.filename, content_type=found.content_type)


# --- web forms: the public endpoints ------------------------------------------------------------------------


def _webform(kind: str, key: str) -> WebForm:
    try:
        return selectors.webform_get(kind=kind, key=key)
    except WebForm.DoesNotExist as exc:
        raise Http404("No such form.") from exc


def _hosted(
    request: HttpRequest,
    form: WebForm,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    values, errors = values or {}, errors or {}
    lead = form.kind == FormKind.LEAD
    fields = [
        {
            "name": name,
            "label": WEBFORM_LABELS[name]
            + (" (optional)" if name in _OPTIONAL or (lead and name == "subject") else ""),
            "value": values.get(name, ""),
            "errors": errors.get(name, []),
            "type": {"email": "email", "phone": "tel"}.get(name, "text"),
        }
        for name in WEBFORM_FIELDS[form.kind]
    ]
    context = {
        "webform": form,
        "fields": fields,
        "errors": errors,
        "problem": problem,
        "token": services.webform_token(form=form),
        "action": reverse(f"portal:webform_{form.kind}", args=[form.key]),
        "honeypot": HONEYPOT,
        "token_name": TOKEN,
    }
    response = render(request, "portal/webform.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _closed(request: HttpRequest, form: WebForm) -> HttpResponse:
    return render(request, "portal/webform_done.html", {"closed": True, "webform": form}, status=410)


@csrf_exempt  # posted from the organisation's own site: protected by key, token, honeypot, limits
@require_http_methods(["GET", "POST"])
def webform_submit(request: HttpRequest, key: str, kind: str) -> HttpResponse:
    form = _webform(kind, key)
    if not form.is_active:
        return _closed(request, form)
    if request.method == "GET":
        return _hosted(request, form)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > WEBFORM_MAX_BYTES:
        return _hosted(request, form, problem="The message is too long.", status=413)
    if request.content_type not in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        return _hosted(request, form, problem="The form was not sent as a form.", status=415)
    if request.FILES:
        return _hosted(request, form, problem="This form does not take files.", status=400)
    names = WEBFORM_FIELDS[form.kind]
    values = {name: str(request.POST.get(name, ""))[: limit + 1] for name, limit in names.items()}
    if not ratelimit.hit("webform-ip", ratelimit.client_ip(request)):
        return _hosted(request, form, values=values, problem=_LIMITED, status=429)
    if request.POST.get(HONEYPOT, ""):
        logger.info("web form %s: honeypot filled, submission dropped", form.key)
        return _hosted(request, form, problem="The submission was refused.", status=400)
    problem = services.webform_token_problem(form=form, token=str(request.POST.get(TOKEN, "")))
    if problem:
        return _hosted(request, form, values=values, problem=problem, status=400)
    try:
        services.webform_submit(form=form, data=services.WebFormInput(**values))
    except ApplicationError as exc:
        if exc.status == 410:
            return _closed(request, form)
        problem = "" if exc.errors else exc.message
        return _hosted(request, form, values=values, errors=exc.errors, problem=problem, status=400)
    if form.success_url.lower().startswith(("https://", "http://")):  # checked when the form was made
        return HttpResponseRedirect(form.success_url, status=303)
    return render(request, "portal/webform_done.html", {"webform": form})


@require_GET
def webform_token_js(request: HttpRequest, key: str, kind: str) -> HttpResponse:
    """A fresh token for the snippet on the organisation's page (a script: no CORS needed)."""
    form = _webform(kind, key)
    token = services.webform_token(form=form) if form.is_active else ""
    selector = f'form[data-relay-form="{form.key}"] input[name="{TOKEN}"]'
    body = (
        f"(function(){{var t={json.dumps(token)};"
        f"document.querySelectorAll({json.dumps(selector)}).forEach(function(i){{i.value=t;}});}})();\n"
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


# --- web forms: the staff page ---------------------------------------------------------------------------


def _manager(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not user.has_perm("portal.manage_webforms"):
        raise Http404("No such page.")
    return user


def snippet(form: WebForm) -> str:
    from django.conf import settings

    base = str(getattr(settings, "RELAY_BASE_URL", "")).rstrip("/")
    context = {
        "webform": form,
        "action": base + reverse(f"portal:webform_{form.kind}", args=[form.key]),
        "script": base + reverse(f"portal:webform_{form.kind}_token", args=[form.key]),
        "honeypot": HONEYPOT,
        "token_name": TOKEN,
        "lead": form.kind == FormKind.LEAD,
    }
    return render_to_string("portal/snippet.html", context).strip() + "\n"


@login_required
@require_http_methods(["GET", "POST"])
def webform_list(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    create = WebFormForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if create.is_valid():
            data = services.WebFormDraft(**create.cleaned_data)
            try:
                services.webform_create(actor=actor, data=data)
            except ApplicationError as exc:
                apply_errors(create, exc)  # type: ignore[arg-type]
            else:
                return HttpResponseRedirect(reverse("portal:webforms"))
    forms = [(form, snippet(form)) for form in selectors.webform_list()]
    return render(request, "portal/webform_list.html", {"forms": forms, "create": create}, status=status)


@login_required
@require_POST
def webform_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    try:
        form = WebForm.objects.get(pk=pk)
    except WebForm.DoesNotExist as exc:
        raise Http404 from exc
    try:
        services.webform_set_active(actor=actor, form=form, active=request.POST.get("active") == "1")
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc
    return HttpResponseRedirect(reverse("portal:webforms"))
