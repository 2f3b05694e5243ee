"""The agent console (staff UI for cases): thin views over relay.cases.selectors and relay.cases.services.

A case the user may not see is a 404 everywhere (the selectors scope every read); a write the role may not
make is a 403 (the services check; the pages hide the buttons).
"""

from relay.cases.views.case import case_action, case_detail, case_follow_up, case_quick
from relay.cases.views.lists import my_cases, queue
from relay.cases.views.opening import caller_lookup, case_from_call, case_new

__all__ = [
    "caller_lookup",
    "case_action",
    "case_detail",
    "case_follow_up",
    "case_from_call",
    "case_new",
    "case_quick",
    "my_cases",
    "queue",
]
