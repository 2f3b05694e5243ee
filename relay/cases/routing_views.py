"""The routing admin screens (staff UI, managers and admins only: `cases.manage_routing`).

The rules in the order they are tried (move up/down, activate/deactivate), create and edit with inline
validation, delete with a confirmation, each department's assignment setting, and "test a sample case",
which shows what opening it would do without opening anything. Thin views over
relay/cases/services/routing.py; anyone else gets a 403 page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relay.accounts.models import Department, User
from relay.cases import config_views
from relay.cases.models import CaseCategory, DepartmentRouting, RoutingRule
from relay.cases.routing import Assignment
from relay.cases.routing_forms import DepartmentStrategyForm, RuleForm, SampleForm
from relay.cases.services import routing
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError, ConflictError
from relay.core.history import history_records
from relay.core.ui import Difference, apply_errors, is_partial, redirect, validating
from relay.customers import selectors as customers
from relay.customers.choices import PartyRole
from relay.customers.models import Party

CONFLICT = (
    "Someone else changed this rule while you were editing. Nothing you typed is lost: compare it with the "
    "values saved meanwhile, then save again to keep yours."
)


def _manager(request: HttpRequest) -> User:
    return config_views.manager(
        request, "cases.manage_routing", "Only managers and administrators configure routing."
    )


def _rule(pk: int) -> RoutingRule:
    try:
        return RoutingRule.objects.select_related("department").get(pk=pk)
    except RoutingRule.DoesNotExist as exc:
        raise Http404("No such rule.") from exc


def _list_url() -> str:
    return reverse("routing:rules")


# --- the list --------------------------------------------------------------------------------------------


def rule_summary(rule: RoutingRule, lookups: dict[str, dict[int, str]]) -> list[tuple[str, str]]:
    """The rule's conditions as (label, values) lines, for the list and the test screen."""
    rows: list[tuple[str, str]] = []

    def names(kind: str, ids: list[int]) -> str:
        return ", ".join(lookups[kind].get(i, f"(deleted #{i})") for i in ids)

    if rule.keywords:
        rows.append(("Keywords", ", ".join(f"“{k}”" for k in rule.keywords)))
    if rule.categories:
        rows.append(("Category", names("categories", rule.categories)))
    if rule.channels:
        rows.append(
            ("Channel", ", ".join(str(Channel(c).label) for c in rule.channels if c in Channel.values))
        )
    if rule.tiers:
        rows.append(("Tier", ", ".join(rule.tiers)))
    if rule.tags:
        rows.append(("Tags", ", ".join(rule.tags)))
    if rule.regions:
        rows.append(("Region", ", ".join(rule.regions)))
    if rule.roles:
        rows.append(("Role", ", ".join(str(PartyRole(r).label) for r in rule.roles if r in PartyRole.values)))
    if rule.originators:
        rows.append(("Logged by", names("users", rule.originators)))
    if rule.originating_departments:
        rows.append(("From department", names("departments", rule.originating_departments)))
    return rows


def _lookups(rules: list[RoutingRule]) -> dict[str, dict[int, str]]:
    """Names of the categories, users and departments the rules refer to (three queries at most)."""
    wanted: dict[str, set[int]] = {"categories": set(), "users": set(), "departments": set()}
    for r in rules:
        wanted["categories"].update(r.categories)
        wanted["users"].update(r.originators)
        wanted["departments"].update(r.originating_departments)
    out: dict[str, dict[int, str]] = {k: {} for k in wanted}
    if wanted["categories"]:
        out["categories"] = dict(
            CaseCategory.objects.filter(pk__in=wanted["categories"]).values_list("pk", "name")
        )
    if wanted["users"]:
        out["users"] = {u.pk: u.display_name for u in User.objects.filter(pk__in=wanted["users"])}
    if wanted["departments"]:
        out["departments"] = dict(
            Department.objects.filter(pk__in=wanted["departments"]).values_list("pk", "name")
        )
    return out


def _list_context() -> dict[str, Any]:
    rules = list(RoutingRule.objects.select_related("department"))
    lookups = _lookups(rules)
    settings = {s.department_id: s for s in DepartmentRouting.objects.all()}
    departments = []
    for department in Department.objects.filter(is_active=True):
        setting = settings.get(department.pk)
        strategy = setting.strategy if setting else Assignment.MANUAL
        departments.append(
            {
                "department": department,
                "strategy": strategy,
                "form": DepartmentStrategyForm(initial={"strategy": strategy}, prefix=f"d{department.pk}"),
            }
        )
    return {
        "rows": [
            {
                "rule": r,
                "conditions": rule_summary(r, lookups),
                "first": i == 0,
                "last": i == len(rules) - 1,
            }
            for i, r in enumerate(rules)
        ],
        "departments": departments,
        "active_count": sum(1 for r in rules if r.is_active),
    }


@login_required
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    _manager(request)
    template = "cases/routing/rule_list.html"
    return render(request, f"{template}#rules" if is_partial(request) else template, _list_context())


@login_required
@require_POST
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    rule = _rule(pk)
    config_views.move_row(
        request, lambda direction: routing.routing_rule_move(actor=actor, rule=rule, direction=direction)
    )
    return _back_to_list(request)


@login_required
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    rule = _rule(pk)
    config_views.toggle_row(
        request,
        rule.name,
        lambda active, version: routing.routing_rule_set_active(
            actor=actor, rule=rule, active=active, expected_version=version
        ),
    )
    return _back_to_list(request)


