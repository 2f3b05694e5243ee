"""Opening cases: on a party's file, from a call (find or create the caller, log the call), and as
the follow-up of an earlier case."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from relay.accounts.models import Department, User
from relay.activities.choices import Direction
from relay.activities.models import TimelineEntry
from relay.activities.services import InteractionInput, interaction_log
from relay.cases import events, recipients
from relay.cases.choices import EventKind, LinkKind, Priority, StatusCategory
from relay.cases.models import (
    Case,
    CaseCategory,
    CaseEvent,
    CaseLink,
    CaseNumber,
    CaseStatusSpan,
    SlaClock,
    format_case_number,
)
from relay.cases.services import routing, sla
from relay.cases.services._base import (
    _add_watcher,
    _check_member,
    _field_error,
    _require,
    _require_visible,
    _touch,
    default_status,
)
from relay.cases.services.handling import _link_interaction
from relay.core import clock
from relay.core.audit import with_actor
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError
from relay.customers.choices import ContactKind
from relay.customers.models import Party
from relay.customers.selectors import party_lookup_by_phone
from relay.customers.services import ContactInput, PartyInput, party_create


def _open(
    *,
    actor: User,
    party: Party,
    subject: str,
    description: str,
    category: CaseCategory | None,
    priority: str,
    channel: str,
    originator: User | None,
    originating_department: Department | None,
    department: Department | None,
    assignee: User | None,
    watchers: Iterable[User | Department],
    data: dict[str, Any] | None = None,
    notify: bool = True,
    auto_assign: bool = False,
    opened_at: datetime | None = None,
    fallback_department: Department | None = None,
) -> Case:
    _require(actor, "cases.add_case")
    errors: dict[str, list[str]] = {}
    subject = subject.strip()
    if not subject:
        errors["subject"] = ["A case needs a subject."]
    elif len(subject) > 255:
        errors["subject"] = ["At most 255 characters."]
    if priority not in Priority.values:
        errors["priority"] = [f"Choose one of: {', '.join(Priority.values)}."]
    if channel and channel not in Channel.values:
        errors["channel"] = [f"Choose one of: {', '.join(Channel.values)}."]
    if category is not None and not category.is_active:
        errors["category"] = ["This category is no longer in use."]
    originator = originator or actor
    if originating_department is None:
        own = list(originator.departments.all()[:2])
        originating_department = own[0] if len(own) == 1 else None
    # routing (docs/adr/0009-routing.md): an explicit department wins, else the first matching rule, else
    # the default queue (the originator's, or the actor's, department)
    decision = routing.route(
        actor=actor,
        party=party,
        subject=subject,
        body=description,
        category=category,
        channel=channel,
        originator=originator,
        originating_department=originating_department,
        department=department,
    )
    department = decision.department
    fallback_used = department is None and fallback_department is not None
    if fallback_used:
        department = fallback_department
    if department is None:
        errors["department"] = ["Choose the department that handles the case."]
    elif not department.is_active:
        errors["department"] = ["This department is no longer active."]
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    assert department is not None
    if assignee is not None:
        _check_member(assignee, department, "assignee")
    else:
        assignee = routing.assign(decision, auto_assign=auto_assign).assignee
    if decision.priority:
        priority = decision.priority
    routed_by = {"chosen": "chosen", "default": "the originator's department"}.get(
        decision.routed_by, f"rule '{decision.rule.name if decision.rule else ''}'"
    )
    if fallback_used:
        routed_by = "the channel's department"

    # a contact that reached us earlier (an e-mail received before it was processed) opens the case at
    # the time it arrived, so its SLA clocks start then; never in the future
    current = clock.now()
    now = min(opened_at, current) if opened_at is not None else current
    case = Case(
        number=format_case_number(CaseNumber.objects.create().pk),
        party=party,
        subject=subject,
        description=description,
        category=category,
        priority=priority,
        channel=channel,
        originator=originator,
        originating_department=originating_department,
        department=department,
        assignee=assignee,
        opened_at=now,
        last_activity_at=now,
        created_at=current,
        updated_at=current,
    )
    status = default_status(StatusCategory.OPEN if assignee else StatusCategory.NEW)
    case.status, case.status_category = status, status.category
    clocks = sla.sync(case, at=now)  # before the insert, which writes the SLA badge too
    with_actor(case, actor)
    case.save()
    CaseStatusSpan.objects.create(
        case=case, status=status, category=status.category, entered_at=now, entered_by=actor
    )
    SlaClock.objects.bulk_create(clocks)
    watched = False
    for watcher in watchers:
        watched = _add_watcher(case, watcher, actor=actor) is not None or watched
    # one line on the party's timeline for the opening and, when a rule decided it, its routing
    routed_text = decision.text[:1].upper() + decision.text[1:] if decision.lines else ""
    headline = f"Opened: {subject}"
    body = "\n\n".join(p for p in (description, routed_text) if p)
    event = events.build(
        case=case,
        kind=EventKind.CREATED,
        actor=actor,
        at=now,
        headline=headline,
        note=description,
        entry=events.timeline_entry_for(case=case, actor=actor, at=now, headline=headline, body=body),
        to_status=status,
        to_department=department,
        to_assignee=assignee,
        data={"routed_by": routed_by, **(data or {})},
    )
    opened = [event]
    if routed_text:
        opened.append(
            events.build(
                case=case,
                kind=EventKind.ROUTED,
                actor=actor,
                at=now,
                headline=routed_text,
                to_department=department,
                to_assignee=assignee,
                data=decision.data(),
                entry=event.entry,
            )
        )
    CaseEvent.objects.bulk_create(opened)  # in this order: the ids keep created before routed
    if notify:
        # a case opened just now has no watchers but those added above: no need to look them up otherwise
        events.notify(event=event, case=case, recipients=recipients.audience(case, watchers=watched))
    return case


@transaction.atomic
def case_open(
    *,
    actor: User,
    party: Party,
    subject: str,
    description: str = "",
    category: CaseCategory | None = None,
    priority: str = Priority.NORMAL,
    channel: str = "",
    originator: User | None = None,
    originating_department: Department | None = None,
    department: Department | None = None,
    assignee: User | None = None,
    watchers: Iterable[User | Department] = (),
    auto_assign: bool = False,
    opened_at: datetime | None = None,
    fallback_department: Department | None = None,
) -> Case:
    """Open a case on a party's file. Without a department the routing rules decide (docs/adr/0009), else
    it goes to the originator's (or the actor's) department, else to `fallback_department` (a channel's:
    the mailbox's department for e-mail); with `auto_assign` a chosen department hands it out by its own
    strategy. `opened_at`: when the contact arrived (the SLA clocks start then; default now). The
    handler (assignee, or the department), watchers and originator are told."""
    return _open(
        actor=actor,
        party=party,
        subject=subject,
        description=description,
        category=category,
        priority=priority,
        channel=channel,
        originator=originator,
        originating_department=originating_department,
        department=department,
        assignee=assignee,
        watchers=watchers,
        auto_assign=auto_assign,
        opened_at=opened_at,
        fallback_department=fallback_department,
    )


@dataclass
class CaseFromCall:
    case: Case
    party: Party
    call: TimelineEntry
    party_created: bool


@transaction.atomic
def case_log_from_call(
    *,
    actor: User,
    phone: str,
    subject: str,
    description: str = "",
    party: Party | None = None,
    new_caller: PartyInput | None = None,
    call: InteractionInput | None = None,
    category: CaseCategory | None = None,
    priority: str = Priority.NORMAL,
    department: Department | None = None,
    originator: User | None = None,
    originating_department: Department | None = None,
    watchers: Iterable[User | Department] = (),
    auto_assign: bool = False,
) -> CaseFromCall:
    """One screen, one transaction: find the caller by number (or create them from `new_caller`, with
    the number as their phone), log the call, open the case and link the call to it."""
    party_created = False
    if party is None:
        matches = party_lookup_by_phone(actor=actor, raw=phone)
        if len(matches) > 1:
            raise _field_error("party", "Several customers have this number; choose the caller.")
        if matches:
            party = matches[0]
        elif new_caller is None:
            raise _field_error("new_caller", "No customer has this number; enter the caller's name.")
        else:
            data = new_caller
            if not any(c.kind == ContactKind.PHONE for c in data.contact_points):
                data.contact_points.append(ContactInput(kind=ContactKind.PHONE, raw=phone, is_primary=True))
            party = party_create(actor=actor, data=data)
            party_created = True
    call_data = call or InteractionInput(
        channel=Channel.PHONE, direction=Direction.INBOUND, subject=subject, body=description
    )
    if call_data.channel != Channel.PHONE:
        raise _field_error("call.channel", "A call is logged on the phone channel.")
    entry = interaction_log(actor=actor, party=party, data=call_data)
    case = _open(
        actor=actor,
        party=party,
        subject=subject,
        description=description,
        category=category,
        priority=priority,
        channel=Channel.PHONE,
        originator=originator,
        originating_department=originating_department,
        department=department,
        assignee=None,
        watchers=watchers,
        data={"call_entry_id": entry.pk, "party_created": party_created},
        auto_assign=auto_assign,
    )
    _link_interaction(actor=actor, case=case, entry=entry, notify=False)
    return CaseFromCall(case=case, party=party, call=entry, party_created=party_created)


@transaction.atomic
def case_open_follow_up(
    *,
    actor: User,
    case: Case,
    subject: str,
    description: str = "",
    category: CaseCategory | None = None,
    priority: str | None = None,
    channel: str = "",
    department: Department | None = None,
    opened_at: datetime | None = None,
) -> Case:
    """A new case on the same file, linked to an earlier one as its follow-up (the earlier case stays
    as it was). Category, priority and department default to the earlier case's. `opened_at` as in
    `case_open`."""
    _require_visible(actor, case)
    earlier = Case.objects.select_related("party", "department", "category").get(pk=case.pk)
    new = _open(
        actor=actor,
        party=earlier.party,
        subject=subject,
        description=description,
        category=category if category is not None else earlier.category,
        priority=priority or earlier.priority,
        channel=channel,
        originator=None,
        originating_department=None,
        department=department or earlier.department,
        assignee=None,
        watchers=(),
        data={"follow_up_of": earlier.pk},
        opened_at=opened_at,
    )
    CaseLink.objects.create(case=new, related=earlier, kind=LinkKind.FOLLOW_UP, created_by=actor)
    now = clock.now()
    _touch(earlier, now)
    event = events.record(
        case=earlier,
        kind=EventKind.FOLLOW_UP_OPENED,
        actor=actor,
        at=now,
        headline=f"Follow-up {new.number} opened",
        data={"follow_up_id": new.pk},
    )
    events.notify(event=event, case=earlier, recipients=recipients.audience(earlier, handler=False))
    return new
