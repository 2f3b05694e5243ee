"""Opening cases: on a party's file, from a call (find or create the caller, log the call), and as
the follow-up of an earlier case."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    CaseLink,
    CaseNumber,
    CaseStatus,
    CaseStatusSpan,
    CaseWatcher,
    SlaClock,
    format_case_number,
)
from relay.cases.services import routing, sla
from relay.cases.services._base import (
    _check_member,
    _field_error,
    _require,
    _require_visible,
    _touch,
    default_status,
)
from relay.cases.services.handling import _link_interaction
from relay.core import bulk, clock, outbox
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError
from relay.customers.choices import ContactKind
from relay.customers.models import Party
from relay.customers.selectors import party_lookup_by_phone
from relay.customers.services import ContactInput, PartyInput, party_create

MAX_BATCH = 500  # cases `case_open_many` opens in one transaction


@dataclass
class CaseDraft:
    """A case to open: what `case_open` takes, for `case_open_many`. `data`: more to keep on the
    "created" event (the services' own: the call that opened it, the case it follows up)."""

    party: Party
    subject: str
    description: str = ""
    category: CaseCategory | None = None
    priority: str = Priority.NORMAL
    channel: str = ""
    originator: User | None = None
    originating_department: Department | None = None
    department: Department | None = None
    assignee: User | None = None
    watchers: Sequence[User | Department] = ()
    opened_at: datetime | None = None
    fallback_department: Department | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Opening:
    """A case decided on (validated, routed, assigned, its clocks set), not written yet."""

    case: Case
    status: CaseStatus
    clocks: list[SlaClock]
    decision: routing.RoutingDecision
    routed_by: str
    watchers: list[User | Department]
    data: dict[str, Any]


class _Batch:
    """What the openings of one transaction look up once: the users' departments and memberships, the
    departments' members, the routing rules and the assigner."""

    def __init__(self) -> None:
        self.rules = routing.active_rules()
        self.assigner = routing.Assigner()
        self._own: dict[int, list[Department]] = {}
        self._defaults: dict[tuple[int, int | None], Department | None] = {}
        self._checked: set[tuple[int, int]] = set()
        self._members: dict[int, set[int]] = {}

    def own_departments(self, user: User) -> list[Department]:
        if user.pk not in self._own:
            self._own[user.pk] = list(user.departments.all()[:2])
        return self._own[user.pk]

    def default_department(self, actor: User, originator: User) -> Department | None:
        key = (actor.pk, originator.pk)
        if key not in self._defaults:
            self._defaults[key] = routing.default_queue(actor, originator)
        return self._defaults[key]

    def check_member(self, user: User, department: Department, field_name: str) -> None:
        if (user.pk, department.pk) not in self._checked:
            _check_member(user, department, field_name)
            self._checked.add((user.pk, department.pk))

    def members(self, department_id: int) -> set[int]:
        if department_id not in self._members:
            self._members[department_id] = recipients.department_member_ids(department_id)
        return self._members[department_id]


@dataclass
class _Routed:
    """A draft checked and routed (its department decided), not yet assigned."""

    draft: CaseDraft
    subject: str
    originator: User
    originating_department: Department | None
    decision: routing.RoutingDecision
    department: Department
    fallback_used: bool


def _route(*, actor: User, draft: CaseDraft, batch: _Batch) -> _Routed:
    """Validate a draft and decide its department (the routing rules: nothing written); an
    ApplicationError names what is wrong."""
    errors: dict[str, list[str]] = {}
    subject = draft.subject.strip()
    if not subject:
        errors["subject"] = ["A case needs a subject."]
    elif len(subject) > 255:
        errors["subject"] = ["At most 255 characters."]
    priority, channel, category = draft.priority, draft.channel, draft.category
    if priority not in Priority.values:
        errors["priority"] = [f"Choose one of: {', '.join(Priority.values)}."]
    if channel and channel not in Channel.values:
        errors["channel"] = [f"Choose one of: {', '.join(Channel.values)}."]
    if category is not None and not category.is_active:
        errors["category"] = ["This category is no longer in use."]
    for watcher in draft.watchers:
        if isinstance(watcher, User) and not watcher.is_active:
            errors.setdefault("watchers", []).append(f"{watcher.display_name} is not an active user.")
    originator = draft.originator or actor
    originating_department = draft.originating_department
    if originating_department is None:
        own = batch.own_departments(originator)
        originating_department = own[0] if len(own) == 1 else None
    # routing (docs/adr/0009-routing.md): an explicit department wins, else the first matching rule, else
    # the default queue (the originator's, or the actor's, department)
    decision = routing.route(
        actor=actor,
        party=draft.party,
        subject=subject,
        body=draft.description,
        category=category,
        channel=channel,
        originator=originator,
        originating_department=originating_department,
        department=draft.department,
        rules=batch.rules,
        default_department=lambda: batch.default_department(actor, originator),
    )
    department = decision.department
    fallback_used = department is None and draft.fallback_department is not None
    if fallback_used:
        department = draft.fallback_department
    if department is None:
        errors["department"] = ["Choose the department that handles the case."]
    elif not department.is_active:
        errors["department"] = ["This department is no longer active."]
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    assert department is not None
    return _Routed(draft, subject, originator, originating_department, decision, department, fallback_used)


def _place(*, routed: _Routed, batch: _Batch, auto_assign: bool) -> _Opening:
    """Give a routed draft its assignee, status and SLA clocks: the case, not written yet."""
    draft, decision, department = routed.draft, routed.decision, routed.department
    priority = draft.priority
    assignee = draft.assignee
    if assignee is not None:
        batch.check_member(assignee, department, "assignee")
        batch.assigner.given(assignee)
    else:
        assignee = batch.assigner.assign(decision, auto_assign=auto_assign).assignee
    if decision.priority:
        priority = decision.priority
    routed_by = {"chosen": "chosen", "default": "the originator's department"}.get(
        decision.routed_by, f"rule '{decision.rule.name if decision.rule else ''}'"
    )
    if routed.fallback_used:
        routed_by = "the channel's department"

    # a contact that reached us earlier (an e-mail received before it was processed) opens the case at
    # the time it arrived, so its SLA clocks start then; never in the future
    current = clock.now()
    now = min(draft.opened_at, current) if draft.opened_at is not None else current
    case = Case(
        party=draft.party,
        subject=routed.subject,
        description=draft.description,
        category=draft.category,
        priority=priority,
        channel=draft.channel,
        originator=routed.originator,
        originating_department=routed.originating_department,
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
    watchers = list({(type(w), w.pk): w for w in draft.watchers}.values())  # each once
    return _Opening(case, status, clocks, decision, routed_by, watchers, draft.data)


def _open_many(*, actor: User, drafts: Sequence[CaseDraft], auto_assign: bool = False) -> list[Case]:
    """Open the drafts in one go: each decided as if opened one after the other (the same routing,
    assignment and SLA clocks), then written a table at a time: the cases and their history, status
    spans, clocks, watchers, timeline rows, events and outbox events. One draft is `case_open`; in a
    batch an error names the draft (`cases.<n>.<field>`) and nothing is written."""
    _require(actor, "cases.add_case")
    batch = _Batch()
    routed = []
    for n, draft in enumerate(drafts):
        with _naming(n, len(drafts)):
            routed.append(_route(actor=actor, draft=draft, batch=batch))
    # the departments that hand out cases are locked in one order: two batches never wait in a circle
    batch.assigner.lock([r.decision for r in routed if r.draft.assignee is None], auto_assign=auto_assign)
    openings = []
    for n, item in enumerate(routed):
        with _naming(n, len(drafts)):
            openings.append(_place(routed=item, batch=batch, auto_assign=auto_assign))
    batch.assigner.flush()
    numbers = bulk.insert(CaseNumber, [{} for _ in openings])
    cases = [o.case for o in openings]
    for case, number in zip(cases, numbers, strict=True):
        case.number = format_case_number(number)
    bulk.create_with_history(cases, actor=actor)
    bulk.create(
        [
            CaseStatusSpan(
                case=o.case,
                status=o.status,
                category=o.status.category,
                entered_at=o.case.opened_at,
                entered_by=actor,
            )
            for o in openings
        ]
    )
    bulk.create([c for o in openings for c in o.clocks])
    bulk.create(
        [
            CaseWatcher(
                case=o.case, added_by=actor, **({"user": w} if isinstance(w, User) else {"department": w})
            )
            for o in openings
            for w in o.watchers
        ]
    )
    # one line on the party's timeline for each opening and, when a rule decided it, its routing
    texts = [o.decision.text[:1].upper() + o.decision.text[1:] if o.decision.lines else "" for o in openings]
    entries = [
        events.timeline_entry(
            case=o.case,
            actor=actor,
            at=o.case.opened_at,
            headline=f"Opened: {o.case.subject}",
            body="\n\n".join(p for p in (o.case.description, text) if p),
        )
        for o, text in zip(openings, texts, strict=True)
    ]
    bulk.create_with_history(entries, actor=actor)
    created, written = [], []
    for o, text, entry in zip(openings, texts, entries, strict=True):
        case, at = o.case, o.case.opened_at
        event = events.build(
            case=case,
            kind=EventKind.CREATED,
            actor=actor,
            at=at,
            headline=f"Opened: {case.subject}",
            note=case.description,
            entry=entry,
            to_status=o.status,
            to_department=case.department,
            to_assignee=case.assignee,
            data={"routed_by": o.routed_by, **o.data},
        )
        created.append(event)
        written.append(event)
        if text:
            written.append(
                events.build(
                    case=case,
                    kind=EventKind.ROUTED,
                    actor=actor,
                    at=at,
                    headline=text,
                    to_department=case.department,
                    to_assignee=case.assignee,
                    data=o.decision.data(),
                    entry=entry,
                )
            )
    bulk.create(written)  # in this order: the ids keep created before routed
    audiences = recipients.allowed_many([(o.case, _candidates(o, batch)) for o in openings])
    outbox.emit_many(
        events.notice(event=event, case=event.case, recipients=audience)
        for event, audience in zip(created, audiences, strict=True)
    )
    return cases


@contextmanager
def _naming(n: int, total: int) -> Iterator[None]:
    """In a batch, an ApplicationError names its draft: `cases.<n>.<field>`, "Case <n + 1>: ..."."""
    try:
        yield
    except ApplicationError as exc:
        if total == 1:
            raise
        errors = {f"cases.{n}.{name}": messages for name, messages in (exc.errors or {}).items()}
        raise ApplicationError(f"Case {n + 1}: {exc.message}", errors=errors, status=exc.status) from exc


def _candidates(opening: _Opening, batch: _Batch) -> set[int]:
    """Who is told of a new case (`recipients.audience`, from what is in hand): its handler, watchers and
    originator."""
    case = opening.case
    found = {case.assignee_id} if case.assignee_id is not None else set(batch.members(case.department_id))
    for watcher in opening.watchers:
        found |= {watcher.pk} if isinstance(watcher, User) else batch.members(watcher.pk)
    if case.originator_id is not None:
        found.add(case.originator_id)
    return found


def _open(*, actor: User, draft: CaseDraft, auto_assign: bool = False) -> Case:
    return _open_many(actor=actor, drafts=[draft], auto_assign=auto_assign)[0]


@transaction.atomic
def case_open_many(*, actor: User, drafts: Sequence[CaseDraft], auto_assign: bool = False) -> list[Case]:
    """Open many cases at once (an import, a batch through the API): each exactly as `case_open` would,
    in order, all or nothing; at most MAX_BATCH. An error names the draft: `cases.<n>.<field>`."""
    if not drafts:
        raise _field_error("cases", "Give at least one case.")
    if len(drafts) > MAX_BATCH:
        raise _field_error("cases", f"At most {MAX_BATCH} cases at a time.")
    return _open_many(actor=actor, drafts=drafts, auto_assign=auto_assign)


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
    draft = CaseDraft(
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
        watchers=list(watchers),
        opened_at=opened_at,
        fallback_department=fallback_department,
    )
    return _open(actor=actor, draft=draft, auto_assign=auto_assign)


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
    draft = CaseDraft(
        party=party,
        subject=subject,
        description=description,
        category=category,
        priority=priority,
        channel=Channel.PHONE,
        originator=originator,
        originating_department=originating_department,
        department=department,
        watchers=list(watchers),
        data={"call_entry_id": entry.pk, "party_created": party_created},
    )
    case = _open(actor=actor, draft=draft, auto_assign=auto_assign)
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
    draft = CaseDraft(
        party=earlier.party,
        subject=subject,
        description=description,
        category=category if category is not None else earlier.category,
        priority=priority or earlier.priority,
        channel=channel,
        department=department or earlier.department,
        data={"follow_up_of": earlier.pk},
        opened_at=opened_at,
    )
    new = _open(actor=actor, draft=draft)
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
