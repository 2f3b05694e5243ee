"""Volume data for benchmarks: `relay seed --cases N [--open-share 0.1]`.

Cases are written in bulk for the parties already in the database, spread over the active departments
and the statuses (by default 10 % still open: new, open or waiting; the rest resolved or closed), each
with what `case_open` and the later services write: a real number (`C-…`, from the same counter), the
derived columns (status category, resolved/closed times, last activity), its status spans from opening
to the current status, the "created" event and that event's entry on the party's timeline. Selectors
(the queue, my cases, a party's cases) find them exactly like opened ones. No audit history and no
outbox events: this is load, not user input.

On PostgreSQL the cases are generated inside the server (INSERT ... SELECT over generate_series) in
chunks that parallel connections run side by side (as relay/customers/seed.py does); on SQLite they go
through one connection with executemany. The spans, events and timeline entries are derived from the
inserted case rows by the same INSERT ... SELECT on both databases. Only integers and constants are
interpolated into the SQL.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction

from relay.accounts.models import Department, User
from relay.cases.choices import OPEN_CATEGORIES, Priority, ResolutionCode, StatusCategory
from relay.cases.models import NUMBER_PREFIX, Case, CaseStatus
from relay.cases.permissions import WORKER_ROLES
from relay.core import clock
from relay.core.exceptions import ApplicationError
from relay.core.models import Source
from relay.customers.models import Party
from relay.customers.seed import Job, Progress, _pg_parallel, _sql_array

SUBJECTS = [
    "Cannot make calls",
    "Question about the bill",
    "No dial tone",
    "Fibre upgrade",
    "Moving house",
    "Roaming charges",
    "Water leak in the street",
    "Direct debit failed",
    "Router keeps restarting",
    "Request for a copy of the contract",
]
DESCRIPTION = "Seeded case for load testing."
SUMMARY = "Seeded resolution."
CHANNELS = ["phone", "email", "web", "letter"]
PRIORITIES = [Priority.LOW, Priority.NORMAL, Priority.NORMAL, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
CODES = [ResolutionCode.SOLVED, ResolutionCode.SOLVED, ResolutionCode.INFORMATION, ResolutionCode.WORKAROUND]
# the split of the open share: new (nobody assigned), open, waiting on the customer, on a third party
OPEN_SPLIT = [(StatusCategory.NEW, 4), (StatusCategory.OPEN, 4), (StatusCategory.WAITING_CUSTOMER, 1)]
OPEN_SPLIT += [(StatusCategory.WAITING_THIRD_PARTY, 1)]
RESOLVED_SHARE = 0.2  # of the cases no longer open; the rest are closed
TWO_YEARS = 2 * 365 * 24 * 3600
SEEDED_TABLES = ("cases_case", "cases_casenumber", "cases_casestatusspan", "cases_caseevent")


@dataclass
class CaseSeedResult:
    cases: int
    open: int
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


@dataclass
class _Setup:
    """What the generated rows point at: departments and their members, staff, default statuses."""

    departments: list[int]
    members: dict[int, list[int]]
    staff: list[int]
    statuses: dict[str, int]
    case_type: int
    case_base: int
    number_base: int
    entry_base: int
    event_base: int


def _setup(count: int) -> _Setup:
    from django.contrib.contenttypes.models import ContentType

    departments = list(Department.objects.filter(is_active=True).order_by("id").values_list("id", flat=True))
    if not departments:
        raise ApplicationError("Seeding cases needs at least one active department.")
    if not Party.objects.exists():
        raise ApplicationError("Seeding cases needs parties: run `relay seed --parties N` first.")
    statuses = {}
    for category in StatusCategory.values:
        status = CaseStatus.objects.filter(category=category, is_default=True, is_active=True).first()
        if status is None:
            raise ApplicationError(f"No default status for {category}; run the migrations first.")
        statuses[category] = status.pk
    members: dict[int, list[int]] = {d: [] for d in departments}
    workers = User.objects.filter(is_active=True, is_away=False, role__in=WORKER_ROLES)
    for user_id, department_id in workers.filter(departments__in=departments).values_list(
        "id", "departments"
    ):
        members[department_id].append(user_id)
    staff = sorted({u for ids in members.values() for u in ids}) or list(
        workers.order_by("id").values_list("id", flat=True)[:50]
    )
    return _Setup(
        departments=departments,
        members={d: sorted(ids) for d, ids in members.items()},
        staff=staff,
        statuses=statuses,
        case_type=ContentType.objects.get_for_model(Case).pk,
        case_base=_reserve("cases_case", count),
        number_base=_reserve("cases_casenumber", count),
        entry_base=_reserve("activities_timelineentry", count),
        event_base=_reserve("cases_caseevent", count),
    )


def _reserve(table: str, count: int) -> int:
    """The id before a block of `count` ids nobody else will be given (PostgreSQL: the sequence moves
    past the block at once; SQLite: writers are serialised and AUTOINCREMENT follows the highest id)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST("
                f"(SELECT coalesce(max(id), 0) FROM {table}), nextval(pg_get_serial_sequence('{table}', 'id')))"
                f" + {int(count)})"
            )
            return int(cursor.fetchone()[0]) - count
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        return int(cursor.fetchone()[0])


