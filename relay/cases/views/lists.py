"""My cases, the department queues (filters, sorts, counts by status, keyset pages) and their bulk actions."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from relay.accounts.models import Department, User
from relay.cases import selectors, services, sla_selectors
from relay.cases.choices import OPEN_CATEGORIES, StatusCategory
from relay.cases.forms import QUEUE_SORTS, STATUS_TABS, UNASSIGNED, BulkForm, QueueFilterForm
from relay.cases.models import Case
from relay.cases.views._common import actor_of
from relay.core.exceptions import ApplicationError, ConflictError
from relay.core.ui import redirect

PAGE_SIZE = 25
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


@login_required
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    jump = request.GET.get("queue", "")
    if jump and _SLUG.fullmatch(jump):  # the department picker without JavaScript
        return redirect(request, reverse("cases:queue", args=[jump]))
    number = request.GET.get("number", "").strip()[:20]
    if number:  # "go to case": a number read out on the phone
        try:
            found = selectors.case_get_by_number(actor=actor, number=number)
        except Case.DoesNotExist:
            messages.warning(request, f"No case {number.upper()} is visible to you; check the number.")
        else:
            return redirect(request, found.get_absolute_url())
    try:
        page = selectors.my_cases(actor=actor, cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    except ApplicationError:
        messages.warning(request, "That page link is no longer valid; here is the first page.")
        page = selectors.my_cases(actor=actor, size=PAGE_SIZE)
    counts = selectors.my_case_counts(actor=actor)
    context = {
        "page": page,
        "counts": [(StatusCategory(c).label, n) for c, n in counts.items()],
        "total": sum(counts.values()),
        "queues": selectors.queue_departments(actor=actor),
    }
    return render(request, "cases/my_cases.html", context)


def _queue_filters(form: QueueFilterForm, members: list[User], actor: User) -> tuple[Any, str]:
    d = form.cleaned_data
    assignee: User | None = None
    if d["assignee"] and d["assignee"] != UNASSIGNED:
        people = {str(m.pk): m for m in [*members, actor]}
        assignee = people.get(d["assignee"])
    filters = selectors.QueueFilters(
        status_category=[d["status"]] if d["status"] else None,
        priority=[d["priority"]] if d["priority"] else None,
        assignee=assignee,
        unassigned=d["assignee"] == UNASSIGNED,
    )
    return filters, d["ordering"] or selectors.DEFAULT_QUEUE_ORDERING


def _tab_links(params: QueryDict, current: str, counts: dict[str, int]) -> list[dict[str, Any]]:
    tabs = []
    for value, label in STATUS_TABS:
        query = params.copy()
        query.pop("cursor", None)
        query["status"] = value
        n = sum(counts[c] for c in OPEN_CATEGORIES) if not value else counts[value]
        capped = value not in OPEN_CATEGORIES and n >= selectors.COUNT_CAP  # resolved, closed: up to the cap
        count = f"{n:,}+" if value and capped else f"{n:,}"
        tabs.append(
            {"label": label, "count": count, "url": "?" + query.urlencode(), "active": value == current}
        )
    return tabs


def _sort_links(params: QueryDict, ordering: str) -> dict[str, dict[str, str]]:
    """Sortable column headers (opened, priority, updated): each toggles between its two directions,
    newest / most urgent first."""
    links = {}
    for column in ("opened", "priority", "updated"):
        ascending, descending = ordering == column, ordering == f"-{column}"
        query = params.copy()
        query["ordering"] = column if descending else f"-{column}"
        links[column] = {
            "url": "?" + query.urlencode(),
            "aria": "ascending" if ascending else "descending" if descending else "none",
            "icon": "sort-up" if ascending else "sort-down" if descending else "chevron-expand",
        }
    return links


@login_required
@require_http_methods(["GET", "POST"])
def queue(request: HttpRequest, slug: str) -> HttpResponse:
    """A department's queue. POST: a bulk action on the ticked cases (supervisors and up)."""
    actor = actor_of(request)
    try:
        department = selectors.department_get(actor=actor, slug=slug)
    except Department.DoesNotExist as exc:
        raise Http404("No such department.") from exc
    members = selectors.department_members(department=department)
    can_bulk = actor.has_perm("cases.bulk_change_case")
    bulk: BulkForm | None = BulkForm(members=members) if can_bulk else None
    if request.method == "POST":
        if not can_bulk:
            raise PermissionDenied("Only supervisors change several cases at once.")
        bulk = BulkForm(request.POST, members=members)
        response = _bulk(request, actor, bulk)
        if response is not None:
            return response
    return _queue_page(request, actor, department, members, bulk)


