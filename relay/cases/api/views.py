"""REST endpoints for cases: thin — validate, resolve ids through the actor's scope, call one service or
selector, serialise. The rules (who may, which transitions, required reasons) are the services'."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from relay.accounts.models import Department, User
from relay.activities.models import TimelineEntry
from relay.activities.services import InteractionInput
from relay.api import serializer_registry
from relay.api.base import VersionedViewSet, idempotent_create, text_param
from relay.cases import selectors, services
from relay.cases.api.filters import CASE_ORDERINGS, DEFAULT_CASE_ORDERING, CaseFilterSet
from relay.cases.api.serializers import (
    AssignSerializer,
    BulkResultSerializer,
    BulkSerializer,
    CaseCategorySerializer,
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseEventSerializer,
    CaseFromCallResultSerializer,
    CaseNoteSerializer,
    CaseSerializer,
    CaseStatusSerializer,
    CaseUpdateSerializer,
    FollowUpSerializer,
    LogFromCallSerializer,
    LogInteractionSerializer,
    MergeSerializer,
    NoteOnlySerializer,
    ReopenSerializer,
    RequestUpdateSerializer,
    ResolveSerializer,
    StatusSerializer,
    TransferSerializer,
    WatchSerializer,
)
from relay.cases.models import Case, CaseCategory, CaseLink, CaseStatus, CaseWatcher
from relay.core.choices import Channel
from relay.core.pagination import Ordering
from relay.customers.models import Party
from relay.customers.services import PartyInput

serializer_registry.register(Case, CaseDetailSerializer)


def _no_such(field: str, what: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [f"No such {what}."]})


def _with_details(case: Case) -> Case:
    """The watchers and links the detail shows, in two queries."""
    prefetch_related_objects(
        [case],
        Prefetch("watchers", queryset=CaseWatcher.objects.select_related("user", "department")),
        Prefetch("links", queryset=CaseLink.objects.select_related("related")),
    )
    return case


_VERSION = OpenApiParameter(
    "version", int, description="The version you read (or send If-Match). Stale: 409; without either: 428."
)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("ordering", str, enum=list(CASE_ORDERINGS))],
        responses=CaseSerializer(many=True),
    ),
)
class CaseViewSet(VersionedViewSet):
    """Cases: a customer's problem, handled by a department until it is solved. Workflow actions are
    `POST /cases/{id}/<action>`; each names the version it changes (If-Match, or `version`)."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    versioned_actions = VersionedViewSet.versioned_actions | {
        "assign",
        "acknowledge",
        "transfer",
        "set_status",
        "resolve",
        "close",
        "reopen",
        "merge",
    }

    # --- resolving ids through the actor's scope -----------------------------------------------------

    def get_queryset(self) -> QuerySet[Case]:
        return selectors.case_queryset(actor=self.actor)

    def get_keyset_ordering(self, request: Request) -> Ordering:
        """The allow-listed sort; anything else is a 400 (user input never reaches order_by())."""
        requested = text_param(request, "ordering", max_length=20) or DEFAULT_CASE_ORDERING
        if requested not in CASE_ORDERINGS:
            raise serializers.ValidationError({"ordering": [f"Choose one of {', '.join(CASE_ORDERINGS)}."]})
        return CASE_ORDERINGS[requested]

    def _case(self, pk: Any) -> Case:
        return self.get_object_or_404(selectors.case_get, actor=self.actor, pk=pk)

    def _other_case(self, field: str, pk: int) -> Case:
        case = selectors.case_queryset(actor=self.actor).filter(pk=pk).first()
        if case is None:
            raise _no_such(field, "case")
        return case

    def _department(self, field: str, pk: int | None) -> Department | None:
        if pk is None:
            return None
        found = Department.objects.restrict(self.actor, "view").filter(pk=pk).first()
        if found is None:
            raise _no_such(field, "department")
        return found

    def _user(self, field: str, pk: int | None) -> User | None:
        if pk is None:
            return None
        found = User.objects.restrict(self.actor, "view").filter(pk=pk).first()
        if found is None:
            raise _no_such(field, "user")
        return found

    def _category(self, pk: int | None) -> CaseCategory | None:
        if pk is None:
            return None
        found = CaseCategory.objects.restrict(self.actor, "view").filter(pk=pk).first()
        if found is None:
            raise _no_such("category", "category")
        return found

    def _party(self, field: str, pk: int) -> Party:
        found = Party.objects.restrict(self.actor, "view").filter(pk=pk).first()
        if found is None:
            raise _no_such(field, "customer")
        return found

    def _watchers(self, data: dict[str, Any]) -> list[User | Department]:
        users = [self._user("watcher_users", pk) for pk in data["watcher_users"]]
        departments = [self._department("watcher_departments", pk) for pk in data["watcher_departments"]]
        return [w for w in (*users, *departments) if w is not None]

    def _valid(self, serializer_class: Any, **kwargs: Any) -> dict[str, Any]:
        data = serializer_class(data=self.request.data, **kwargs)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def _answer(self, pk: Any, status_code: int = status.HTTP_200_OK) -> Response:
        """The case as it is now (after the action), with its ETag."""
        return self.respond(_with_details(self._case(pk)), CaseDetailSerializer, status_code)

    def _event(self, event: Any) -> Response:
        return Response(
            CaseEventSerializer(event, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    # --- reads ---------------------------------------------------------------------------------------

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            CaseSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(responses=CaseDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(_with_details(self._case(pk)), CaseDetailSerializer)

    @extend_schema(responses=CaseDetailSerializer)
    @action(
        detail=False,
        methods=["get"],
        url_path=r"by-number/(?P<number>[^/]{1,40})",
        url_name="by-number",
        pagination_class=None,
        filterset_class=None,
    )
    def by_number(self, request: Request, number: str) -> Response:
        """A case by its number, e.g. `C-000123` (any case of letters)."""
        if "\x00" in number:
            raise serializers.ValidationError({"number": ["Null characters are not allowed."]})
        case = self.get_object_or_404(selectors.case_get_by_number, actor=self.actor, number=number)
        return self.respond(_with_details(case), CaseDetailSerializer)

    @extend_schema(responses=CaseEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def events(self, request: Request, pk: str) -> Response:
        """The case's timeline, oldest first: every event with who, when, and what moved."""
        case = self._case(pk)
        items = selectors.case_events(actor=self.actor, case=case)
        return Response(CaseEventSerializer(items, many=True, context=self.get_serializer_context()).data)

    # --- opening and editing -------------------------------------------------------------------------

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseDetailSerializer})
    def create(self, request: Request) -> Response:
        """Open a case on a customer's file (without a department: the originator's)."""

        def create() -> Response:
            v = self._valid(CaseCreateSerializer)
            case = services.case_open(
                actor=self.actor,
                party=self._party("party", v["party"]),
                subject=v["subject"],
                description=v["description"],
                category=self._category(v["category"]),
                priority=v["priority"],
                channel=v["channel"],
                originator=self._user("originator", v["originator"]),
                originating_department=self._department(
                    "originating_department", v["originating_department"]
                ),
                department=self._department("department", v["department"]),
                assignee=self._user("assignee", v["assignee"]),
                watchers=self._watchers(v),
            )
            return self._answer(case.pk, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @extend_schema(request=CaseUpdateSerializer, responses=CaseDetailSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        """Edit the subject, description, category or priority (only the fields sent change)."""
        case = self._case(pk)
        v = self._valid(CaseUpdateSerializer, partial=True)
        v.pop("version", None)
        if "category" in v:
            v["category"] = self._category(v["category"])
        self.run_versioned(request, services.case_update, actor=self.actor, case=case, changes=v)
        return self._answer(pk)

    @extend_schema(request=CaseUpdateSerializer, responses=CaseDetailSerializer)
    def update(self, request: Request, pk: str) -> Response:
        return self.partial_update(request, pk)

    # --- workflow actions that change the case (versioned) -------------------------------------------

    def _versioned_action(self, pk: str, serializer_class: Any, call: Any) -> Response:
        """Validate the body, run the service with the version the client names, answer with the case."""
        case = self._case(pk)

        def run() -> Response:
            v = self._valid(serializer_class)
            v.pop("version", None)
            self.run_versioned(self.request, call, case=case, **v)
            return self._answer(pk)

        return idempotent_create(self.request, run)

    @extend_schema(request=AssignSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        """Give the case to a member of its department, or back to the queue (`assignee: null`)."""

        def call(*, case: Case, assignee: int | None, note: str, expected_version: int) -> Case:
            return services.case_assign(
                actor=self.actor,
                case=case,
                assignee=self._user("assignee", assignee),
                note=note,
                expected_version=expected_version,
            )

        return self._versioned_action(pk, AssignSerializer, call)

    @extend_schema(request=NoteOnlySerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        """Confirm the case is in the right hands; the originator is told."""
        return self._versioned_action(
            pk, NoteOnlySerializer, lambda **kw: services.case_acknowledge(actor=self.actor, **kw)
        )

    @extend_schema(request=TransferSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def transfer(self, request: Request, pk: str) -> Response:
        """Hand the case to another department and/or person, with a reason and a note."""

        def call(*, case: Case, department: int | None, assignee: int | None, **kw: Any) -> Case:
            return services.case_transfer(
                actor=self.actor,
                case=case,
                department=self._department("department", department),
                assignee=self._user("assignee", assignee),
                **kw,
            )

        return self._versioned_action(pk, TransferSerializer, call)

    @extend_schema(request=StatusSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request: Request, pk: str) -> Response:
        """Move an open case to another open or waiting status."""

        def call(*, case: Case, status: int, **kw: Any) -> Case:
            found = CaseStatus.objects.restrict(self.actor, "view").filter(pk=status).first()
            if found is None:
                raise _no_such("status", "status")
            return services.case_set_status(actor=self.actor, case=case, status=found, **kw)

        return self._versioned_action(pk, StatusSerializer, call)

    @extend_schema(request=ResolveSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        """Resolve with a code and a summary (copies to the watchers and the department's supervisor)."""
        return self._versioned_action(
            pk, ResolveSerializer, lambda **kw: services.case_resolve(actor=self.actor, **kw)
        )

    @extend_schema(request=NoteOnlySerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        """Close a resolved case."""
        return self._versioned_action(
            pk, NoteOnlySerializer, lambda **kw: services.case_close(actor=self.actor, **kw)
        )

    @extend_schema(request=ReopenSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        """Reopen a resolved, or recently closed, case (beyond the window: open a follow-up)."""
        return self._versioned_action(
            pk, ReopenSerializer, lambda **kw: services.case_reopen(actor=self.actor, **kw)
        )

    @extend_schema(request=MergeSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str) -> Response:
        """Merge this case (a duplicate) into `target`; answers with the target. The version is this
        case's; `target_version`, when sent, is checked too."""
        duplicate = self._case(pk)

        def run() -> Response:
            v = self._valid(MergeSerializer)
            target = self._other_case("target", v["target"])
            merged = self.run_versioned(
                request,
                services.case_merge,
                actor=self.actor,
                duplicate=duplicate,
                target=target,
                target_version=v["target_version"],
                reason=v["reason"],
            )
            return self._answer(merged.pk)

        return idempotent_create(request, run)

    # --- appends: they leave the version alone, so they take none ------------------------------------

    @extend_schema(request=CaseNoteSerializer, responses={201: CaseEventSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str) -> Response:
        """A note, internal or visible to the customer; `@username` tells that person."""
        case = self._case(pk)

        def run() -> Response:
            v = self._valid(CaseNoteSerializer)
            return self._event(services.case_add_note(actor=self.actor, case=case, **v))

        return idempotent_create(request, run)

    @extend_schema(request=LogInteractionSerializer, responses={201: CaseEventSerializer})
    @action(detail=True, methods=["post"], url_path="log-interaction", url_name="log-interaction")
    def log_interaction(self, request: Request, pk: str) -> Response:
        """Link a call, e-mail, letter... already on the customer's timeline to the case."""
        case = self._case(pk)

        def run() -> Response:
            v = self._valid(LogInteractionSerializer)
            entry = TimelineEntry.objects.restrict(self.actor, "view").filter(pk=v["interaction"]).first()
            if entry is None:
                raise _no_such("interaction", "interaction")
            return self._event(services.case_log_interaction(actor=self.actor, case=case, interaction=entry))

        return idempotent_create(request, run)

    @extend_schema(request=RequestUpdateSerializer, responses={201: CaseEventSerializer})
    @action(detail=True, methods=["post"], url_path="request-update", url_name="request-update")
    def request_update(self, request: Request, pk: str) -> Response:
        """Ask the handler for news (logged)."""
        case = self._case(pk)

        def run() -> Response:
            v = self._valid(RequestUpdateSerializer)
            return self._event(services.case_request_update(actor=self.actor, case=case, note=v["note"]))

        return idempotent_create(request, run)

    @extend_schema(request=WatchSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def watch(self, request: Request, pk: str) -> Response:
        """Add a watcher: a user, a department, or (neither) yourself. Watching twice changes nothing."""
        return self._watchers_action(pk, services.case_watch)

    @extend_schema(request=WatchSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def unwatch(self, request: Request, pk: str) -> Response:
        """Remove a watcher: a user, a department, or (neither) yourself."""
        return self._watchers_action(pk, services.case_unwatch)

    def _watchers_action(self, pk: str, service: Any) -> Response:
        case = self._case(pk)

        def run() -> Response:
            v = self._valid(WatchSerializer)
            service(
                actor=self.actor,
                case=case,
                user=self._user("user", v["user"]),
                department=self._department("department", v["department"]),
            )
            return self._answer(pk)

        return idempotent_create(request=self.request, create=run)

    # --- new cases from an earlier one, from a call; several at once ---------------------------------

    @extend_schema(request=FollowUpSerializer, responses={201: CaseDetailSerializer})
    @action(detail=True, methods=["post"], url_path="follow-up", url_name="follow-up")
    def follow_up(self, request: Request, pk: str) -> Response:
        """Open a new case on the same file, linked to this one as its follow-up."""
        earlier = self._case(pk)

        def run() -> Response:
            v = self._valid(FollowUpSerializer)
            new = services.case_open_follow_up(
                actor=self.actor,
                case=earlier,
                subject=v["subject"],
                description=v["description"],
                category=self._category(v["category"]),
                priority=v["priority"],
                channel=v["channel"],
                department=self._department("department", v["department"]),
            )
            return self._answer(new.pk, status.HTTP_201_CREATED)

        return idempotent_create(request, run)

    @extend_schema(request=LogFromCallSerializer, responses={201: CaseFromCallResultSerializer})
    @action(detail=False, methods=["post"], url_path="log-from-call", url_name="log-from-call")
    def log_from_call(self, request: Request) -> Response:
        """One request for a call: find the caller by number (or create them from `new_caller`), log the
        call and open the case with the call linked to it."""

        def run() -> Response:
            v = self._valid(LogFromCallSerializer)
            call = v["call"]
            result = services.case_log_from_call(
                actor=self.actor,
                phone=v["phone"],
                subject=v["subject"],
                description=v["description"],
                party=self._party("party", v["party"]) if v["party"] is not None else None,
                new_caller=PartyInput(**v["new_caller"]) if v["new_caller"] else None,
                call=InteractionInput(channel=Channel.PHONE, **call) if call else None,
                category=self._category(v["category"]),
                priority=v["priority"],
                department=self._department("department", v["department"]),
                watchers=self._watchers(v),
            )
            case = _with_details(selectors.case_get(actor=self.actor, pk=result.case.pk))
            case.call, case.party_created = result.call, result.party_created  # type: ignore[attr-defined]
            return self.respond(case, CaseFromCallResultSerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, run)

    @extend_schema(request=BulkSerializer, responses=BulkResultSerializer)
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        """Assign, transfer or close several cases (supervisors and above): each with the version you
        read; all or nothing (a stale one is a 409 with that case's current state)."""

        def run() -> Response:
            v = self._valid(BulkSerializer)
            items = [
                (self._other_case(f"cases.{n}.id", item["id"]), item["version"])
                for n, item in enumerate(v["cases"])
            ]
            assignee = self._user("assignee", v["assignee"])
            if v["action"] == "assign":
                done = services.case_bulk_assign(actor=self.actor, cases=items, assignee=assignee)
            elif v["action"] == "transfer":
                done = services.case_bulk_transfer(
                    actor=self.actor,
                    cases=items,
                    department=self._department("department", v["department"]),
                    assignee=assignee,
                    reason=v["reason"],
                    note=v["note"],
                )
            else:
                done = services.case_bulk_close(actor=self.actor, cases=items, note=v["note"])
            cases = list(selectors.case_queryset(actor=self.actor).filter(pk__in=[c.pk for c in done]))
            data = CaseSerializer(cases, many=True, context=self.get_serializer_context()).data
            return Response({"results": data})

        return idempotent_create(request, run)


class _ConfigViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    model: Any

    def get_queryset(self) -> QuerySet[Any]:
        return self.model.objects.restrict(self.request.user, "view")

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("id")


class CaseCategoryViewSet(_ConfigViewSet):
    """The category tree (read-only here; administrators edit it). `confidential` says whether the
    category's cases are seen only by their circle (itself or an ancestor flagged)."""

    serializer_class = CaseCategorySerializer
    model = CaseCategory


class CaseStatusViewSet(_ConfigViewSet):
    """The configurable statuses, each mapped to a fixed category (read-only here)."""

    serializer_class = CaseStatusSerializer
    model = CaseStatus
