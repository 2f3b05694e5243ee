"""Background jobs of cases: the SLA sweep (scheduled every 30 s by relay/config/huey.py)."""

from __future__ import annotations

from django.tasks import task

from relay.cases.services import sla


@task
def sla_sweep() -> int:
    """Record and notify the SLA warnings, breaches and escalations now due; how many clocks it took.
    Idempotent and safe on any number of workers at once."""
    return sla.sweep().clocks


@task
def sla_replan(policy_ids: list[int], calendar_ids: list[int], department_ids: list[int]) -> int:
    """After a policy, calendar or department-calendar edit: re-plan the live clocks concerned
    (relay/cases/services/sla.py `replan`); how many cases."""
    return sla.replan(policy_ids=policy_ids, calendar_ids=calendar_ids, department_ids=department_ids)
