"""Volume data for benchmarks: `relay seed --parties N --interactions M`.

Rows are written in bulk (COPY on PostgreSQL, executemany on SQLite) with the same derived columns the
services compute (display name, name key, E.164 phones, search text), so seeded parties are found by the
caller lookup and the search exactly like entered ones. No audit history: this is load, not user input.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from queue import Empty, Queue
from typing import Any

from django.db import connection, transaction

from relay.activities.models import TimelineEntry
from relay.core import clock
from relay.customers.models import ContactPoint, Party
from relay.customers.search_index import drop_search_index, ensure_search_index, rebuild_search_index

Progress = Callable[[str, int], None]

FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Sandra",
    "Mark",
    "Margaret",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Paul",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "George",
    "Deborah",
    "Timothy",
    "Stephanie",
    "Aisha",
    "Chen",
    "Elif",
    "Femi",
    "Ines",
    "Kofi",
    "Mateo",
    "Priya",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Okafor",
    "Yilmaz",
    "Novak",
    "Schmidt",
    "Rossi",
    "Dubois",
]
AREAS = ["212", "213", "305", "312", "415", "503", "617", "702", "718", "808"]
STREETS = ["Market Street", "Main Street", "Oak Avenue", "Pine Road", "Elm Street", "Lake Drive", "Hill Lane"]
CITIES = [("San Francisco", "CA"), ("Chicago", "IL"), ("Boston", "MA"), ("Seattle", "WA"), ("Austin", "TX")]
CHANNELS = (
    ["phone"] * 45 + ["email"] * 30 + ["web"] * 8 + ["chat"] * 6 + ["sms"] * 5 + ["letter"] * 4 + ["fax"] * 2
)
SUBJECTS = [
    "Cannot make calls",
    "Question about the bill",
    "Upgrade to fibre",
    "Roaming activation",
    "Moving house",
    "Payment reminder",
    "Complaint about dropped calls",
    "New handset",
    "Invoice copy",
]
STAGES = ["consider", "purchase", "set_up", "use", "use", "use", "retired", ""]

PARTY_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "version",
    "source",
    "source_detail",
    "entered_by_id",
    "kind",
    "given_name",
    "family_name",
    "organisation_name",
    "display_name",
    "name_key",
    "birth_date",
    "website",
    "industry",
    "about",
    "preferred_channel",
    "lifecycle_stage",
    "lifecycle_cycle",
    "owner_id",
    "search_text",
    "primary_phone",
    "primary_email",
    "role_codes",
    "tag_names",
]
CONTACT_COLUMNS = [
    "created_at",
    "updated_at",
    "version",
    "source",
    "source_detail",
    "entered_by_id",
    "party_id",
    "kind",
    "label",
    "raw",
    "normalized",
    "is_primary",
    "street",
    "locality",
    "region",
    "postal_code",
    "country",
]
ENTRY_COLUMNS = [
    "created_at",
    "updated_at",
    "version",
    "source",
    "source_detail",
    "entered_by_id",
    "party_id",
    "kind",
    "occurred_at",
    "actor_id",
    "channel",
    "direction",
    "subject",
    "body",
    "duration_seconds",
    "ref_type_id",
    "ref_id",
    "case_id",
]


def _check_columns() -> None:
    """Fail loudly when the models grow a column this loader does not fill."""
    for model, columns in (
        (Party, PARTY_COLUMNS),
        (ContactPoint, [*CONTACT_COLUMNS, "id"]),
        (TimelineEntry, [*ENTRY_COLUMNS, "id"]),
    ):
        actual = {f.column for f in model._meta.concrete_fields if f.column}
        if actual != set(columns):
            raise RuntimeError(
                f"seed.py is out of date for {model.__name__}: {sorted(actual ^ set(columns))}"
            )


@dataclass
class SeedResult:
    parties: int
    contact_points: int
    interactions: int
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


def phone_of(n: int) -> tuple[str, str]:
    """A unique, possible North American number for every n < 80,000,000: (E.164, national digits)."""
    area = AREAS[(n // 8_000_000) % len(AREAS)]
    local = 2_000_000 + n % 8_000_000
    national = f"{area}{local:07d}"
    return f"+1{national}", national


def _party_rows(
    start_id: int, count: int, phone_base: int, rng: random.Random, now: datetime
) -> Iterator[tuple[tuple, list[tuple]]]:
    for i in range(count):
        pid = start_id + i
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last}"
        key = name.lower()
        e164, _ = phone_of(phone_base + 2 * i)
        email = f"{first.lower()}.{last.lower()}{pid}@example.com"
        contacts = [
            (now, now, 1, "import", "seed", None, pid, "phone", "main", e164, e164, True, "", "", "", "", ""),
            (
                now,
                now,
                1,
                "import",
                "seed",
                None,
                pid,
                "email",
                "main",
                email,
                email,
                True,
                "",
                "",
                "",
                "",
                "",
            ),
        ]
        search = [key, email, e164[1:]]
        extra = rng.random()
        if extra < 0.5:
            mobile, _ = phone_of(phone_base + 2 * i + 1)
            contacts.append(
                (
                    now,
                    now,
                    1,
                    "import",
                    "seed",
                    None,
                    pid,
                    "phone",
                    "mobile",
                    mobile,
                    mobile,
                    False,
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
            search += [mobile[1:]]
        elif extra < 0.8:
            city, region = rng.choice(CITIES)
            street = f"{rng.randint(1, 999)} {rng.choice(STREETS)}"
            contacts.append(
                (
                    now,
                    now,
                    1,
                    "import",
                    "seed",
                    None,
                    pid,
                    "address",
                    "home",
                    "",
                    f"{street.lower()}, {city.lower()}",
                    False,
                    street,
                    city,
                    region,
                    f"{rng.randint(10000, 99999)}",
                    "US",
                )
            )
        created = now - timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
        stage = rng.choice(STAGES)
        party = (
            pid,
            created,
            created,
            1,
            "import",
            "seed",
            None,
            "person",
            first,
            last,
            "",
            name,
            key,
            None,
            "",
            "",
            "",
            "",
            stage,
            1 if stage else 0,
            None,
            " | ".join(search),
            e164,
            email,
            "",
            "",
        )
        yield party, contacts


def _entry_rows(
    first_party: int, parties: int, count: int, rng: random.Random, now: datetime
) -> Iterator[tuple]:
    for _ in range(count):
        channel = rng.choice(CHANNELS)
        when = now - timedelta(seconds=rng.randint(60, 2 * 365 * 24 * 3600))
        yield (
            when,
            when,
            1,
            "import",
            "seed",
            None,
            first_party + rng.randrange(parties),
            "interaction",
            when,
            None,
            channel,
            "inbound" if rng.random() < 0.7 else "outbound",
            rng.choice(SUBJECTS),
            "Seeded interaction for load testing.",
            rng.randint(30, 1200) if channel == "phone" else None,
            None,
            None,
            None,
        )


def _insert(table: str, columns: list[str], rows: list[tuple]) -> None:
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


Job = tuple[str, int, list[str]]  # (progress kind or "", rows, statements run in one transaction)


class _PgJobs:
    """PostgreSQL: the rows are generated inside the server (INSERT ... SELECT over generate_series), in
    chunks that independent connections run side by side.

    The same shapes as the Python generator: the main phone of party `id` is phone_of(2 * id) and its
    mobile phone_of(2 * id + 1), so benchmarks can dial any seeded party. Every column is a function of
    the id (pseudo-random choices hash it), so contact points are derived from the id range alone and
    the same range always gives the same data. Only constants and integers are interpolated into the SQL.
    """

    def __init__(self, first_id: int, parties: int, interactions: int, batch: int) -> None:
        self.first_id, self.parties, self.interactions, self.batch = first_id, parties, interactions, batch
        self.first, self.last = _sql_array(FIRST), _sql_array(LAST)

    @staticmethod
    def choose(array: str, size: int, x: str, salt: int) -> str:
        return f"({array})[1 + mod(abs(hashint8({x} * 131 + {salt})), {size})]"

    def person(self, lo: int, hi: int) -> str:
        """The per-party values every chunk derives from the id."""
        areas, stages = _sql_array(AREAS), _sql_array(STAGES)

        def phone(n: str) -> str:
            return (
                f"('+1' || ({areas})[1 + mod(({n}) / 8000000, {len(AREAS)})] || "
                f"lpad((2000000 + mod({n}, 8000000))::text, 7, '0'))"
            )

        return (
            f"(SELECT id::bigint AS id, {self.choose(self.first, len(FIRST), 'id', 1)} AS f, "
            f"{self.choose(self.last, len(LAST), 'id', 2)} AS l, {phone('2 * id')} AS p1, "
            f"{phone('2 * id + 1')} AS p2, mod(abs(hashint8(id * 131 + 3)), 10) AS extra, "
            f"{self.choose(stages, len(STAGES), 'id', 4)} AS stage, "
            f"now() - make_interval(mins => mod(abs(hashint8(id * 131 + 5)), 1576800)::int) AS ts "
            # OFFSET 0 keeps the subquery from being flattened: each value is computed once a party,
            # not again in every expression and VALUES row that names it (twice as fast)
            f"FROM generate_series({lo}, {hi}) AS id OFFSET 0) b"
        )

    def _chunks(self, size: int) -> Iterator[tuple[int, int, int]]:
        done = 0
        while done < self.parties:
            n = min(size, self.parties - done)
            yield self.first_id + done, self.first_id + done + n - 1, n
            done += n

    def parties_jobs(self) -> Iterator[Job]:
        for lo, hi, n in self._chunks(self.batch * 5):
            yield (
                "parties",
                n,
                [
                    "INSERT INTO customers_party (id, created_at, updated_at, version, source, source_detail, "
                    "kind, given_name, family_name, organisation_name, display_name, name_key, website, "
                    "industry, about, preferred_channel, lifecycle_stage, lifecycle_cycle, search_text, "
                    "primary_phone, primary_email, role_codes, tag_names) "
                    "SELECT id, ts, ts, 1, 'import', 'seed', 'person', f, l, '', f || ' ' || l, "
                    "lower(f || ' ' || l), '', '', '', '', stage, CASE WHEN stage = '' THEN 0 ELSE 1 END, "
                    "lower(f || ' ' || l) || ' | ' || lower(f) || '.' || lower(l) || id || '@example.com' "
                    "|| ' | ' || substr(p1, 2) || CASE WHEN extra < 5 THEN ' | ' || substr(p2, 2) ELSE '' END, "
                    "p1, lower(f) || '.' || lower(l) || id || '@example.com', '', '' "
                    f"FROM {self.person(lo, hi)}"
                ],
            )

    def contact_jobs(self) -> Iterator[Job]:
        """One statement a kind of contact point: a third faster than one row per kind through a lateral
        VALUES list with the absent ones filtered out."""
        streets, cities = _sql_array(STREETS), _sql_array([c for c, _ in CITIES])
        regions = _sql_array([r for _, r in CITIES])
        email = "lower(f) || '.' || lower(l) || id || '@example.com'"
        address = (
            f"(1 + mod(id, 998)) || ' ' || {self.choose(streets, len(STREETS), 'id', 6)}, "
            f"{self.choose(cities, len(CITIES), 'id', 7)}, {self.choose(regions, len(CITIES), 'id', 7)}, "
            "lpad((10000 + mod(id * 7, 89999))::text, 5, '0'), 'US'"
        )
        kinds = [  # kind, label, raw (= normalized), is_primary, address columns, which parties
            ("phone", "main", "p1", "true", "'', '', '', '', ''", ""),
            ("email", "main", email, "true", "'', '', '', '', ''", ""),
            ("phone", "mobile", "p2", "false", "'', '', '', '', ''", " WHERE extra < 5"),
            ("address", "home", "''", "false", address, " WHERE extra BETWEEN 5 AND 7"),
        ]
        for lo, hi, _ in self._chunks(self.batch * 5):
            yield (
                "",
                0,
                [
                    "INSERT INTO customers_contactpoint (created_at, updated_at, version, source, source_detail, "
                    "party_id, kind, label, raw, normalized, is_primary, street, locality, region, postal_code, "
                    f"country) SELECT ts, ts, 1, 'import', 'seed', id, '{kind}', '{label}', {raw}, {raw}, "
                    f"{primary}, {columns} FROM {self.person(lo, hi)}{where}"
                    for kind, label, raw, primary, columns, where in kinds
                ],
            )

    def interaction_jobs(self) -> Iterator[Job]:
        channels, subjects = _sql_array(CHANNELS), _sql_array(SUBJECTS)
        if self.parties:
            low, high = self.first_id, self.first_id + self.parties - 1
        else:
            low, high = 1, Party.objects.order_by("-id").values_list("id", flat=True).first() or 0
        span = max(high - low + 1, 1)
        made = 0
        while made < self.interactions and high:
            size = min(self.batch * 25, self.interactions - made)
            yield (
                "interactions",
                size,
                [
                    "INSERT INTO activities_timelineentry (created_at, updated_at, version, source, "
                    "source_detail, party_id, kind, occurred_at, channel, direction, subject, body, "
                    "duration_seconds) "
                    f"SELECT at, at, 1, 'import', 'seed', {low} + mod(abs(hashint8(g * 131 + 11)), {span}), "
                    "'interaction', at, channel, CASE WHEN mod(g, 10) < 7 THEN 'inbound' ELSE 'outbound' END, "
                    f"{self.choose(subjects, len(SUBJECTS), 'g', 12)}, 'Seeded interaction for load testing.', "
                    "CASE WHEN channel = 'phone' THEN 30 + mod(g, 1170) END "
                    f"FROM (SELECT g, {self.choose(channels, len(CHANNELS), 'g', 13)} AS channel, "
                    "now() - make_interval(secs => (60 + mod(abs(hashint8(g * 131 + 14)), 63072000))::int) "
                    f"AS at FROM generate_series({made + 1}, {made + size}) AS g) s"
                ],
            )
            made += size


def _pg_connect() -> Any:
    """A connection of our own to the configured database, outside Django's pool (for parallel loads)."""
    import psycopg

    params = connection.settings_dict
    return psycopg.connect(
        dbname=params["NAME"],
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
    )


