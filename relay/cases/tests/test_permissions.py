"""Who sees and works cases: the role matrix, and confidential categories hidden everywhere."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser

from relay.accounts.choices import Role
from relay.activities import selectors as timeline
from relay.activities.models import Attachment, Interaction, Note, TimelineEntry
from relay.activities.services import InteractionInput, interaction_log, note_add
from relay.cases import selectors, services
from relay.cases.models import Case, CaseEvent, CaseStatusSpan, CaseWatcher
from relay.cases.permissions import can_view_case, confidential_category_ids
from relay.cases.tests.factories import CaseCategoryFactory
from relay.core.models import OutboxEvent, RestrictedQuerySet
from relay.core.testing.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL: set[str] = set(Role.values)
WORKERS: set[str] = ALL - {Role.AUDITOR}
LEADS: set[str] = {Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}

MATRIX: dict[str, set[str]] = {
    "cases.view_case": ALL,
    "cases.add_case": WORKERS,
    "cases.change_case": WORKERS,
    "cases.assign_case": WORKERS,
    "cases.transfer_case": WORKERS,
    "cases.resolve_case": WORKERS,
    "cases.close_case": WORKERS,
    "cases.reopen_case": WORKERS,
    "cases.watch_case": WORKERS,
    "cases.merge_case": LEADS,
    "cases.bulk_change_case": LEADS,
    "cases.delete_case": set(),
    "cases.view_casecategory": ALL,
    "cases.change_casecategory": {Role.ADMIN},
    "cases.change_casestatus": {Role.ADMIN},
}


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize("perm", sorted(MATRIX))
def test_role_permission_matrix(role, perm, open_case):
    case = open_case()
    user = UserFactory(username=f"u-{role}", role=role)
    expected = role in MATRIX[perm]
    assert user.has_perm(perm) is expected
    if perm.endswith("_case") and perm != "cases.add_case":
        assert user.has_perm(perm, case) is expected


@pytest.mark.parametrize("perm", sorted(MATRIX))
def test_anonymous_and_inactive_users_hold_nothing(perm):
    inactive = UserFactory(username="inactive", role=Role.ADMIN, is_active=False)
    assert not AnonymousUser().has_perm(perm)
    assert not inactive.has_perm(perm)


@pytest.mark.parametrize("role", sorted(ALL))
def test_restrict_scopes_cases_by_action(role, open_case):
    case = open_case()
    user = UserFactory(username=f"u-{role}", role=role)
    assert list(Case.objects.restrict(user, "view")) == [case]
    assert list(Case.objects.restrict(user, "change")) == ([case] if role in WORKERS else [])
    assert list(Case.objects.restrict(user, "merge")) == ([case] if role in LEADS else [])
    assert list(Case.objects.restrict(user, "delete")) == []
    assert list(Case.objects.restrict(AnonymousUser(), "view")) == []


def test_every_cases_model_is_scoped_through_restrict():
    """Guard: a new model of the app must use RestrictedQuerySet so reads are scoped in one place."""
    unscoped = [
        m._meta.label
        for m in apps.get_app_config("cases").get_models()
        if not m.__name__.startswith("Historical")
        and not isinstance(m._default_manager.all(), RestrictedQuerySet)
    ]
    assert unscoped == []


# --- confidential categories --------------------------------------------------------------------------------


@pytest.fixture
def fraud():
    """A confidential branch of the category tree: Security > Fraud (Fraud inherits confidentiality)."""
    security = CaseCategoryFactory(name="Security", is_confidential=True)
    return CaseCategoryFactory(name="Fraud", parent=security)


@pytest.fixture
def secret_case(open_case, fraud, party, agent, tech_agent):
    """A confidential case opened by care (the originator) for Technical Support, with a linked call."""
    case = open_case(category=fraud, subject="SIM swap fraud")
    call = interaction_log(
        actor=agent, party=party, data=InteractionInput(channel="phone", subject="Fraud call")
    )
    services.case_log_interaction(actor=agent, case=case, interaction=call)
    services.case_add_note(actor=tech_agent, case=case, body="Identity checked")
    return case


def test_a_child_of_a_confidential_category_is_confidential(fraud):
    public = CaseCategoryFactory(name="Billing questions")
    assert confidential_category_ids() == {fraud.pk, fraud.parent_id}
    assert public.pk not in confidential_category_ids()


def _sees(user, case, party):
    """What the user can reach of the case, on every read path the cases and timeline offer."""
    paths = {}
    try:
        selectors.case_get(actor=user, pk=case.pk)
        paths["case_get"] = True
    except Case.DoesNotExist:
        paths["case_get"] = False
    paths["queue"] = case in selectors.department_queue(actor=user, department=case.department).items
    paths["queue_counts"] = sum(selectors.queue_counts(actor=user, department=case.department).values()) > 0
    paths["party_cases"] = case in selectors.party_cases(actor=user, party=party)
    paths["case_events"] = bool(selectors.case_events(actor=user, case=case))
    entries = timeline.party_timeline(actor=user, party=party, size=100).items
    paths["timeline"] = any(e.case_id == case.pk for e in entries)
    paths["interactions"] = Interaction.objects.restrict(user).filter(case=case).exists()
    paths["events"] = CaseEvent.objects.restrict(user).filter(case=case).exists()
    paths["spans"] = CaseStatusSpan.objects.restrict(user).filter(case=case).exists()
    paths["rule"] = user.has_perm("cases.view_case", case) and can_view_case(user, case)
    return paths


def test_a_confidential_case_is_invisible_to_another_departments_agent_everywhere(
    secret_case, party, other_agent
):
    seen = _sees(other_agent, secret_case, party)
    assert seen == dict.fromkeys(seen, False)
    entry = secret_case.events.first().entry
    with pytest.raises(TimelineEntry.DoesNotExist):
        timeline.entry_get(actor=other_agent, pk=entry.pk)
    with pytest.raises(Case.DoesNotExist):
        selectors.case_get_by_number(actor=other_agent, number=secret_case.number)


def test_the_rest_of_the_file_stays_visible_to_everyone(secret_case, party, agent, other_agent, open_case):
    # entries without a case keep the staff rule: the other agent still reads the customer's history
    note = note_add(actor=agent, party=party, body="Prefers e-mail")
    plain = open_case(subject="Roaming question")
    visible = timeline.party_timeline(actor=other_agent, party=party, size=100).items
    assert note in visible and any(e.case_id == plain.pk for e in visible)
    assert not any(e.case_id == secret_case.pk for e in visible)
    assert list(Note.objects.restrict(other_agent)) == [note]
    assert selectors.party_cases(actor=other_agent, party=party) == [plain]


@pytest.mark.parametrize(
    "who",
    [
        "handling_member",
        "department_supervisor",
        "originator",
        "watcher",
        "watching_department",
        "manager",
        "admin",
    ],
)
def test_the_circle_of_a_confidential_case_sees_it_everywhere(
    who, secret_case, party, agent, tech_colleague, tech_supervisor, other_agent, billing, manager, admin_user
):
    user = {
        "handling_member": tech_colleague,
        "department_supervisor": tech_supervisor,
        "originator": agent,
        "watcher": other_agent,
        "watching_department": other_agent,
        "manager": manager,
        "admin": admin_user,
    }[who]
    if who == "department_supervisor":
        tech_supervisor.departments.clear()  # sees it as the supervisor, not as a member
    if who == "watcher":
        services.case_watch(actor=agent, case=secret_case, user=other_agent)
    if who == "watching_department":
        services.case_watch(actor=agent, case=secret_case, department=billing)
    seen = _sees(user, secret_case, party)
    assert seen == dict.fromkeys(seen, True)


def test_auditors_and_other_supervisors_do_not_see_confidential_cases(secret_case, party, auditor):
    sales_lead = UserFactory(
        username="sales_lead", role=Role.SUPERVISOR, departments=[DepartmentFactory(name="Sales")]
    )
    for user in (auditor, sales_lead):
        assert not any(_sees(user, secret_case, party).values())


def test_the_assignee_sees_the_case_even_after_leaving_the_department(secret_case, tech_agent):
    services.case_assign(actor=tech_agent, case=secret_case, assignee=tech_agent, expected_version=1)
    tech_agent.departments.clear()
    assert Case.objects.restrict(tech_agent).filter(pk=secret_case.pk).exists()
    assert can_view_case(tech_agent, Case.objects.get(pk=secret_case.pk))


def test_attachments_of_hidden_entries_are_hidden(secret_case, other_agent, agent):
    call = Interaction.objects.get(case=secret_case)
    Attachment.objects.create(
        entry=call, file="attachments/x", filename="x.txt", content_type="text/plain", size=1, sha256="0" * 64
    )
    assert Attachment.objects.restrict(agent).count() == 1
    assert Attachment.objects.restrict(other_agent).count() == 0


def test_confidential_cases_are_never_notified_outside_their_circle(secret_case, tech_agent, other_agent):
    # a mention of someone who may not read the case tells them nothing
    services.case_add_note(actor=tech_agent, case=secret_case, body="@billing_agent please check")
    notices = [e.recipients for e in OutboxEvent.objects.filter(name="case.note_added")]
    assert all(other_agent.pk not in r for r in notices)
    # watching the case brings them into the circle
    services.case_watch(actor=tech_agent, case=secret_case, user=other_agent)
    services.case_add_note(actor=tech_agent, case=secret_case, body="@billing_agent now you can")
    last = OutboxEvent.objects.filter(name="case.note_added").last()
    assert other_agent.pk in last.recipients


def test_watchers_rows_follow_their_case(secret_case, other_agent, agent):
    services.case_watch(actor=agent, case=secret_case, user=agent)
    assert CaseWatcher.objects.restrict(agent).count() == 1
    assert CaseWatcher.objects.restrict(other_agent).count() == 0


def test_the_history_tab_hides_the_entries_of_a_confidential_case(secret_case, party, agent, other_agent):
    note = note_add(actor=agent, party=party, body="Prefers e-mail")
    secret_entries = set(TimelineEntry.objects.filter(case=secret_case).values_list("pk", flat=True))

    def entry_ids(user):
        records = timeline.party_history(actor=user, party=party)
        return {r.object_id for r in records if r.model == "timeline entry"}

    assert secret_entries and secret_entries <= entry_ids(agent)
    assert note.pk in entry_ids(other_agent) and not secret_entries & entry_ids(other_agent)