def _number_sql(value: str) -> str:
    """`format_case_number` in PostgreSQL: the prefix and at least six digits."""
    return f"'{NUMBER_PREFIX}' || CASE WHEN {value} < 1000000 THEN lpad(({value})::text, 6, '0') ELSE ({value})::text END"


def _derived_sql(s: _Setup, lo: int, hi: int) -> list[str]:
    """Spans, created events and their timeline entries of the cases with ids lo..hi (both databases)."""
    postgres = connection.vendor == "postgresql"
    st = s.statuses
    initial = f"CASE WHEN c.assignee_id IS NULL THEN {st['new']} ELSE {st['open']} END"
    headline = "'Opened: ' || c.subject"
    data = (
        f"jsonb_build_object('headline', {headline}, 'routed_by', 'chosen')"
        if postgres
        else f"json_object('headline', {headline}, 'routed_by', 'chosen')"
    )
    waiting = f"('{StatusCategory.WAITING_CUSTOMER}', '{StatusCategory.WAITING_THIRD_PARTY}')"
    done = f"('{StatusCategory.RESOLVED}', '{StatusCategory.CLOSED}')"
    span_columns = "case_id, status_id, category, entered_at, left_at, entered_by_id"
    in_range = f"c.id BETWEEN {lo} AND {hi}"
    spans = (
        f"INSERT INTO cases_casestatusspan ({span_columns}) "
        # opening: new (nobody assigned) or open, until the case waited or was resolved
        f"SELECT c.id, {initial}, CASE WHEN c.assignee_id IS NULL THEN 'new' ELSE 'open' END, c.opened_at, "
        f"CASE WHEN c.status_category IN {waiting} THEN c.last_activity_at "
        f"WHEN c.status_category IN {done} THEN c.resolved_at END, c.originator_id "
        f"FROM cases_case c WHERE {in_range} "
        # then waiting, or resolved (until closed)
        "UNION ALL SELECT c.id, CASE WHEN c.status_category IN "
        f"{waiting} THEN c.status_id ELSE {st['resolved']} END, "
        f"CASE WHEN c.status_category IN {waiting} THEN c.status_category ELSE 'resolved' END, "
        f"CASE WHEN c.status_category IN {waiting} THEN c.last_activity_at ELSE c.resolved_at END, "
        "c.closed_at, coalesce(c.assignee_id, c.originator_id) "
        f"FROM cases_case c WHERE {in_range} AND (c.status_category IN {waiting} OR c.status_category IN {done}) "
        # then closed
        f"UNION ALL SELECT c.id, {st['closed']}, 'closed', c.closed_at, NULL, "
        "coalesce(c.assignee_id, c.originator_id) "
        f"FROM cases_case c WHERE {in_range} AND c.status_category = 'closed'"
    )
    offset = f"c.id - {s.case_base}"
    entries = (
        "INSERT INTO activities_timelineentry (id, created_at, updated_at, version, source, source_detail, "
        "entered_by_id, party_id, kind, occurred_at, actor_id, channel, direction, subject, body, "
        "duration_seconds, ref_type_id, ref_id, case_id) "
        f"SELECT {s.entry_base} + {offset}, c.opened_at, c.opened_at, 1, "
        f"CASE WHEN c.originator_id IS NULL THEN '{Source.SYSTEM}' ELSE '{Source.USER}' END, '', "
        "c.originator_id, c.party_id, 'case', c.opened_at, c.originator_id, '', 'internal', "
        f"substr(c.number || ' · ' || {headline}, 1, 255), c.description, NULL, {s.case_type}, c.id, c.id "
        f"FROM cases_case c WHERE c.id BETWEEN {lo} AND {hi}"
    )
    events = (
        "INSERT INTO cases_caseevent (id, case_id, kind, actor_id, at, from_status_id, to_status_id, "
        "from_department_id, to_department_id, from_assignee_id, to_assignee_id, reason, note, visibility, "
        "data, entry_id) "
        f"SELECT {s.event_base} + {offset}, c.id, 'created', c.originator_id, c.opened_at, NULL, {initial}, "
        "NULL, c.department_id, NULL, c.assignee_id, '', c.description, 'internal', "
        f"{data}, {s.entry_base} + {offset} FROM cases_case c WHERE c.id BETWEEN {lo} AND {hi}"
    )
    return [spans, entries, events]


