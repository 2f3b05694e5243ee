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
