"""Volume data for benchmarks: `relay seed --parties N --interactions M`.

Rows are written in bulk (COPY on PostgreSQL, executemany on SQLite) with the same derived columns the
services compute (display name, name key, E.164 phones, search text), so seeded parties are found by the
caller lookup and the search exactly like entered ones. No audit history: this is load, not user input.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from relay.activities.models import TimelineEntry
from relay.core import clock
from relay.customers.models import ContactPoint, Party
from relay.customers.search_index import drop_search_index, ensure_search_index, rebuild_search_index

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
        e164, national = phone_of(phone_base + 2 * i)
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
        search = [key, email, e164[1:], national]
        extra = rng.random()
        if extra < 0.5:
            mobile, mobile_national = phone_of(phone_base + 2 * i + 1)
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
            search += [mobile[1:], mobile_national]
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
        )


def _insert(table: str, columns: list[str], rows: list[tuple]) -> None:
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _pg_generate(
    first_id: int, parties: int, interactions: int, batch: int, progress: Callable[[str, int], None] | None
) -> int:
    """PostgreSQL: generate the rows inside the server (INSERT ... SELECT over generate_series).

    The same shapes as the Python generator: the main phone of party `id` is phone_of(2 * id) and its
    mobile phone_of(2 * id + 1), so benchmarks can dial any seeded party. Pseudo-random choices come from
    hashing the id, so the same range always gives the same data. Only constants and integers are
    interpolated into the SQL.
    """
    first, last, areas = _sql_array(FIRST), _sql_array(LAST), _sql_array(AREAS)
    stages, streets = _sql_array(STAGES), _sql_array(STREETS)
    cities, regions = _sql_array([c for c, _ in CITIES]), _sql_array([r for _, r in CITIES])
    channels, subjects = _sql_array(CHANNELS), _sql_array(SUBJECTS)

    def choose(array: str, size: int, x: str, salt: int) -> str:
        return f"({array})[1 + mod(abs(hashint8({x} * 131 + {salt})), {size})]"

    def phone(n: str) -> str:
        return (
            f"('+1' || ({areas})[1 + mod(({n}) / 8000000, {len(AREAS)})] || "
            f"lpad((2000000 + mod({n}, 8000000))::text, 7, '0'))"
        )

    contacts_made = 0
    with connection.cursor() as cursor:
        done = 0
        while done < parties:
            size = min(batch * 10, parties - done)
            lo, hi = first_id + done, first_id + done + size - 1
            cursor.execute(
                f"CREATE TEMP TABLE seed_batch AS SELECT id::bigint AS id, "
                f"{choose(first, len(FIRST), 'id', 1)} AS f, {choose(last, len(LAST), 'id', 2)} AS l, "
                f"{phone('2 * id')} AS p1, {phone('2 * id + 1')} AS p2, "
                f"mod(abs(hashint8(id * 131 + 3)), 10) AS extra, {choose(stages, len(STAGES), 'id', 4)} AS stage, "
                f"now() - make_interval(mins => mod(abs(hashint8(id * 131 + 5)), 1576800)::int) AS ts "
                f"FROM generate_series({lo}, {hi}) AS id"
            )
            cursor.execute(
                "INSERT INTO customers_party (id, created_at, updated_at, version, source, source_detail, kind, "
                "given_name, family_name, organisation_name, display_name, name_key, website, industry, about, "
                "preferred_channel, lifecycle_stage, lifecycle_cycle, search_text) "
                "SELECT id, ts, ts, 1, 'import', 'seed', 'person', f, l, '', f || ' ' || l, lower(f || ' ' || l), "
                "'', '', '', '', stage, CASE WHEN stage = '' THEN 0 ELSE 1 END, "
                "lower(f || ' ' || l) || ' | ' || lower(f) || '.' || lower(l) || id || '@example.com' "
                "|| ' | ' || substr(p1, 2) || ' | ' || substr(p1, 3) "
                "|| CASE WHEN extra < 5 THEN ' | ' || substr(p2, 2) || ' | ' || substr(p2, 3) ELSE '' END "
                "FROM seed_batch"
            )
            columns = (
                "created_at, updated_at, version, source, source_detail, party_id, kind, label, raw, normalized, "
                "is_primary, street, locality, region, postal_code, country"
            )
            cursor.execute(
                f"INSERT INTO customers_contactpoint ({columns}) "
                "SELECT ts, ts, 1, 'import', 'seed', id, 'phone', 'main', p1, p1, true, '', '', '', '', '' "
                "FROM seed_batch UNION ALL "
                "SELECT ts, ts, 1, 'import', 'seed', id, 'email', 'main', e, e, true, '', '', '', '', '' "
                "FROM (SELECT ts, id, lower(f) || '.' || lower(l) || id || '@example.com' AS e FROM seed_batch) m "
                "UNION ALL "
                "SELECT ts, ts, 1, 'import', 'seed', id, 'phone', 'mobile', p2, p2, false, '', '', '', '', '' "
                "FROM seed_batch WHERE extra < 5 UNION ALL "
                "SELECT ts, ts, 1, 'import', 'seed', id, 'address', 'home', '', lower(street || ', ' || city), "
                "false, street, city, region, lpad((10000 + mod(id * 7, 89999))::text, 5, '0'), 'US' "
                f"FROM (SELECT ts, id, extra, (1 + mod(id, 998)) || ' ' || {choose(streets, len(STREETS), 'id', 6)} "
                f"AS street, {choose(cities, len(CITIES), 'id', 7)} AS city, "
                f"{choose(regions, len(CITIES), 'id', 7)} AS region FROM seed_batch) a WHERE extra BETWEEN 5 AND 7"
            )
            contacts_made += cursor.rowcount
            cursor.execute("DROP TABLE seed_batch")
            done += size
            if progress:
                progress("parties", size)
        if parties:
            low, high = first_id, first_id + parties - 1
        else:
            low, high = 1, Party.objects.order_by("-id").values_list("id", flat=True).first() or 0
        span = max(high - low + 1, 1)
        made = 0
        while made < interactions and high:
            size = min(batch * 25, interactions - made)
            cursor.execute(
                "INSERT INTO activities_timelineentry (created_at, updated_at, version, source, source_detail, "
                "party_id, kind, occurred_at, channel, direction, subject, body, duration_seconds) "
                f"SELECT at, at, 1, 'import', 'seed', {low} + mod(abs(hashint8(g * 131 + 11)), {span}), "
                "'interaction', at, channel, CASE WHEN mod(g, 10) < 7 THEN 'inbound' ELSE 'outbound' END, "
                f"{choose(subjects, len(SUBJECTS), 'g', 12)}, 'Seeded interaction for load testing.', "
                "CASE WHEN channel = 'phone' THEN 30 + mod(g, 1170) END "
                f"FROM (SELECT g, {choose(channels, len(CHANNELS), 'g', 13)} AS channel, "
                "now() - make_interval(secs => (60 + mod(abs(hashint8(g * 131 + 14)), 63072000))::int) AS at "
                f"FROM generate_series({made + 1}, {made + size}) AS g) s"
            )
            made += size
            if progress:
                progress("interactions", size)
    return contacts_made


def seed(
    *,
    parties: int,
    interactions: int,
    batch: int = 20_000,
    seed_value: int = 1,
    progress: Callable[[str, int], None] | None = None,
) -> SeedResult:
    import time

    _check_columns()
    started = time.perf_counter()
    rng = random.Random(seed_value)
    now = clock.now()
    postgres = connection.vendor == "postgresql"
    first_id = (Party.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    phone_base = first_id * 2
    big = parties + interactions >= 50_000
    dropped = _drop_indexes() if big else []
    try:
        contact_count = 0
        done = 0
        if postgres:
            with transaction.atomic():
                contact_count = _pg_generate(first_id, parties, interactions, batch, progress)
            parties_left, interactions_left = 0, 0
        else:
            parties_left, interactions_left = parties, interactions
        while done < parties_left:
            size = min(batch, parties_left - done)
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
        while done_entries < interactions_left:
            size = min(batch * 2, interactions_left - done_entries)
            rows = list(_entry_rows(1, total_parties, size, rng, now)) if total_parties else []
            with transaction.atomic():
                _insert("activities_timelineentry", ENTRY_COLUMNS, rows)
            done_entries += size
            if progress:
                progress("interactions", size)
    finally:
        if big:
            _restore_indexes(dropped)
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('customers_party', 'id'), "
                "(SELECT max(id) FROM customers_party))"
            )
            # outside a transaction: VACUUM sets the visibility map, so index-only scans skip the heap
            if not connection.in_atomic_block:
                for table in ("customers_party", "customers_contactpoint", "activities_timelineentry"):
                    cursor.execute(f"VACUUM ANALYZE {table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return SeedResult(
        parties=parties,
        contact_points=contact_count,
        interactions=interactions,
        seconds=time.perf_counter() - started,
    )


SEEDED_TABLES = ("customers_party", "customers_contactpoint", "activities_timelineentry")


def _drop_indexes() -> list[str]:
    """Large loads: build the secondary indexes once at the end instead of row by row (several times
    faster). Returns the PostgreSQL definitions to recreate; on SQLite only the FTS triggers go."""
    if connection.vendor != "postgresql":
        drop_search_index(connection)
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = indexname)",
            [list(SEEDED_TABLES)],
        )
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    return [definition for _, definition in found]


def _restore_indexes(definitions: list[str]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for definition in definitions:
                cursor.execute(
                    definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1).replace(
                        "CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", 1
                    )
                )
    ensure_search_index(connection)
    rebuild_search_index(connection)
