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

from relay.cases.choices import (
    LIVE_CLOCK_STATES,
    OPEN_CATEGORIES,
    ClockState,
    EventKind,
    LinkKind,
    OnTransfer,
    Priority,
    ResolutionCode,
    SlaStatus,
    SlaTarget,
    StatusCategory,
    Visibility,
)
from relay.cases.routing import DEPARTMENT_STRATEGIES, Assignment
from relay.core import clock
from relay.core.audit import AuditedHistory
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
    history = AuditedHistory()

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
    history = AuditedHistory()

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


# the priority as a number, so "urgent first" sorts (and pages) in the right order; an index of the open
# queue holds the same expression (case_open_priority_idx)
PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


def priority_rank() -> models.Case:
    return models.Case(
        *(models.When(priority=value, then=models.Value(rank)) for value, rank in PRIORITY_RANK.items()),
        default=models.Value(1),
        output_field=models.IntegerField(),
    )


class CaseQuerySet(RestrictedQuerySet):
    def open(self) -> CaseQuerySet:
        return self.filter(status_category__in=OPEN_CATEGORIES)


class Case(VersionedModel):
    # unique by a constraint, not unique=True: that also makes PostgreSQL keep a varchar_pattern_ops
    # copy for LIKE 'prefix%', which nothing asks of a case number; and the foreign keys that lead a
    # composite index below have no index of their own (each index is written on every case update)
    number = models.CharField(max_length=20, editable=False)
    party = models.ForeignKey(
        "customers.Party", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    subject = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        CaseCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="cases", db_index=False
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
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        db_index=False,
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
    # the SLA badge, kept by relay/cases/services/sla.py from the case's clocks (SlaClock): the worst
    # state of its live clocks and the earliest due time of those running. Written with queryset
    # updates, under the case's row lock, without a new version.
    sla_status = models.CharField(
        max_length=10, choices=SlaStatus.choices, blank=True, default="", db_default="", editable=False
    )
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CaseQuerySet.as_manager()
    history = AuditedHistory(excluded_fields=["sla_status", "sla_due_at"])

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
            models.Index(
                F("department"),
                priority_rank().desc(),
                F("id").desc(),
                name="case_open_priority_idx",
                condition=Q(status_category__in=sorted(OPEN_CATEGORIES)),
            ),
            # the "at risk" and "breached" views of a department, soonest due first
            models.Index(
                fields=["department", "sla_status", "sla_due_at", "id"],
                name="case_open_sla_idx",
                condition=Q(status_category__in=sorted(OPEN_CATEGORIES)),
            ),
            models.Index(fields=["assignee", "status_category", "-opened_at"], name="case_assignee_idx"),
            models.Index(fields=["party", "-opened_at"], name="case_party_idx"),
            models.Index(fields=["category"], name="case_category_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="case_number_unique"),
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

    # every case event is written once and read by case (case_event_case_idx): the foreign keys to
    # users, statuses and departments have no index of their own, so an insert updates 3 indexes, not 11;
    # deleting a status or department (PROTECT) or a user (SET_NULL) scans the events, which is rare
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    at = models.DateTimeField(default=clock.now)
    from_status = models.ForeignKey(
        CaseStatus, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    to_status = models.ForeignKey(
        CaseStatus, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    from_department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    to_department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    from_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    to_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
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
    history = AuditedHistory()

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
    history = AuditedHistory(excluded_fields=["last_assigned"])

    class Meta:
        verbose_name = "department routing"
        constraints = [
            models.CheckConstraint(
                condition=Q(strategy__in=list(DEPARTMENT_STRATEGIES)), name="department_routing_strategy"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department_id}: {self.strategy}"


# --- SLA (docs/adr/0010-sla.md) --------------------------------------------------------------------------


class BusinessCalendar(VersionedModel):
    """When the clocks count: working hours per weekday in a time zone, minus holidays (a country's and
    region's presets from the `holidays` package plus custom dates), or 24/7. The arithmetic is pure:
    relay/cases/sla.py."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    always_open = models.BooleanField(default=False, help_text="24/7: every hour counts")
    # weekday ("0" = Monday .. "6" = Sunday) -> [["09:00", "12:00"], ["13:00", "17:00"]]
    hours = models.JSONField(default=dict, blank=True)
    holiday_country = models.CharField(max_length=8, blank=True, help_text="ISO code of the presets")
    holiday_subdivision = models.CharField(max_length=16, blank=True, help_text="Region of the presets")
    # [{"date": "2026-12-24", "name": "Christmas Eve"}]
    custom_holidays = models.JSONField(default=list, blank=True)
    is_default = models.BooleanField(default=False, help_text="Used where no department or policy names one")

    objects = RestrictedQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="business_calendar_one_default",
                violation_error_message="Another calendar is already the default.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentCalendar(models.Model):
    """The calendar a department works to (a policy's own calendar wins over it)."""

    department = models.OneToOneField(
        "accounts.Department", primary_key=True, on_delete=models.CASCADE, related_name="sla_calendar"
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="departments")

    objects = RestrictedQuerySet.as_manager()
    history = AuditedHistory()

    def __str__(self) -> str:
        return f"{self.department_id}: {self.calendar_id}"


class SlaPolicy(VersionedModel):
    """The targets a case works to: the first active policy (by `order`) whose conditions the case meets.

    Conditions are lists on the row (like routing rules): an empty list does not constrain, the values
    of one list are alternatives. Targets are business minutes on the calendar (the policy's, else the
    department's, else the default one, else 24/7); an empty target sets no clock. `escalation` is the
    chain applied once a clock is breached: level 1 at the breach, each later level `after_minutes`
    (business time) after it: [{"after_minutes": 0, "raise_priority": true, "reassign": "supervisor",
    "department": null}, ...].
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0, help_text="Policies are tried from the lowest order up")
    priorities = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True, help_text="Category ids (each with its subtree)")
    departments = models.JSONField(default=list, blank=True, help_text="Department ids")
    channels = models.JSONField(default=list, blank=True)
    tiers = models.JSONField(default=list, blank=True, help_text="Tier names (tags 'tier-<name>')")
    acknowledge_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolve_minutes = models.PositiveIntegerField(null=True, blank=True)
    update_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Longest time between updates to the customer"
    )
    warn_percent = models.PositiveSmallIntegerField(
        default=80, help_text="Warn the handler when this share of a target is used"
    )
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="policies"
    )
    on_transfer = models.CharField(max_length=10, choices=OnTransfer.choices, default=OnTransfer.KEEP)
    escalation = models.JSONField(default=list, blank=True)

    objects = RestrictedQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        verbose_name_plural = "SLA policies"
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(warn_percent__gte=1) & Q(warn_percent__lte=99), name="sla_policy_warn_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def target_minutes(self, target: str) -> int | None:
        return {
            SlaTarget.ACKNOWLEDGE: self.acknowledge_minutes,
            SlaTarget.RESOLVE: self.resolve_minutes,
            SlaTarget.UPDATE: self.update_minutes,
        }[SlaTarget(target)]


class SlaClock(models.Model):
    """One target of one case: how much business time it may use, how much it has used, when it is due.

    While running, `consumed` is the business time used up to `running_since`; paused (the case waits on
    the customer or a third party) `running_since` is empty and nothing counts. `next_at` is the next
    moment the sweep must look at the clock (the warning, the breach, the next escalation level), empty
    when nothing is pending: the sweep reads a partial index of it. A restart (the update target after
    each update to the customer; all targets on a transfer with "restart") begins a new `cycle`.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sla_clocks", db_index=False)
    target = models.CharField(max_length=12, choices=SlaTarget.choices)
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="clocks"
    )
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="clocks"
    )
    cycle = models.PositiveIntegerField(default=1)
    target_seconds = models.PositiveIntegerField()
    warn_seconds = models.PositiveIntegerField()
    consumed = models.DurationField(help_text="Business time used (up to running_since while running)")
    started_at = models.DateTimeField(help_text="When this cycle started")
    running_since = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_total = models.DurationField(help_text="Wall-clock time spent paused, all cycles")
    warn_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True, help_text="The due time that was missed")
    level = models.PositiveSmallIntegerField(default=0, help_text="Escalation levels applied this cycle")
    next_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    breaches = models.PositiveIntegerField(default=0, help_text="Cycles that ran out, all cycles")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["case_id", "target"]
        constraints = [
            models.UniqueConstraint(fields=["case", "target"], name="sla_clock_one_per_target"),
            models.CheckConstraint(
                condition=~Q(state=ClockState.RUNNING) | Q(running_since__isnull=False),
                name="sla_clock_running_has_start",
            ),
        ]
        indexes = [
            # the sweep: what is due now, soonest first; nothing else is in this index
            models.Index(fields=["next_at"], name="sla_clock_next_idx", condition=Q(next_at__isnull=False)),
            # metrics: clocks stopped in a period
            models.Index(fields=["stopped_at", "target"], name="sla_clock_stopped_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.target} {self.state}"

    def is_live(self) -> bool:
        return self.state in LIVE_CLOCK_STATES


class SlaAlert(models.Model):
    """A warning (level 0), a breach (level 1) or a later escalation level of one clock cycle: recorded
    and notified exactly once. The unique constraint decides, not a check before the insert: a sweep
    inserts with ON CONFLICT DO NOTHING and acts only on the rows that carry its own `token`."""

    # clock, case and department lead the composite indexes below: no index of their own
    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="alerts", db_index=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sla_alerts", db_index=False)
    target = models.CharField(max_length=12, choices=SlaTarget.choices)
    cycle = models.PositiveIntegerField()
    level = models.PositiveSmallIntegerField(help_text="0 warning, 1 breach, 2... escalation levels")
    due_at = models.DateTimeField()
    at = models.DateTimeField(help_text="When the sweep recorded it")
    late_seconds = models.PositiveIntegerField(default=0, help_text="How late the due time was, wall-clock")
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token = models.CharField(max_length=32, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["clock", "cycle", "level"], name="sla_alert_once"),
        ]
        indexes = [
            models.Index(fields=["department", "at"], name="sla_alert_department_idx"),
            models.Index(fields=["case", "at"], name="sla_alert_case_idx"),
            models.Index(fields=["token"], name="sla_alert_token_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.target} level {self.level}"

    def is_breach(self) -> bool:
        return self.level >= 1
