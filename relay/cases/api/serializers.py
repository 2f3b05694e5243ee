"""Request and response schemas of the cases API."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from relay.accounts.models import User
from relay.activities.api import TimelineEntrySerializer
from relay.activities.choices import Direction
from relay.cases.choices import ClockState, Priority, ResolutionCode, SlaStatus, SlaTarget, Visibility
from relay.cases.models import Case, CaseCategory, CaseEvent, CaseLink, CaseStatus, CaseWatcher, SlaClock
from relay.cases.permissions import confidential_category_ids
from relay.core.choices import Channel
from relay.customers.choices import PartyKind


def _secret_ids(serializer: serializers.Field) -> set[int]:
    """The confidential category ids, computed once per response (a list shares its root's context)."""
    context = cast(dict[str, Any], serializer.context)
    if "confidential_category_ids" not in context:
        context["confidential_category_ids"] = confidential_category_ids()
    return context["confidential_category_ids"]


def _name(user: User | None) -> str | None:
    return user.display_name if user is not None else None


def _label(obj: Any) -> str | None:
    """The `name` of a related row, or None when there is none."""
    return obj.name if obj is not None else None


# --- configuration ----------------------------------------------------------------------------------------


class CaseCategorySerializer(serializers.ModelSerializer):
    confidential = serializers.SerializerMethodField(
        help_text="Confidential itself or below a confidential category: only their circle sees its cases"
    )

    class Meta:
        model = CaseCategory
        fields = ["id", "name", "slug", "parent", "is_confidential", "confidential", "is_active"]

    def get_confidential(self, obj: CaseCategory) -> bool:
        return obj.pk in _secret_ids(self)


class CaseStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseStatus
        fields = ["id", "name", "category", "order", "is_default", "is_active"]


# --- cases ------------------------------------------------------------------------------------------------


class CaseSerializer(serializers.ModelSerializer):
    party_name = serializers.CharField(source="party.display_name", read_only=True)
    category_name = serializers.SerializerMethodField()
    confidential = serializers.SerializerMethodField()
    department_name = serializers.CharField(source="department.name", read_only=True)
    assignee_name = serializers.SerializerMethodField()
    status_name = serializers.CharField(source="status.name", read_only=True)
    # blank until set (a read-only model field would drop allow_blank from the schema)
    channel = serializers.ChoiceField(choices=Channel.choices, allow_blank=True, read_only=True)
    resolution_code = serializers.ChoiceField(
        choices=ResolutionCode.choices, allow_blank=True, read_only=True
    )
    sla_status = serializers.ChoiceField(
        choices=SlaStatus.choices,
        allow_blank=True,
        read_only=True,
        help_text="The worst of the case's live SLA clocks; empty: no SLA applies",
    )
    sla_due_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="The earliest due time of its running clocks"
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "party",
            "party_name",
            "subject",
            "description",
            "category",
            "category_name",
            "confidential",
            "priority",
            "channel",
            "originator",
            "originating_department",
            "department",
            "department_name",
            "assignee",
            "assignee_name",
            "status",
            "status_name",
            "status_category",
            "resolution_code",
            "resolution_summary",
            "opened_at",
            "acknowledged_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "last_activity_at",
            "merged_into",
            "reopened_count",
            "sla_status",
            "sla_due_at",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    def get_category_name(self, obj: Case) -> str | None:
        return _label(obj.category)

    def get_confidential(self, obj: Case) -> bool:
        return obj.category_id is not None and obj.category_id in _secret_ids(self)

    def get_assignee_name(self, obj: Case) -> str | None:
        return _name(obj.assignee)


class CaseWatcherSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = CaseWatcher
        fields = ["id", "user", "department", "name", "added_by", "created_at"]

    def get_name(self, obj: CaseWatcher) -> str:
        return _name(obj.user) or _label(obj.department) or ""


class CaseLinkSerializer(serializers.ModelSerializer):
    related_number = serializers.CharField(source="related.number", read_only=True)

    class Meta:
        model = CaseLink
        fields = ["id", "kind", "related", "related_number", "created_at"]


class CaseSlaClockSerializer(serializers.Serializer):
    """One of the case's SLA clocks, as the case detail shows it (all of it: /api/v1/sla-clocks/)."""

    target = serializers.ChoiceField(choices=SlaTarget.choices)
    state = serializers.ChoiceField(choices=ClockState.choices)
    due_at = serializers.DateTimeField(allow_null=True, help_text="Empty while paused or stopped")
    warn_at = serializers.DateTimeField(allow_null=True)
    business_minutes = serializers.SerializerMethodField(help_text="Business minutes used (this cycle)")
    paused_seconds = serializers.SerializerMethodField(help_text="Wall-clock seconds paused, all cycles")
    level = serializers.IntegerField(help_text="Escalation levels applied this cycle (1: breached)")
    breaches = serializers.IntegerField(help_text="Cycles that ran out")

    def get_business_minutes(self, obj: SlaClock) -> int:
        from relay.cases.services.sla import business_minutes

        return business_minutes(obj)

    def get_paused_seconds(self, obj: SlaClock) -> int:
        from relay.cases.sla_api import paused_seconds

        return paused_seconds(obj)


class CaseDetailSerializer(CaseSerializer):
    watchers = CaseWatcherSerializer(many=True, read_only=True)
    links = CaseLinkSerializer(many=True, read_only=True)
    merged_into_number = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField(help_text="The case's SLA clocks, one per target")

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "merged_into_number", "watchers", "links", "sla"]
        read_only_fields = fields

    def get_merged_into_number(self, obj: Case) -> str | None:
        return obj.merged_into.number if obj.merged_into is not None else None

    @extend_schema_field(CaseSlaClockSerializer(many=True))
    def get_sla(self, obj: Case) -> list[dict[str, Any]]:
        prefetched = getattr(obj, "_prefetched_objects_cache", {}).get("sla_clocks")
        clocks = prefetched if prefetched is not None else obj.sla_clocks.select_related("calendar")
        return list(CaseSlaClockSerializer(clocks, many=True).data)


