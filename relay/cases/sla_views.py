"""The SLA editors (staff UI, managers and admins only: `cases.manage_sla`).

Policies in the order they are tried (move up/down, activate/deactivate), create and edit with inline
validation and a live preview ("a case opened now with priority high is due at …"), delete with a
confirmation; business calendars likewise (with the holidays of the year in the preview); and which
calendar each department works to. Thin views over relay/cases/services/sla_config.py; anyone else gets
a 403 page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relay.accounts.models import Department, User
from relay.cases import config_views
from relay.cases.choices import EscalationReassign, Priority
from relay.cases.models import BusinessCalendar, CaseCategory, DepartmentCalendar, SlaPolicy
from relay.cases.services import sla, sla_config
from relay.cases.sla import CalendarError
from relay.cases.sla_forms import (
    TARGETS,
    CalendarForm,
    CalendarPreviewForm,
    DepartmentCalendarForm,
    PolicyForm,
    PolicyPreviewForm,
)
from relay.core import clock
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError, ConflictError, NotAllowed
from relay.core.history import history_records
from relay.core.ui import Difference, redirect, validating

CONFLICT = (
    "Someone else changed this {what} while you were editing. Nothing you typed is lost: compare it with "
    "the values saved meanwhile, then save again to keep yours."
)
TARGET_LABELS = dict(TARGETS)


def _manager(request: HttpRequest) -> User:
    return config_views.manager(
        request, "cases.manage_sla", "Only managers and administrators configure SLA policies and calendars."
    )


def _policy(pk: int) -> SlaPolicy:
    try:
        return SlaPolicy.objects.select_related("calendar").get(pk=pk)
    except SlaPolicy.DoesNotExist as exc:
        raise Http404("No such policy.") from exc


def _calendar(pk: int) -> BusinessCalendar:
    try:
        return BusinessCalendar.objects.get(pk=pk)
    except BusinessCalendar.DoesNotExist as exc:
        raise Http404("No such calendar.") from exc


def _place_errors(form: Any, error: ApplicationError, where: Any) -> None:
    """A service's field errors next to the fields `where(key, message)` names; the rest on top."""
    if isinstance(error, NotAllowed) or error.status == 403:
        raise PermissionDenied(error.message)
    placed = False
    for key, found in error.errors.items():
        for message in found:
            name, text = where(key, message)
            form.add_error(name if name in form.fields else None, text)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _policy_place(key: str, message: str) -> tuple[str | None, str]:
    return PolicyForm.field_for(key), message


def minutes_text(minutes: int | None) -> str:
    """'45 min', '8 h', '1 h 30 min', '3 days' (of 24 business hours: the editors say business time)."""
    if minutes is None:
        return "—"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


# --- policies: the list ----------------------------------------------------------------------------------


