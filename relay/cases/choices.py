"""Fixed choice sets of the cases domain. Configurable statuses are rows (CaseStatus) that map to a
StatusCategory; the code reads only the category."""

from django.db import models


class StatusCategory(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    WAITING_CUSTOMER = "waiting_customer", "Waiting on customer"
    WAITING_THIRD_PARTY = "waiting_third_party", "Waiting on third party"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


# categories in which the case still needs work (queues, "my cases", SLA clocks)
OPEN_CATEGORIES: frozenset[str] = frozenset(
    {
        StatusCategory.NEW,
        StatusCategory.OPEN,
        StatusCategory.WAITING_CUSTOMER,
        StatusCategory.WAITING_THIRD_PARTY,
    }
)
WAITING_CATEGORIES: frozenset[str] = frozenset(
    {StatusCategory.WAITING_CUSTOMER, StatusCategory.WAITING_THIRD_PARTY}
)
# the order in which lists show categories (open work first)
CATEGORY_ORDER: tuple[str, ...] = tuple(StatusCategory.values)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class ResolutionCode(models.TextChoices):
    SOLVED = "solved", "Solved"
    WORKAROUND = "workaround", "Workaround given"
    INFORMATION = "information", "Information given"
    NO_FAULT = "no_fault", "No fault found"
    REFERRED = "referred", "Referred elsewhere"
    WITHDRAWN = "withdrawn", "Withdrawn by the customer"
    DUPLICATE = "duplicate", "Duplicate"
    WONT_FIX = "wont_fix", "Cannot be done"


class LinkKind(models.TextChoices):
    FOLLOW_UP = "follow_up", "Follow-up"
    DUPLICATE = "duplicate", "Duplicate"
    RELATED = "related", "Related"


class Visibility(models.TextChoices):
    INTERNAL = "internal", "Internal"
    CUSTOMER = "customer", "Visible to the customer"


class EventKind(models.TextChoices):
    CREATED = "created", "Opened"
    ROUTED = "routed", "Routed"
    ASSIGNED = "assigned", "Assigned"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    TRANSFERRED = "transferred", "Transferred"
    NOTE_ADDED = "note_added", "Note added"
    INTERACTION_LOGGED = "interaction_logged", "Interaction linked"
    UPDATE_REQUESTED = "update_requested", "Update requested"
    STATUS_CHANGED = "status_changed", "Status changed"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"
    MERGED = "merged", "Merged"
    FOLLOW_UP_OPENED = "follow_up_opened", "Follow-up opened"
    WATCHER_ADDED = "watcher_added", "Watcher added"
    WATCHER_REMOVED = "watcher_removed", "Watcher removed"
    EDITED = "edited", "Edited"
    SLA_WARNING = "sla_warning", "SLA at risk"
    SLA_BREACHED = "sla_breached", "SLA breached"
    SLA_ESCALATED = "sla_escalated", "SLA escalated"


# --- SLA (docs/adr/0010-sla.md) ---------------------------------------------------------------------------


class SlaTarget(models.TextChoices):
    """What an SLA clock times."""

    ACKNOWLEDGE = "acknowledge", "First response"
    RESOLVE = "resolve", "Resolution"
    UPDATE = "update", "Update to the customer"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    MISSED = "missed", "Missed"  # stopped after its due time
    CANCELLED = "cancelled", "Cancelled"  # the policy no longer sets this target, or the case was merged


# clocks that still count (or wait to count again)
LIVE_CLOCK_STATES: frozenset[str] = frozenset({ClockState.RUNNING, ClockState.PAUSED})


class SlaStatus(models.TextChoices):
    """The badge of a case: the worst of its live clocks."""

    NONE = "", "No SLA"
    ON_TIME = "on_time", "On time"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Breached"
    PAUSED = "paused", "Paused"


class OnTransfer(models.TextChoices):
    KEEP = "keep", "Keep counting"
    RESTART = "restart", "Restart the clocks"


class EscalationReassign(models.TextChoices):
    NONE = "", "Leave the assignee"
    SUPERVISOR = "supervisor", "Reassign to the department's supervisor"
    DEPARTMENT = "department", "Transfer to the escalation department"
