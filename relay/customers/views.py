"""The staff UI for the customer file: thin views over selectors (reads) and services (writes).

Every view needs a signed-in staff member. A record the user may not reach is a 404 (the selectors scope
every read); a write the user's role may not make is a 403 (the services check, and the pages hide the
buttons). Forms re-render with the errors next to the fields, inline while typing (`_validate`), and a
version conflict keeps everything the user typed next to the values saved meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relay.accounts.models import User
from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability
from relay.activities import selectors as timeline
from relay.activities.forms import InteractionForm, NoteForm
from relay.cases import selectors as case_selectors
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError, ConflictError
from relay.core.ui import Difference, apply_errors, differences, is_partial, redirect, validating
from relay.customers import selectors, services
from relay.customers.choices import ContactKind, LifecycleStage, PartyKind, PartyRole
from relay.customers.filters import PartyFilterSet, ordering_from
from relay.customers.forms import (
    ContactPointForm,
    IdentifierEditForm,
    IdentifierForm,
    LifecycleForm,
    NewPartyForm,
    PartyForm,
    RelationshipEditForm,
    RelationshipForm,
    VersionForm,
)
from relay.customers.models import ContactPoint, ExternalIdentifier, Party, Relationship

PAGE_SIZE = 25
TIMELINE_PAGE_SIZE = 20
SORTS = [
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
    ("-updated", "Recently updated"),
    ("updated", "Least recently updated"),
    ("-created", "Newest first"),
    ("created", "Oldest first"),
]
CONFLICT = (
    "Someone else changed this record while you were editing. Nothing you typed is lost: compare it with "
    "the values saved meanwhile, then save again to keep yours."
)
GONE = "Someone else deleted this record while you were editing. What you typed is still below."


# --- access ----------------------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not has_capability(user, VIEW_CUSTOMERS):
        raise PermissionDenied("Your account has no staff role.")
    return user  # type: ignore[return-value]


def _party(request: HttpRequest, pk: int) -> Party:
    try:
        return selectors.party_get(actor=_actor(request), pk=pk)
    except Party.DoesNotExist as exc:
        raise Http404("No such customer.") from exc


def _require(actor: User, perm: str, obj: Any = None) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied


def _one(items: Any, pk: int) -> Any:
    """One of a party's (prefetched) contact points, identifiers or relationships, or a 404."""
    for item in items:
        if item.pk == pk:
            return item
    raise Http404


def _with_version(data: QueryDict, version: int) -> QueryDict:
    copy = data.copy()
    copy["version"] = str(version)
    return copy


def _detail_url(pk: int) -> str:
    return reverse("customers:party_detail", args=[pk])


# --- list and search ------------------------------------------------------------------------------------


@login_required
@require_GET
def party_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    params = request.GET.copy()
    params.pop("cursor", None)
    active = {k: v for k, v in params.items() if v and k != "ordering"}
    ordering = ordering_from(request.GET)
    filters, errors, owner = selectors.PartyFilters(), None, None
    chosen = {name: str(value) for name, value in active.items() if name in _FILTER_NAMES}
    if chosen and all(value in _CHOICE_VALUES.get(name, ()) for name, value in chosen.items()):
        # valid choices only (role, stage, kind): what the form would clean them to
        filters = selectors.PartyFilters(
            role=chosen.get("role", ""), stage=chosen.get("stage", ""), kind=chosen.get("kind", "")
        )
    elif chosen:  # the form costs more than the query: only built for a filter it has to parse
        filterset = PartyFilterSet(request.GET, queryset=Party.objects.none())
        if filterset.is_valid():
            filters = _filters(filterset.form.cleaned_data)
            owner = filterset.form.cleaned_data.get("owner")
        else:
            errors = filterset.errors
    page = None
    if errors is None:
        try:
            page = selectors.party_list_rows(
                actor=actor,
                filters=filters,
                ordering=ordering,
                cursor=request.GET.get("cursor"),
                size=PAGE_SIZE,
            )
        except ApplicationError:
            messages.warning(request, "That page link is no longer valid; here is the first page.")
            page = selectors.party_list_rows(actor=actor, filters=filters, ordering=ordering, size=PAGE_SIZE)
    context = {
        "values": {name: params.get(name, "") for name in _FILTER_NAMES},
        "errors": errors,
        "page": page,
        "rows": page.items if page else [],
        "ordering": ordering,
        "sorts": SORTS,
        "choices": _FILTER_CHOICES,
        "query": params.urlencode(),
        "filtered": bool(active),
        "more_filters": bool(set(active) - {"q", "role", "stage"}),
        "sort_links": _sort_links(params, ordering),
        "owner_choices": _owner_choices(actor, owner),
    }
    template = "customers/party_list.html"
    return render(request, f"{template}#results" if is_partial(request) else template, context)


