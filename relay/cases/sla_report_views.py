"""The SLA in the staff's daily work (issue 4, point 4): a department's "at risk" and "breached" lists,
and the dropped-balls report. Thin views over relay/cases/sla_selectors.py.

Who sees what:

* The lists are the queue's: every staff member may open any active department's lists and sees the
  cases the queue would show them (a confidential case only within its circle).
* The dropped-balls report (breaches, i.e. alerts of level 1, recorded in a period; default the last 30
  days) is a lead's tool: supervisors, managers and admins read every breach they may see, and so do
  auditors (they read everything, change nothing). An agent gets the same page about their own dropped
  balls only (the cases they had when the ball was dropped): a report on colleagues is for their lead;
  the department compliance table is not shown to agents either. A breach of a confidential case exists
  only for the case's circle (managers and admins see all).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from relay.accounts.models import Department, User
from relay.cases import selectors, sla_selectors
from relay.cases.choices import SlaStatus, SlaTarget
from relay.cases.views._common import actor_of
from relay.core import clock
from relay.core.exceptions import ApplicationError
from relay.core.ui import apply_errors

PAGE_SIZE = 25
DEFAULT_DAYS = 30
LIST_TITLES: dict[str, str] = {SlaStatus.AT_RISK: "At risk", SlaStatus.BREACHED: "Breached"}


# --- a department's "at risk" and "breached" lists ----------------------------------------------------------


@login_required
@require_GET
def sla_list(request: HttpRequest, slug: str, which: str) -> HttpResponse:
    """Open cases of a department at risk (or breached), soonest due (most overdue) first."""
    actor = actor_of(request)
    try:
        department = selectors.department_get(actor=actor, slug=slug)
    except Department.DoesNotExist as exc:
        raise Http404("No such department.") from exc
    try:
        page = sla_selectors.sla_list(
            actor=actor, department=department, status=which, cursor=request.GET.get("cursor"), size=PAGE_SIZE
        )
    except ApplicationError:
        messages.warning(request, "That page link is no longer valid; here is the first page.")
        page = sla_selectors.sla_list(actor=actor, department=department, status=which, size=PAGE_SIZE)
    context = {
        "department": department,
        "which": which,
        "title": LIST_TITLES[which],
        "page": page,
        "counts": sla_selectors.sla_counts(actor=actor, department=department),
        "queues": selectors.queue_departments(actor=actor),
        "query": "",
    }
    return render(request, "cases/sla_reports/sla_list.html", context)


# --- the dropped-balls report -------------------------------------------------------------------------------


class PeriodForm(forms.Form):
    """The report's filters: a period of days in the viewer's zone (both ends included), a department
    (by slug), a person (the assignee at the time, by id)."""

    department = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label="Every department",
    )
    person = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, departments: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "from" is a keyword: the fields are added here so the URL reads ?from=...&to=...
        start = today - timedelta(days=DEFAULT_DAYS - 1)
        self.fields = {
            "from": forms.DateField(
                label="From", initial=start, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            ),
            "to": forms.DateField(
                label="To", initial=today, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            ),
            **self.fields,
        }
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]
        for name in ("from", "to", "department"):
            widget = self.fields[name].widget
            widget.attrs["class"] = "form-select" if name == "department" else "form-control"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("from"), data.get("to")
        if start and end:
            if end < start:
                self.add_error("to", "The end of the period is before its start.")
            elif (end - start).days >= 366:
                self.add_error("to", "At most a year at a time.")
        return data


def _day_start(day: date) -> datetime:
    """Midnight of `day` in the viewer's zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


@login_required
@require_GET
def dropped_balls(request: HttpRequest) -> HttpResponse:
    """Breaches in a period per department and per person, by target, with the list of cases and, for
    leads and auditors, the departments' compliance (see the module docstring for who sees what)."""
    actor = actor_of(request)
    today = timezone.localdate(clock.now())
    departments = Department.objects.restrict(actor, "view").filter(is_active=True).order_by("name")
    data = request.GET.copy()  # without dates: the last 30 days, today included
    data.setdefault("from", (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat())
    data.setdefault("to", today.isoformat())
    form = PeriodForm(data, departments=departments, today=today, auto_id="sla-%s")
    team = sla_selectors.sees_team_breaches(actor)
    context: dict[str, Any] = {
        "form": form,
        "team": team,
        "targets": [(t, SlaTarget(t).label) for t in SlaTarget.values],
        "report": None,
    }
    if form.is_valid():
        d = form.cleaned_data
        start, end = _day_start(d["from"]), _day_start(d["to"] + timedelta(days=1))
        department = d["department"]
        person = d["person"] if team else None
        try:
            report = sla_selectors.dropped_balls(
                actor=actor, start=start, end=end, department=department, assignee_id=person
            )
            page = _breach_page(request, actor, start, end, department, person)
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            context.update(
                report=report,
                page=page,
                person=_person_name(report, person),
                metrics=(
                    sla_selectors.department_sla_metrics(
                        actor=actor, start=start, end=end, department=department
                    )
                    if team
                    else []
                ),
                everyone=_query(d, None),
                query=_query(d, person),
            )
    status = 400 if form.errors else 200
    return render(request, "cases/sla_reports/dropped_balls.html", context, status=status)


def _breach_page(
    request: HttpRequest,
    actor: User,
    start: datetime,
    end: datetime,
    department: Department | None,
    person: int | None,
) -> Any:
    args: dict[str, Any] = {
        "actor": actor,
        "start": start,
        "end": end,
        "department": department,
        "assignee_id": person,
        "size": PAGE_SIZE,
    }
    try:
        return sla_selectors.breach_list(**args, cursor=request.GET.get("cursor"))
    except ApplicationError as error:
        if "cursor" not in (error.errors or {}):
            raise
        messages.warning(request, "That page link is no longer valid; here is the first page.")
        return sla_selectors.breach_list(**args)


def _person_name(report: sla_selectors.DroppedBalls, person: int | None) -> str:
    if person is None:
        return ""
    return next((t.name for t in report.people if t.id == person), "")


def _query(data: dict[str, Any], person: int | None) -> str:
    """The report's filters as a query string (for the pager and the per-person links)."""
    query = QueryDict(mutable=True)
    query["from"], query["to"] = data["from"].isoformat(), data["to"].isoformat()
    if data["department"] is not None:
        query["department"] = data["department"].slug
    if person is not None:
        query["person"] = str(person)
    return query.urlencode()