def _pg_parallel(jobs: Iterable[Job], workers: int, progress: Progress | None) -> int:
    """Run each job's statements in one transaction, in order, on `workers` connections at once; returns
    the contact points inserted."""
    queue: Queue[Job | None] = Queue()
    for job in jobs:
        queue.put(job)
    rows = 0
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        nonlocal rows
        with _pg_connect() as conn:
            conn.execute("SET synchronous_commit = off")
            conn.execute("SET maintenance_work_mem = '256MB'")
            conn.execute("SET work_mem = '256MB'")  # validating a foreign key hashes the million ids
            conn.commit()
            while not errors:
                try:
                    job = queue.get_nowait()
                except Empty:
                    return
                if job is None:
                    return
                kind, size, statements = job
                if statements[0].startswith("VACUUM"):
                    conn.autocommit = True
                    conn.execute(statements[0])
                    conn.autocommit = False
                    continue
                try:
                    with conn.transaction(), conn.cursor() as cursor:
                        for statement in statements:
                            cursor.execute(statement)
                            if statement.startswith("INSERT INTO customers_contactpoint"):
                                with lock:
                                    rows += cursor.rowcount
                except BaseException as exc:
                    errors.append(exc)
                    raise
                if progress and kind:
                    progress(kind, size)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(workers, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return rows


def seed(
    *,
    parties: int,
    interactions: int,
    batch: int = 20_000,
    seed_value: int = 1,
    progress: Progress | None = None,
    workers: int | None = None,
) -> SeedResult:
    """Append `parties` parties (with their contact points) and `interactions` interactions.

    On PostgreSQL the chunks run in `workers` parallel connections (default: one per core), each chunk
    in its own transaction: a failed run keeps the chunks it committed and always rebuilds the indexes
    and constraints it dropped. On SQLite the rows go through one connection in batches."""
    _check_columns()
    started = time.perf_counter()
    phases: dict[str, float] = {}
    rng = random.Random(seed_value)
    now = clock.now()
    postgres = connection.vendor == "postgresql"
    first_id = (Party.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    phone_base = first_id * 2
    workers = workers or os.cpu_count() or 1
    big = parties + interactions >= 50_000
    dropped = _drop_indexes() if big else _Dropped()
    contact_count = 0
    try:
        if postgres:
            contact_count = _pg_load(
                _PgJobs(first_id, parties, interactions, batch), dropped, workers, progress
            )
        else:
            contact_count = _sqlite_load(
                first_id, parties, interactions, batch, phone_base, rng, now, progress
            )
        phases["load"] = time.perf_counter() - started
    finally:
        mark = time.perf_counter()
        if big:
            _restore_indexes(dropped, workers)
        phases["indexes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('customers_party', 'id'), "
                "(SELECT max(id) FROM customers_party))"
            )
        # VACUUM sets the visibility map, so index-only scans skip the heap (outside a transaction only)
        if not connection.in_atomic_block:
            _pg_parallel((("", 0, [f"VACUUM ANALYZE {table}"]) for table in SEEDED_TABLES), workers, None)
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    phases["analyze"] = time.perf_counter() - mark
    return SeedResult(
        parties=parties,
        contact_points=contact_count,
        interactions=interactions,
        seconds=time.perf_counter() - started,
        phases=phases,
    )


def _pg_load(jobs: _PgJobs, dropped: _Dropped, workers: int, progress: Progress | None) -> int:
    """Parties first; then the party indexes build (the trigram one takes longest) while the contact
    points and interactions load on the other connections; the other tables' indexes come last."""
    _pg_parallel(jobs.parties_jobs(), workers, progress)
    creates = [("", 0, [_if_not_exists(d)]) for d in dropped.indexes]
    on_parties = [job for job in creates if _PARTY_INDEX.search(job[2][0])]
    others = [job for job in creates if job not in on_parties]
    return _pg_parallel(
        [*on_parties[:1], *jobs.contact_jobs(), *jobs.interaction_jobs(), *on_parties[1:], *others],
        workers,
        progress,
    )


_PARTY_INDEX = re.compile(r" ON (\S+\.)?customers_party USING ")


def _if_not_exists(definition: str) -> str:
    return definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1).replace(
        "CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", 1
    )


def _sqlite_load(
    first_id: int,
    parties: int,
    interactions: int,
    batch: int,
    phone_base: int,
    rng: random.Random,
    now: datetime,
    progress: Progress | None,
) -> int:
    contact_count = 0
    done = 0
    while done < parties:
        size = min(batch, parties - done)
        party_rows, contact_rows = [], []
        for party, contacts in _party_rows(first_id + done, size, phone_base + 2 * done, rng, now):
            party_rows.append(party)
            contact_rows.extend(contacts)
        with transaction.atomic():
            _insert("customers_party", PARTY_COLUMNS, party_rows)
            _insert("customers_contactpoint", CONTACT_COLUMNS, contact_rows)
        contact_count += len(contact_rows)
        done += size
        if progress:
            progress("parties", size)
    done_entries = 0
    total_parties = first_id - 1 + parties
    while done_entries < interactions:
        size = min(batch * 2, interactions - done_entries)
        rows = list(_entry_rows(1, total_parties, size, rng, now)) if total_parties else []
        with transaction.atomic():
            _insert("activities_timelineentry", ENTRY_COLUMNS, rows)
        done_entries += size
        if progress:
            progress("interactions", size)
    return contact_count


SEEDED_TABLES = ("customers_party", "customers_contactpoint", "activities_timelineentry")


@dataclass
class _Dropped:
    indexes: list[str] = field(default_factory=list)
    # (table, constraint name, definition) of the foreign keys to parties
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)