@login_required
@require_POST
def department_set(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    department = Department.objects.filter(pk=pk, is_active=True).first()
    if department is None:
        raise Http404("No such department.")
    form = DepartmentStrategyForm(request.POST, prefix=f"d{pk}")
    if not form.is_valid():
        messages.error(request, "Choose how the department assigns its cases.")
    else:
        routing.department_routing_set(
            actor=actor, department=department, strategy=form.cleaned_data["strategy"]
        )
        messages.success(
            request, f"{department.name}: {Assignment(form.cleaned_data['strategy']).label.lower()}."
        )
    return _back_to_list(request)


def _back_to_list(request: HttpRequest) -> HttpResponse:
    return config_views.back_to_list(
        request, "cases/routing/rule_list.html#rules", _list_context, _list_url()
    )


# --- create, edit, delete --------------------------------------------------------------------------------


def _check_inline(request: HttpRequest, form: RuleForm, rule: RoutingRule | None) -> None:
    """While typing: the service's own check of the field being edited (a name in use, a keyword without
    letters...) next to it, without saving, whatever the state of the other fields."""
    name = validating(request)
    form.is_valid()
    if name not in form.fields or name in form.errors:
        return
    try:
        routing.clean_rule(form.to_input(), rule=rule)
    except ApplicationError as error:
        for message in error.errors.get(name, []):
            form.add_error(name, message)


def _form_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("validate_url", request.path)
    return config_views.render_page(request, "cases/routing/rule_form.html", "form", context)


def _shown(value: Any) -> str:
    if isinstance(value, Department):
        return value.name
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value) if value not in (None, "") else "—"


def _comparable(value: Any) -> Any:
    if isinstance(value, Department):
        return value.pk
    if isinstance(value, list):
        return tuple(sorted(str(v).strip().lower() for v in value))
    return value


def _rule_differences(form: RuleForm, current: RoutingRule) -> list[Difference]:
    """What the user typed against what was saved meanwhile, field by field (a version conflict)."""
    mine, saved = form.to_input(), routing.RuleInput.of(current)
    rows = []
    for name in routing.RULE_FIELDS:
        if name == "order" or name not in form.fields:
            continue
        theirs, yours = getattr(saved, name), getattr(mine, name)
        if _comparable(theirs) != _comparable(yours):
            rows.append(Difference(field=str(form[name].label), current=_shown(theirs), yours=_shown(yours)))
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    form = RuleForm(request.POST or None)
    if validating(request):
        _check_inline(request, form, None)
    elif request.method == "POST" and form.is_valid():
        try:
            rule = routing.routing_rule_create(actor=actor, data=form.to_input())
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Rule “{rule.name}” added. It is tried after the others.")
            return redirect(request, _list_url())
    return _form_page(request, {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    rule = _rule(pk)
    form = RuleForm(request.POST or None, initial=RuleForm.initial_of(rule))
    conflict: list[Difference] | None = None
    if validating(request):
        _check_inline(request, form, rule)
    elif request.method == "POST" and form.is_valid():
        data = form.to_input()
        changes = {k: getattr(data, k) for k in routing.RULE_FIELDS if k != "order"}
        try:
            routing.routing_rule_update(
                actor=actor, rule=rule, expected_version=form.cleaned_data["version"], changes=changes
            )
        except ConflictError:
            current = _rule(pk)
            conflict = _rule_differences(form, current)
            form = config_views.reloaded_form(request, RuleForm, current, CONFLICT)
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Rule “{form.cleaned_data['name']}” saved.")
            return redirect(request, _list_url())
    history = history_records([RoutingRule.history.filter(id=rule.pk)], limit=50)
    return _form_page(request, {"form": form, "rule": rule, "conflict": conflict, "history": history})


@login_required
@require_http_methods(["GET", "POST"])
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what deleting means, and a confirmation button. POST: delete (the version the user saw)."""
    actor = _manager(request)
    rule = _rule(pk)
    if request.method == "POST":
        return config_views.delete_confirmed(
            request,
            delete=lambda version: routing.routing_rule_delete(
                actor=actor, rule=rule, expected_version=version
            ),
            noun="rule",
            name=rule.name,
            retry_url=reverse("routing:rule_delete", args=[pk]),
            done_url=_list_url(),
        )
    return render(request, "cases/routing/rule_delete.html", {"rule": rule})


# --- test a sample case ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def sample_test(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    form = SampleForm(request.POST or None)
    result = None
    party = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if d["party"] is not None:
            party = Party.objects.restrict(actor, "view").filter(pk=d["party"]).first()
            if party is None:
                form.add_error("party", "No such customer.")
        if not form.errors:
            result = routing.routing_test(
                actor=actor,
                party=party,
                subject=d["subject"],
                body=d["description"],
                category=d["category"],
                channel=d["channel"],
                originator=d["originator"],
            )
    context: dict[str, Any] = {"form": form, "result": result, "party": party}
    if result is not None:
        rules = [c.rule for c in result.checks]
        lookups = _lookups(rules)
        context["checks"] = [
            {
                "check": c,
                "conditions": rule_summary(c.rule, lookups),
                "winner": c.rule == result.decision.rule,
            }
            for c in result.checks
        ]
    template = "cases/routing/sample_test.html"
    return render(request, f"{template}#result" if is_partial(request) else template, context)


@login_required
@require_GET
def party_options(request: HttpRequest) -> HttpResponse:
    """Suggestions for the sample's customer field (a <datalist>: "Name (#id)")."""
    actor = _manager(request)
    query = (request.GET.get("party") or "")[:100]
    found = customers.party_search(actor=actor, query=query, limit=10) if query.strip() else []
    return render(request, "customers/_search_results.html#options", {"options": found})