def _queue_page(
    request: HttpRequest, actor: User, department: Department, members: list[User], bulk: BulkForm | None
) -> HttpResponse:
    form = QueueFilterForm(request.GET, members=members, actor=actor, auto_id="q-%s")
    page = None
    ordering = selectors.DEFAULT_QUEUE_ORDERING
    status = ""
    if form.is_valid():
        filters, ordering = _queue_filters(form, members, actor)
        status = form.cleaned_data["status"]
        try:
            page = selectors.department_queue(
                actor=actor,
                department=department,
                filters=filters,
                ordering=ordering,
                cursor=request.GET.get("cursor"),
                size=PAGE_SIZE,
            )
        except ApplicationError:
            messages.warning(request, "That page link is no longer valid; here is the first page.")
            page = selectors.department_queue(
                actor=actor, department=department, filters=filters, ordering=ordering, size=PAGE_SIZE
            )
    counts = selectors.queue_counts(actor=actor, department=department)
    sla_counts = sla_selectors.sla_counts(actor=actor, department=department)  # the SLA lists' links
    params = request.GET.copy()
    params.pop("cursor", None)
    filtered = any(params.get(k) for k in ("priority", "assignee"))
    context = {
        "department": department,
        "form": form,
        "page": page,
        "tabs": _tab_links(params, status, counts),
        "sla_counts": sla_counts,
        "status": status,
        "status_label": dict(STATUS_TABS).get(status, ""),
        "ordering": ordering,
        "sorts": QUEUE_SORTS,
        "sort_links": _sort_links(params, ordering),
        "query": params.urlencode(),
        "filtered": filtered,
        "bulk": bulk,
        "selected": {pk for pk, _ in bulk.selected} if bulk is not None and bulk.is_bound else set(),
        "queues": selectors.queue_departments(actor=actor),
        "is_member": any(m.pk == actor.pk for m in members),
    }
    status_code = 400 if bulk is not None and bulk.is_bound else 200
    return render(request, "cases/queue.html", context, status=status_code)


def _bulk(request: HttpRequest, actor: User, form: BulkForm) -> HttpResponse | None:
    """Run the bulk action; a redirect when it was done, None to show the form again with the reason."""
    if not form.is_valid():
        return None
    d = form.cleaned_data
    found = selectors.cases_by_ids(actor=actor, ids=[pk for pk, _ in form.selected])
    if len(found) != len({pk for pk, _ in form.selected}):
        form.add_error(
            None, "Some of the chosen cases no longer exist or are not visible to you; nothing was changed."
        )
        return None
    versions = dict(form.selected)
    items = [(case, versions[case.pk]) for case in found]
    try:
        if d["action"] == "assign":
            done = services.case_bulk_assign(actor=actor, cases=items, assignee=d["assignee"])
            who = d["assignee"].display_name if d["assignee"] else "the queue"
            message = f"{len(done)} case{'s' if len(done) != 1 else ''} assigned to {who}."
        elif d["action"] == "transfer":
            done = services.case_bulk_transfer(
                actor=actor, cases=items, department=d["department"], reason=d["reason"], note=d["note"]
            )
            message = (
                f"{len(done)} case{'s' if len(done) != 1 else ''} transferred to {d['department'].name}."
            )
        else:
            done = services.case_bulk_close(actor=actor, cases=items, note=d["note"])
            message = f"{len(done)} case{'s' if len(done) != 1 else ''} closed."
    except ConflictError as error:
        number = getattr(error.current, "number", "A case")
        form.add_error(
            None,
            f"{number} was changed by someone else meanwhile, so nothing was changed. The list shows the "
            "cases as they are now, your choices are kept: check them and send again.",
        )
        return None
    except ApplicationError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from error
        form.add_error(None, f"Nothing was changed. {error.message}")
        return None
    messages.success(request, message)
    return redirect(request, request.get_full_path())
