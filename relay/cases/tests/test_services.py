"""Case writes: every service, given / when / then."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.template.loader import render_to_string

from relay.accounts.choices import Role
from relay.activities.models import TimelineEntry
from relay.activities.services import InteractionInput, interaction_log
from relay.cases import events, services
from relay.cases.models import Case, CaseEvent, CaseLink, CaseStatusSpan, CaseWatcher
from relay.cases.tests.factories import CaseCategoryFactory, CaseStatusFactory, status_of
from relay.core import clock, outbox
from relay.core.exceptions import ApplicationError, ConflictError, NotAllowed
from relay.core.models import OutboxEvent
from relay.core.testing.factories import ContactPointFactory, InteractionFactory, PartyFactory, UserFactory
from relay.customers.models import Party
from relay.customers.services import PartyInput
from relay.notifications.models import Notification

pytestmark = pytest.mark.django_db


def kinds(case):
    return list(CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("kind", flat=True))


def recipients_of(event_name):
    return [set(e.recipients) for e in OutboxEvent.objects.filter(name=event_name).order_by("id")]


def snapshot(case):
    """Everything a service may write about a case: to compare before/after a refused call."""
    case = Case.objects.get(pk=case.pk)
    return {
        "version": case.version,
        "department": case.department_id,
        "assignee": case.assignee_id,
        "status": case.status_id,
        "events": CaseEvent.objects.count(),
        "entries": TimelineEntry.objects.count(),
        "spans": CaseStatusSpan.objects.count(),
        "history": Case.history.count(),
        "outbox": OutboxEvent.objects.count(),
        "watchers": CaseWatcher.objects.count(),
        "links": CaseLink.objects.count(),
    }


# --- opening ------------------------------------------------------------------------------------------------


def test_opening_writes_the_case_its_event_its_timeline_entry_history_and_outbox(
    open_case, agent, party, tech, tech_agent, tech_colleague
):
    # given a care agent and a customer
    # when she opens a case for Technical Support
    case = open_case()
    # then it has a number, the default New status and its first status span
    assert re.fullmatch(r"C-\d{6}", case.number)
    assert (case.status.name, case.status_category, case.is_open()) == ("New", "new", True)
    assert (case.originator, case.department, case.assignee) == (agent, tech, None)
    assert case.originating_department.name == "Customer Care"
    span = CaseStatusSpan.objects.get(case=case)
    assert (span.category, span.entered_at, span.left_at) == ("new", case.opened_at, None)
    # and one event, shown on the party's timeline by an entry that points at the case
    event = CaseEvent.objects.get(case=case)
    assert (event.kind, event.actor, event.to_department, event.to_status) == (
        "created",
        agent,
        tech,
        case.status,
    )
    entry = event.entry
    assert (entry.kind, entry.party, entry.case, entry.ref_id) == ("case", party, case, case.pk)
    assert entry.ref_type == ContentType.objects.get_for_model(Case)
    assert entry.subject.startswith(case.number) and "Cannot make calls" in entry.subject
    assert entry.template_name == "activities/entries/case.html"
    # and a history row naming the actor, and the outbox tells the department (nobody is assigned)
    assert [(h.history_type, h.history_user) for h in case.history.all()] == [("+", agent)]
    (emitted,) = OutboxEvent.objects.filter(name="case.created")
    assert set(emitted.recipients) == {tech_agent.pk, tech_colleague.pk}
    assert emitted.payload["case_id"] == case.pk and emitted.payload["actor_id"] == agent.pk
    assert emitted.payload["url"] == f"/cases/{case.pk}/" and case.number in emitted.payload["title"]
    assert emitted.key == f"case-event:{event.pk}"


def test_case_numbers_are_unique_and_follow_each_other(open_case):
    first, second, third = open_case(), open_case(), open_case()
    numbers = [int(c.number[2:]) for c in (first, second, third)]
    assert numbers == sorted(set(numbers)) and numbers[2] - numbers[0] == 2


def test_without_a_department_the_case_goes_to_the_originators(open_case, care, tech_agent, tech):
    case = open_case(department=None, originator=tech_agent)
    assert case.department == tech
    assert case.events.get().data["routed_by"] == "the originator's department"


def test_a_case_needs_a_subject_and_a_department(party, manager):
    # a manager without a department and no originator department
    with pytest.raises(ApplicationError) as excinfo:
        services.case_open(actor=manager, party=party, subject="  ", priority="whenever")
    assert set(excinfo.value.errors) == {"subject", "priority", "department"}
    assert not Case.objects.exists() and not TimelineEntry.objects.exists()


def test_auditors_cannot_open_cases(party, auditor, tech):
    with pytest.raises(NotAllowed):
        services.case_open(actor=auditor, party=party, subject="x", department=tech)


def test_watchers_given_at_opening_are_told(open_case, billing, other_agent, supervisor):
    open_case(watchers=[billing, supervisor])
    assert {other_agent.pk, supervisor.pk} <= recipients_of("case.created")[0]


# --- a case from a call -------------------------------------------------------------------------------------


def test_log_from_call_finds_the_caller_logs_the_call_and_links_it(agent, party, tech):
    # given a customer with a phone number
    ContactPointFactory(party=party, kind="phone", raw="+1 202 555 0142", normalized="+12025550142")
    # when care logs a case from his call
    result = services.case_log_from_call(
        actor=agent, phone="(202) 555-0142", subject="Cannot make calls", department=tech
    )
    # then the case is on his file, with the call linked and shown once on his timeline
    assert (result.party, result.party_created, result.case.party) == (party, False, party)
    call = result.call
    assert (call.kind, call.channel, call.direction, call.case) == (
        "interaction",
        "phone",
        "inbound",
        result.case,
    )
    assert kinds(result.case) == ["created", "interaction_logged"]
    assert result.case.events.get(kind="interaction_logged").entry == call
    assert TimelineEntry.objects.filter(party=party).count() == 2  # the call + the "opened" entry
    assert [e.name for e in OutboxEvent.objects.all()] == ["case.created"]  # one notice, not two


def test_log_from_call_creates_an_unknown_caller_with_the_number(agent, tech):
    result = services.case_log_from_call(
        actor=agent,
        phone="202-555-0199",
        subject="No dial tone",
        department=tech,
        new_caller=PartyInput(given_name="Bob", family_name="Builder"),
    )
    assert result.party_created and result.party.display_name == "Bob Builder"
    assert result.party.contact_points.get(kind="phone").normalized == "+12025550199"


def test_log_from_call_is_one_transaction(agent, tech):
    # when the case cannot be opened (no subject), neither the caller nor the call is kept
    with pytest.raises(ApplicationError):
        services.case_log_from_call(
            actor=agent,
            phone="202-555-0199",
            subject="",
            department=tech,
            new_caller=PartyInput(given_name="Bob", family_name="Builder"),
        )
    assert not Party.objects.exists() and not TimelineEntry.objects.exists() and not Case.objects.exists()


def test_log_from_call_asks_who_calls_when_the_number_is_unknown_or_shared(agent, tech):
    with pytest.raises(ApplicationError) as excinfo:
        services.case_log_from_call(actor=agent, phone="202-555-0199", subject="x", department=tech)
    assert "new_caller" in excinfo.value.errors
    for _ in range(2):
        ContactPointFactory(party=PartyFactory(), kind="phone", raw="202-555-0199", normalized="+12025550199")
    with pytest.raises(ApplicationError) as excinfo:
        services.case_log_from_call(actor=agent, phone="202-555-0199", subject="x", department=tech)
    assert "party" in excinfo.value.errors


# --- assign, acknowledge, transfer --------------------------------------------------------------------------


def test_assigning_opens_the_case_and_tells_the_assignee(open_case, tech_agent, tech_colleague):
    case = open_case()
    # when the tech agent takes the case
    case = services.case_assign(
        actor=tech_agent, case=case, assignee=tech_agent, expected_version=case.version
    )
    # then it is open and hers; the status change has a new span
    assert (case.assignee, case.status_category, case.version) == (tech_agent, "open", 2)
    assert list(case.status_spans.values_list("category", flat=True)) == ["new", "open"]
    assert recipients_of("case.assigned") == [set()]  # she assigned herself: nobody to tell
    # when she hands it to a colleague
    case = services.case_assign(actor=tech_agent, case=case, assignee=tech_colleague, expected_version=2)
    assert recipients_of("case.assigned")[1] == {tech_colleague.pk}


def test_only_members_of_the_department_can_be_assigned(open_case, tech_agent, other_agent):
    case = open_case()
    with pytest.raises(ApplicationError) as excinfo:
        services.case_assign(actor=tech_agent, case=case, assignee=other_agent, expected_version=1)
    assert "assignee" in excinfo.value.errors


def test_acknowledging_tells_the_originator(open_case, agent, tech_agent):
    case = open_case()
    case = services.case_acknowledge(actor=tech_agent, case=case, expected_version=case.version)
    assert case.acknowledged_at is not None and case.status_category == "open"
    assert recipients_of("case.acknowledged") == [{agent.pk}]


def test_transfer_without_reason_or_note_is_refused_and_nothing_is_written(open_case, tech_agent, billing):
    case = open_case()
    before = snapshot(case)
    with pytest.raises(ApplicationError) as excinfo:
        services.case_transfer(
            actor=tech_agent,
            case=case,
            department=billing,
            reason=" ",
            note="",
            expected_version=case.version,
        )
    assert set(excinfo.value.errors) == {"reason", "note"}
    assert snapshot(case) == before


def test_transfer_moves_the_case_and_tells_the_new_department_watchers_and_originator(
    open_case, agent, tech_agent, billing, other_agent, supervisor
):
    # given a case in Technical Support, assigned, watched by the care supervisor
    case = open_case(watchers=[supervisor])
    case = services.case_assign(actor=tech_agent, case=case, assignee=tech_agent, expected_version=1)
    # when Technical Support transfers it to Billing
    case = services.case_transfer(
        actor=tech_agent,
        case=case,
        department=billing,
        reason="Not technical",
        note="Check the bill",
        expected_version=case.version,
    )
    # then Billing's queue has it, unassigned, and the history says from where to where and why
    assert (case.department, case.assignee) == (billing, None)
    event = case.events.get(kind="transferred")
    assert (event.from_department.name, event.to_department, event.from_assignee, event.reason) == (
        "Technical Support",
        billing,
        tech_agent,
        "Not technical",
    )
    assert "Not technical" in event.entry.body and "Check the bill" in event.entry.body
    assert recipients_of("case.transferred") == [{other_agent.pk, supervisor.pk, agent.pk}]


def test_transfer_to_a_person_of_another_department(open_case, tech_agent, billing, other_agent):
    case = open_case()
    case = services.case_transfer(
        actor=tech_agent,
        case=case,
        department=billing,
        assignee=other_agent,
        reason="Billing question",
        note="Please call back",
        expected_version=1,
    )
    assert (case.department, case.assignee) == (billing, other_agent)
    assert other_agent.pk in recipients_of("case.transferred")[0]
    with pytest.raises(ApplicationError) as excinfo:
        services.case_transfer(
            actor=other_agent,
            case=case,
            assignee=tech_agent,
            reason="r",
            note="n",
            expected_version=case.version,
        )
    assert "assignee" in excinfo.value.errors  # not a member of Billing: transfer the department too


# --- stale versions -----------------------------------------------------------------------------------------


def _stale_calls(case, actor, billing):
    waiting = status_of("waiting_customer")
    return {
        "assign": lambda v: services.case_assign(actor=actor, case=case, assignee=actor, expected_version=v),
        "acknowledge": lambda v: services.case_acknowledge(actor=actor, case=case, expected_version=v),
        "transfer": lambda v: services.case_transfer(
            actor=actor, case=case, department=billing, reason="r", note="n", expected_version=v
        ),
        "set_status": lambda v: services.case_set_status(
            actor=actor, case=case, status=waiting, expected_version=v
        ),
        "resolve": lambda v: services.case_resolve(
            actor=actor, case=case, resolution_code="solved", resolution_summary="done", expected_version=v
        ),
        "add_note": lambda v: services.case_add_note(actor=actor, case=case, body="hi", expected_version=v),
        "request_update": lambda v: services.case_request_update(actor=actor, case=case, expected_version=v),
    }


@pytest.mark.parametrize(
    "action", ["assign", "acknowledge", "transfer", "set_status", "resolve", "add_note", "request_update"]
)
def test_a_stale_version_is_a_conflict_and_nothing_is_written(open_case, tech_agent, billing, action):
    # given a case someone changed since the agent loaded it (version 1 → 2)
    case = open_case()
    services.case_set_status(actor=tech_agent, case=case, status=status_of("open"), expected_version=1)
    before = snapshot(case)
    # when the agent writes with the version she loaded
    with pytest.raises(ConflictError) as excinfo:
        _stale_calls(case, tech_agent, billing)[action](1)
    # then she gets the current state and nothing changed
    assert excinfo.value.current_version == 2 and excinfo.value.current.pk == case.pk
    assert snapshot(case) == before


def test_stale_close_reopen_and_merge_are_conflicts(open_case, tech_agent, supervisor):
    case = open_case()
    case = services.case_resolve(
        actor=tech_agent, case=case, resolution_code="solved", resolution_summary="ok", expected_version=1
    )
    other = open_case()
    before = snapshot(case)
    with pytest.raises(ConflictError):
        services.case_close(actor=tech_agent, case=case, expected_version=1)
    with pytest.raises(ConflictError):
        services.case_reopen(actor=tech_agent, case=case, reason="back", expected_version=1)
    with pytest.raises(ConflictError):
        services.case_merge(
            actor=supervisor, duplicate=other, target=case, expected_version=1, target_version=1
        )
    assert snapshot(case) == before
    assert Case.objects.get(pk=other.pk).merged_into is None


# --- notes, mentions, interactions, update requests ---------------------------------------------------------


def test_a_mention_notifies_that_person(open_case, tech_agent, other_agent):
    case = open_case()
    services.case_assign(actor=tech_agent, case=case, assignee=tech_agent, expected_version=1)
    UserFactory(username="gone", is_active=False)
    event = services.case_add_note(
        actor=tech_agent,
        case=case,
        body="@Billing_Agent can you check the bill? (cc @gone, @nobody, mail tech@example.com).",
    )
    assert event.data["mentions"] == [other_agent.pk]
    assert event.entry.kind == "case" and "check the bill" in event.entry.body
    assert other_agent.pk in recipients_of("case.note_added")[0]


def test_the_mentioned_words_are_parsed_against_active_usernames(db):
    UserFactory(username="jane.doe")
    UserFactory(username="j-smith")
    assert [u.username for u in services.mentioned_users("Thanks @jane.doe. And @J-Smith!")] == [
        "jane.doe",
        "j-smith",
    ]
    assert services.mentioned_users("write to jane.doe@relay.test") == []


def test_a_customer_visible_note_is_the_first_response(open_case, tech_agent):
    case = open_case()
    services.case_add_note(actor=tech_agent, case=case, body="internal")
    assert Case.objects.get(pk=case.pk).first_response_at is None
    event = services.case_add_note(actor=tech_agent, case=case, body="We are on it", visibility="customer")
    refreshed = Case.objects.get(pk=case.pk)
    assert refreshed.first_response_at == event.at and refreshed.version == 1  # appends keep the version
    with pytest.raises(ApplicationError):
        services.case_add_note(actor=tech_agent, case=case, body="x", visibility="public")
    with pytest.raises(ApplicationError):
        services.case_add_note(actor=tech_agent, case=case, body="   ")


def test_linking_an_interaction_puts_it_on_the_case(open_case, agent, party, tech_agent):
    case = open_case()
    call = interaction_log(
        actor=agent, party=party, data=InteractionInput(channel="phone", subject="Callback")
    )
    event = services.case_log_interaction(actor=agent, case=case, interaction=call)
    call.refresh_from_db()
    assert (event.kind, event.entry, call.case) == ("interaction_logged", call, case)
    # a new outbound e-mail logged straight onto the case is the first response
    services.case_log_interaction(
        actor=agent, case=case, data=InteractionInput(channel="email", direction="outbound", subject="Update")
    )
    assert Case.objects.get(pk=case.pk).first_response_at is not None
    assert TimelineEntry.objects.filter(case=case, kind="interaction").count() == 2
    # the same call twice, or another customer's call, is refused
    with pytest.raises(ApplicationError):
        services.case_log_interaction(actor=agent, case=case, interaction=call)
    stranger_call = InteractionFactory(party=PartyFactory())
    with pytest.raises(ApplicationError):
        services.case_log_interaction(actor=agent, case=case, interaction=stranger_call)


def test_requesting_an_update_asks_the_assignee(open_case, agent, tech_agent, supervisor):
    case = open_case(watchers=[supervisor])
    services.case_assign(actor=tech_agent, case=case, assignee=tech_agent, expected_version=1)
    event = services.case_request_update(actor=agent, case=case, note="The customer called again")
    assert event.kind == "update_requested"
    assert recipients_of("case.update_requested") == [{tech_agent.pk}]


# --- statuses, resolve, close, reopen -----------------------------------------------------------------------


def test_waiting_statuses_can_be_set_and_resolving_needs_its_own_action(open_case, tech_agent):
    case = open_case()
    on_parts = CaseStatusFactory(name="Waiting on parts", category="waiting_third_party")
    case = services.case_set_status(actor=tech_agent, case=case, status=on_parts, expected_version=1)
    assert (case.status, case.status_category) == (on_parts, "waiting_third_party")
    event = case.events.get(kind="status_changed")
    assert (event.from_status.name, event.to_status) == ("New", on_parts)
    with pytest.raises(ApplicationError) as excinfo:
        services.case_set_status(
            actor=tech_agent, case=case, status=status_of("resolved"), expected_version=2
        )
    assert "status" in excinfo.value.errors


def test_resolving_copies_the_watchers_and_the_departments_supervisor(
    open_case, agent, tech_agent, tech_supervisor, supervisor
):
    case = open_case(watchers=[supervisor])
    case = services.case_assign(actor=tech_agent, case=case, assignee=tech_agent, expected_version=1)
    with pytest.raises(ApplicationError) as excinfo:
        services.case_resolve(
            actor=tech_agent, case=case, resolution_code="magic", resolution_summary="", expected_version=2
        )
    assert set(excinfo.value.errors) == {"resolution_code", "resolution_summary"}
    case = services.case_resolve(
        actor=tech_agent,
        case=case,
        resolution_code="solved",
        resolution_summary="Line unfrozen after payment",
        expected_version=2,
    )
    assert (case.status_category, case.resolution_code, case.resolved_at is not None) == (
        "resolved",
        "solved",
        True,
    )
    assert recipients_of("case.resolved") == [{tech_supervisor.pk, supervisor.pk, agent.pk}]


def test_close_needs_a_resolved_case(open_case, tech_agent):
    case = open_case()
    with pytest.raises(ApplicationError):
        services.case_close(actor=tech_agent, case=case, expected_version=1)
    case = services.case_resolve(
        actor=tech_agent, case=case, resolution_code="solved", resolution_summary="ok", expected_version=1
    )
    case = services.case_close(actor=tech_agent, case=case, expected_version=2)
    assert (case.status_category, case.closed_at is not None, case.is_open()) == ("closed", True, False)
    with pytest.raises(ApplicationError, match="reopen"):
        services.case_assign(actor=tech_agent, case=case, assignee=tech_agent, expected_version=3)


def _resolve_and_close(case, actor):
    case = services.case_resolve(
        actor=actor,
        case=case,
        resolution_code="solved",
        resolution_summary="ok",
        expected_version=case.version,
    )
    return services.case_close(actor=actor, case=case, expected_version=case.version)


def test_a_recently_closed_case_can_be_reopened(open_case, tech_agent, settings):
    settings.RELAY_CASE_REOPEN_DAYS = 30
    with time_machine.travel(clock.now() - timedelta(days=29), tick=False):
        case = _resolve_and_close(open_case(), tech_agent)
    case = services.case_reopen(
        actor=tech_agent, case=case, reason="Still no calls", expected_version=case.version
    )
    assert (case.status_category, case.reopened_count, case.closed_at, case.resolution_code) == (
        "open",
        1,
        None,
        "",
    )
    assert kinds(case)[-1] == "reopened"


def test_beyond_the_window_reopening_is_refused_with_a_follow_up_advice(open_case, tech_agent, settings):
    settings.RELAY_CASE_REOPEN_DAYS = 30
    with time_machine.travel(clock.now() - timedelta(days=31), tick=False):
        case = _resolve_and_close(open_case(), tech_agent)
    before = snapshot(case)
    with pytest.raises(ApplicationError, match="follow-up"):
        services.case_reopen(actor=tech_agent, case=case, reason="Again", expected_version=case.version)
    assert snapshot(case) == before
    # the advice works: a follow-up case linked to the old one
    new = services.case_open_follow_up(actor=tech_agent, case=case, subject="No calls again")
    assert (new.party, new.department, new.is_open()) == (case.party, case.department, True)
    assert CaseLink.objects.get(case=new).related == case
    assert CaseLink.objects.get(case=new).kind == "follow_up"
    assert kinds(case)[-1] == "follow_up_opened" and new.events.get().data["follow_up_of"] == case.pk


def test_status_spans_are_contiguous_through_the_whole_life(open_case, tech_agent):
    case = open_case()
    steps = [
        lambda c: services.case_assign(
            actor=tech_agent, case=c, assignee=tech_agent, expected_version=c.version
        ),
        lambda c: services.case_set_status(
            actor=tech_agent, case=c, status=status_of("waiting_customer"), expected_version=c.version
        ),
        lambda c: services.case_set_status(
            actor=tech_agent, case=c, status=status_of("open"), expected_version=c.version
        ),
        lambda c: _resolve_and_close(c, tech_agent),
        lambda c: services.case_reopen(actor=tech_agent, case=c, reason="back", expected_version=c.version),
    ]
    for i, step in enumerate(steps):
        with time_machine.travel(clock.now() + timedelta(hours=i + 1), tick=False):
            case = step(case)
    spans = list(CaseStatusSpan.objects.filter(case=case).order_by("entered_at", "id"))
    assert [s.category for s in spans] == [
        "new",
        "open",
        "waiting_customer",
        "open",
        "resolved",
        "closed",
        "open",
    ]
    assert spans[0].entered_at == case.opened_at
    for earlier, later in itertools.pairwise(spans):
        assert earlier.left_at == later.entered_at
    assert spans[-1].left_at is None and spans[-1].status == case.status


# --- watchers -----------------------------------------------------------------------------------------------


def test_watching_is_idempotent_and_department_watchers_get_copies(
    open_case, agent, tech_agent, billing, other_agent
):
    case = open_case()
    watcher = services.case_watch(actor=tech_agent, case=case, department=billing)
    assert (
        watcher is not None and services.case_watch(actor=tech_agent, case=case, department=billing) is None
    )
    assert recipients_of("case.watcher_added") == [{other_agent.pk}]
    services.case_add_note(actor=tech_agent, case=case, body="FYI")
    assert other_agent.pk in recipients_of("case.note_added")[0]
    assert services.case_unwatch(actor=tech_agent, case=case, department=billing) is True
    assert services.case_unwatch(actor=tech_agent, case=case, department=billing) is False
    assert services.case_watch(actor=agent, case=case).user == agent
    with pytest.raises(ApplicationError):
        services.case_watch(actor=agent, case=case, user=agent, department=billing)


# --- recipients ---------------------------------------------------------------------------------------------


def test_the_actor_is_never_told_about_their_own_action(open_case, agent, tech_agent, tech, supervisor):
    # given an actor who is the originator, a watcher and a member of the handling department
    agent.departments.add(tech)
    case = open_case(watchers=[agent, tech])
    v = case.version
    # when she does everything to the case
    case = services.case_assign(actor=agent, case=case, assignee=tech_agent, expected_version=v)
    case = services.case_acknowledge(actor=agent, case=case, expected_version=case.version)
    services.case_add_note(actor=agent, case=case, body="@agent note to self")
    services.case_request_update(actor=agent, case=case)
    case = services.case_resolve(
        actor=agent,
        case=case,
        resolution_code="solved",
        resolution_summary="ok",
        expected_version=case.version,
    )
    case = services.case_close(actor=agent, case=case, expected_version=case.version)
    services.case_reopen(actor=agent, case=case, reason="again", expected_version=case.version)
    # then no notice is addressed to her, and each names her as the actor
    events = list(OutboxEvent.objects.all())
    assert len(events) == 8
    assert all(agent.pk not in e.recipients and e.payload["actor_id"] == agent.pk for e in events)
    assert all(tech_agent.pk in e.recipients for e in events if e.name != "case.acknowledged")


# --- permissions in the services ----------------------------------------------------------------------------


def test_auditors_read_but_cannot_work_cases(open_case, auditor):
    case = open_case()
    with pytest.raises(NotAllowed):
        services.case_add_note(actor=auditor, case=case, body="x")
    with pytest.raises(NotAllowed):
        services.case_watch(actor=auditor, case=case)


def test_an_invisible_case_does_not_exist_for_the_actor(open_case, other_agent):
    case = open_case(category=CaseCategoryFactory(name="Fraud", is_confidential=True))
    before = snapshot(case)
    with pytest.raises(Case.DoesNotExist):
        services.case_add_note(actor=other_agent, case=case, body="x")
    with pytest.raises(Case.DoesNotExist):
        services.case_assign(actor=other_agent, case=case, assignee=None, expected_version=1)
    assert snapshot(case) == before


def test_merging_needs_a_supervisor(open_case, tech_agent):
    a, b = open_case(), open_case()
    with pytest.raises(NotAllowed):
        services.case_merge(actor=tech_agent, duplicate=b, target=a, expected_version=1)


# --- merge --------------------------------------------------------------------------------------------------


def test_merge_moves_everything_and_closes_the_duplicate(
    open_case, agent, party, tech_agent, supervisor, billing, other_agent, manager
):
    # given two cases of one customer; the duplicate has a note, a linked call, a watcher and links
    target = open_case(subject="No calls")
    duplicate = open_case(subject="Phone dead", originator=other_agent, watchers=[billing, supervisor])
    services.case_watch(actor=agent, case=target, department=billing)  # already watches the target
    services.case_add_note(actor=tech_agent, case=duplicate, body="Same as the other one")
    call = interaction_log(actor=agent, party=party, data=InteractionInput(channel="phone"))
    services.case_log_interaction(actor=agent, case=duplicate, interaction=call)
    unrelated = open_case(subject="Older")
    CaseLink.objects.create(case=duplicate, related=unrelated, kind="related")
    CaseLink.objects.create(case=duplicate, related=target, kind="related")
    earlier_duplicate = open_case(subject="Even older")
    services.case_merge(actor=manager, duplicate=earlier_duplicate, target=duplicate, expected_version=1)
    duplicate = Case.objects.get(pk=duplicate.pk)
    dup_events = set(CaseEvent.objects.filter(case=duplicate).values_list("pk", flat=True))
    dup_entries = set(TimelineEntry.objects.filter(case=duplicate).values_list("pk", flat=True))

    # when the supervisor merges it into the target
    target = services.case_merge(
        actor=supervisor,
        duplicate=duplicate,
        target=target,
        expected_version=duplicate.version,
        target_version=target.version,
        reason="Same problem",
    )

    # then every event and timeline entry of the duplicate is on the target, with ref_id following
    assert dup_events <= set(CaseEvent.objects.filter(case=target).values_list("pk", flat=True))
    assert dup_entries <= set(TimelineEntry.objects.filter(case=target).values_list("pk", flat=True))
    assert not TimelineEntry.objects.filter(ref_id=duplicate.pk, kind="case").exclude(case=duplicate).exists()
    assert TimelineEntry.objects.get(pk=call.pk).case == target
    # and the watchers, without doubles (Billing watched both), with the originators of the merged cases
    # (the duplicate's, and the agent, who logged the case merged into the duplicate earlier)
    watchers = CaseWatcher.objects.filter(case=target)
    assert sorted(str(w.user or w.department) for w in watchers) == sorted(
        [str(billing), str(supervisor), str(other_agent), str(agent)]
    )
    # and the links: to the unrelated case moved, the one between the two dropped, the duplicate link added
    assert CaseLink.objects.filter(case=target, related=unrelated).exists()
    assert not CaseLink.objects.filter(case=target, related=target).exists()
    assert CaseLink.objects.get(case=duplicate).related == target
    assert CaseLink.objects.get(case=duplicate).kind == "duplicate"
    # and cases merged into the duplicate earlier now point at the target
    assert Case.objects.get(pk=earlier_duplicate.pk).merged_into == target
    # the duplicate is closed, merged into the target, and still resolvable; both histories say so
    dup = Case.objects.get(pk=duplicate.pk)
    assert (dup.status_category, dup.merged_into, dup.resolution_code) == ("closed", target, "duplicate")
    assert kinds(dup) == ["merged"]
    merged = target.events.get(kind="merged", data__merged_from=dup.pk)
    assert set(merged.data["moved_events"]) == dup_events
    assert CaseStatusSpan.objects.filter(case=dup).last().category == "closed"


def test_merge_is_all_or_nothing(open_case, supervisor, billing, monkeypatch):
    target = open_case()
    duplicate = open_case(watchers=[billing])
    services.case_add_note(actor=supervisor, case=duplicate, body="note")
    before = {
        "events": sorted(CaseEvent.objects.values_list("pk", "case_id")),
        "entries": sorted(TimelineEntry.objects.values_list("pk", "case_id", "version")),
        "watchers": sorted(CaseWatcher.objects.values_list("pk", "case_id")),
        "cases": sorted(Case.objects.values_list("pk", "version", "status_id", "merged_into")),
        "outbox": OutboxEvent.objects.count(),
    }

    # when the last step of the merge fails
    def fail(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(events, "notify", fail)
    with pytest.raises(RuntimeError):
        services.case_merge(actor=supervisor, duplicate=duplicate, target=target, expected_version=1)
    # then nothing moved
    assert before == {
        "events": sorted(CaseEvent.objects.values_list("pk", "case_id")),
        "entries": sorted(TimelineEntry.objects.values_list("pk", "case_id", "version")),
        "watchers": sorted(CaseWatcher.objects.values_list("pk", "case_id")),
        "cases": sorted(Case.objects.values_list("pk", "version", "status_id", "merged_into")),
        "outbox": OutboxEvent.objects.count(),
    }


def test_only_open_cases_of_one_customer_merge(open_case, supervisor, tech_agent):
    a = open_case()
    other_party_case = open_case(party=PartyFactory())
    with pytest.raises(ApplicationError):
        services.case_merge(actor=supervisor, duplicate=other_party_case, target=a, expected_version=1)
    with pytest.raises(ApplicationError):
        services.case_merge(actor=supervisor, duplicate=a, target=a, expected_version=1)
    closed = _resolve_and_close(open_case(), tech_agent)
    with pytest.raises(ApplicationError):
        services.case_merge(actor=supervisor, duplicate=a, target=closed, expected_version=1)


def _foreign_keys_to_case():
    """Every relation to Case in the installed models (history snapshots excluded: they keep the id)."""
    found = set()
    for model in apps.get_models():
        if model._meta.proxy or model.__name__.startswith("Historical"):
            continue
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is Case:
                found.add((model._meta.label_lower, field.name))
            if isinstance(field, models.ManyToManyField) and field.related_model is Case:
                found.add((model._meta.label_lower, field.name))
    return found


def test_merge_handles_every_foreign_key_to_case():
    """Guard (TESTING.md, merge): a new foreign key to Case must get merge handling in case_merge."""
    assert _foreign_keys_to_case() == set(services.MERGE_HANDLING)


def test_the_guard_sees_foreign_keys_to_case():
    found = _foreign_keys_to_case()
    assert ("activities.timelineentry", "case") in found and ("cases.case", "merged_into") in found
    assert not any(label.startswith("cases.historical") for label, _ in found)


def test_roles_that_work_cases(open_case, db):
    case = open_case()
    for role in Role.values:
        user = UserFactory(username=f"r-{role}", role=role)
        assert user.has_perm("cases.change_case", case) is (role != Role.AUDITOR)
        assert user.has_perm("cases.merge_case", case) is (
            role in {Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}
        )


def test_a_transfer_reaches_the_new_department_inbox_once(open_case, agent, tech_agent, billing, other_agent):
    # given a case transferred from Technical Support to Billing
    case = open_case()
    services.case_transfer(
        actor=tech_agent,
        case=case,
        department=billing,
        reason="Not technical",
        note="Unpaid bill?",
        expected_version=1,
    )
    # when the outbox is delivered, and delivered again (a retry)
    outbox.drain()
    outbox.drain()
    # then the Billing agent has one notice of the transfer, pointing at the case; the actor has none
    notices = Notification.objects.filter(kind="case.transferred")
    assert [(n.recipient, n.case_id, n.url) for n in notices.filter(recipient=other_agent)] == [
        (other_agent, case.pk, f"/cases/{case.pk}/")
    ]
    assert not notices.filter(recipient=tech_agent).exists()
    assert notices.filter(recipient=agent).count() == 1  # the originator


# --- bulk ---------------------------------------------------------------------------------------------------


def test_bulk_actions_need_a_supervisor(open_case, tech_agent, billing):
    case = open_case()
    with pytest.raises(NotAllowed):
        services.case_bulk_transfer(
            actor=tech_agent, cases=[(case, 1)], department=billing, reason="r", note="n"
        )


def test_a_bulk_transfer_moves_every_case(open_case, supervisor, billing, other_agent):
    cases = [open_case(subject=f"case {i}") for i in range(3)]
    moved = services.case_bulk_transfer(
        actor=supervisor,
        cases=[(c, c.version) for c in cases],
        department=billing,
        reason="Billing",
        note="All yours",
    )
    assert {c.pk for c in moved} == {c.pk for c in cases}
    assert set(Case.objects.values_list("department", flat=True)) == {billing.pk}
    assert CaseEvent.objects.filter(kind="transferred").count() == 3
    assert all(other_agent.pk in r for r in recipients_of("case.transferred"))


def test_a_bulk_action_is_all_or_nothing(open_case, supervisor, tech_agent, billing):
    first, second = open_case(), open_case()
    services.case_add_note(actor=tech_agent, case=second, body="untouched version")
    resolved = services.case_resolve(
        actor=tech_agent, case=first, resolution_code="solved", resolution_summary="ok", expected_version=1
    )
    before = [snapshot(first), snapshot(second)]
    # the second case is still open: closing both is refused, naming it, and the first stays resolved
    with pytest.raises(ApplicationError, match=second.number):
        services.case_bulk_close(actor=supervisor, cases=[(resolved, resolved.version), (second, 1)])
    assert [snapshot(first), snapshot(second)] == before
    # a stale version of any one case is a conflict for the whole batch
    with pytest.raises(ConflictError):
        services.case_bulk_assign(actor=supervisor, cases=[(resolved, 1), (second, 1)], assignee=None)
    assert [snapshot(first), snapshot(second)] == before


def test_a_case_event_renders_on_the_party_timeline_with_a_link_to_the_case(open_case, tech_agent):
    case = open_case(subject="Cannot make calls <script>alert(1)</script>")
    event = services.case_add_note(actor=tech_agent, case=case, body="Checked the line\nNo fault")
    html = render_to_string(event.entry.template_name, {"entry": event.entry})
    assert f'href="/cases/{case.pk}/"' in html and 'data-kind="case"' in html
    assert "Internal note" in html and "Checked the line<br>No fault" in html
    opened = render_to_string("activities/entries/case.html", {"entry": case.events.first().entry})
    assert "<script>" not in opened and "&lt;script&gt;" in opened