class _PgCases:
    """PostgreSQL: every column of case `g` (1..N) is a function of g (hashint8 picks), so a chunk is
    one INSERT ... SELECT over its range of g, and the same range always gives the same cases."""

    def __init__(self, s: _Setup, count: int, open_share: float, batch: int, parties: int) -> None:
        self.s, self.count, self.open_share, self.batch = s, count, open_share, batch
        self.parties = parties

    @staticmethod
    def pick(array: str, size: int, salt: int) -> str:
        return f"({array})[1 + mod(abs(hashint8(g * 131 + {salt})), {size})]"

    def _department_members(self) -> str:
        """The assignee for department index `d` (a member picked by hash), NULL for an empty one."""
        arms = []
        for i, department in enumerate(self.s.departments):
            ids = self.s.members[department]
            if ids:
                array = "ARRAY[" + ", ".join(str(u) for u in ids) + "]::bigint[]"
                arms.append(f"WHEN {i} THEN ({array})[1 + mod(abs(hashint8(g * 131 + 25)), {len(ids)})]")
        return "CASE d " + " ".join(arms) + " END" if arms else "NULL::bigint"

    def cases_sql(self, lo: int, hi: int) -> str:
        s = self.s
        departments = "ARRAY[" + ", ".join(str(d) for d in s.departments) + "]::bigint[]"
        staff = "ARRAY[" + ", ".join(str(u) for u in s.staff) + "]::bigint[]" if s.staff else ""
        originator = self.pick(staff, len(s.staff), 26) if s.staff else "NULL::bigint"
        open_limit = round(self.open_share * 10000)
        split_total = sum(w for _, w in OPEN_SPLIT)
        arms, upto = [], 0
        for category, weight in OPEN_SPLIT:
            upto += weight
            arms.append(f"WHEN mod(abs(hashint8(g * 131 + 24)), {split_total}) < {upto} THEN '{category}'")
        open_category = "CASE " + " ".join(arms) + " END"
        status_of = "CASE cat " + " ".join(f"WHEN '{c}' THEN {pk}" for c, pk in s.statuses.items()) + " END"
        # a: the picks; b: the category (new when nobody is assigned); c: the times
        a = (
            f"SELECT g, mod(abs(hashint8(g * 131 + 22)), {len(s.departments)})::int AS d, "
            f"mod(abs(hashint8(g * 131 + 23)), 10000) AS r, {originator} AS originator, "
            f"1 + mod(abs(hashint8(g * 131 + 21)), {self.parties}) AS pn "
            f"FROM generate_series({lo}, {hi}) AS g"
        )
        b = (
            f"SELECT a.*, ({departments})[1 + d] AS department, "
            f"CASE WHEN r < {open_limit} THEN {open_category} "
            f"WHEN mod(abs(hashint8(g * 131 + 27)), 100) < {round(RESOLVED_SHARE * 100)} THEN 'resolved' "
            f"ELSE 'closed' END AS pre FROM ({a}) a"
        )
        c = (
            f"SELECT b.*, CASE WHEN pre = 'new' THEN NULL ELSE {self._department_members()} END AS assignee, "
            "now() - make_interval(secs => (CASE WHEN pre IN ('resolved', 'closed') "
            f"THEN 1296000 + mod(abs(hashint8(g * 131 + 28)), {TWO_YEARS}) "
            "ELSE 60 + mod(abs(hashint8(g * 131 + 28)), 5184000) END)::int) AS opened, "
            "make_interval(secs => (3600 + mod(abs(hashint8(g * 131 + 29)), 864000))::int) AS took "
            f"FROM ({b}) b"
        )
        d = f"SELECT c.*, CASE WHEN assignee IS NULL AND pre <> 'closed' AND pre <> 'resolved' THEN 'new' ELSE pre END AS cat FROM ({c}) c"
        resolved = "CASE WHEN cat IN ('resolved', 'closed') THEN opened + took END"
        closed = "CASE WHEN cat = 'closed' THEN opened + took * 2 END"
        last = (
            "CASE WHEN cat = 'closed' THEN opened + took * 2 WHEN cat = 'resolved' THEN opened + took "
            "WHEN cat IN ('waiting_customer', 'waiting_third_party') THEN opened + interval '1 hour' "
            "ELSE opened END"
        )
        codes = _sql_array([str(c) for c in CODES])
        return (
            "INSERT INTO cases_case (id, created_at, updated_at, version, number, subject, description, "
            "priority, channel, status_category, resolution_code, resolution_summary, opened_at, "
            "acknowledged_at, first_response_at, resolved_at, closed_at, last_activity_at, reopened_count, "
            "assignee_id, department_id, merged_into_id, originating_department_id, originator_id, party_id, "
            "category_id, status_id) "
            f"SELECT {s.case_base} + g, opened, {last}, 1, {_number_sql(f'{s.number_base} + g')}, "
            f"{self.pick(_sql_array(SUBJECTS), len(SUBJECTS), 30)}, '{DESCRIPTION}', "
            f"{self.pick(_sql_array([str(p) for p in PRIORITIES]), len(PRIORITIES), 31)}, "
            f"{self.pick(_sql_array(CHANNELS), len(CHANNELS), 32)}, cat, "
            f"CASE WHEN cat IN ('resolved', 'closed') THEN {self.pick(codes, len(CODES), 33)} ELSE '' END, "
            f"CASE WHEN cat IN ('resolved', 'closed') THEN '{SUMMARY}' ELSE '' END, opened, NULL, NULL, "
            f"{resolved}, {closed}, {last}, 0, assignee, department, NULL, NULL, originator, p.id, NULL, "
            f"{status_of} FROM ({d}) x JOIN cases_seed_parties p ON p.n = x.pn"
        )

    def jobs(self) -> Iterator[Job]:
        done = 0
        while done < self.count:
            size = min(self.batch, self.count - done)
            lo, hi = done + 1, done + size
            first, last = self.s.case_base + lo, self.s.case_base + hi
            yield (
                "cases",
                size,
                [
                    f"INSERT INTO cases_casenumber (id) SELECT {self.s.number_base} + g "
                    f"FROM generate_series({lo}, {hi}) AS g",
                    self.cases_sql(lo, hi),
                    *_derived_sql(self.s, first, last),
                ],
            )
            done += size


