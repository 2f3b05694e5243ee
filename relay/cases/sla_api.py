"""REST endpoints of the SLA configuration and its timers (issue 4, point 5).

* `/api/v1/sla-policies/`: CRUD with versioned updates, in the order they are tried; `POST
  /api/v1/sla-policies/{id}/preview/` says when a case opened at `start` (default now) would be due.
* `/api/v1/business-calendars/`: CRUD; `GET .../{id}/holidays/?year=` lists the days it is closed.
* `/api/v1/department-calendars/`: every department and the calendar it works to; PUT/PATCH sets it.
* `/api/v1/sla-clocks/` and `/api/v1/sla-alerts/`: read-only, scoped like their cases (a clock or alert
  of a case the user may not see is invisible).

Every staff member reads all of it; managers and admins write (`cases.manage_sla`), others get a 403.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from relay.accounts.models import Department, User
from relay.api import serializer_registry
from relay.api.base import VersionedViewSet, idempotent_create
from relay.cases.api.config import ConfigViewSet, choice_list, id_list, text_list
from relay.cases.api.filters import IdFilter
from relay.cases.choices import (
    ClockState,
    EscalationReassign,
    OnTransfer,
    Priority,
    SlaTarget,
)
from relay.cases.models import BusinessCalendar, DepartmentCalendar, SlaAlert, SlaClock, SlaPolicy
from relay.cases.services import sla, sla_config
from relay.cases.sla import CalendarError
from relay.core import clock
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError, NotAllowed
from relay.core.filters import UtcDateTimeFilter
from relay.core.pagination import Ordering

_BIG = 2**63 - 1
FIRST_YEAR, LAST_YEAR = sla_config.FIRST_YEAR, sla_config.LAST_YEAR
_YEAR_TEXT = re.compile(r"[0-9]{4}")


def _require_manager(actor: User) -> None:
    if not actor.has_perm("cases.manage_sla"):
        raise NotAllowed("Only managers and administrators configure SLA policies and calendars.")


def _target(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1, max_value=sla_config.MAX_TARGET_MINUTES, allow_null=True, **kwargs
    )


# --- calendars ---------------------------------------------------------------------------------------------

_HOURS_HELP = (
    'Working hours by weekday, "0" = Monday .. "6" = Sunday: a list of ["HH:MM", "HH:MM"] intervals in '
    'order, without overlaps ("24:00" ends a day); a missing or empty weekday is closed.'
)


def _hours(**kwargs: Any) -> serializers.DictField:
    interval = serializers.ListField(child=serializers.CharField(max_length=5), min_length=2, max_length=2)
    return serializers.DictField(
        child=serializers.ListField(child=interval, max_length=sla_config.MAX_INTERVALS),
        help_text=_HOURS_HELP,
        **kwargs,
    )


class HolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(max_length=sla_config.MAX_HOLIDAY_NAME)


class BusinessCalendarSerializer(serializers.ModelSerializer):
    hours = _hours(read_only=True)
    custom_holidays = HolidaySerializer(many=True, read_only=True)
    holiday_country = serializers.CharField(read_only=True, allow_blank=True)
    holiday_subdivision = serializers.CharField(read_only=True, allow_blank=True)
    policies = serializers.SerializerMethodField(help_text="Ids of the policies that use the calendar")
    departments = serializers.SerializerMethodField(help_text="Ids of the departments that work to it")

    class Meta:
        model = BusinessCalendar
        fields = [
            "id",
            "name",
            "description",
            "time_zone",
            "always_open",
            "hours",
            "holiday_country",
            "holiday_subdivision",
            "custom_holidays",
            "is_default",
            "policies",
            "departments",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_policies(self, obj: BusinessCalendar) -> list[int]:
        return [p.pk for p in obj.policies.all()]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_departments(self, obj: BusinessCalendar) -> list[int]:
        return [d.department_id for d in obj.departments.all()]


class BusinessCalendarWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    time_zone = serializers.CharField(
        max_length=64, default="UTC", help_text="An IANA zone, e.g. Europe/Berlin"
    )
    always_open = serializers.BooleanField(default=False, help_text="24/7: every hour counts")
    hours = _hours(required=False, default=dict)
    holiday_country = serializers.CharField(
        max_length=8, required=False, allow_blank=True, default="", help_text="ISO code, e.g. DE"
    )
    holiday_subdivision = serializers.CharField(
        max_length=16, required=False, allow_blank=True, default="", help_text="Region code, e.g. BY"
    )
    custom_holidays = serializers.ListField(
        child=HolidaySerializer(), max_length=sla_config.MAX_HOLIDAYS, required=False, default=list
    )
    is_default = serializers.BooleanField(
        default=False, help_text="Used where no policy or department names one (takes the flag from another)"
    )


class BusinessCalendarUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    time_zone = serializers.CharField(max_length=64, required=False)
    always_open = serializers.BooleanField(required=False)
    hours = _hours(required=False)
    holiday_country = serializers.CharField(max_length=8, required=False, allow_blank=True)
    holiday_subdivision = serializers.CharField(max_length=16, required=False, allow_blank=True)
    custom_holidays = serializers.ListField(
        child=HolidaySerializer(), max_length=sla_config.MAX_HOLIDAYS, required=False
    )
    is_default = serializers.BooleanField(required=False)
    version = serializers.IntegerField(required=False)


class CalendarHolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField()
    custom = serializers.BooleanField(help_text="One of the calendar's own dates (else a preset)")


class HolidayListSerializer(serializers.Serializer):
    calendar = serializers.IntegerField()
    year = serializers.IntegerField()
    holidays = CalendarHolidaySerializer(many=True)


def _calendar_input_values(data: dict[str, Any]) -> dict[str, Any]:
    """The write serializer's values as the service takes them (holidays' dates as ISO text)."""
    values = dict(data)
    if "custom_holidays" in values:
        values["custom_holidays"] = [
            {"date": h["date"].isoformat(), "name": h["name"]} for h in values["custom_holidays"]
        ]
    return values


serializer_registry.register(BusinessCalendar, BusinessCalendarSerializer)


def _calendars(user: Any) -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.restrict(user, "view").prefetch_related(
        Prefetch("policies", queryset=SlaPolicy.objects.only("id", "calendar_id").order_by("id")),
        Prefetch("departments", queryset=DepartmentCalendar.objects.order_by("department_id")),
    )


_YEAR = OpenApiParameter("year", int, description=f"The year ({FIRST_YEAR}-{LAST_YEAR}); default: this year")


class BusinessCalendarViewSet(ConfigViewSet):
    """Business calendars: when SLA clocks count (working hours in a zone, minus holidays, or 24/7)."""

    serializer_class = BusinessCalendarSerializer
    filterset_class = None

    def get_queryset(self) -> QuerySet[BusinessCalendar]:
        return _calendars(self.request.user)

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("name")

    @extend_schema(request=BusinessCalendarWriteSerializer, responses={201: BusinessCalendarSerializer})
    def create(self, request: Request) -> Response:
        _require_manager(self.actor)

        def create() -> Response:
            data = BusinessCalendarWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = _calendar_input_values(data.validated_data)
            row = sla_config.calendar_create(actor=self.actor, data=sla_config.CalendarInput(**values))
            return self.respond(self.row(row.pk), BusinessCalendarSerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @extend_schema(request=BusinessCalendarUpdateSerializer, responses=BusinessCalendarSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        row = self.row(pk)
        _require_manager(self.actor)
        data = BusinessCalendarUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = _calendar_input_values({k: v for k, v in data.validated_data.items() if k != "version"})
        self.run_versioned(
            request, sla_config.calendar_update, actor=self.actor, calendar=row, changes=changes
        )
        return self.respond(self.row(pk), BusinessCalendarSerializer)

    @extend_schema(request=BusinessCalendarUpdateSerializer, responses=BusinessCalendarSerializer)
    def update(self, request: Request, pk: str) -> Response:
        return self.partial_update(request, pk)

    @extend_schema(parameters=[OpenApiParameter("version", int)], responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        """Refused (409) while a policy or department uses the calendar, or while it is the default."""
        row = self.row(pk)
        _require_manager(self.actor)
        self.run_versioned(request, sla_config.calendar_delete, actor=self.actor, calendar=row)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[_YEAR], responses=HolidayListSerializer)
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def holidays(self, request: Request, pk: str) -> Response:
        """The days the calendar is closed in a year: the country's (and region's) presets and its own dates,
        by date. A 24/7 calendar has none."""
        row = self.row(pk)
        raw = request.query_params.get("year")
        if raw is None:
            year = clock.now().year
        else:
            raw = raw.strip()
            if not _YEAR_TEXT.fullmatch(raw) or not FIRST_YEAR <= int(raw) <= LAST_YEAR:
                raise serializers.ValidationError(
                    {"year": [f"A year from {FIRST_YEAR} to {LAST_YEAR} is required."]}
                )
            year = int(raw)
        rows = calendar_holidays(row, year)
        body = {"calendar": row.pk, "year": year, "holidays": rows}
        return Response(HolidayListSerializer(body).data)


def calendar_holidays(row: BusinessCalendar, year: int) -> list[dict[str, Any]]:
    try:
        found = sla_config.holidays_in(row, year)
    except CalendarError as exc:
        raise ApplicationError(str(exc)) from exc
    return [{"date": day, "name": name, "custom": custom} for day, name, custom in found]


# --- department calendars ----------------------------------------------------------------------------------


class DepartmentCalendarSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", help_text="The department's id")
    name = serializers.CharField()
    is_active = serializers.BooleanField()
    calendar = serializers.SerializerMethodField(help_text="Its own calendar; null: the default calendar")
    calendar_name = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_calendar(self, obj: Department) -> int | None:
        link = _link(obj)
        return link.calendar_id if link is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_calendar_name(self, obj: Department) -> str | None:
        link = _link(obj)
        return link.calendar.name if link is not None else None


def _link(department: Department) -> DepartmentCalendar | None:
    try:
        return department.sla_calendar
    except DepartmentCalendar.DoesNotExist:
        return None


class DepartmentCalendarWriteSerializer(serializers.Serializer):
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=BusinessCalendar.objects.all(),
        allow_null=True,
        help_text="The calendar the department works to; null: the default calendar",
    )


class DepartmentCalendarViewSet(VersionedViewSet):
    """Which calendar each department works to (a policy's own calendar wins over it). A setting, not an
    editable record: `POST` says what it is to be, in full (sending it twice changes nothing more)."""

    serializer_class = DepartmentCalendarSerializer

    def get_queryset(self) -> QuerySet[Department]:
        return (
            Department.objects.restrict(self.request.user, "view")
            .select_related("sla_calendar__calendar")
            .order_by("id")
        )

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            DepartmentCalendarSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(DepartmentCalendarSerializer(self._department(pk)).data)

    def _department(self, pk: Any) -> Department:
        return self.get_object_or_404(self.get_queryset().get, pk=pk)

    @extend_schema(request=DepartmentCalendarWriteSerializer, responses={200: DepartmentCalendarSerializer})
    def create(self, request: Request) -> Response:
        """Set the calendar of a department (null: it uses the default calendar)."""
        _require_manager(self.actor)

        def assign() -> Response:
            data = DepartmentCalendarWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            department = data.validated_data["department"]
            sla_config.department_calendar_set(
                actor=self.actor, department=department, calendar=data.validated_data["calendar"]
            )
            return Response(DepartmentCalendarSerializer(self._department(department.pk)).data)

        return idempotent_create(request, assign)


# --- policies ----------------------------------------------------------------------------------------------


class EscalationLevelSerializer(serializers.Serializer):
    after_minutes = serializers.IntegerField(
        min_value=0,
        max_value=sla_config.MAX_TARGET_MINUTES,
        default=0,
        help_text="Business minutes after the due time (level 1: 0, at the breach; later levels: increasing)",
    )
    raise_priority = serializers.BooleanField(default=False)
    reassign = serializers.ChoiceField(choices=EscalationReassign.choices, allow_blank=True, default="")
    department = serializers.IntegerField(
        min_value=1,
        max_value=_BIG,
        allow_null=True,
        default=None,
        help_text="The escalation department (reassign 'department')",
    )


class SlaPolicySerializer(serializers.ModelSerializer):
    priorities = choice_list(Priority.choices, read_only=True)
    categories = id_list(read_only=True)
    departments = id_list(read_only=True)
    channels = choice_list(Channel.choices, read_only=True)
    tiers = text_list(read_only=True)
    escalation = EscalationLevelSerializer(many=True, read_only=True)
    calendar_name = serializers.SerializerMethodField()

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "description",
            "is_active",
            "order",
            "priorities",
            "categories",
            "departments",
            "channels",
            "tiers",
            "acknowledge_minutes",
            "resolve_minutes",
            "update_minutes",
            "warn_percent",
            "calendar",
            "calendar_name",
            "on_transfer",
            "escalation",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_calendar_name(self, obj: SlaPolicy) -> str | None:
        return obj.calendar.name if obj.calendar is not None else None


class SlaPolicyWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(default=True)
    order = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, allow_null=True, default=None
    )
    priorities = choice_list(Priority.choices, required=False, default=list)
    categories = id_list(required=False, default=list, help_text="Category ids; each includes its subtree")
    departments = id_list(required=False, default=list, help_text="Department ids (the handling department)")
    channels = choice_list(Channel.choices, required=False, default=list)
    tiers = text_list(required=False, default=list, help_text="Tier names: the customer's tags 'tier-<name>'")
    acknowledge_minutes = _target(required=False, default=None, help_text="First response, business minutes")
    resolve_minutes = _target(required=False, default=None, help_text="Resolution, business minutes")
    update_minutes = _target(
        required=False,
        default=None,
        help_text="Longest time between updates to the customer, business minutes",
    )
    warn_percent = serializers.IntegerField(min_value=1, max_value=99, default=80)
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=BusinessCalendar.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="null: the department's calendar, else the default one, else 24/7",
    )
    on_transfer = serializers.ChoiceField(choices=OnTransfer.choices, default=OnTransfer.KEEP)
    escalation = serializers.ListField(
        child=EscalationLevelSerializer(), max_length=sla_config.MAX_LEVELS, required=False, default=list
    )


class SlaPolicyUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    order = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    priorities = choice_list(Priority.choices, required=False)
    categories = id_list(required=False)
    departments = id_list(required=False)
    channels = choice_list(Channel.choices, required=False)
    tiers = text_list(required=False)
    acknowledge_minutes = _target(required=False)
    resolve_minutes = _target(required=False)
    update_minutes = _target(required=False)
    warn_percent = serializers.IntegerField(min_value=1, max_value=99, required=False)
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=BusinessCalendar.objects.all(), required=False, allow_null=True
    )
    on_transfer = serializers.ChoiceField(choices=OnTransfer.choices, required=False)
    escalation = serializers.ListField(
        child=EscalationLevelSerializer(), max_length=sla_config.MAX_LEVELS, required=False
    )
    version = serializers.IntegerField(required=False)


class PreviewSerializer(serializers.Serializer):
    start = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When the case would be opened; default: now"
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The handling department (its calendar applies when the policy names none)",
    )


class DueSerializer(serializers.Serializer):
    acknowledge = serializers.DateTimeField(allow_null=True, help_text="First response due")
    resolve = serializers.DateTimeField(allow_null=True, help_text="Resolution due")
    update = serializers.DateTimeField(  # type: ignore[assignment]  # a field, not the method
        allow_null=True, help_text="First update to the customer due"
    )


class PreviewResultSerializer(serializers.Serializer):
    policy = serializers.IntegerField()
    start = serializers.DateTimeField()
    calendar = serializers.IntegerField(allow_null=True, help_text="The calendar that applies; null: 24/7")
    calendar_name = serializers.CharField(allow_null=True)
    time_zone = serializers.CharField(help_text="The calendar's zone (UTC when 24/7 without a calendar)")
    due = DueSerializer()


serializer_registry.register(SlaPolicy, SlaPolicySerializer)


def preview_start(value: datetime | None) -> datetime:
    """The preview's start in UTC (now by default); a 400 outside the years a preview covers."""
    if value is None:
        return clock.now()
    try:
        start = value.astimezone(UTC)
    except (OverflowError, ValueError):
        start = None
    if start is None or not FIRST_YEAR <= start.year <= LAST_YEAR:
        raise serializers.ValidationError({"start": [f"Choose a time from {FIRST_YEAR} to {LAST_YEAR}."]})
    return start


class SlaPolicyViewSet(ConfigViewSet):
    """SLA policies, in the order they are tried (the first active one a case matches applies)."""

    serializer_class = SlaPolicySerializer
    filterset_class = None

    def get_queryset(self) -> QuerySet[SlaPolicy]:
        return SlaPolicy.objects.restrict(self.request.user, "view").select_related("calendar")

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("order")

    @extend_schema(request=SlaPolicyWriteSerializer, responses={201: SlaPolicySerializer})
    def create(self, request: Request) -> Response:
        _require_manager(self.actor)

        def create() -> Response:
            data = SlaPolicyWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            policy = sla_config.policy_create(
                actor=self.actor, data=sla_config.PolicyInput(**data.validated_data)
            )
            return self.respond(self.row(policy.pk), SlaPolicySerializer, status.HTTP_201_CREATED)

        return idempotent_create(request, create)

    @extend_schema(request=SlaPolicyUpdateSerializer, responses=SlaPolicySerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        policy = self.row(pk)
        _require_manager(self.actor)
        data = SlaPolicyUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if k != "version"}
        self.run_versioned(
            request, sla_config.policy_update, actor=self.actor, policy=policy, changes=changes
        )
        return self.respond(self.row(pk), SlaPolicySerializer)

    @extend_schema(request=SlaPolicyUpdateSerializer, responses=SlaPolicySerializer)
    def update(self, request: Request, pk: str) -> Response:
        return self.partial_update(request, pk)

    @extend_schema(parameters=[OpenApiParameter("version", int)], responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        policy = self.row(pk)
        _require_manager(self.actor)
        self.run_versioned(request, sla_config.policy_delete, actor=self.actor, policy=policy)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PreviewSerializer, responses=PreviewResultSerializer)
    @action(detail=True, methods=["post"], pagination_class=None, filterset_class=None)
    def preview(self, request: Request, pk: str) -> Response:
        """When a case opened at `start` under this policy would be due, per target, on the calendar that
        would apply (the policy's, else the department's, else the default, else 24/7). Nothing is written;
        any staff member may ask."""
        policy = self.row(pk)
        data = PreviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        start = preview_start(data.validated_data["start"])
        department = data.validated_data["department"]
        calendar = sla.calendar_for(policy, department.pk if department else None)
        try:
            due = sla.due_preview(
                policy=policy, start=start, department_id=department.pk if department else None
            )
        except CalendarError as exc:
            raise ApplicationError(str(exc)) from exc
        body = {
            "policy": policy.pk,
            "start": start,
            "calendar": calendar.pk if calendar else None,
            "calendar_name": calendar.name if calendar else None,
            "time_zone": calendar.time_zone if calendar else "UTC",
            "due": due,
        }
        return Response(PreviewResultSerializer(body).data)


# --- clocks and alerts -------------------------------------------------------------------------------------


class SlaClockSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True)
    policy_name = serializers.SerializerMethodField()
    target_minutes = serializers.SerializerMethodField(help_text="The target, business minutes")
    business_minutes = serializers.SerializerMethodField(
        help_text="Business minutes used so far (this cycle)"
    )
    paused_seconds = serializers.SerializerMethodField(help_text="Wall-clock seconds paused, all cycles")

    class Meta:
        model = SlaClock
        fields = [
            "id",
            "case",
            "case_number",
            "target",
            "state",
            "policy",
            "policy_name",
            "calendar",
            "cycle",
            "target_minutes",
            "business_minutes",
            "paused_seconds",
            "started_at",
            "warn_at",
            "due_at",
            "warned_at",
            "breached_at",
            "stopped_at",
            "level",
            "breaches",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_policy_name(self, obj: SlaClock) -> str | None:
        return obj.policy.name if obj.policy is not None else None

    @extend_schema_field(OpenApiTypes.INT)
    def get_target_minutes(self, obj: SlaClock) -> int:
        return obj.target_seconds // 60

    @extend_schema_field(OpenApiTypes.INT)
    def get_business_minutes(self, obj: SlaClock) -> int:
        return sla.business_minutes(obj, self.context.get("now"))

    @extend_schema_field(OpenApiTypes.INT)
    def get_paused_seconds(self, obj: SlaClock) -> int:
        return paused_seconds(obj, self.context.get("now"))


def paused_seconds(c: SlaClock, at: datetime | None = None) -> int:
    """Wall-clock seconds the clock has been paused, all cycles (up to `at` while paused)."""
    total = c.paused_total or timedelta(0)
    if c.state == ClockState.PAUSED and c.paused_at is not None:
        total += max((at or clock.now()) - c.paused_at, timedelta(0))
    return int(total.total_seconds())


class SlaAlertSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True)
    kind = serializers.SerializerMethodField(
        help_text="warning (level 0), breach (1) or escalation (2 and up)"
    )

    class Meta:
        model = SlaAlert
        fields = [
            "id",
            "case",
            "case_number",
            "clock",
            "target",
            "cycle",
            "level",
            "kind",
            "due_at",
            "at",
            "late_seconds",
            "department",
            "assignee",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["warning", "breach", "escalation"]))
    def get_kind(self, obj: SlaAlert) -> str:
        return "warning" if obj.level == 0 else "breach" if obj.level == 1 else "escalation"


