"""Opening many cases at once (`case_open_many`): each case as `case_open` would open it, one after the
other, with a statement a table for the whole batch; all or nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction

from relay.accounts.choices import Role
from relay.accounts.models import User
from relay.activities.models import TimelineEntry
from relay.cases import services
from relay.cases.models import (
    Case,
    CaseEvent,
    CaseNumber,
    CaseStatusSpan,
    CaseWatcher,
    DepartmentRouting,
    SlaClock,
)
from relay.cases.services import CaseDraft, routing
from relay.cases.services.routing import RuleInput
from relay.cases.tests.factories import CaseCategoryFactory
from relay.core.exceptions import ApplicationError, NotAllowed
from relay.core.models import OutboxEvent
from relay.core.testing.factories import PartyFactory, UserFactory

pytestmark = pytest.mark.django_db

_NUMBER = re.compile(r"C-\d+")


def _plain(value):
    """A value with case numbers blanked (a rolled-back batch leaves a gap in the sequence)."""
    return _NUMBER.sub("C-#", value) if isinstance(value, str) else value


def snapshot(cases):
    """Everything an opening writes, without ids: the cases, their history, spans, clocks, watchers,
    events, timeline rows and outbox events, and the departments' round-robin pointers."""
    ids = [c.pk for c in cases]
    rows = []
    for case in Case.objects.filter(pk__in=ids).order_by("id"):
        rows.append(
            (
                case.subject,
                case.party_id,
                case.department_id,
                case.assignee_id,
                case.priority,
                case.status_id,
                case.originator_id,
                case.originating_department_id,
                case.opened_at,
                case.sla_status,
                case.sla_due_at,
                [(h.history_type, h.history_user_id, h.history_origin) for h in case.history.all()],
                list(CaseStatusSpan.objects.filter(case=case).values_list("status_id", "entered_by_id")),
                sorted(SlaClock.objects.filter(case=case).values_list("target", "state", "target_seconds")),
                sorted(
                    CaseWatcher.objects.filter(case=case).values_list("user_id", "department_id"), key=str
                ),
                [
                    (e.kind, e.actor_id, e.to_department_id, e.to_assignee_id, e.note, _plain(str(e.data)))
                    for e in CaseEvent.objects.filter(case=case).order_by("id")
                ],
                [
                    (_plain(t.subject), t.body, t.entered_by_id, [h.history_user_id for h in t.history.all()])
                    for t in TimelineEntry.objects.filter(case=case).order_by("id")
                ],
                [
                    (o.name, o.recipients, _plain(o.payload["title"]), o.payload["body"])
                    for o in OutboxEvent.objects.filter(payload__case_id=case.pk).order_by("id")
                ],
            )
        )
    pointers = sorted(DepartmentRouting.objects.values_list("department_id", "last_assigned_id"), key=str)
    return rows, pointers


@pytest.fixture
def mixed(agent, manager, party, care, tech, billing, other_agent, supervisor):
    """Routing rules with both strategies, an SLA policy's worth of drafts to route, and their drafts."""
    billing_team = [UserFactory(role=Role.AGENT, departments=[billing]) for _ in range(3)]
    tech_team = [UserFactory(role=Role.AGENT, departments=[tech]) for _ in range(2)]
    routing.routing_rule_create(
        actor=manager,
        data=RuleInput(name="bills", department=billing, keywords=["bill"], assignment="round_robin"),
    )
    routing.routing_rule_create(
        actor=manager,
        data=RuleInput(
            name="lines", department=tech, keywords=["line"], assignment="least_open", priority="high"
        ),
    )
    services.case_open(
        actor=agent, party=party, subject="An old line fault", department=tech, assignee=tech_team[0]
    )
    other = PartyFactory()
    secret = CaseCategoryFactory(name="Fraud", is_confidential=True)
    drafts = [
        CaseDraft(party=party, subject="Unpaid bill", description="The bill of May", channel="phone"),
        CaseDraft(party=other, subject="Second bill question", watchers=[other_agent, care]),
        CaseDraft(party=party, subject="Dead line", channel="email"),
        CaseDraft(party=other, subject="Line noise", originator=supervisor),
        CaseDraft(party=party, subject="Third bill", priority="urgent"),
        CaseDraft(party=other, subject="Moving house"),  # no rule: the originator's queue
        CaseDraft(party=party, subject="Chosen", department=tech, assignee=tech_team[1]),
        CaseDraft(party=other, subject="Fourth bill", category=secret, watchers=[other_agent]),
        CaseDraft(party=party, subject="Another line down"),
    ]
    return {"drafts": drafts, "billing": billing_team, "tech": tech_team, "other_agent": other_agent}


