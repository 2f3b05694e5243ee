"""Cases: a customer's problem that moves between departments until it is solved.

A case's own history is `CaseEvent` (append-only); each event is also a `kind="case"` entry on the
party's timeline (`CaseEvent.entry`), so every department reading the customer file sees the story.
Statuses are configurable rows mapped to a fixed `StatusCategory`; `CaseStatusSpan` records every
status the case was in, from when to when (SLA and analytics read it). See docs/adr/0008-cases.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from relay.cases.choices import (
    OPEN_CATEGORIES,
    EventKind,
    LinkKind,
    Priority,
    ResolutionCode,
    StatusCategory,
    Visibility,
)
from relay.cases.routing import DEPARTMENT_STRATEGIES, Assignment
from relay.core import clock
from relay.core.audit import AuditedHistoryModel
from relay.core.choices import Channel
from relay.core.models import RestrictedQuerySet, TimeStampedModel, VersionedModel

NUMBER_PREFIX = "C-"


def format_case_number(value: int) -> str:
    return f"{NUMBER_PREFIX}{value:06d}"


class CaseCategory(TimeStampedModel):
    """A node of the configurable category tree. A confidential node makes its whole subtree confidential."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_confidential = models.BooleanField(
        default=False,
        help_text="Only the handling department, watchers, the originator and managers see these cases",
    )
    is_active = models.BooleanField(default=True)

    objects = RestrictedQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditedHistoryModel])

    class Meta:
        verbose_name_plural = "case categories"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="case_category_unique_name",
                violation_error_message="A category with this name already exists here.",
            ),
            # NULL parents never collide in a plain unique constraint: the top level needs its own
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(parent__isnull=True),
                name="case_category_unique_root_name",
                violation_error_message="A top-level category with this name already exists.",
            ),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="case_category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class CaseStatus(TimeStampedModel):
    """A configurable status. Logic reads only `category`; the name is what people see."""

    name = models.CharField(max_length=60, unique=True)
    category = models.CharField(max_length=20, choices=StatusCategory.choices)
    order = models.PositiveSmallIntegerField(default=0)
    is_default = models.BooleanField(
        default=False, help_text="The status a case enters when the workflow moves it to this category"
    )
    is_active = models.BooleanField(default=True)

    objects = RestrictedQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditedHistoryModel])

    class Meta:
        verbose_name_plural = "case statuses"
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["category"],
                condition=Q(is_default=True),
                name="case_status_one_default_per_category",
                violation_error_message="Another status is already the default of this category.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CaseNumber(models.Model):
    """The counter behind case numbers: one insert per case, its auto-increment id is the number.

    An insert needs no lock (PostgreSQL sequences are not transactional; SQLite writes are serialised by
    BEGIN IMMEDIATE), so concurrent openings never wait for each other and never share a number.
    A rolled-back opening leaves a gap, as a sequence does.
    """

    id = models.BigAutoField(primary_key=True)

    objects = RestrictedQuerySet.as_manager()

    def __str__(self) -> str:
        return format_case_number(self.pk)


class CaseQuerySet(RestrictedQuerySet):
    def open(self) -> CaseQuerySet:
        return self.filter(status_category__in=OPEN_CATEGORIES)


