"""Every write to a case. Keyword-only, actor first, one transaction each.

Each service locks the case (`lock_current`, so a stale `expected_version` is a ConflictError and
nothing is written), changes it, and in the same transaction writes its `CaseEvent`, the party-timeline
entry that shows it, the case's history row (state changes) and the outbox event that tells the
recipients (relay/cases/recipients.py). Appends that do not change what a client edits (notes, linked
interactions, update requests, watchers) take `expected_version` optionally and leave the version alone.

Import from here: `from relay.cases import services; services.case_transfer(...)`.
"""

from relay.cases.services._base import default_status, mentioned_users
from relay.cases.services.bulk import case_bulk_assign, case_bulk_close, case_bulk_transfer
from relay.cases.services.editing import EDITABLE_FIELDS, case_update
from relay.cases.services.handling import (
    can_reopen,
    case_acknowledge,
    case_add_note,
    case_assign,
    case_close,
    case_log_interaction,
    case_reopen,
    case_request_update,
    case_resolve,
    case_set_status,
    case_transfer,
    reopen_window,
)
from relay.cases.services.merge import MERGE_HANDLING, case_merge
from relay.cases.services.opening import (
    MAX_BATCH,
    CaseDraft,
    CaseFromCall,
    case_log_from_call,
    case_open,
    case_open_follow_up,
    case_open_many,
)
from relay.cases.services.watchers import case_unwatch, case_watch

__all__ = [
    "EDITABLE_FIELDS",
    "MAX_BATCH",
    "MERGE_HANDLING",
    "CaseDraft",
    "CaseFromCall",
    "can_reopen",
    "case_acknowledge",
    "case_add_note",
    "case_assign",
    "case_bulk_assign",
    "case_bulk_close",
    "case_bulk_transfer",
    "case_close",
    "case_log_from_call",
    "case_log_interaction",
    "case_merge",
    "case_open",
    "case_open_follow_up",
    "case_open_many",
    "case_reopen",
    "case_request_update",
    "case_resolve",
    "case_set_status",
    "case_transfer",
    "case_unwatch",
    "case_update",
    "case_watch",
    "default_status",
    "mentioned_users",
    "reopen_window",
]
