"""The e-mail channel's pages and its inbound endpoint. Thin: parse, call one service or selector,
render. Who may open each page is in ACCESS (a guard test checks every URL pattern is listed)."""

from __future__ import annotations

import hmac
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relay.accounts.models import Department, User
from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability
from relay.cases import selectors as case_selectors
from relay.cases.models import Case
from relay.channels.email import selectors
from relay.channels.email.forms import MailboxForm, ReplyForm, SignatureForm, TemplateForm
from relay.channels.email.models import EmailTemplate, Mailbox
from relay.channels.email.permissions import (
    can_act_on_quarantine,
    can_edit_department_mail,
    can_view_quarantine,
    is_mail_admin,
)
from relay.channels.email.render import shown
from relay.channels.email.services import config, email_reply, email_retry, message_receive, sending
from relay.channels.email.services.receiving import max_bytes
from relay.core.downloads import file_download
from relay.core.exceptions import ApplicationError
from relay.core.ui import apply_errors, redirect

# who may use each page (url name -> rule); the refusal tests and the guard test read this table
ACCESS: dict[str, str] = {
    "inbound": "anyone holding a mailbox's inbound secret (no session, CSRF-exempt)",
    "mailboxes": "staff (read); managers and admins see the secrets and edit",
    "mailbox_new": "managers and admins",
    "mailbox_edit": "managers and admins",
    "mailbox_messages": "staff: the messages of cases they may see",
    "quarantine": "managers, admins, auditors (read) and supervisors (their mailboxes)",
    "quarantine_detail": "as the quarantine list",
    "quarantine_raw": "as the quarantine list",
    "quarantine_action": "managers, admins and the mailbox department's supervisor",
    "message_raw": "staff who may see the message's case",
    "message_retry": "workers who may change the message's case",
    "reply": "workers who may change the case",
    "template_preview": "workers who may change the case",
    "templates": "staff (read); managers, admins and department supervisors edit",
    "template_new": "managers, admins and department supervisors",
    "template_edit": "managers, admins and the template department's supervisor",
    "template_delete": "managers, admins and the template department's supervisor",
    "signature_edit": "managers, admins and the department's supervisor",
}


def _staff(request: HttpRequest) -> User:
    if not has_capability(request.user, VIEW_CUSTOMERS):
        raise PermissionDenied("Your account has no staff role.")
    return request.user  # type: ignore[return-value]


def _problem(status: int, title: str, detail: str = "") -> JsonResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return JsonResponse(body, status=status, content_type="application/problem+json")


def _mailbox_by_secret(secret: str) -> Mailbox | None:
    """Compared in constant time against every active mailbox's secret (there are few)."""
    found = None
    for pk, candidate in Mailbox.objects.filter(is_active=True).values_list("pk", "inbound_secret"):
        if hmac.compare_digest(candidate.encode(), secret.encode()):
            found = pk
    return Mailbox.objects.select_related("department").get(pk=found) if found else None


_FORM_FIELDS = ("message", "email", "body-mime", "raw", "mime")