def _drop_indexes() -> _Dropped:
    """Large loads: build the secondary indexes once at the end instead of row by row, and check the
    foreign keys to parties in one pass instead of one trigger call a row (several times faster).
    On SQLite only the FTS triggers go."""
    if connection.vendor != "postgresql":
        drop_search_index(connection)
        return _Dropped()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = indexname)",
            [list(SEEDED_TABLES)],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) "
            "AND confrelid = 'customers_party'::regclass",
            [list(SEEDED_TABLES)],
        )
        foreign_keys = cursor.fetchall()
        for table, name, _ in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    # the trigram (GIN) indexes take longest: start them first so the parallel builds finish together
    definitions = sorted((d for _, d in indexes), key=lambda d: "USING gin" not in d)
    return _Dropped(indexes=definitions, foreign_keys=foreign_keys)


def _restore_indexes(dropped: _Dropped, workers: int) -> None:
    if connection.vendor == "postgresql":
        # after a load these exist already; after a failed one, whatever is missing is built here
        _pg_parallel((("", 0, [_if_not_exists(d)]) for d in dropped.indexes), workers, None)
        with connection.cursor() as cursor:
            for table, name, definition in dropped.foreign_keys:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID')
        _pg_parallel(
            (("", 0, [f'ALTER TABLE {t} VALIDATE CONSTRAINT "{n}"']) for t, n, _ in dropped.foreign_keys),
            workers,
            None,
        )
    ensure_search_index(connection)
    rebuild_search_index(connection)