_FILTER_NAMES = frozenset(PartyFilterSet.base_filters)
# role, stage and kind: a value is valid when it is one of the filter's choices, and is then used as given
_CHOICE_VALUES = {
    name: frozenset(str(value) for value, _ in PartyFilterSet.base_filters[name].extra["choices"])
    for name in ("role", "stage", "kind")
}
_FILTER_CHOICES = {
    "role": [("", "Any role"), *PartyRole.choices],
    "stage": [("", "Any stage"), *LifecycleStage.choices],
    "kind": [("", "People and organisations"), *PartyKind.choices],
}


def _owner_choices(actor: User, chosen: User | None) -> list[tuple[Any, str]]:
    """The owner filter offers "me" and the owner chosen now (from a name in the list), not every user:
    a call centre has hundreds, and the list page is the most-read page of all."""
    choices: list[tuple[Any, str]] = [("", "Anyone"), (actor.pk, f"Me ({actor.display_name})")]
    if chosen is not None and chosen.pk != actor.pk:
        choices.append((chosen.pk, chosen.display_name))
    return choices


def _filters(cleaned: dict[str, Any]) -> selectors.PartyFilters:
    """The validated, allow-listed filters as the selector takes them."""
    values = {k: v for k, v in cleaned.items() if v not in (None, "")}
    if "owner" in values:
        values["owner"] = values["owner"].pk
    if "tag" in values:
        values["tag"] = values["tag"].strip().lower()
    return selectors.PartyFilters(**values)


def _sort_links(params: QueryDict, ordering: str) -> dict[str, dict[str, str]]:
    """Sortable column headers: each toggles between ascending and descending."""
    links = {}
    for column in ("name", "updated"):
        ascending = ordering == column
        descending = ordering == f"-{column}"
        target = f"-{column}" if ascending or (column == "updated" and not descending) else column
        query = params.copy()
        query["ordering"] = target
        links[column] = {
            "url": "?" + query.urlencode(),
            "aria": "ascending" if ascending else "descending" if descending else "none",
            "icon": "sort-up" if ascending else "sort-down" if descending else "chevron-expand",
        }
    return links


@login_required
@require_GET
def party_search(request: HttpRequest) -> HttpResponse:
    """The global search-as-you-type box (and the suggestions of the relationship form: `kind=`)."""
    actor = _actor(request)
    kind = request.GET.get("kind", "")
    query = (request.GET.get("q") or request.GET.get("other") or "")[:100]
    if kind in PartyKind.values:
        found = selectors.party_search(actor=actor, query=query, limit=30) if query.strip() else []
        options = [p for p in found if p.kind == kind][:10]
        return render(request, "customers/_search_results.html#options", {"options": options})
    results = selectors.party_search(actor=actor, query=query, limit=8) if query.strip() else []
    primary = ContactPoint.objects.filter(is_primary=True, kind__in=[ContactKind.PHONE, ContactKind.EMAIL])
    prefetch_related_objects(results, Prefetch("contact_points", queryset=primary))
    return render(request, "customers/_search_results.html", {"results": results, "query": query})


# --- the 360 page ---------------------------------------------------------------------------------------


@login_required
@require_GET
def party_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return party_page(request, _party(request, pk))