class CaseFromCallResultSerializer(CaseDetailSerializer):
    """The case opened from a call, with the call logged on the caller's file."""

    call = TimelineEntrySerializer(read_only=True)
    party_created = serializers.BooleanField(read_only=True, help_text="The caller was not on file yet")

    class Meta(CaseDetailSerializer.Meta):
        fields = [*CaseDetailSerializer.Meta.fields, "call", "party_created"]
        read_only_fields = fields


class CaseEventSerializer(serializers.ModelSerializer):
    headline = serializers.SerializerMethodField()
    actor_name = serializers.SerializerMethodField()
    from_status_name = serializers.SerializerMethodField()
    to_status_name = serializers.SerializerMethodField()
    from_department_name = serializers.SerializerMethodField()
    to_department_name = serializers.SerializerMethodField()
    from_assignee_name = serializers.SerializerMethodField()
    to_assignee_name = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "case",
            "kind",
            "headline",
            "at",
            "actor",
            "actor_name",
            "from_status",
            "from_status_name",
            "to_status",
            "to_status_name",
            "from_department",
            "from_department_name",
            "to_department",
            "to_department_name",
            "from_assignee",
            "from_assignee_name",
            "to_assignee",
            "to_assignee_name",
            "reason",
            "note",
            "visibility",
            "data",
            "entry",
        ]
        read_only_fields = fields

    def get_headline(self, obj: CaseEvent) -> str:
        return str(obj.data.get("headline", "")) if isinstance(obj.data, dict) else ""

    def get_actor_name(self, obj: CaseEvent) -> str | None:
        return _name(obj.actor)

    def get_from_status_name(self, obj: CaseEvent) -> str | None:
        return _label(obj.from_status)

    def get_to_status_name(self, obj: CaseEvent) -> str | None:
        return _label(obj.to_status)

    def get_from_department_name(self, obj: CaseEvent) -> str | None:
        return _label(obj.from_department)

    def get_to_department_name(self, obj: CaseEvent) -> str | None:
        return _label(obj.to_department)

    def get_from_assignee_name(self, obj: CaseEvent) -> str | None:
        return _name(obj.from_assignee)

    def get_to_assignee_name(self, obj: CaseEvent) -> str | None:
        return _name(obj.to_assignee)


# --- requests ---------------------------------------------------------------------------------------------
# Ids are plain integers here: the endpoint resolves them through the actor's scope (a record the actor
# may not see is "no such ..." on its field), and the services check the rules.


def _text(max_length: int | None = None, **kwargs: Any) -> serializers.CharField:
    options: dict[str, Any] = {"required": False, "allow_blank": True, "default": ""}
    options.update(kwargs)
    return serializers.CharField(max_length=max_length or 1_000_000, **options)


def _id(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=2**63 - 1, **kwargs)