class SlaClockFilterSet(django_filters.FilterSet):
    case = IdFilter(field_name="case_id", label="Case (id)")
    target = django_filters.ChoiceFilter(choices=SlaTarget.choices)
    state = django_filters.MultipleChoiceFilter(
        choices=ClockState.choices, label="State (repeat for several)"
    )

    class Meta:
        model = SlaClock
        fields: list[str] = []


@extend_schema_field(OpenApiTypes.INT)
class LevelFilter(django_filters.NumberFilter):
    """An alert level: a whole number (anything else is a 400)."""

    field_class = forms.IntegerField


class SlaAlertFilterSet(django_filters.FilterSet):
    case = IdFilter(field_name="case_id", label="Case (id)")
    department = IdFilter(field_name="department_id", label="Department the case was in (id)")
    target = django_filters.ChoiceFilter(choices=SlaTarget.choices)
    level = LevelFilter(
        field_name="level", min_value=0, max_value=100, label="0 warning, 1 breach, 2... escalation level"
    )
    breach = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_breach",
        label="true: breaches and escalations (level 1 and up); false: warnings",
    )
    since = UtcDateTimeFilter(field_name="at", lookup_expr="gte", label="Recorded at or after")
    until = UtcDateTimeFilter(field_name="at", lookup_expr="lt", label="Recorded before")

    class Meta:
        model = SlaAlert
        fields: list[str] = []

    def filter_breach(self, qs: QuerySet[SlaAlert], name: str, value: str) -> QuerySet[SlaAlert]:
        return qs.filter(level__gte=1) if value == "true" else qs.filter(level=0)