def party_page(request: HttpRequest, party: Party, *, status: int = 200, **forms: Any) -> HttpResponse:
    """The 360 page. `forms` replaces the empty log forms (a failed non-HTMX log keeps its input)."""
    actor = _actor(request)
    tab = "history" if request.GET.get("tab") == "history" else "timeline"
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        channel = ""
    phones = selectors.party_contacts_of_kind(party, ContactKind.PHONE)
    emails = selectors.party_contacts_of_kind(party, ContactKind.EMAIL)
    context: dict[str, Any] = {
        "party": party,
        "phones": phones,
        "emails": emails,
        "addresses": selectors.party_contacts_of_kind(party, ContactKind.ADDRESS),
        "primary_phone": next((c for c in phones if c.is_primary), phones[0] if phones else None),
        "primary_email": next((c for c in emails if c.is_primary), emails[0] if emails else None),
        "identifiers": [
            (i, selectors.identifier_display_value(actor=actor, identifier=i))
            for i in party.identifiers.all()
        ],
        "lifecycle": party.lifecycle_changes.select_related("actor").order_by("-entered_at", "-id")[:12],
        "tab": tab,
        "channel": channel,
        "channels": Channel.choices,
        "can_edit": actor.has_perm("customers.change_party", party),
        "can_delete": actor.has_perm("customers.delete_party", party),
        "can_log": actor.has_perm("activities.add_interaction"),
        "lifecycle_form": LifecycleForm(
            initial={"stage": party.lifecycle_stage or "consider", "version": party.version}
        ),
        "case_panel": case_selectors.party_case_panel(actor=actor, party=party),
    }
    if tab == "history":
        context["history"] = timeline.party_history(actor=actor, party=party)
    else:
        context["timeline"] = timeline.party_timeline(
            actor=actor, party=party, channel=channel, size=TIMELINE_PAGE_SIZE
        )
    if context["can_log"]:
        context["interaction_form"] = forms.get("interaction_form") or InteractionForm(
            initial={"channel": Channel.PHONE}
        )
        context["note_form"] = forms.get("note_form") or NoteForm()
        context["log_tab"] = "note" if "note_form" in forms else "interaction"
    return render(request, "customers/party_detail.html", context, status=status)


@login_required
@require_GET
def party_history(request: HttpRequest, pk: int) -> HttpResponse:
    """The history tab's panel (loaded by HTMX when the tab is chosen)."""
    actor = _actor(request)
    party = _party(request, pk)
    return render(
        request,
        "customers/party_detail.html#history",
        {"party": party, "history": timeline.party_history(actor=actor, party=party)},
    )


# --- parties --------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def party_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "customers.add_party")
    form = NewPartyForm(
        request.POST or None,
        initial={"kind": request.GET.get("kind", PartyKind.PERSON), "phone": request.GET.get("phone", "")},
    )
    if request.method == "POST" and form.is_valid() and not validating(request):
        d = form.cleaned_data
        contacts = [
            services.ContactInput(kind=kind, raw=d[kind])
            for kind in (ContactKind.PHONE, ContactKind.EMAIL)
            if d[kind]
        ]
        data = services.PartyInput(
            **form.changes(),
            roles=d["roles"],
            tags=form.tag_list(),
            lifecycle_stage=d["lifecycle_stage"],
            contact_points=contacts,
        )
        try:
            party = services.party_create(actor=actor, data=data)
        except ApplicationError as error:
            _contact_errors_onto_fields(error, [c.kind for c in contacts])
            apply_errors(form, error)
        else:
            messages.success(request, f"{party.display_name} was added.")
            return redirect(request, _detail_url(party.pk))
    return _form_page(request, "customers/party_form.html", {"form": form, "creating": True})


def _contact_errors_onto_fields(error: ApplicationError, kinds: list[str]) -> None:
    """`contact_points.1.raw` is the e-mail field when a phone came first."""
    remapped: dict[str, list[str]] = {}
    for key, value in error.errors.items():
        parts = key.split(".")
        if (
            parts[0] == "contact_points"
            and len(parts) > 1
            and parts[1].isdigit()
            and int(parts[1]) < len(kinds)
        ):
            key = kinds[int(parts[1])]
        remapped.setdefault(key, []).extend(value)
    error.errors = remapped