def test_a_batch_opens_each_case_as_case_open_would_one_after_the_other(agent, mixed):
    drafts = mixed["drafts"]
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=UTC), tick=False):
        with transaction.atomic():
            one_by_one = [
                services.case_open(
                    actor=agent,
                    party=d.party,
                    subject=d.subject,
                    description=d.description,
                    category=d.category,
                    priority=d.priority,
                    channel=d.channel,
                    originator=d.originator,
                    department=d.department,
                    assignee=d.assignee,
                    watchers=d.watchers,
                )
                for d in drafts
            ]
            expected = snapshot(one_by_one)
            transaction.set_rollback(True)
        assert Case.objects.count() == 1  # rolled back: the same starting point for the batch
        batch = services.case_open_many(actor=agent, drafts=drafts)
        got = snapshot(batch)
    assert got == expected
    assert [c.subject for c in batch] == [d.subject for d in drafts]
    numbers = [int(c.number[2:]) for c in batch]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    # the decisions the snapshot compares: round-robin in turn, least-open counting the batch's own cases
    billing_ids = sorted([mixed["other_agent"].pk, *(u.pk for u in mixed["billing"])])
    assert [c.assignee_id for c in batch if "bill" in c.subject.lower()] == billing_ids  # each in turn
    # tech: 1 and 0 open; "Dead line" to the second, "Line noise" to the first (a tie: the lower id),
    # "Chosen" to the second by hand, "Another line down" to the first (2 each: the lower id)
    first, second = (u.pk for u in mixed["tech"])
    assert [c.assignee_id for c in batch if "line" in c.subject.lower()] == [second, first, first]
    assert all(c.priority == "high" for c in batch if "line" in c.subject.lower())


def test_the_confidential_case_of_a_batch_reaches_only_its_circle(agent, mixed, other_agent):
    batch = services.case_open_many(actor=agent, drafts=mixed["drafts"])
    secret = next(c for c in batch if c.subject == "Fourth bill")
    told = OutboxEvent.objects.get(name="case.created", payload__case_id=secret.pk).recipients
    assert told == sorted({secret.assignee_id, other_agent.pk})  # the handler and the watcher; not the actor


def test_an_invalid_draft_is_named_and_nothing_is_written(agent, mixed):
    drafts = [*mixed["drafts"][:3], CaseDraft(party=mixed["drafts"][0].party, subject="  ")]
    before = (Case.objects.count(), OutboxEvent.objects.count(), TimelineEntry.objects.count())
    pointers = list(DepartmentRouting.objects.values_list("last_assigned_id", flat=True))
    with pytest.raises(ApplicationError) as raised:
        services.case_open_many(actor=agent, drafts=drafts)
    assert raised.value.errors == {"cases.3.subject": ["A case needs a subject."]}
    assert raised.value.message.startswith("Case 4:")
    assert (Case.objects.count(), OutboxEvent.objects.count(), TimelineEntry.objects.count()) == before
    assert list(DepartmentRouting.objects.values_list("last_assigned_id", flat=True)) == pointers


def test_an_inactive_watcher_or_assignee_outside_the_department_is_refused(agent, party, tech, other_agent):
    gone = User.objects.get(pk=UserFactory(role=Role.AGENT, is_active=False).pk)
    with pytest.raises(ApplicationError) as raised:
        services.case_open_many(
            actor=agent,
            drafts=[
                CaseDraft(party=party, subject="Fine", department=tech),
                CaseDraft(party=party, subject="Watched", department=tech, watchers=[gone]),
                CaseDraft(party=party, subject="Assigned", department=tech, assignee=other_agent),
            ],
        )
    assert list(raised.value.errors) == ["cases.1.watchers"]
    with pytest.raises(ApplicationError) as raised:
        services.case_open_many(
            actor=agent,
            drafts=[
                CaseDraft(party=party, subject="Fine", department=tech),
                CaseDraft(party=party, subject="Assigned", department=tech, assignee=other_agent),
            ],
        )
    assert list(raised.value.errors) == ["cases.1.assignee"]
    assert not Case.objects.exists()


def test_a_batch_has_one_to_max_batch_cases(agent, party, tech):
    with pytest.raises(ApplicationError) as raised:
        services.case_open_many(actor=agent, drafts=[])
    assert raised.value.errors == {"cases": ["Give at least one case."]}
    too_many = [
        CaseDraft(party=party, subject=f"n{i}", department=tech) for i in range(services.MAX_BATCH + 1)
    ]
    with pytest.raises(ApplicationError) as raised:
        services.case_open_many(actor=agent, drafts=too_many)
    assert raised.value.errors == {"cases": [f"At most {services.MAX_BATCH} cases at a time."]}
    assert not CaseNumber.objects.exists()


def test_auditors_cannot_open_a_batch(auditor, party, tech):
    with pytest.raises(NotAllowed):
        services.case_open_many(actor=auditor, drafts=[CaseDraft(party=party, subject="No", department=tech)])
    assert not Case.objects.exists()