class SlaClockViewSet(VersionedViewSet):
    """Every case's SLA clocks (one per target), readable with the case."""

    serializer_class = SlaClockSerializer
    filterset_class = SlaClockFilterSet

    def get_queryset(self) -> QuerySet[SlaClock]:
        return SlaClock.objects.restrict(self.request.user, "view").select_related(
            "case", "policy", "calendar"
        )

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": clock.now()}

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            SlaClockSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        found = self.get_object_or_404(self.get_queryset().get, pk=pk)
        return Response(SlaClockSerializer(found, context=self.get_serializer_context()).data)


@extend_schema_view(list=extend_schema(description="Newest first."))
class SlaAlertViewSet(VersionedViewSet):
    """Every warning, breach and escalation recorded (once per clock cycle and level), newest first,
    readable with the case."""

    serializer_class = SlaAlertSerializer
    filterset_class = SlaAlertFilterSet

    def get_queryset(self) -> QuerySet[SlaAlert]:
        return SlaAlert.objects.restrict(self.request.user, "view").select_related("case")

    def get_keyset_ordering(self, request: Request) -> Ordering:
        return Ordering("at", descending=True)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            SlaAlertSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        found = self.get_object_or_404(self.get_queryset().get, pk=pk)
        return Response(SlaAlertSerializer(found, context=self.get_serializer_context()).data)


__all__ = [
    "BusinessCalendarViewSet",
    "DepartmentCalendarViewSet",
    "SlaAlertViewSet",
    "SlaClockViewSet",
    "SlaPolicyViewSet",
    "calendar_holidays",
    "paused_seconds",
]