@csrf_exempt
@require_http_methods(["POST"])
def inbound(request: HttpRequest, secret: str) -> HttpResponse:
    """A provider's inbound webhook: the raw message as the body (message/rfc822), or as a form field
    or file (message, email, body-mime, raw, mime). 202 with the outcome; errors as problem+json."""
    try:
        mailbox = _mailbox_by_secret(secret)
        if mailbox is None:
            return _problem(404, "Not found", "No mailbox has this address.")
        limit = max_bytes()
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit + 64 * 1024:
            return _problem(413, "The message is too large", f"At most {limit} bytes are taken in.")
        content_type = (request.content_type or "").lower()
        raw = b""
        if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            try:
                for name in _FORM_FIELDS:
                    if name in request.FILES:
                        raw = request.FILES[name].read(limit + 1)  # type: ignore[union-attr]
                        break
                    if name in request.POST:
                        raw = request.POST[name].encode("utf-8", errors="surrogateescape")
                        break
            except RequestDataTooBig:
                return _problem(413, "The message is too large", f"At most {limit} bytes are taken in.")
        else:
            raw = request.read(limit + 1)
        if len(raw) > limit:
            return _problem(413, "The message is too large", f"At most {limit} bytes are taken in.")
        if not raw.strip():
            return _problem(400, "No message", "Send the raw message as the body, or in a 'message' field.")
        receipt = message_receive(mailbox=mailbox, raw=raw, via="http")
    except Exception:  # never a 500 to a provider: it would retry forever; the error is logged
        import logging

        logging.getLogger(__name__).exception("Inbound e-mail endpoint failed")
        return _problem(503, "Try again later", "The message could not be taken in just now.")
    body: dict[str, Any] = {"outcome": receipt.outcome}
    if receipt.message is not None:
        body["message_id"] = receipt.message.message_id
    if receipt.case is not None:
        body["case"] = receipt.case.number
    if receipt.quarantined is not None:
        body["quarantined"] = {"id": receipt.quarantined.pk, "reason": receipt.quarantined.reason}
    return JsonResponse(body, status=202)


# --- mailboxes --------------------------------------------------------------------------------------------


@login_required
@require_GET
def mailboxes(request: HttpRequest) -> HttpResponse:
    actor = _staff(request)
    return render(
        request,
        "email/mailbox_list.html",
        {
            "mailboxes": selectors.mailbox_list(actor=actor),
            "can_edit": is_mail_admin(actor),
            "base_url": request.build_absolute_uri("/").rstrip("/"),
        },
    )


