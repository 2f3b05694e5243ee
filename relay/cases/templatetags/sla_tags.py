"""The SLA in templates: the countdown badge of a case ("On time · due in 3 h 10 min") and spans of time.

`{% load sla_tags %}`; `{% with b=case|sla_badge %}` gives what `cases/_badges.html#sla` renders; `span`
writes a duration the way the badges do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from relay.cases.choices import SlaStatus
from relay.cases.sla import span_text
from relay.core import clock

register = template.Library()

# the colours follow the status badges (green, amber, red, grey); Bootstrap's subtle palette
_CSS = {
    SlaStatus.ON_TIME: "bg-success-subtle text-success-emphasis border-success-subtle",
    SlaStatus.AT_RISK: "bg-warning-subtle text-warning-emphasis border-warning-subtle",
    SlaStatus.BREACHED: "bg-danger-subtle text-danger-emphasis border-danger-subtle",
    "overdue": "bg-danger-subtle text-danger-emphasis border-danger-subtle",
    SlaStatus.PAUSED: "bg-body-secondary text-body-secondary border-secondary-subtle",
}
_ICONS = {
    SlaStatus.ON_TIME: "stopwatch",
    SlaStatus.AT_RISK: "hourglass-split",
    SlaStatus.BREACHED: "exclamation-octagon-fill",
    "overdue": "exclamation-octagon",
    SlaStatus.PAUSED: "pause-circle",
}


@dataclass(frozen=True)
class SlaBadge:
    state: str  # on_time, at_risk, breached, paused, or overdue (ran out, not yet swept)
    label: str  # "On time"
    countdown: str  # "due in 3 h 10 min", "1 h 05 min late", ""
    due_at: datetime | None
    title: str  # the absolute due time in the viewer's zone, or what a pause means
    css: str
    icon: str

    @property
    def text(self) -> str:
        return f"{self.label} · {self.countdown}" if self.countdown else self.label


def badge_for(status: str, due_at: datetime | None, now: datetime) -> SlaBadge | None:
    """The badge of a case's `sla_status` and `sla_due_at` as of `now`; None without an SLA."""
    if not status or status not in SlaStatus.values:
        return None
    state, label = status, SlaStatus(status).label
    countdown, title = "", ""
    if due_at is not None:
        local = timezone.localtime(due_at)
        zone = timezone.get_current_timezone_name()
        title = f"Due {date_format(local, 'D j M Y, H:i')} ({zone})"
        left = (due_at - now).total_seconds()
        if left > 0:
            countdown = f"due in {span_text(left)}"
        else:
            countdown = f"{span_text(-left)} late"
            if status in (SlaStatus.ON_TIME, SlaStatus.AT_RISK):
                state, label = "overdue", "Overdue"  # ran out since the last sweep
    if status == SlaStatus.PAUSED:
        title = "Paused: the case waits on the customer or a third party; the clocks resume after"
    elif status == SlaStatus.BREACHED and due_at is None:
        countdown = "paused"
        title = "Breached; the clocks are paused while the case waits on the customer or a third party"
    return SlaBadge(
        state=state,
        label=label,
        countdown=countdown,
        due_at=due_at,
        title=title,
        css=_CSS[state],
        icon=_ICONS[state],
    )


@register.filter
def sla_badge(case: Any) -> SlaBadge | None:
    """The countdown badge of a case (its `sla_status` and `sla_due_at`), as of now."""
    return badge_for(getattr(case, "sla_status", ""), getattr(case, "sla_due_at", None), clock.now())


@register.filter
def span(value: timedelta | int | float | None) -> str:
    return span_text(value)


@register.filter
def zone_differs(zone: str) -> bool:
    """Whether `zone` is not the viewer's own (then both times are shown)."""
    return zone != timezone.get_current_timezone_name()