class VersionField(serializers.IntegerField):
    """Documented here; read and checked by VersionedViewSet (If-Match or this field)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            min_value=0,
            max_value=2**31 - 1,
            help_text="The version you read (or send If-Match). Stale: 409; without either: 428.",
            **kwargs,
        )


class CaseCreateSerializer(serializers.Serializer):
    party = _id()
    subject = serializers.CharField(max_length=255)
    description = _text()
    category = _id(required=False, allow_null=True, default=None)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True, default="")
    originator = _id(required=False, allow_null=True, default=None)
    originating_department = _id(required=False, allow_null=True, default=None)
    department = _id(
        required=False, allow_null=True, default=None, help_text="Empty: the originator's department"
    )
    assignee = _id(required=False, allow_null=True, default=None)
    watcher_users = serializers.ListField(child=_id(), required=False, default=list, max_length=50)
    watcher_departments = serializers.ListField(child=_id(), required=False, default=list, max_length=50)


class CaseUpdateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(max_length=1_000_000, required=False, allow_blank=True)
    category = _id(required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    version = VersionField()


class AssignSerializer(serializers.Serializer):
    assignee = _id(allow_null=True, help_text="A member of the case's department; null: back to the queue")
    note = _text()
    version = VersionField()


class NoteOnlySerializer(serializers.Serializer):
    note = _text()
    version = VersionField()


class TransferSerializer(serializers.Serializer):
    department = _id(required=False, allow_null=True, default=None, help_text="Empty: the same department")
    assignee = _id(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=255, allow_blank=True)
    note = serializers.CharField(max_length=1_000_000, allow_blank=True)
    version = VersionField()


class CaseNoteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=1_000_000, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.INTERNAL)


class LogInteractionSerializer(serializers.Serializer):
    interaction = _id(help_text="A call, e-mail, letter... already on the same customer's timeline")


class RequestUpdateSerializer(serializers.Serializer):
    note = _text()


class StatusSerializer(serializers.Serializer):
    status = _id(help_text="An open or waiting status (resolve and close have their own actions)")
    note = _text()
    version = VersionField()


class ResolveSerializer(serializers.Serializer):
    resolution_code = serializers.ChoiceField(choices=ResolutionCode.choices)
    resolution_summary = serializers.CharField(max_length=1_000_000, allow_blank=True)
    version = VersionField()


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1_000_000, allow_blank=True)
    version = VersionField()


class FollowUpSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=255)
    description = _text()
    category = _id(required=False, allow_null=True, default=None, help_text="Empty: the earlier case's")
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, allow_null=True, default=None, help_text="Empty: as before"
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True, default="")
    department = _id(required=False, allow_null=True, default=None, help_text="Empty: the earlier case's")


class MergeSerializer(serializers.Serializer):
    target = _id(help_text="The case that stays; this case (the duplicate) is closed into it")
    target_version = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=2**31 - 1
    )
    reason = _text(255)
    version = VersionField()


class WatchSerializer(serializers.Serializer):
    user = _id(required=False, allow_null=True, default=None, help_text="Empty (and no department): you")
    department = _id(required=False, allow_null=True, default=None)


class NewCallerSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PartyKind.choices, default=PartyKind.PERSON)
    given_name = _text(100)
    family_name = _text(100)
    organisation_name = _text(200)


class CallSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=Direction.choices, default=Direction.INBOUND)
    subject = _text(255)
    body = _text()
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    duration_seconds = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=2**31 - 1
    )


class LogFromCallSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=40, help_text="The caller's number, any format")
    party = _id(required=False, allow_null=True, default=None, help_text="The caller, when several match")
    new_caller = NewCallerSerializer(
        required=False, allow_null=True, default=None, help_text="Who is calling, when nobody has the number"
    )
    call = CallSerializer(required=False, allow_null=True, default=None, help_text="Empty: the case's text")
    subject = serializers.CharField(max_length=255)
    description = _text()
    category = _id(required=False, allow_null=True, default=None)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    department = _id(required=False, allow_null=True, default=None)
    watcher_users = serializers.ListField(child=_id(), required=False, default=list, max_length=50)
    watcher_departments = serializers.ListField(child=_id(), required=False, default=list, max_length=50)


class BulkItemSerializer(serializers.Serializer):
    id = _id()
    version = serializers.IntegerField(min_value=0, max_value=2**31 - 1)


BULK_ACTIONS = ("assign", "transfer", "close")


class BulkSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(a, a) for a in BULK_ACTIONS])
    cases = BulkItemSerializer(many=True, help_text="The cases and the versions you read; all or nothing")
    assignee = _id(required=False, allow_null=True, default=None, help_text="assign, transfer")
    department = _id(required=False, allow_null=True, default=None, help_text="transfer")
    reason = _text(255, help_text="transfer")
    note = _text(help_text="transfer, close")


class BulkResultSerializer(serializers.Serializer):
    results = CaseSerializer(many=True)