def _mailbox_form(request: HttpRequest, mailbox: Mailbox | None) -> HttpResponse:
    actor = _staff(request)
    if not is_mail_admin(actor):
        raise PermissionDenied("Only managers and administrators set up mailboxes.")
    initial = (
        {f: getattr(mailbox, f) for f in config.MAILBOX_FIELDS if f != "imap_password"} if mailbox else None
    )
    form = MailboxForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if request.POST.get("rotate") and mailbox is not None:
            config.mailbox_rotate_secret(actor=actor, mailbox=mailbox)
            messages.success(request, "The inbound address has a new secret; update the provider.")
            return redirect(request, reverse("email:mailbox_edit", args=[mailbox.pk]))
        if form.is_valid():
            try:
                saved = config.mailbox_save(actor=actor, mailbox=mailbox, data=form.cleaned())
            except ApplicationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Mailbox {saved.address} saved.")
                return redirect(request, reverse("email:mailboxes"))
    return render(
        request,
        "email/mailbox_form.html",
        {"form": form, "mailbox": mailbox, "status": 400 if form.errors else 200},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_new(request: HttpRequest) -> HttpResponse:
    return _mailbox_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    try:
        mailbox = selectors.mailbox_get(actor=actor, pk=pk)
    except Mailbox.DoesNotExist as exc:
        raise Http404 from exc
    return _mailbox_form(request, mailbox)


@login_required
@require_GET
def mailbox_messages(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    try:
        mailbox = selectors.mailbox_get(actor=actor, pk=pk)
    except Mailbox.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "email/mailbox_messages.html",
        {"mailbox": mailbox, "emails": selectors.mailbox_messages(actor=actor, mailbox=mailbox)},
    )


# --- quarantine -------------------------------------------------------------------------------------------


@login_required
@require_GET
def quarantine(request: HttpRequest) -> HttpResponse:
    actor = _staff(request)
    if not can_view_quarantine(actor):
        raise PermissionDenied("Managers, administrators, supervisors and auditors see the quarantine.")
    status = request.GET.get("status", "pending")
    if status not in ("pending", "resolved", "retried", ""):
        status = "pending"
    return render(
        request,
        "email/quarantine_list.html",
        {"rows": selectors.quarantine_list(actor=actor, status=status), "status": status},
    )


def _quarantined(actor: User, pk: int) -> Any:
    try:
        return selectors.quarantine_get(actor=actor, pk=pk)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


@login_required
@require_GET
def quarantine_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    row = _quarantined(actor, pk)
    preview = ""
    if row.raw:
        try:
            with row.raw.open("rb") as handle:
                preview = handle.read(20000).decode("utf-8", errors="replace")
        except FileNotFoundError:
            preview = ""
    return render(
        request,
        "email/quarantine_detail.html",
        {"row": row, "preview": preview, "can_act": can_act_on_quarantine(actor, row.mailbox)},
    )


def _raw_response(field: Any, filename: str) -> FileResponse:
    return file_download(field, filename=filename, content_type="message/rfc822")


@login_required
@require_GET
def quarantine_raw(request: HttpRequest, pk: int) -> FileResponse:
    row = _quarantined(_staff(request), pk)
    if not row.raw:
        raise Http404
    return _raw_response(row.raw, f"quarantined-{row.pk}.eml")


@login_required
@require_POST
def quarantine_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    actor = _staff(request)
    row = _quarantined(actor, pk)
    if not can_act_on_quarantine(actor, row.mailbox):
        raise PermissionDenied("Only managers, administrators and the mailbox's supervisor handle it.")
    try:
        if action == "resolve":
            config.quarantine_resolve(actor=actor, message=row)
            messages.success(request, "Marked as dealt with.")
        elif action == "retry":
            done = config.quarantine_retry(actor=actor, message=row)
            messages.success(request, "The message was taken in.")
            if done.message and done.message.case_id:
                return redirect(request, reverse("cases:case_detail", args=[done.message.case_id]))
        elif action == "delete":
            config.quarantine_delete(actor=actor, message=row)
            messages.success(request, "The message was deleted.")
        else:
            raise Http404
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(request, reverse("email:quarantine_detail", args=[pk]))
    return redirect(request, reverse("email:quarantine"))


# --- messages on cases ------------------------------------------------------------------------------------


def _message(actor: User, pk: int) -> Any:
    try:
        return selectors.message_get(actor=actor, pk=pk)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


@login_required
@require_GET
def message_raw(request: HttpRequest, pk: int) -> FileResponse:
    message = _message(_staff(request), pk)
    if not message.raw:
        raise Http404("Only received messages have an original.")
    return _raw_response(message.raw, f"message-{message.pk}.eml")


@login_required
@require_POST
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    message = _message(actor, pk)
    try:
        email_retry(actor=actor, message=message)
        messages.success(request, "The e-mail is queued again.")
    except ApplicationError as exc:
        apply_errors_or_message(request, exc)
    return redirect(request, reverse("cases:case_detail", args=[message.case_id]))


def apply_errors_or_message(request: HttpRequest, exc: ApplicationError) -> None:
    if exc.status == 403:
        raise PermissionDenied(exc.message)
    messages.error(request, exc.message)


def _case(actor: User, pk: int) -> Case:
    try:
        return case_selectors.case_get(actor=actor, pk=pk)
    except Case.DoesNotExist as exc:
        raise Http404("No such case.") from exc


@login_required
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    case = _case(actor, pk)
    if not actor.has_perm("cases.change_case", case):
        raise PermissionDenied("You may not write to the customer on this case.")
    form = ReplyForm(
        request.POST, templates=selectors.templates_for(actor=actor, department_id=case.department_id)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            email_reply(
                actor=actor,
                case=case,
                body=data["body"],
                subject=data["subject"],
                to=data["to"],
                cc=data["cc"],
                template=data["template"],
                with_signature=data["with_signature"],
            )
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "The e-mail is on its way.")
            return redirect(request, reverse("cases:case_detail", args=[case.pk]) + "#email-panel")
    return render(request, "email/reply_page.html", {"case": case, "form": form}, status=400)


@login_required
@require_GET
def template_preview(request: HttpRequest, pk: int, template_pk: int) -> HttpResponse:
    """The template's text with the case's placeholders filled in, for the composer (plain text)."""
    actor = _staff(request)
    case = _case(actor, pk)
    if not actor.has_perm("cases.change_case", case):
        raise PermissionDenied
    template = next(
        (
            t
            for t in selectors.templates_for(actor=actor, department_id=case.department_id)
            if t.pk == template_pk
        ),
        None,
    )
    if template is None:
        raise Http404
    values = sending.placeholder_values(case, actor)
    return JsonResponse(
        {
            "subject": sending.render_placeholders(template.subject, values),
            "body": sending.render_placeholders(template.body, values),
        }
    )


# --- templates and signatures -----------------------------------------------------------------------------


@login_required
@require_GET
def templates(request: HttpRequest) -> HttpResponse:
    actor = _staff(request)
    departments = Department.objects.filter(is_active=True).order_by("name")
    editable = {d.pk for d in selectors.editable_departments(actor=actor)}
    return render(
        request,
        "email/template_list.html",
        {
            "templates": selectors.template_list(actor=actor),
            "editable": editable,
            "departments": [(d, selectors.signature_of(d)) for d in departments],
        },
    )


def _template_form(request: HttpRequest, template: EmailTemplate | None) -> HttpResponse:
    actor = _staff(request)
    departments = selectors.editable_departments(actor=actor)
    if not departments or (template is not None and not can_edit_department_mail(actor, template.department)):
        raise PermissionDenied("Only managers, administrators and department supervisors edit templates.")
    initial = (
        {
            "department": template.department_id,
            "name": template.name,
            "subject": template.subject,
            "body": template.body,
            "is_active": template.is_active,
            "is_acknowledgement": template.is_acknowledgement,
        }
        if template
        else None
    )
    form = TemplateForm(request.POST or None, initial=initial, departments=departments)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            config.template_save(actor=actor, template=template, **data)
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Template {data['name']} saved.")
            return redirect(request, reverse("email:templates"))
    status = 400 if form.errors else 200
    return render(request, "email/template_form.html", {"form": form, "template": template}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def template_new(request: HttpRequest) -> HttpResponse:
    return _template_form(request, None)


def _template(actor: User, pk: int) -> EmailTemplate:
    try:
        return selectors.template_get(actor=actor, pk=pk)
    except EmailTemplate.DoesNotExist as exc:
        raise Http404 from exc


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _template_form(request, _template(_staff(request), pk))


@login_required
@require_http_methods(["GET", "POST"])
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _staff(request)
    template = _template(actor, pk)
    if not can_edit_department_mail(actor, template.department):
        raise PermissionDenied("Only managers, administrators and the department's supervisor delete it.")
    if request.method == "POST":
        config.template_delete(actor=actor, template=template)
        messages.success(request, f"Template {template.name} deleted.")
        return redirect(request, reverse("email:templates"))
    return render(request, "email/template_delete.html", {"template": template})


@login_required
@require_http_methods(["GET", "POST"])
def signature_edit(request: HttpRequest, department_pk: int) -> HttpResponse:
    actor = _staff(request)
    try:
        department = Department.objects.get(pk=department_pk)
    except Department.DoesNotExist as exc:
        raise Http404 from exc
    if not can_edit_department_mail(actor, department):
        raise PermissionDenied("Only managers, administrators and the department's supervisor edit it.")
    current = selectors.signature_of(department)
    form = SignatureForm(request.POST or None, initial={"body": current.body if current else ""})
    if request.method == "POST" and form.is_valid():
        config.signature_save(actor=actor, department=department, body=form.cleaned_data["body"])
        messages.success(request, f"Signature of {department.name} saved.")
        return redirect(request, reverse("email:templates"))
    return render(request, "email/signature_form.html", {"form": form, "department": department})


def message_context(actor: User, message: Any) -> dict[str, Any]:
    """What the e-mail partial shows (used by the template tags)."""
    return {
        "mail": shown(message),
        "can_retry": actor.has_perm("cases.change_case", message.case) if message.case else False,
    }