class Case(VersionedModel):
    number = models.CharField(max_length=20, unique=True, editable=False)
    party = models.ForeignKey("customers.Party", on_delete=models.PROTECT, related_name="cases")
    subject = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        CaseCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=12, choices=Channel.choices, blank=True)
    originator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="originated_cases",
    )
    originating_department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="originated_cases",
    )
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="cases")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
    )
    status = models.ForeignKey(CaseStatus, on_delete=models.PROTECT, related_name="cases")
    status_category = models.CharField(max_length=20, choices=StatusCategory.choices, editable=False)
    resolution_code = models.CharField(max_length=20, choices=ResolutionCode.choices, blank=True)
    resolution_summary = models.TextField(blank=True)
    opened_at = models.DateTimeField(default=clock.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(default=clock.now)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_cases"
    )
    reopened_count = models.PositiveIntegerField(default=0)

    objects = CaseQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditedHistoryModel])

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(
                fields=["department", "status_category", "-opened_at", "-id"], name="case_queue_idx"
            ),
            # the open queue (all open categories at once) in its two usual orders: a keyset page walks
            # the index instead of sorting every open case of the department (52 ms -> 0.5 ms at 1 M)
            models.Index(
                fields=["department", "-opened_at", "-id"],
                name="case_open_opened_idx",
                condition=Q(status_category__in=sorted(OPEN_CATEGORIES)),
            ),
            models.Index(
                fields=["department", "-last_activity_at", "-id"],
                name="case_open_activity_idx",
                condition=Q(status_category__in=sorted(OPEN_CATEGORIES)),
            ),
            models.Index(fields=["assignee", "status_category", "-opened_at"], name="case_assignee_idx"),
            models.Index(fields=["party", "-opened_at"], name="case_party_idx"),
            models.Index(fields=["category"], name="case_category_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(merged_into=F("id")), name="case_not_merged_into_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def get_absolute_url(self) -> str:
        """The case page of the staff UI (also the `url` of every notification about the case)."""
        return f"/cases/{self.pk}/"

    def is_open(self) -> bool:
        return self.status_category in OPEN_CATEGORIES

    def is_resolved(self) -> bool:
        return self.status_category == StatusCategory.RESOLVED

    def is_closed(self) -> bool:
        return self.status_category == StatusCategory.CLOSED


class CaseWatcher(models.Model):
    """Who gets copies of what happens on a case: a user, or every member of a department."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="watchers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="watching"
    )
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="watching"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["case_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(department__isnull=True))
                | (Q(user__isnull=True) & Q(department__isnull=False)),
                name="case_watcher_user_xor_department",
                violation_error_message="A watcher is either a user or a department.",
            ),
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=Q(user__isnull=False),
                name="case_watcher_unique_user",
                violation_error_message="This user already watches the case.",
            ),
            models.UniqueConstraint(
                fields=["case", "department"],
                condition=Q(department__isnull=False),
                name="case_watcher_unique_department",
                violation_error_message="This department already watches the case.",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "case"], name="case_watcher_user_idx"),
            models.Index(fields=["department", "case"], name="case_watcher_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} watched by {self.user or self.department}"


class CaseLink(models.Model):
    """`case` is a <kind> of `related`: C-2 is a follow-up of C-1, C-3 is a duplicate of C-1."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links")
    related = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="linked_from")
    kind = models.CharField(max_length=12, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["case_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "related"], name="case_link_unique"),
            models.CheckConstraint(condition=~Q(case=F("related")), name="case_link_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} of {self.related_id}"


class CaseEvent(models.Model):
    """One thing that happened on a case, with who, when, and the before/after of what moved.

    Append-only: events are written by the services and never edited; a merge re-homes the duplicate's
    events on the surviving case (its `merged` event lists them).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=clock.now)
    from_status = models.ForeignKey(
        CaseStatus, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_status = models.ForeignKey(
        CaseStatus, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    note = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL)
    data = models.JSONField(default=dict, blank=True)
    # the party-timeline row that shows this event
    entry = models.ForeignKey(
        "activities.TimelineEntry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="case_events",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at", "id"], name="case_event_case_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class CaseStatusSpan(models.Model):
    """A status the case was in, from `entered_at` to `left_at` (open while `left_at` is empty)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="status_spans")
    status = models.ForeignKey(CaseStatus, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=20, choices=StatusCategory.choices)
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["case_id", "entered_at", "id"]
        indexes = [models.Index(fields=["case", "entered_at"], name="case_span_case_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(left_at__isnull=True), name="case_span_one_current"
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=F("entered_at")),
                name="case_span_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.category} from {self.entered_at:%Y-%m-%d %H:%M}"


# --- routing (docs/adr/0009-routing.md) ----------------------------------------------------------------


class RoutingRule(VersionedModel):
    """Where a new case goes: the first active rule (by `order`) whose conditions the case meets sends it
    to `department`, optionally with a priority, and says who there gets it (`assignment`).

    The conditions are lists held on the row itself (ids for categories, originators and originating
    departments; values for the rest), so one history row is the whole rule as it was. Matching is pure:
    relay/cases/routing.py.
    """

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0, help_text="Rules are tried from the lowest order up")
    # conditions: an empty list does not constrain; within one list, any value matches
    categories = models.JSONField(default=list, blank=True, help_text="Category ids (each with its subtree)")
    channels = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True, help_text="Whole words or phrases")
    tiers = models.JSONField(default=list, blank=True, help_text="Tier names (tags 'tier-<name>')")
    tags = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True, help_text="Address regions or country codes")
    roles = models.JSONField(default=list, blank=True)
    originators = models.JSONField(default=list, blank=True, help_text="User ids")
    originating_departments = models.JSONField(default=list, blank=True, help_text="Department ids")
    # actions
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="routing_rules"
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    assignment = models.CharField(max_length=12, choices=Assignment.choices, default=Assignment.DEPARTMENT)

    objects = RestrictedQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditedHistoryModel])

    class Meta:
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["is_active", "order", "id"], name="routing_rule_order_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="routing_rule_unique_name",
                violation_error_message="Another rule already has this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentRouting(VersionedModel):
    """A department's assignment setting, and its round-robin pointer.

    `strategy` is used when a case reaches the department without a rule saying otherwise (chosen by the
    agent with auto-assignment, the default queue, or a rule set to "the department's own setting").
    `last_assigned` is the round-robin pointer: the row is locked (`select_for_update`) while the next
    member is chosen, and the pointer is moved with a queryset update, which writes no history row.
    """

    department = models.OneToOneField(
        "accounts.Department", primary_key=True, on_delete=models.CASCADE, related_name="routing"
    )
    strategy = models.CharField(
        max_length=12,
        choices=[(v, Assignment(v).label) for v in DEPARTMENT_STRATEGIES],
        default=Assignment.MANUAL,
    )
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditedHistoryModel], excluded_fields=["last_assigned"])

    class Meta:
        verbose_name = "department routing"
        constraints = [
            models.CheckConstraint(
                condition=Q(strategy__in=list(DEPARTMENT_STRATEGIES)), name="department_routing_strategy"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department_id}: {self.strategy}"