def _sqlite_case_rows(
    s: _Setup, lo: int, hi: int, open_share: float, parties: list[int], rng: random.Random, now: datetime
) -> Iterator[tuple]:
    adapt = connection.ops.adapt_datetimefield_value
    split = [c for c, w in OPEN_SPLIT for _ in range(w)]
    for g in range(lo, hi + 1):
        department = rng.choice(s.departments)
        if rng.random() < open_share:
            category: str = rng.choice(split)
            opened = now - timedelta(seconds=rng.randint(60, 5184000))
        else:
            category = StatusCategory.RESOLVED if rng.random() < RESOLVED_SHARE else StatusCategory.CLOSED
            opened = now - timedelta(seconds=1296000 + rng.randrange(TWO_YEARS))
        members = s.members[department]
        assignee = rng.choice(members) if category != StatusCategory.NEW and members else None
        if assignee is None and category in OPEN_CATEGORIES:
            category = StatusCategory.NEW
        took = timedelta(seconds=3600 + rng.randrange(864000))
        resolved = opened + took if category in (StatusCategory.RESOLVED, StatusCategory.CLOSED) else None
        closed = opened + 2 * took if category == StatusCategory.CLOSED else None
        last = closed or resolved or opened
        if category in (StatusCategory.WAITING_CUSTOMER, StatusCategory.WAITING_THIRD_PARTY):
            last = opened + timedelta(hours=1)
        is_done = resolved is not None
        number = s.number_base + g
        yield (
            s.case_base + g,
            adapt(opened),
            adapt(last),
            1,
            f"{NUMBER_PREFIX}{number:06d}",
            rng.choice(SUBJECTS),
            DESCRIPTION,
            str(rng.choice(PRIORITIES)),
            rng.choice(CHANNELS),
            str(category),
            str(rng.choice(CODES)) if is_done else "",
            SUMMARY if is_done else "",
            adapt(opened),
            adapt(resolved),
            adapt(closed),
            adapt(last),
            0,
            assignee,
            department,
            rng.choice(s.staff) if s.staff else None,
            rng.choice(parties),
            s.statuses[category],
        )