@login_required
@require_http_methods(["GET", "POST"])
def party_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    _require(actor, "customers.change_party", party)
    form = PartyForm.for_party(party, request.POST or None)
    conflict: list[Difference] | None = None
    if request.method == "POST" and form.is_valid() and not validating(request):

        def save(version: int | None) -> None:
            services.party_update(
                actor=actor,
                party=party,
                expected_version=version,
                changes=form.changes(),
                roles=form.cleaned_data["roles"],
                tags=form.tag_list(),
            )

        form, conflict, saved = _edit_with_version(
            request,
            form,
            save,
            reload=lambda: _party(request, pk),
            values_of=PartyForm.values_of,
            rebind=lambda data: PartyForm(data=data),
        )
        if saved:
            messages.success(request, "Saved.")
            return redirect(request, _detail_url(pk))
    return _form_page(
        request, "customers/party_form.html", {"form": form, "party": party, "conflict": conflict}
    )


def _form_page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A form page; inline validation and HTMX submits get the form alone (`#form` partial)."""
    context.setdefault("validate_url", request.path)
    return render(request, f"{template}#form" if is_partial(request) else template, context)


@login_required
@require_http_methods(["GET", "POST"])
def party_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what would be deleted, and a confirmation button. POST: delete (supervisors and up)."""
    actor = _actor(request)
    party = _party(request, pk)
    _require(actor, "customers.delete_party", party)
    if request.method == "POST":
        form = VersionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Nothing was deleted: the form was incomplete.")
            return redirect(request, _detail_url(pk))
        try:
            services.party_delete(actor=actor, party=party, expected_version=form.cleaned_data["version"])
        except ConflictError:
            messages.error(
                request, "The record changed since you opened it; nothing was deleted. Check it again."
            )
            return redirect(request, _detail_url(pk))
        except ApplicationError as error:
            if error.status == 403:
                raise PermissionDenied from error
            messages.error(request, error.message)
            return redirect(request, _detail_url(pk))
        messages.success(request, f"{party.display_name} was deleted.")
        return redirect(request, reverse("customers:party_list"))
    return render(request, "customers/party_delete.html", {"party": party})


