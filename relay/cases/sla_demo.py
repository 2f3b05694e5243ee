"""The demo organisation's SLA set-up (relay/core/demo.py calls this before the demo cases are opened, so
they run on clocks): office hours and a 24/7 calendar, and three policies from urgent to standard."""

from __future__ import annotations

from django.conf import settings

from relay.accounts.models import Department, User
from relay.cases.choices import OnTransfer, Priority
from relay.cases.models import BusinessCalendar, DepartmentCalendar, SlaPolicy
from relay.core.audit import with_actor

WEEKDAYS_9_TO_5 = {str(day): [["09:00", "17:00"]] for day in range(5)}


def load_demo_sla(*, admin: User, departments: dict[str, Department]) -> list[SlaPolicy]:
    office = BusinessCalendar(
        name="Office hours",
        description="Monday to Friday, 09:00 to 17:00, closed on public holidays.",
        time_zone=settings.TIME_ZONE,
        hours=WEEKDAYS_9_TO_5,
        holiday_country="US",
        is_default=True,
    )
    always = BusinessCalendar(
        name="Around the clock",
        description="24/7, for outages.",
        time_zone=settings.TIME_ZONE,
        always_open=True,
    )
    for calendar in (office, always):
        with_actor(calendar, admin).save()
    with_actor(DepartmentCalendar(department=departments["Technical Support"], calendar=office), admin).save()
    policies = [
        SlaPolicy(
            name="Urgent: around the clock",
            description="Outages and other urgent cases are answered and worked day and night.",
            order=10,
            priorities=[Priority.URGENT],
            acknowledge_minutes=15,
            resolve_minutes=4 * 60,
            update_minutes=60,
            calendar=always,
            escalation=[{"after_minutes": 0, "reassign": "supervisor"}],
        ),
        SlaPolicy(
            name="High priority",
            description="Answered within the hour, solved within a working day.",
            order=20,
            priorities=[Priority.HIGH],
            acknowledge_minutes=60,
            resolve_minutes=8 * 60,
            update_minutes=4 * 60,
            escalation=[
                {"after_minutes": 0, "raise_priority": True},
                {"after_minutes": 120, "reassign": "supervisor"},
            ],
        ),
        SlaPolicy(
            name="Standard",
            description="Every other case: answered within half a day, solved within three working days.",
            order=30,
            acknowledge_minutes=4 * 60,
            resolve_minutes=3 * 8 * 60,
            update_minutes=8 * 60,
            on_transfer=OnTransfer.KEEP,
        ),
    ]
    for policy in policies:
        with_actor(policy, admin).save()
    return policies
