"""The demo organisation loaded by `make run`: a telecom plus a public office, created through the
services so that provenance and audit history are real. Deterministic (fixed seeds)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils.text import slugify
from faker import Faker

from relay.accounts.choices import Role
from relay.accounts.models import Department, User
from relay.activities import services as timeline
from relay.activities.services import InteractionInput
from relay.cases import services as cases
from relay.cases.models import CaseCategory, CaseStatus
from relay.cases.routing_demo import load_demo_routing
from relay.cases.sla_demo import load_demo_sla
from relay.channels.email.demo import load_demo_email
from relay.channels.portal.demo import load_demo_portal
from relay.channels.telephony.demo import load_demo_telephony
from relay.commerce.demo import load_demo_commerce
from relay.core import clock
from relay.core.audit import Origin, origin
from relay.customers import services as customers
from relay.customers.models import IdentifierScheme, Party
from relay.customers.services import ContactInput, IdentifierInput, PartyInput
from relay.recommendations.demo import load_demo_recommendations

PASSWORD = "relay-demo"

DEPARTMENTS = [
    ("Customer Care", "care"),
    ("Technical Support", "tech"),
    ("Billing", "billing"),
    ("Sales", "sales"),
    ("Marketing", "marketing"),
    ("Official's Office", "office"),
    ("Water", "water"),
]

CALLS = [
    (
        "phone",
        "inbound",
        "Cannot make calls",
        "Customer reports no dial tone since this morning; line test started.",
    ),
    (
        "phone",
        "inbound",
        "Question about the monthly bill",
        "Asked why the bill is higher; explained roaming charges.",
    ),
    (
        "phone",
        "outbound",
        "Call back about the outage",
        "Called back: service restored after the exchange repair.",
    ),
    ("phone", "inbound", "Upgrade to fibre", "Interested in the 1 Gbit/s plan; sent the offer by e-mail."),
    ("email", "inbound", "Invoice copy requested", "Please send me a copy of last month's invoice."),
    ("email", "outbound", "Your new plan", "Confirmation of the plan change and the new monthly price."),
    ("web", "inbound", "Web form: moving house", "Customer moves on the 1st; wants the line transferred."),
    (
        "letter",
        "inbound",
        "Complaint letter",
        "Written complaint about repeated dropped calls in the evening.",
    ),
    ("letter", "outbound", "Reply to complaint", "Apology and a credit of one month's line rental."),
    ("fax", "inbound", "Signed contract", "Signed business contract received by fax."),
    ("chat", "inbound", "Roaming activation", "Activated roaming for a trip abroad."),
    ("sms", "outbound", "Payment reminder", "Friendly reminder: your bill is due in 5 days."),
    ("in_person", "inbound", "Shop visit: new handset", "Bought a new handset in the city-centre shop."),
]
NOTES = [
    "Prefers to be called in the morning.",
    "Hard of hearing: speak slowly and clearly.",
    "Asked not to receive marketing calls.",
    "Long-standing customer; handle with care.",
    "Disputes the March invoice; see letter.",
]
CITIZEN_CALLS = [
    (
        "phone",
        "inbound",
        "Water leak in the street",
        "Citizen reports water running down the street since yesterday.",
    ),
    ("phone", "inbound", "Low water pressure", "Pressure very low on the upper floors of the building."),
    (
        "letter",
        "inbound",
        "Request for a meeting",
        "Asks for a meeting with the official about the new park.",
    ),
]


@dataclass
class DemoResult:
    users: list[tuple[str, str, str]]
    parties: int
    interactions: int
    sample_phone: str


def _user(username: str, first: str, last: str, role: str, departments: list[Department]) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "role": role,
            "email": f"{username}@relay.example",
            "is_staff": role == Role.ADMIN,
            "is_superuser": role == Role.ADMIN,
        },
    )
    if created:
        user.set_password(PASSWORD)
        user.save()
    user.departments.set(departments)
    return user


def _phone(rng: random.Random) -> tuple[str, str]:
    area = rng.choice(["415", "510", "650", "408", "707"])
    exchange = rng.randint(200, 989)
    line = rng.randint(0, 9999)
    e164 = f"+1{area}{exchange}{line:04d}"
    raw = rng.choice(
        [
            f"({area}) {exchange}-{line:04d}",
            f"{area}.{exchange}.{line:04d}",
            f"+1 {area} {exchange} {line:04d}",
            f"{area}-{exchange}-{line:04d}",
        ]
    )
    return e164, raw


def load_demo(*, parties: int = 500, progress: Callable[[int], None] | None = None) -> DemoResult:
    """Create the demo organisation. Call only on an empty database (see `relay demo --if-empty`)."""
    rng = random.Random(20261122)
    fake = Faker("en_US")
    fake.seed_instance(20261122)
    with origin(Origin.COMMAND), transaction.atomic():
        depts = {}
        for name, _ in DEPARTMENTS:
            depts[name], _created = Department.objects.get_or_create(
                name=name, defaults={"slug": slugify(name)}
            )
        users: list[tuple[str, str, str]] = []
        staff: dict[str, User] = {}
        firsts = iter(
            [
                "Maria",
                "Tom",
                "Aisha",
                "Ben",
                "Chen",
                "Dora",
                "Elif",
                "Femi",
                "Greta",
                "Hugo",
                "Ines",
                "Jonas",
                "Kofi",
                "Lena",
                "Mateo",
                "Nora",
                "Omar",
                "Priya",
                "Quinn",
                "Rosa",
            ]
        )
        for name, short in DEPARTMENTS:
            for suffix, role in (("agent", Role.AGENT), ("lead", Role.SUPERVISOR)):
                first = next(firsts)
                user = _user(f"{short}.{suffix}", first, name.split()[0].strip("'s"), role, [depts[name]])
                staff[f"{short}.{suffix}"] = user
                users.append((user.username, role, name))
            depts[name].supervisor = staff[f"{short}.lead"]
            depts[name].save()
        expert = _user("water.expert", "Sven", "Water", Role.AGENT, [depts["Water"]])
        users.append((expert.username, Role.AGENT, "Water"))
        for username, role in (("manager", Role.MANAGER), ("admin", Role.ADMIN), ("auditor", Role.AUDITOR)):
            user = _user(username, username.title(), "Relay", role, [])
            staff[username] = user
            users.append((username, role, "all"))

        IdentifierScheme.objects.get_or_create(code="account", defaults={"name": "Account number"})
        IdentifierScheme.objects.get_or_create(
            code="tax_id", defaults={"name": "Tax ID", "is_sensitive": True}
        )
        IdentifierScheme.objects.get_or_create(
            code="citizen", defaults={"name": "Citizen number", "is_sensitive": True}
        )
        load_demo_routing(admin=staff["admin"], departments=depts)
        load_demo_sla(admin=staff["admin"], departments=depts)
        load_demo_telephony(admin=staff["admin"], departments=depts)
        load_demo_portal(admin=staff["admin"], departments=depts)

        agents = [staff[k] for k in ("care.agent", "tech.agent", "billing.agent", "sales.agent", "care.lead")]
        owners = [staff["sales.agent"], staff["sales.lead"], staff["care.agent"], None]
        now = clock.now()
        used_phones: set[str] = {"+14155550100"}
        interactions = 0

        def log_history(party: Party, calls: list[tuple[str, str, str, str]], count: int) -> int:
            logged = 0
            moments = sorted(now - timedelta(minutes=rng.randint(60, 365 * 24 * 60)) for _ in range(count))
            for when in moments:
                channel, direction, subject, body = rng.choice(calls)
                timeline.interaction_log(
                    actor=rng.choice(agents),
                    party=party,
                    data=InteractionInput(
                        channel=channel,
                        direction=direction,
                        subject=subject,
                        body=body,
                        occurred_at=when,
                        duration_seconds=rng.randint(40, 900) if channel == "phone" else None,
                    ),
                )
                logged += 1
            if rng.random() < 0.3:
                timeline.note_add(
                    actor=rng.choice(agents),
                    party=party,
                    body=rng.choice(NOTES),
                    occurred_at=now - timedelta(days=rng.randint(1, 200)),
                )
            return logged

        # the customer of the README walk-through
        john = customers.party_create(
            actor=staff["care.agent"],
            data=PartyInput(
                given_name="John",
                family_name="Carter",
                roles=["customer"],
                lifecycle_stage="use",
                tags=["mobile", "vip"],
                preferred_channel="phone",
                contact_points=[
                    ContactInput(kind="phone", raw="+1 415 555 0100", label="mobile"),
                    ContactInput(kind="email", raw="john.carter@example.com"),
                    ContactInput(
                        kind="address",
                        street="12 Market Street",
                        locality="San Francisco",
                        region="CA",
                        postal_code="94105",
                        country="US",
                    ),
                ],
                identifiers=[IdentifierInput(scheme="account", value="ACC-100100")],
            ),
        )
        interactions += log_history(john, CALLS, 8)
        made = [john]

        organisations = []
        for i in range(max(parties // 10, 1)):
            company = fake.unique.company()
            e164, raw = _phone(rng)
            while e164 in used_phones:
                e164, raw = _phone(rng)
            used_phones.add(e164)
            org = customers.party_create(
                actor=rng.choice(agents),
                data=PartyInput(
                    kind="organisation",
                    organisation_name=company,
                    industry=fake.bs().split()[-1].title(),
                    roles=rng.choice([["customer"], ["customer"], ["partner"], ["supplier"], ["prospect"]]),
                    lifecycle_stage=rng.choice(["consider", "purchase", "use", "use"]),
                    owner=rng.choice(owners),
                    tags=rng.sample(["business", "fibre", "mobile"], k=rng.randint(0, 2)),
                    contact_points=[
                        ContactInput(kind="phone", raw=raw, label="work"),
                        ContactInput(kind="email", raw=f"info@{slugify(company)[:30]}.example.com"),
                    ],
                    identifiers=[
                        IdentifierInput(scheme="account", value=f"ACC-{200000 + i}"),
                        IdentifierInput(
                            scheme="tax_id", value=f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}"
                        ),
                    ],
                ),
            )
            interactions += log_history(org, CALLS, rng.randint(2, 6))
            organisations.append(org)
            made.append(org)
            if progress:
                progress(1)

        while len(made) < parties:
            first, last = fake.first_name(), fake.last_name()
            e164, raw = _phone(rng)
            while e164 in used_phones:
                e164, raw = _phone(rng)
            used_phones.add(e164)
            n = len(made)
            contacts = [
                ContactInput(kind="phone", raw=raw, label=rng.choice(["mobile", "home", "main"])),
                ContactInput(kind="email", raw=f"{slugify(first)}.{slugify(last)}{n}@example.net"),
            ]
            if rng.random() < 0.6:
                contacts.append(
                    ContactInput(
                        kind="address",
                        street=fake.street_address(),
                        locality=fake.city(),
                        region=fake.state_abbr(),
                        postal_code=fake.zipcode(),
                        country="US",
                    )
                )
            identifiers = [IdentifierInput(scheme="account", value=f"ACC-{300000 + n}")]
            if rng.random() < 0.3:
                identifiers.append(
                    IdentifierInput(scheme="citizen", value=f"{rng.randint(100000000, 999999999)}")
                )
            person = customers.party_create(
                actor=rng.choice(agents),
                data=PartyInput(
                    given_name=first,
                    family_name=last,
                    roles=rng.choice([["customer"]] * 6 + [["prospect"], ["customer", "partner"]]),
                    lifecycle_stage=rng.choice(
                        ["consider", "purchase", "set_up", "use", "use", "use", "retired"]
                    ),
                    owner=rng.choice(owners),
                    preferred_channel=rng.choice(["phone", "email", "sms", "letter", ""]),
                    tags=rng.sample(["vip", "fibre", "mobile", "roaming", "late-payer"], k=rng.randint(0, 2)),
                    contact_points=contacts,
                    identifiers=identifiers,
                ),
            )
            if organisations and rng.random() < 0.15:
                customers.relationship_create(
                    actor=rng.choice(agents),
                    person=person,
                    organisation=rng.choice(organisations),
                    job_title=fake.job()[:150],
                )
            if rng.random() < 0.1:
                customers.party_set_lifecycle_stage(
                    actor=rng.choice(agents),
                    party=person,
                    stage="consider",
                    expected_version=None,
                    new_cycle=True,
                    note="Upgrade offer",
                )
            interactions += log_history(person, CALLS, rng.randint(2, 12))
            made.append(person)
            if progress:
                progress(1)

        # the public office: citizens calling the official's office about water
        for _ in range(5):
            e164, raw = _phone(rng)
            citizen = customers.party_create(
                actor=staff["office.agent"],
                data=PartyInput(
                    given_name=fake.first_name(),
                    family_name=fake.last_name(),
                    roles=["customer"],
                    contact_points=[ContactInput(kind="phone", raw=raw)],
                ),
            )
            interactions += log_history(citizen, CITIZEN_CALLS, 2)
        load_demo_cases(staff=staff, departments=depts, john=john, customers=made[1:8])
        load_demo_commerce(staff=staff, departments=depts, parties=made, john=john)
        load_demo_recommendations()  # trained on the purchase history just loaded
        load_demo_email(admin=staff["admin"], departments=depts)
    return DemoResult(
        users=users, parties=Party.objects.count(), interactions=interactions, sample_phone="(415) 555-0100"
    )


# --- cases: the agent console is not empty ---------------------------------------------------------------

CASE_CATEGORIES = [
    ("Network", "network", None, False),
    ("No service", "no-service", "network", False),
    ("Billing", "billing-questions", None, False),
    ("Water and streets", "water-and-streets", None, False),
    ("Fraud", "fraud", None, True),
]


def _case_categories() -> dict[str, CaseCategory]:
    found: dict[str, CaseCategory] = {}
    for name, slug, parent, confidential in CASE_CATEGORIES:
        found[slug], _created = CaseCategory.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "parent": found.get(parent or ""), "is_confidential": confidential},
        )
    return found


def load_demo_cases(
    *, staff: dict[str, User], departments: dict[str, Department], john: Party, customers: list[Party]
) -> int:
    """A handful of cases through the services, at every stage: the telecom story of the README in
    progress (care → technical support → billing), queue work in each department, resolved and closed
    cases to reopen, and the public office's water cases. Returns how many were opened."""
    care, tech, billing = staff["care.agent"], staff["tech.agent"], staff["billing.agent"]
    office, water, water_lead = staff["office.agent"], staff["water.agent"], staff["water.lead"]
    expert = User.objects.get(username="water.expert")
    dept = departments
    category = _case_categories()
    opened = 0

    # the telecom story: John cannot make calls; care logs it, technical support hands it to billing
    story = cases.case_log_from_call(
        actor=care,
        phone="+1 415 555 0100",
        party=john,
        subject="Cannot make calls",
        description="Since this morning every outgoing call fails with a busy tone.",
        call=InteractionInput(
            channel="phone",
            direction="inbound",
            subject="Cannot make calls",
            body="No outgoing calls since this morning; incoming calls work.",
            duration_seconds=260,
        ),
        category=category["no-service"],
        priority="high",
        department=dept["Customer Care"],  # logged by care, whatever the routing rules say
    ).case
    story = cases.case_transfer(
        actor=care,
        case=story,
        department=dept["Technical Support"],
        reason="Looks like a network fault",
        note="Line test from care showed no fault on the handset.",
        expected_version=story.version,
    )
    story = cases.case_assign(actor=tech, case=story, assignee=tech, expected_version=story.version)
    cases.case_add_note(
        actor=tech, case=story, body="Network and line are fine: the problem is not technical."
    )
    story = cases.case_transfer(
        actor=tech,
        case=story,
        department=dept["Billing"],
        reason="Not technical",
        note="Outgoing calls are barred on the account; please check the bill.",
        expected_version=story.version,
    )
    story = cases.case_assign(actor=billing, case=story, assignee=billing, expected_version=story.version)
    cases.case_add_note(
        actor=billing, case=story, body="The November bill is unpaid and the line is frozen. @care.agent FYI."
    )
    opened += 1

    # queue work in each department
    first, second, third, fourth, fifth, sixth, seventh = (customers + [john] * 7)[:7]
    cases.case_open(
        actor=care,
        party=first,
        subject="Copy of last month's invoice",
        description="Needs it for the tax return.",
        category=category["billing-questions"],
        channel="email",
        department=dept["Billing"],
    )
    roaming = cases.case_open(
        actor=care,
        party=second,
        subject="Roaming not working abroad",
        description="In Portugal since Monday: no network at all.",
        category=category["network"],
        priority="high",
        channel="phone",
        department=dept["Technical Support"],
        assignee=tech,
    )
    cases.case_set_status(
        actor=tech,
        case=roaming,
        status=CaseStatus.objects.get(category="waiting_third_party", is_default=True),
        note="Asked the partner network to check the registration.",
        expected_version=roaming.version,
    )
    cases.case_open(
        actor=care,
        party=third,
        subject="Dropped calls every evening",
        description="Calls drop after a minute or two between 7 and 10 pm.",
        category=category["network"],
        priority="urgent",
        channel="letter",
        department=dept["Technical Support"],
    )
    fibre = cases.case_open(
        actor=staff["sales.agent"],
        party=fourth,
        subject="Upgrade to fibre",
        priority="low",
        channel="web",
        department=dept["Sales"],
        assignee=staff["sales.agent"],
    )
    fibre = cases.case_resolve(
        actor=staff["sales.agent"],
        case=fibre,
        resolution_code="solved",
        resolution_summary="Fibre ordered; installation booked.",
        expected_version=fibre.version,
    )
    cases.case_close(actor=staff["sales.agent"], case=fibre, expected_version=fibre.version)
    debit = cases.case_open(
        actor=care,
        party=fifth,
        subject="Wrong direct debit amount",
        category=category["billing-questions"],
        department=dept["Billing"],
        assignee=billing,
    )
    cases.case_resolve(
        actor=billing,
        case=debit,
        resolution_code="solved",
        resolution_summary="Refunded the difference; the mandate is corrected.",
        expected_version=debit.version,
    )
    moving = cases.case_open(
        actor=care,
        party=sixth,
        subject="Moving house: transfer the line",
        channel="web",
        department=dept["Customer Care"],
        assignee=care,
    )
    cases.case_acknowledge(actor=care, case=moving, expected_version=moving.version)
    cases.case_open(
        actor=care,
        party=seventh,
        subject="Suspected SIM swap",
        description="The customer received a new SIM he did not order.",
        category=category["fraud"],
        priority="urgent",
        department=dept["Customer Care"],
        watchers=[staff["care.lead"]],
    )
    opened += 7

    # the public office: citizens call the official's office; Water handles it
    citizens = list(Party.objects.filter(entered_by=office).order_by("id")[:3])
    subjects = [
        ("Water leak in the street", "Water running down the street since yesterday.", "Water"),
        ("Low water pressure", "Very low pressure on the upper floors.", "Water"),
        ("Request for a meeting", "Asks to meet the official about the new park.", "Official's Office"),
    ]
    for citizen, (subject, description, handler) in zip(citizens, subjects, strict=False):
        phone = citizen.contact_points.filter(kind="phone").values_list("normalized", flat=True).first() or ""
        case = cases.case_log_from_call(
            actor=office,
            phone=phone,
            party=citizen,
            subject=subject,
            description=description,
            category=category["water-and-streets"] if handler == "Water" else None,
            department=dept[handler],
            watchers=[dept["Official's Office"]] if handler == "Water" else [],
        ).case
        opened += 1
        if subject == "Water leak in the street":
            case = cases.case_acknowledge(actor=water, case=case, expected_version=case.version)
            case = cases.case_transfer(
                actor=water,
                case=case,
                assignee=expert,
                reason="Needs the mains expert",
                note="Probably the main under the crossing; please check on site.",
                expected_version=case.version,
            )
            cases.case_watch(actor=water_lead, case=case)
        elif subject == "Request for a meeting":
            case = cases.case_assign(actor=office, case=case, assignee=office, expected_version=case.version)
            cases.case_resolve(
                actor=office,
                case=case,
                resolution_code="information",
                resolution_summary="Meeting booked for next Tuesday at 10.",
                expected_version=case.version,
            )
    return opened