@login_required
@require_POST
def party_lifecycle(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    _require(actor, "customers.change_party", party)
    form = LifecycleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a stage.")
        return redirect(request, _detail_url(pk))
    d = form.cleaned_data
    try:
        services.party_set_lifecycle_stage(
            actor=actor,
            party=party,
            stage=d["stage"],
            expected_version=d["version"],
            new_cycle=d["new_cycle"],
            note=d["note"],
        )
    except ConflictError:
        current = _party(request, pk)
        messages.error(
            request,
            "Someone else changed this customer meanwhile; the stage is now "
            f"“{current.get_lifecycle_stage_display() or 'none'}”. Nothing was changed: choose again.",
        )
    except ApplicationError as error:
        if error.status == 403:
            raise PermissionDenied from error
        messages.error(request, error.message)
    else:
        messages.success(request, "Stage set.")
    return redirect(request, _detail_url(pk))


# --- contact points, identifiers, relationships ---------------------------------------------------------


def _edit_with_version(
    request: HttpRequest,
    form: Any,
    save: Callable[[int | None], Any],
    reload: Callable[[], Any],
    values_of: Callable[[Any], dict[str, Any]],
    rebind: Callable[[QueryDict], Any],
) -> tuple[Any, list[Difference] | None, bool]:
    """Run `save(version)`; on a version conflict re-bind the user's input to the current version and list
    what differs. Returns (form, conflict, saved)."""
    try:
        save(form.cleaned_data["version"])
    except ConflictError:
        try:
            current = reload()
        except (Http404, ObjectDoesNotExist):
            form.add_error(None, GONE)
            return form, None, False
        conflict = differences(form, values_of(current))
        form = rebind(_with_version(request.POST, current.version))
        form.is_valid()
        form.add_error(None, CONFLICT)
        return form, conflict, False
    except ObjectDoesNotExist:
        form.add_error(None, GONE)
        return form, None, False
    except ApplicationError as error:
        apply_errors(form, error)
        return form, None, False
    return form, None, True


@login_required
@require_http_methods(["GET", "POST"])
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    _require(actor, "customers.add_contactpoint", party)
    kind = request.GET.get("kind", ContactKind.PHONE)
    form = ContactPointForm(
        request.POST or None, initial={"kind": kind if kind in ContactKind.values else "phone"}
    )
    if request.method == "POST" and form.is_valid() and not validating(request):
        data = services.ContactInput(kind=form.cleaned_data["kind"], **form.changes())
        try:
            services.contact_point_create(actor=actor, party=party, data=data)
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Contact point added.")
            return redirect(request, _detail_url(pk))
    return _form_page(request, "customers/contact_form.html", {"form": form, "party": party})


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    contact: ContactPoint = _one(party.contact_points.all(), contact_pk)
    _require(actor, "customers.change_contactpoint", contact)
    initial = {**ContactPointForm.values_of(contact), "version": contact.version}
    form = ContactPointForm(request.POST or None, initial=initial)
    form.fields["kind"].disabled = True
    conflict = None
    if request.method == "POST" and form.is_valid() and not validating(request):

        def save(version: int | None) -> None:
            services.contact_point_update(
                actor=actor, contact=contact, expected_version=version, changes=form.changes()
            )

        def rebind(data: QueryDict) -> ContactPointForm:
            rebound = ContactPointForm(data, initial=initial)
            rebound.fields["kind"].disabled = True
            return rebound

        form, conflict, saved = _edit_with_version(
            request,
            form,
            save,
            reload=lambda: _one(_party(request, pk).contact_points.all(), contact_pk),
            values_of=ContactPointForm.values_of,
            rebind=rebind,
        )
        if saved:
            messages.success(request, "Contact point saved.")
            return redirect(request, _detail_url(pk))
    return _form_page(
        request,
        "customers/contact_form.html",
        {"form": form, "party": party, "contact": contact, "conflict": conflict},
    )


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    actor = _actor(request)
    contact = _one(_party(request, pk).contact_points.all(), contact_pk)
    _run_delete(request, services.contact_point_delete, actor=actor, contact=contact)
    return redirect(request, _detail_url(pk))


def _run_delete(request: HttpRequest, func: Any, **kwargs: Any) -> None:
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was deleted: the form was incomplete.")
        return
    try:
        func(expected_version=form.cleaned_data["version"], **kwargs)
    except ConflictError:
        messages.error(request, "It changed since you opened the page; nothing was deleted. Check it again.")
    except ApplicationError as error:
        if error.status == 403:
            raise PermissionDenied from error
        messages.error(request, error.message)
    else:
        messages.success(request, "Removed.")


@login_required
@require_http_methods(["GET", "POST"])
def identifier_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    _require(actor, "customers.add_externalidentifier", party)
    form = IdentifierForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and not validating(request):
        try:
            services.identifier_create(
                actor=actor,
                party=party,
                scheme=form.cleaned_data["scheme"].code,
                value=form.cleaned_data["value"],
            )
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Identifier added.")
            return redirect(request, _detail_url(pk))
    return _form_page(
        request, "customers/simple_form.html", {"form": form, "party": party, "title": "Add an identifier"}
    )


@login_required
@require_http_methods(["GET", "POST"])
def identifier_edit(request: HttpRequest, pk: int, identifier_pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    identifier: ExternalIdentifier = _one(party.identifiers.all(), identifier_pk)
    _require(actor, "customers.change_externalidentifier", identifier)
    shown = selectors.identifier_display_value(actor=actor, identifier=identifier)
    form = IdentifierEditForm.for_identifier(identifier, shown, request.POST or None)
    conflict = None
    if request.method == "POST" and form.is_valid() and not validating(request):

        def save(version: int | None) -> None:
            services.identifier_update(
                actor=actor, identifier=identifier, expected_version=version, value=form.cleaned_data["value"]
            )

        def values_of(current: ExternalIdentifier) -> dict[str, Any]:
            return {"value": selectors.identifier_display_value(actor=actor, identifier=current)}

        form, conflict, saved = _edit_with_version(
            request,
            form,
            save,
            reload=lambda: _one(_party(request, pk).identifiers.all(), identifier_pk),
            values_of=values_of,
            rebind=lambda data: IdentifierEditForm.for_identifier(identifier, shown, data),
        )
        if saved:
            messages.success(request, "Identifier saved.")
            return redirect(request, _detail_url(pk))
    title = f"Edit the {identifier.scheme.name.lower()}"
    return _form_page(
        request,
        "customers/simple_form.html",
        {"form": form, "party": party, "title": title, "conflict": conflict},
    )


@login_required
@require_POST
def identifier_delete(request: HttpRequest, pk: int, identifier_pk: int) -> HttpResponse:
    actor = _actor(request)
    identifier = _one(_party(request, pk).identifiers.all(), identifier_pk)
    _run_delete(request, services.identifier_delete, actor=actor, identifier=identifier)
    return redirect(request, _detail_url(pk))


@login_required
@require_http_methods(["GET", "POST"])
def relationship_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    _require(actor, "customers.add_relationship")
    other_kind = PartyKind.ORGANISATION if party.is_person() else PartyKind.PERSON
    form = RelationshipForm(request.POST or None, other_kind=other_kind)
    if request.method == "POST" and form.is_valid() and not validating(request):
        other = _find_party(actor, form.cleaned_data["other"], other_kind)
        if other is None:
            form.add_error("other", f"No single {other_kind} has that name or number. Pick a suggestion.")
        else:
            person, organisation = (party, other) if party.is_person() else (other, party)
            d = form.cleaned_data
            try:
                services.relationship_create(
                    actor=actor,
                    person=person,
                    organisation=organisation,
                    job_title=d["job_title"],
                    department=d["department"],
                    is_primary_contact=d["is_primary_contact"],
                    started_on=d["started_on"],
                )
            except ApplicationError as error:
                error.errors = {
                    ("other" if k in ("person", "organisation") else k): v for k, v in error.errors.items()
                }
                apply_errors(form, error)
            else:
                messages.success(request, f"Linked to {other.display_name}.")
                return redirect(request, _detail_url(pk))
    title = "Link to an organisation" if party.is_person() else "Link a person"
    return _form_page(
        request,
        "customers/simple_form.html",
        {"form": form, "party": party, "title": title, "suggest_kind": other_kind},
    )


def _find_party(actor: User, text: str, kind: str) -> Party | None:
    """ "Name (#12)" from the suggestions, "12", or an exact name that only one party of `kind` has."""
    text = text.strip()
    number = text.rsplit("(#", 1)[1].rstrip(")") if text.endswith(")") and "(#" in text else text.lstrip("#")
    visible = selectors.party_queryset(actor=actor).filter(kind=kind)
    if number.isdigit():
        return visible.filter(pk=int(number)).first()
    matches = list(visible.filter(display_name__iexact=text)[:2])
    return matches[0] if len(matches) == 1 else None


@login_required
@require_http_methods(["GET", "POST"])
def relationship_edit(request: HttpRequest, pk: int, relationship_pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    relationship: Relationship = _one([*party.employments.all(), *party.people.all()], relationship_pk)
    _require(actor, "customers.change_relationship", relationship)
    initial = {**RelationshipEditForm.values_of(relationship), "version": relationship.version}
    form = RelationshipEditForm(request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid() and not validating(request):

        def save(version: int | None) -> None:
            services.relationship_update(
                actor=actor, relationship=relationship, expected_version=version, changes=form.changes()
            )

        def reload() -> Relationship:
            fresh = _party(request, pk)
            return _one([*fresh.employments.all(), *fresh.people.all()], relationship_pk)

        form, conflict, saved = _edit_with_version(
            request,
            form,
            save,
            reload=reload,
            values_of=RelationshipEditForm.values_of,
            rebind=lambda data: RelationshipEditForm(data, initial=initial),
        )
        if saved:
            messages.success(request, "Link saved.")
            return redirect(request, _detail_url(pk))
    title = f"{relationship.person.display_name} at {relationship.organisation.display_name}"
    return _form_page(
        request,
        "customers/simple_form.html",
        {"form": form, "party": party, "title": title, "conflict": conflict},
    )


@login_required
@require_POST
def relationship_delete(request: HttpRequest, pk: int, relationship_pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    relationship = _one([*party.employments.all(), *party.people.all()], relationship_pk)
    _run_delete(request, services.relationship_delete, actor=actor, relationship=relationship)
    return redirect(request, _detail_url(pk))