def _names(model: Any, ids: set[int]) -> dict[int, str]:
    return dict(model.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def policy_summary(policy: SlaPolicy, lookups: dict[str, dict[int, str]]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []

    def names(kind: str, ids: list[int]) -> str:
        return ", ".join(lookups[kind].get(i, f"(deleted #{i})") for i in ids)

    if policy.priorities:
        labels = [str(Priority(p).label) for p in policy.priorities if p in Priority.values]
        rows.append(("Priority", ", ".join(labels)))
    if policy.categories:
        rows.append(("Category", names("categories", policy.categories)))
    if policy.departments:
        rows.append(("Department", names("departments", policy.departments)))
    if policy.channels:
        rows.append(
            ("Channel", ", ".join(str(Channel(c).label) for c in policy.channels if c in Channel.values))
        )
    if policy.tiers:
        rows.append(("Tier", ", ".join(policy.tiers)))
    return rows


def escalation_summary(policy: SlaPolicy, departments: dict[int, str]) -> list[str]:
    lines = []
    for level, step in enumerate(policy.escalation or [], start=1):
        late = minutes_text(int(step.get("after_minutes") or 0))
        when = "at the breach" if level == 1 else f"{late} after the due time"
        actions = []
        if step.get("raise_priority"):
            actions.append("raise the priority")
        if step.get("reassign") == EscalationReassign.SUPERVISOR:
            actions.append("reassign to the supervisor")
        elif step.get("reassign") == EscalationReassign.DEPARTMENT:
            actions.append(
                f"transfer to {departments.get(step.get('department') or 0, 'a deleted department')}"
            )
        lines.append(f"Level {level}, {when}: {', '.join(actions) or 'tell the people concerned'}")
    return lines


def _policy_list_context() -> dict[str, Any]:
    policies = list(SlaPolicy.objects.select_related("calendar").order_by("order", "id"))
    wanted_categories = {i for p in policies for i in p.categories}
    wanted_departments = {i for p in policies for i in p.departments} | {
        s.get("department") for p in policies for s in p.escalation or [] if s.get("department")
    }
    lookups = {
        "categories": _names(CaseCategory, wanted_categories),
        "departments": _names(Department, {int(i) for i in wanted_departments if isinstance(i, int)}),
    }
    default = BusinessCalendar.objects.filter(is_default=True).first()
    return {
        "rows": [
            {
                "policy": p,
                "conditions": policy_summary(p, lookups),
                "targets": [
                    (TARGET_LABELS[t], minutes_text(p.target_minutes(t)))
                    for t in ("acknowledge", "resolve", "update")
                    if p.target_minutes(t) is not None
                ],
                "escalation": escalation_summary(p, lookups["departments"]),
                "first": i == 0,
                "last": i == len(policies) - 1,
            }
            for i, p in enumerate(policies)
        ],
        "active_count": sum(1 for p in policies if p.is_active),
        "default_calendar": default,
    }


@login_required
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    _manager(request)
    return config_views.render_page(request, "cases/sla/policy_list.html", "policies", _policy_list_context())


def _back_to_policies(request: HttpRequest) -> HttpResponse:
    return config_views.back_to_list(
        request, "cases/sla/policy_list.html#policies", _policy_list_context, reverse("sla:policies")
    )


@login_required
@require_POST
def policy_move(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    policy = _policy(pk)
    config_views.move_row(
        request, lambda direction: sla_config.policy_move(actor=actor, policy=policy, direction=direction)
    )
    return _back_to_policies(request)


@login_required
@require_POST
def policy_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    policy = _policy(pk)
    config_views.toggle_row(
        request,
        policy.name,
        lambda active, version: sla_config.policy_set_active(
            actor=actor, policy=policy, active=active, expected_version=version
        ),
    )
    return _back_to_policies(request)


# --- policies: create, edit, delete ----------------------------------------------------------------------


def _check_policy_inline(request: HttpRequest, form: PolicyForm, policy: SlaPolicy | None) -> None:
    """While typing: the service's own check of the field being edited, next to it, without saving."""
    name = validating(request)
    form.is_valid()
    if name not in form.fields or name in form.errors:
        return
    try:
        sla_config.clean_policy(form.to_input(), policy=policy)
    except ApplicationError as error:
        for key, found in error.errors.items():
            if PolicyForm.field_for(key) == name:
                for message in found:
                    form.add_error(name, message)


def _shown(value: Any) -> str:
    if isinstance(value, BusinessCalendar):
        return value.name
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value) if value not in (None, "") else "—"


def _comparable(value: Any) -> Any:
    if isinstance(value, BusinessCalendar):
        return value.pk
    if isinstance(value, list):
        return tuple(sorted(str(v) for v in value))
    return value


def _differences(mine: Any, saved: Any, names: tuple[str, ...]) -> list[Difference]:
    rows = []
    for name in names:
        theirs, yours = getattr(saved, name), getattr(mine, name)
        if _comparable(theirs) != _comparable(yours):
            label = name.replace("_", " ").capitalize()
            rows.append(Difference(field=label, current=_shown(theirs), yours=_shown(yours)))
    return rows


def _policy_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("validate_url", request.path)
    context.setdefault("preview_form", PolicyPreviewForm())
    return config_views.render_page(request, "cases/sla/policy_form.html", "form", context)


@login_required
@require_http_methods(["GET", "POST"])
def policy_create(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    form = PolicyForm(request.POST or None)
    if validating(request):
        _check_policy_inline(request, form, None)
    elif request.method == "POST" and form.is_valid():
        try:
            policy = sla_config.policy_create(actor=actor, data=form.to_input())
        except ApplicationError as error:
            _place_errors(form, error, _policy_place)
        else:
            messages.success(request, f"Policy “{policy.name}” added. It is tried after the others.")
            return redirect(request, reverse("sla:policies"))
    return _policy_page(request, {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    policy = _policy(pk)
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_of(policy))
    conflict: list[Difference] | None = None
    if validating(request):
        _check_policy_inline(request, form, policy)
    elif request.method == "POST" and form.is_valid():
        data = form.to_input()
        changes = {k: getattr(data, k) for k in sla_config.POLICY_FIELDS if k != "order"}
        try:
            sla_config.policy_update(
                actor=actor, policy=policy, expected_version=form.cleaned_data["version"], changes=changes
            )
        except ConflictError:
            current = _policy(pk)
            names = tuple(n for n in sla_config.POLICY_FIELDS if n != "order")
            conflict = _differences(data, sla_config.PolicyInput.of(current), names)
            form = config_views.reloaded_form(request, PolicyForm, current, CONFLICT.format(what="policy"))
        except ApplicationError as error:
            _place_errors(form, error, _policy_place)
        else:
            messages.success(request, f"Policy “{form.cleaned_data['name']}” saved.")
            return redirect(request, reverse("sla:policies"))
    history = history_records([SlaPolicy.history.filter(id=policy.pk)], limit=50)
    return _policy_page(request, {"form": form, "policy": policy, "conflict": conflict, "history": history})


@login_required
@require_http_methods(["GET", "POST"])
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    policy = _policy(pk)
    if request.method == "POST":
        return config_views.delete_confirmed(
            request,
            delete=lambda version: sla_config.policy_delete(
                actor=actor, policy=policy, expected_version=version
            ),
            noun="policy",
            name=policy.name,
            retry_url=reverse("sla:policy_delete", args=[pk]),
            done_url=reverse("sla:policies"),
        )
    return render(request, "cases/sla/policy_delete.html", {"policy": policy})


# --- previews --------------------------------------------------------------------------------------------


@dataclass
class DueRow:
    label: str
    due: datetime | None
    text: str  # "first response"


def _start(form: Any) -> tuple[datetime, bool]:
    """The preview's start (now unless one was chosen), and whether one was."""
    start = form.cleaned_data.get("start") if form.is_valid() else None
    if start is not None and not sla_config.FIRST_YEAR <= start.year <= sla_config.LAST_YEAR:
        start = None
    return (start or clock.now()), start is not None


def _user_zone() -> str:
    return str(timezone.get_current_timezone_name())


def _preview_context(
    start: datetime, rows: list[DueRow], calendar: BusinessCalendar | None, zone: str
) -> dict[str, Any]:
    user_zone = _user_zone()
    return {
        "start": start,
        "rows": rows,
        "calendar": calendar,
        "calendar_zone": zone,
        "user_zone": user_zone,
        "same_zone": ZoneInfo(zone).key == user_zone,
    }


@login_required
@require_POST
def policy_preview(request: HttpRequest) -> HttpResponse:
    """The policy form as it stands (saved or not) applied to a case opened at the chosen time."""
    _manager(request)
    form = PolicyForm(request.POST)
    preview = PolicyPreviewForm(request.POST)
    context: dict[str, Any] = {"preview_form": preview}
    form.is_valid()
    if problems := form_problems(form):
        context["problems"] = problems
        return render(request, "cases/sla/_preview.html", context)
    data = form.to_input()
    data.name = preview_name()  # the preview is of the settings: a name taken or missing does not matter
    try:
        values = sla_config.clean_policy(data)
    except ApplicationError as error:
        context["problems"] = [m for found in error.errors.values() for m in found] or [error.message]
        return render(request, "cases/sla/_preview.html", context)
    values.pop("order", None)
    policy = SlaPolicy(**values)
    department = preview.cleaned_data.get("department") if preview.is_valid() else None
    start, chosen = _start(preview)
    context["chosen"] = chosen
    priority = (preview.cleaned_data.get("priority") if preview.is_valid() else "") or Priority.HIGH
    calendar = sla.calendar_for(policy, department.pk if department else None)
    try:
        due = sla.due_preview(policy=policy, start=start, department_id=department.pk if department else None)
    except CalendarError as exc:
        context["problems"] = [str(exc)]
        return render(request, "cases/sla/_preview.html", context)
    rows = [
        DueRow(label=TARGET_LABELS[t], due=due[t], text=sla.TARGET_PHRASES[t])
        for t in ("acknowledge", "resolve", "update")
        if due[t] is not None
    ]
    context.update(_preview_context(start, rows, calendar, calendar.time_zone if calendar else "UTC"))
    context["priority"] = Priority(priority).label.lower()
    context["applies"] = not policy.priorities or priority in policy.priorities
    context["department"] = department
    return render(request, "cases/sla/_preview.html", context)


@login_required
@require_POST
def calendar_preview(request: HttpRequest) -> HttpResponse:
    """The calendar form as it stands applied to a case opened at the chosen time, and the year's holidays."""
    _manager(request)
    form = CalendarForm(request.POST)
    preview = CalendarPreviewForm(request.POST)
    context: dict[str, Any] = {"preview_form": preview, "calendar_preview": True}
    form.is_valid()
    if problems := form_problems(form):
        context["problems"] = problems
        return render(request, "cases/sla/_preview.html", context)
    data = form.to_input()
    data.name, data.is_default = preview_name(), False
    try:
        values = sla_config.clean_calendar(data)
    except ApplicationError as error:
        context["problems"] = [m for found in error.errors.values() for m in found] or [error.message]
        return render(request, "cases/sla/_preview.html", context)
    row = BusinessCalendar(**values)
    start, chosen = _start(preview)
    context["chosen"] = chosen
    valid = preview.is_valid()
    policy = preview.cleaned_data.get("policy") if valid else None
    priority = (preview.cleaned_data.get("priority") if valid else "") or Priority.HIGH
    try:
        cal = sla.build_calendar(row)
        if policy is not None:
            targets = {t: policy.target_minutes(t) for t in ("acknowledge", "resolve", "update")}
        else:
            hours = (preview.cleaned_data.get("hours") if valid else None) or Decimal(8)
            targets = {"resolve": int(hours * 60)}
        rows = [
            DueRow(
                label=TARGET_LABELS[t], due=cal.add(start, timedelta(minutes=m)), text=sla.TARGET_PHRASES[t]
            )
            for t, m in targets.items()
            if m
        ]
        year = timezone.localtime(start, ZoneInfo(row.time_zone)).year
        holidays = sla_config.holidays_in(row, year)
    except CalendarError as exc:
        context["problems"] = [str(exc)]
        return render(request, "cases/sla/_preview.html", context)
    context.update(_preview_context(start, rows, None, row.time_zone))
    context.update(
        {
            "priority": Priority(priority).label.lower() if policy is not None else "",
            "applies": True,
            "policy": policy,
            "sample_hours": None if policy is not None else targets.get("resolve", 0) / 60,
            "holidays": holidays,
            "holiday_year": year,
        }
    )
    return render(request, "cases/sla/_preview.html", context)


def form_problems(form: Any) -> list[str]:
    """What stops a preview in the form itself (a name is not needed for one)."""
    problems = []
    for name, found in form.errors.items():
        if name in ("name", "version"):
            continue
        label = form[name].label if name in form.fields else ""
        problems += [f"{label}: {e}" if label else str(e) for e in found]
    return problems


def preview_name() -> str:
    """A name no policy or calendar has, for validating an unsaved copy."""
    return f"preview {uuid.uuid4().hex}"


# --- calendars -------------------------------------------------------------------------------------------


def _calendar_list_context() -> dict[str, Any]:
    calendars = list(
        BusinessCalendar.objects.prefetch_related(
            Prefetch("policies", queryset=SlaPolicy.objects.order_by("order", "id")),
            Prefetch("departments", queryset=DepartmentCalendar.objects.select_related("department")),
        )
    )
    rows = []
    for c in calendars:
        week = []
        for n, day in enumerate(sla_config.WEEKDAYS):
            intervals = (c.hours or {}).get(str(n)) or []
            if intervals:
                week.append((day[:3], ", ".join(f"{s}-{e}" for s, e in intervals)))
        rows.append(
            {
                "calendar": c,
                "week": week,
                "policies": list(c.policies.all()),
                "departments": sorted((d.department for d in c.departments.all()), key=lambda d: d.name),
            }
        )
    return {"rows": rows}


@login_required
@require_GET
def calendar_list(request: HttpRequest) -> HttpResponse:
    _manager(request)
    return render(request, "cases/sla/calendar_list.html", _calendar_list_context())


def _check_calendar_inline(request: HttpRequest, form: CalendarForm, row: BusinessCalendar | None) -> None:
    name = validating(request)
    form.is_valid()
    if name not in form.fields or name in form.errors:
        return
    try:
        sla_config.clean_calendar(form.to_input(), calendar=row)
    except ApplicationError as error:
        for key, found in error.errors.items():
            for message in found:
                field, text = form.message_for(key, message)
                if field == name:
                    form.add_error(name, text)


def _calendar_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("validate_url", request.path)
    context.setdefault("preview_form", CalendarPreviewForm())
    return config_views.render_page(request, "cases/sla/calendar_form.html", "form", context)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_create(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    form = CalendarForm(request.POST or None, initial=CalendarForm.blank_initial(_user_zone()))
    if validating(request):
        _check_calendar_inline(request, form, None)
    elif request.method == "POST" and form.is_valid():
        try:
            row = sla_config.calendar_create(actor=actor, data=form.to_input())
        except ApplicationError as error:
            _place_errors(form, error, form.message_for)
        else:
            messages.success(request, f"Calendar “{row.name}” added.")
            return redirect(request, reverse("sla:calendars"))
    return _calendar_page(request, {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    row = _calendar(pk)
    form = CalendarForm(request.POST or None, initial=CalendarForm.initial_of(row))
    conflict: list[Difference] | None = None
    if validating(request):
        _check_calendar_inline(request, form, row)
    elif request.method == "POST" and form.is_valid():
        data = form.to_input()
        changes = {k: getattr(data, k) for k in sla_config.CALENDAR_FIELDS}
        try:
            sla_config.calendar_update(
                actor=actor, calendar=row, expected_version=form.cleaned_data["version"], changes=changes
            )
        except ConflictError:
            current = _calendar(pk)
            conflict = _differences(data, sla_config.CalendarInput.of(current), sla_config.CALENDAR_FIELDS)
            form = config_views.reloaded_form(
                request, CalendarForm, current, CONFLICT.format(what="calendar")
            )
        except ApplicationError as error:
            _place_errors(form, error, form.message_for)
        else:
            messages.success(request, f"Calendar “{form.cleaned_data['name']}” saved.")
            return redirect(request, reverse("sla:calendars"))
    policies, departments = sla_config.calendar_users(row)
    history = history_records([BusinessCalendar.history.filter(id=row.pk)], limit=50)
    return _calendar_page(
        request,
        {
            "form": form,
            "calendar": row,
            "conflict": conflict,
            "history": history,
            "used_by_policies": policies,
            "used_by_departments": departments,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def calendar_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    row = _calendar(pk)
    policies, departments = sla_config.calendar_users(row)
    if request.method == "POST":
        return config_views.delete_confirmed(
            request,
            delete=lambda version: sla_config.calendar_delete(
                actor=actor, calendar=row, expected_version=version
            ),
            noun="calendar",
            name=row.name,
            retry_url=reverse("sla:calendar_delete", args=[pk]),
            done_url=reverse("sla:calendars"),
            refusals=(ApplicationError,),  # still used by a policy or department, or the default
        )
    context = {"calendar": row, "policies": policies, "departments": departments}
    return render(request, "cases/sla/calendar_delete.html", context)


@login_required
@require_GET
def subdivisions(request: HttpRequest) -> HttpResponse:
    """The region select for the chosen country (the calendar form swaps it in when the country changes)."""
    _manager(request)
    country = (request.GET.get("holiday_country") or "")[:8]
    form = CalendarForm(initial={"holiday_country": country})
    return render(request, "cases/sla/calendar_form.html#subdivision", {"form": form})


# --- department calendars --------------------------------------------------------------------------------


def _department_context() -> dict[str, Any]:
    links = {d.department_id: d.calendar for d in DepartmentCalendar.objects.select_related("calendar")}
    default = BusinessCalendar.objects.filter(is_default=True).first()
    rows = []
    for department in Department.objects.filter(is_active=True).order_by("name"):
        own = links.get(department.pk)
        rows.append(
            {
                "department": department,
                "calendar": own,
                "form": DepartmentCalendarForm(
                    initial={"calendar": own.pk if own else None}, prefix=f"d{department.pk}"
                ),
            }
        )
    return {"rows": rows, "default_calendar": default, "has_calendars": BusinessCalendar.objects.exists()}


@login_required
@require_GET
def department_list(request: HttpRequest) -> HttpResponse:
    _manager(request)
    template = "cases/sla/department_list.html"
    return config_views.render_page(request, template, "departments", _department_context())


@login_required
@require_POST
def department_set(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    department = Department.objects.filter(pk=pk, is_active=True).first()
    if department is None:
        raise Http404("No such department.")
    form = DepartmentCalendarForm(request.POST, prefix=f"d{pk}")
    if not form.is_valid():
        messages.error(request, "Choose one of the calendars.")
    else:
        calendar = form.cleaned_data["calendar"]
        sla_config.department_calendar_set(actor=actor, department=department, calendar=calendar)
        what = f"works to “{calendar.name}”" if calendar else "works to the default calendar"
        messages.success(request, f"{department.name} {what}.")
    return config_views.back_to_list(
        request, "cases/sla/department_list.html#departments", _department_context, reverse("sla:departments")
    )
