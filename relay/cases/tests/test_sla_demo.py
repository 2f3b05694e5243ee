"""The demo's SLA set-up puts the demo's cases on clocks (`make run` shows badges from the start)."""

from __future__ import annotations

import pytest

from relay.cases.choices import Priority, SlaStatus, SlaTarget
from relay.cases.models import Case, SlaClock, SlaPolicy
from relay.core.demo import load_demo

pytestmark = pytest.mark.django_db


def test_the_demo_cases_run_on_the_demo_policies():
    load_demo(parties=12)
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == [
        "Urgent: around the clock",
        "High priority",
        "Standard",
    ]
    story = Case.objects.get(subject="Cannot make calls")
    assert story.priority == Priority.HIGH
    clocks = {c.target: c for c in SlaClock.objects.filter(case=story)}
    assert clocks[SlaTarget.RESOLVE].policy.name == "High priority"
    assert clocks[SlaTarget.RESOLVE].calendar.name == "Office hours"
    open_cases = Case.objects.open()
    assert open_cases.exists()
    assert not open_cases.filter(sla_status=SlaStatus.NONE).exists()  # the standard policy catches all
    assert not Case.objects.exclude(pk__in=open_cases).exclude(sla_status=SlaStatus.NONE).exists()
