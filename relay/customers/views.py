"""The staff UI for the customer file: thin views over selectors (reads) and services (writes)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from relay.accounts.models import User
from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability
from relay.activities import selectors as timeline
from relay.activities.forms import InteractionForm, NoteForm
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError, ConflictError
from relay.core.ui import apply_errors, redirect
from relay.customers import selectors, services
from relay.customers.choices import ContactKind, PartyKind
from relay.customers.filters import PartyFilterSet, ordering_from
from relay.customers.forms import (
    ContactPointForm,
    IdentifierForm,
    LifecycleForm,
    NewPartyForm,
    PartyForm,
    RelationshipForm,
)
from relay.customers.models import ContactPoint, ExternalIdentifier, Party, Relationship
from relay.customers.normalize import format_phone

SORTS = [
    ("name", "Name A to Z"),
    ("-name", "Name Z to A"),
    ("-updated", "Recently updated"),
    ("-created", "Newest"),
]


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not has_capability(user, VIEW_CUSTOMERS):
        raise PermissionDenied("Your account has no staff role.")
    return user  # type: ignore[return-value]


def _party(request: HttpRequest, pk: int) -> Party:
    try:
        return selectors.party_get(actor=_actor(request), pk=pk)
    except Party.DoesNotExist as exc:
        raise Http404("No such party.") from exc


@login_required
def party_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    filterset = PartyFilterSet(request.GET, queryset=selectors.party_queryset(actor=actor))
    ordering = ordering_from(request.GET)
    page = None
    if filterset.is_valid():
        from relay.core.pagination import paginate

        primary = ContactPoint.objects.filter(
            is_primary=True, kind__in=[ContactKind.PHONE, ContactKind.EMAIL]
        ).only("id", "party_id", "kind", "normalized", "is_primary")
        qs = filterset.qs.select_related("owner").prefetch_related(
            "role_assignments", "tags", Prefetch("contact_points", queryset=primary)
        )
        try:
            page = paginate(
                qs, ordering=selectors.PARTY_ORDERINGS[ordering], cursor=request.GET.get("cursor"), size=25
            )
        except ApplicationError:
            messages.error(request, "That page link is no longer valid; showing the first page.")
            page = paginate(qs, ordering=selectors.PARTY_ORDERINGS[ordering], cursor=None, size=25)
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "filterset": filterset,
        "page": page,
        "rows": [_row(p) for p in page.items] if page else [],
        "ordering": ordering,
        "sorts": SORTS,
        "query": params.urlencode(),
        "filtered": any(v for k, v in params.items() if k != "ordering"),
    }
    template = (
        "customers/_party_table.html"
        if getattr(request, "htmx", None) and not request.htmx.boosted  # type: ignore[attr-defined]
        else "customers/party_list.html"
    )
    return render(request, template, context)


def _row(party: Party) -> dict[str, Any]:
    """What one line of the list shows, computed once (the template only prints it)."""
    phone = email = ""
    for contact in party.contact_points.all():  # prefetched: the primary phone and e-mail only
        if contact.kind == ContactKind.PHONE:
            phone = format_phone(contact.normalized)
        elif contact.kind == ContactKind.EMAIL:
            email = contact.normalized
    return {
        "pk": party.pk,
        "name": party.display_name,
        "organisation": party.kind == PartyKind.ORGANISATION,
        "tags": [t.name for t in party.tags.all()],
        "phone": phone,
        "email": email,
        "roles": [r.get_role_display() for r in party.role_assignments.all()],
        "stage": party.get_lifecycle_stage_display(),
        "owner": str(party.owner) if party.owner_id else "",
        "updated": party.updated_at,
    }


@login_required
def party_search(request: HttpRequest) -> HttpResponse:
    """The global search-as-you-type box in the header."""
    query = request.GET.get("q", "")
    results = selectors.party_search(actor=_actor(request), query=query, limit=8) if query.strip() else []
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(results, "contact_points")
    return render(request, "customers/_search_results.html", {"results": results, "query": query})


@login_required
def party_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        channel = ""
    page = timeline.party_timeline(actor=actor, party=party, channel=channel, size=20)
    identifiers = [
        (i, selectors.identifier_display_value(actor=actor, identifier=i)) for i in party.identifiers.all()
    ]
    context = {
        "party": party,
        "phones": selectors.party_contacts_of_kind(party, ContactKind.PHONE),
        "emails": selectors.party_contacts_of_kind(party, ContactKind.EMAIL),
        "addresses": selectors.party_contacts_of_kind(party, ContactKind.ADDRESS),
        "identifiers": identifiers,
        "lifecycle": party.lifecycle_changes.select_related("actor").order_by("-entered_at", "-id")[:10],
        "timeline": page,
        "channel": channel,
        "channels": Channel.choices,
        "can_edit": actor.has_perm("customers.change_party", party),
        "can_delete": actor.has_perm("customers.delete_party", party),
        "can_log": actor.has_perm("activities.add_interaction"),
        "interaction_form": InteractionForm(initial={"channel": "phone"}),
        "note_form": NoteForm(),
        "lifecycle_form": LifecycleForm(
            initial={"stage": party.lifecycle_stage or "consider", "version": party.version}
        ),
        "tab": request.GET.get("tab", "timeline"),
    }
    if context["tab"] == "history":
        context["history"] = timeline.party_history(actor=actor, party=party)
    return render(request, "customers/party_detail.html", context)


@login_required
def party_history(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    return render(
        request,
        "customers/_history.html",
        {"party": party, "history": timeline.party_history(actor=actor, party=party)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def party_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not actor.has_perm("customers.add_party"):
        raise PermissionDenied
    form = NewPartyForm(
        request.POST or None,
        initial={"kind": request.GET.get("kind", PartyKind.PERSON), "phone": request.GET.get("phone", "")},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        contacts = []
        if d["phone"]:
            contacts.append(services.ContactInput(kind=ContactKind.PHONE, raw=d["phone"]))
        if d["email"]:
            contacts.append(services.ContactInput(kind=ContactKind.EMAIL, raw=d["email"]))
        data = services.PartyInput(
            kind=d["kind"],
            given_name=d["given_name"],
            family_name=d["family_name"],
            organisation_name=d["organisation_name"],
            birth_date=d["birth_date"],
            website=d["website"],
            industry=d["industry"],
            about=d["about"],
            preferred_channel=d["preferred_channel"],
            owner=d["owner"],
            roles=d["roles"],
            tags=form.tag_list(),
            lifecycle_stage=d["lifecycle_stage"],
            contact_points=contacts,
        )
        try:
            party = services.party_create(actor=actor, data=data)
        except ApplicationError as error:
            _map_contact_errors(form, error)
        else:
            messages.success(request, f"{party.display_name} was added.")
            return redirect(request, reverse("customers:party_detail", args=[party.pk]))
    return render(request, "customers/party_form.html", {"form": form, "creating": True})


def _map_contact_errors(form: NewPartyForm, error: ApplicationError) -> None:
    remapped = {}
    for key, value in error.errors.items():
        if key.startswith("contact_points."):
            index = int(key.split(".")[1])
            kinds = [k for k in ("phone", "email") if form.cleaned_data.get(k)]
            remapped[kinds[index] if index < len(kinds) else "phone"] = value
        else:
            remapped[key] = value
    error.errors = remapped
    apply_errors(form, error)


@login_required
@require_http_methods(["GET", "POST"])
def party_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    if not actor.has_perm("customers.change_party", party):
        raise PermissionDenied
    form = PartyForm.for_party(party, request.POST or None)
    conflict = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        changes = {
            k: d[k]
            for k in (
                "kind",
                "given_name",
                "family_name",
                "organisation_name",
                "birth_date",
                "website",
                "industry",
                "about",
                "preferred_channel",
                "owner",
            )
        }
        try:
            services.party_update(
                actor=actor,
                party=party,
                expected_version=d["version"],
                changes=changes,
                roles=d["roles"],
                tags=form.tag_list(),
            )
        except ConflictError as error:
            conflict = selectors.party_get(actor=actor, pk=pk)
            form = PartyForm(data=_with_version(request.POST, conflict.version))
            form.is_valid()
            form.add_error(
                None,
                "Someone else changed this record while you were editing. Your changes are "
                "still in the form; check the current values below and save again.",
            )
            del error
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect(request, reverse("customers:party_detail", args=[pk]))
    return render(request, "customers/party_form.html", {"form": form, "party": party, "conflict": conflict})


def _with_version(data: Any, version: int) -> Any:
    copy = data.copy()
    copy["version"] = str(version)
    return copy


@login_required
@require_POST
def party_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    try:
        services.party_delete(actor=actor, party=party, expected_version=int(request.POST.get("version", 0)))
    except ConflictError:
        messages.error(request, "The record changed since you opened it; nothing was deleted.")
        return redirect(request, reverse("customers:party_detail", args=[pk]))
    except ApplicationError as error:
        if error.status == 403:
            raise PermissionDenied from error
        raise
    messages.success(request, f"{party.display_name} was deleted.")
    return redirect(request, reverse("customers:party_list"))


@login_required
@require_POST
def party_lifecycle(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    form = LifecycleForm(request.POST)
    if form.is_valid():
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
            messages.error(request, "The record changed since you opened it; please try again.")
        except ApplicationError as error:
            if error.status == 403:
                raise PermissionDenied from error
            messages.error(request, error.message)
    else:
        messages.error(request, "Choose a stage.")
    return redirect(request, reverse("customers:party_detail", args=[pk]))


@login_required
@require_http_methods(["GET", "POST"])
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    if not actor.has_perm("customers.add_contactpoint", party):
        raise PermissionDenied
    form = ContactPointForm(
        request.POST or None, initial={"kind": request.GET.get("kind", ContactKind.PHONE)}
    )
    if request.method == "POST" and form.is_valid():
        d = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            services.contact_point_create(actor=actor, party=party, data=services.ContactInput(**d))
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Contact point added.")
            return redirect(request, reverse("customers:party_detail", args=[pk]))
    return render(request, "customers/contact_form.html", {"form": form, "party": party})


def _contact(request: HttpRequest, pk: int, contact_pk: int) -> ContactPoint:
    contact = (
        ContactPoint.objects.restrict(_actor(request), "view").filter(pk=contact_pk, party_id=pk).first()
    )
    if contact is None:
        raise Http404
    return contact


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    contact = _contact(request, pk, contact_pk)
    if not actor.has_perm("customers.change_contactpoint", contact):
        raise PermissionDenied
    initial = {f: getattr(contact, f) for f in ContactPointForm.base_fields}
    form = ContactPointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        changes = {k: v for k, v in d.items() if k not in {"version", "kind"}}
        try:
            services.contact_point_update(
                actor=actor, contact=contact, expected_version=d["version"], changes=changes
            )
        except ConflictError:
            form = ContactPointForm(
                _with_version(request.POST, ContactPoint.objects.get(pk=contact.pk).version)
            )
            form.is_valid()
            form.add_error(
                None, "Someone else changed this contact point; your input is kept — save again to overwrite."
            )
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Contact point saved.")
            return redirect(request, reverse("customers:party_detail", args=[pk]))
    return render(request, "customers/contact_form.html", {"form": form, "party": party, "contact": contact})


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    actor = _actor(request)
    contact = _contact(request, pk, contact_pk)
    _run_delete(request, services.contact_point_delete, actor=actor, contact=contact)
    return redirect(request, reverse("customers:party_detail", args=[pk]))


def _run_delete(request: HttpRequest, func: Any, **kwargs: Any) -> None:
    try:
        func(expected_version=int(request.POST.get("version") or 0) or None, **kwargs)
    except ConflictError:
        messages.error(request, "The record changed since you opened it; nothing was deleted.")
    except ApplicationError as error:
        if error.status == 403:
            raise PermissionDenied from error
        messages.error(request, error.message)
    else:
        messages.success(request, "Deleted.")


@login_required
@require_http_methods(["GET", "POST"])
def identifier_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    if not actor.has_perm("customers.add_externalidentifier", party):
        raise PermissionDenied
    form = IdentifierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
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
            return redirect(request, reverse("customers:party_detail", args=[pk]))
    return render(
        request, "customers/simple_form.html", {"form": form, "party": party, "title": "Add an identifier"}
    )


@login_required
@require_POST
def identifier_delete(request: HttpRequest, pk: int, identifier_pk: int) -> HttpResponse:
    actor = _actor(request)
    identifier = (
        ExternalIdentifier.objects.restrict(actor, "view").filter(pk=identifier_pk, party_id=pk).first()
    )
    if identifier is None:
        raise Http404
    _run_delete(request, services.identifier_delete, actor=actor, identifier=identifier)
    return redirect(request, reverse("customers:party_detail", args=[pk]))


@login_required
@require_http_methods(["GET", "POST"])
def relationship_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = _party(request, pk)
    if not actor.has_perm("customers.add_relationship"):
        raise PermissionDenied
    form = RelationshipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["organisation"].strip()
        orgs = selectors.party_queryset(actor=actor).filter(kind=PartyKind.ORGANISATION)
        matches = (
            list(orgs.filter(pk=int(name)))
            if name.isdigit()
            else list(orgs.filter(organisation_name__iexact=name)[:2])
        )
        if len(matches) != 1:
            form.add_error("organisation", "No single organisation has that name or number.")
        else:
            try:
                services.relationship_create(
                    actor=actor,
                    person=party,
                    organisation=matches[0],
                    job_title=form.cleaned_data["job_title"],
                    department=form.cleaned_data["department"],
                )
            except ApplicationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, "Relationship added.")
                return redirect(request, reverse("customers:party_detail", args=[pk]))
    return render(
        request,
        "customers/simple_form.html",
        {"form": form, "party": party, "title": "Link to an organisation"},
    )


@login_required
@require_POST
def relationship_delete(request: HttpRequest, pk: int, relationship_pk: int) -> HttpResponse:
    actor = _actor(request)
    relationship = Relationship.objects.restrict(actor, "view").filter(pk=relationship_pk).first()
    if relationship is None or pk not in (relationship.person_id, relationship.organisation_id):
        raise Http404
    _run_delete(request, services.relationship_delete, actor=actor, relationship=relationship)
    return redirect(request, reverse("customers:party_detail", args=[pk]))