SQLITE_CASE_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "version",
    "number",
    "subject",
    "description",
    "priority",
    "channel",
    "status_category",
    "resolution_code",
    "resolution_summary",
    "opened_at",
    "resolved_at",
    "closed_at",
    "last_activity_at",
    "reopened_count",
    "assignee_id",
    "department_id",
    "originator_id",
    "party_id",
    "status_id",
]


def seed_cases(
    *,
    cases: int,
    open_share: float = 0.1,
    batch: int = 20_000,
    seed_value: int = 1,
    progress: Progress | None = None,
    workers: int | None = None,
) -> CaseSeedResult:
    """Append `cases` cases on the existing parties (`open_share` of them still open)."""
    if cases < 0 or batch < 1 or not 0 <= open_share <= 1:
        raise ApplicationError("cases >= 0, batch >= 1 and 0 <= open share <= 1.")
    started = time.perf_counter()
    phases: dict[str, float] = {}
    if cases == 0:
        return CaseSeedResult(cases=0, open=0, seconds=0.0)
    postgres = connection.vendor == "postgresql"
    s = _setup(cases)
    workers = workers or os.cpu_count() or 1
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS cases_seed_parties")
            cursor.execute(
                "CREATE UNLOGGED TABLE cases_seed_parties AS SELECT (row_number() OVER (ORDER BY id))::bigint "
                "AS n, id FROM customers_party"
            )
            cursor.execute("ALTER TABLE cases_seed_parties ADD PRIMARY KEY (n)")
            cursor.execute("SELECT count(*) FROM cases_seed_parties")
            parties = int(cursor.fetchone()[0])
        try:
            _pg_parallel(_PgCases(s, cases, open_share, batch, parties).jobs(), workers, progress)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS cases_seed_parties")
    else:
        rng = random.Random(seed_value)
        now = clock.now()
        party_ids = list(Party.objects.order_by("id").values_list("id", flat=True))
        marks = ", ".join(["%s"] * len(SQLITE_CASE_COLUMNS))
        done = 0
        while done < cases:
            size = min(batch, cases - done)
            lo, hi = done + 1, done + size
            rows = list(_sqlite_case_rows(s, lo, hi, open_share, party_ids, rng, now))
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO cases_casenumber (id) VALUES (%s)",
                    [(s.number_base + g,) for g in range(lo, hi + 1)],
                )
                cursor.executemany(
                    f"INSERT INTO cases_case ({', '.join(SQLITE_CASE_COLUMNS)}) VALUES ({marks})", rows
                )
                for statement in _derived_sql(s, s.case_base + lo, s.case_base + hi):
                    cursor.execute(statement)
            done += size
            if progress:
                progress("cases", size)
    phases["load"] = time.perf_counter() - started
    mark = time.perf_counter()
    with connection.cursor() as cursor:
        if not postgres:
            cursor.execute("ANALYZE")
    if postgres and not connection.in_atomic_block:
        tables = (*SEEDED_TABLES, "activities_timelineentry")
        _pg_parallel((("", 0, [f"VACUUM ANALYZE {table}"]) for table in tables), workers, None)
    phases["analyze"] = time.perf_counter() - mark
    still_open = Case.objects.filter(
        pk__gt=s.case_base, pk__lte=s.case_base + cases, status_category__in=OPEN_CATEGORIES
    ).count()
    return CaseSeedResult(cases=cases, open=still_open, seconds=time.perf_counter() - started, phases=phases)
