"""The demo's phone lines: customers call Customer Care on +1 415 555 0199 and fax it on +1 415 555 0198.

Wired into `relay demo` by relay/core/demo.py: `load_demo_telephony(admin=staff["admin"], departments=depts)`.
Then ring it (John Carter, the demo's sample customer, calls from +1 415 555 0100):

    relay phone ring --from "+1 415 555 0100"
"""

from __future__ import annotations

from relay.accounts.models import Department, User
from relay.channels.telephony.models import PhoneLine

DEMO_LINE = "+14155550199"
DEMO_FAX_LINE = "+14155550198"


def load_demo_telephony(*, admin: User, departments: dict[str, Department]) -> list[PhoneLine]:
    """Idempotent: the lines are found by number."""
    care = departments["Customer Care"]
    lines = []
    for number, name in ((DEMO_LINE, "Customer Care hotline"), (DEMO_FAX_LINE, "Customer Care fax")):
        line, _ = PhoneLine.objects.update_or_create(
            number=number, defaults={"name": name, "department": care}
        )
        lines.append(line)
    return lines
