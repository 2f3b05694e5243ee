"""The agent console: every page and action for the roles that use them, and the refusals (anonymous,
auditor, an agent outside a confidential case's circle), stale versions and query-count pins."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from relay.accounts.choices import Role
from relay.cases import services
from relay.cases.models import Case, CaseEvent, CaseLink, CaseWatcher
from relay.cases.tests.factories import CaseCategoryFactory, status_of
from relay.core import clock
from relay.core.testing.factories import ContactPointFactory, PartyFactory, UserFactory
from relay.core.testing.queries import assert_flat_query_count
from relay.customers.models import Party

pytestmark = pytest.mark.django_db
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HTMX = {"HTTP_HX_REQUEST": "true"}


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def case(open_case):
    return open_case()


@pytest.fixture
def secret(agent, party, tech, tech_agent, open_case):
    """A confidential case of Technical Support (opened by the care agent, so she is in its circle)."""
    category = CaseCategoryFactory(name="Fraud", is_confidential=True)
    return open_case(subject="Suspected SIM swap", category=category, assignee=tech_agent)


# --- access ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/cases/",
        "/cases/queue/technical-support/",
        "/cases/new/from-call/",
        "/cases/new/?party=1",
        "/cases/{pk}/",
        "/cases/{pk}/transfer/",
        "/cases/{pk}/follow-up/",
    ],
)
def test_anonymous_users_are_sent_to_login(case, path):
    response = Client().get(path.format(pk=case.pk))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_anonymous_posts_change_nothing(case):
    response = Client().post(f"/cases/{case.pk}/take/", {"version": case.version})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert fresh(case).assignee is None


@pytest.mark.parametrize("role", ["agent", "other_agent", "supervisor", "manager", "admin_user", "auditor"])
def test_every_role_reads_the_case_page_the_queue_and_my_cases(request, case, role):
    client = login(request.getfixturevalue(role))
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert case.number in text and "Cannot make calls" in text and f"/parties/{case.party_id}/" in text
    assert "Opened: Cannot make calls" in text  # the case's own timeline
    queue = client.get("/cases/queue/technical-support/")
    assert queue.status_code == 200 and case.number in queue.content.decode()
    assert client.get("/cases/").status_code == 200


def test_the_auditor_sees_no_buttons_and_every_write_is_a_403(case, auditor):
    client = login(auditor)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="action-transfer"' not in page and 'id="note-form"' not in page
    assert client.get(f"/cases/{case.pk}/transfer/").status_code == 403
    posts = {
        "transfer": {"version": case.version, "department": case.department_id, "reason": "r", "note": "n"},
        "note": {"version": case.version, "body": "hello", "visibility": "internal"},
        "resolve": {"version": case.version, "resolution_code": "solved", "resolution_summary": "done"},
        "take": {"version": case.version},
        "acknowledge": {"version": case.version},
        "watch": {},
    }
    for action, data in posts.items():
        assert client.post(f"/cases/{case.pk}/{action}/", data).status_code == 403, action
    assert client.get("/cases/new/from-call/").status_code == 403
    assert (
        client.post(
            "/cases/queue/technical-support/", {"action": "close", "case": [f"{case.pk}:1"]}
        ).status_code
        == 403
    )
    after = fresh(case)
    assert (after.version, after.assignee, CaseEvent.objects.filter(case=case).count()) == (
        case.version,
        None,
        1,
    )
    assert not CaseWatcher.objects.filter(case=case).exists()


def test_unknown_cases_and_departments_are_404(agent):
    client = login(agent)
    assert client.get("/cases/999999/").status_code == 404
    assert client.get("/cases/999999/transfer/").status_code == 404
    assert client.post("/cases/999999/take/", {"version": 1}).status_code == 404
    assert client.get("/cases/queue/no-such-department/").status_code == 404
    assert client.get("/cases/new/?party=999999").status_code == 404
    assert client.get("/cases/new/").status_code == 404


# --- confidential cases ------------------------------------------------------------------------------------


def test_a_confidential_case_is_invisible_outside_its_circle_on_every_page_list_and_count(
    secret, case, other_agent, agent, tech_agent, party
):
    outsider = login(other_agent)  # Billing: not the department, not a watcher, not the originator
    for path in (f"/cases/{secret.pk}/", f"/cases/{secret.pk}/transfer/", f"/cases/{secret.pk}/follow-up/"):
        assert outsider.get(path).status_code == 404, path
    assert outsider.post(f"/cases/{secret.pk}/note/", {"version": 1, "body": "x"}).status_code == 404
    assert outsider.post(f"/cases/{secret.pk}/watch/").status_code == 404
    queue = outsider.get("/cases/queue/technical-support/").content.decode()
    assert secret.number not in queue and "SIM swap" not in queue and case.number in queue
    assert 'All open <span class="badge badge-soft">1</span>' in queue  # the count leaves it out too
    assert 'New <span class="badge badge-soft">1</span>' in queue
    panel = outsider.get(f"/parties/{party.pk}/").content.decode()
    assert "SIM swap" not in panel and case.number in panel
    other = outsider.get(f"/cases/{case.pk}/").content.decode()
    assert secret.number not in other and "SIM swap" not in other
    # the circle sees it: the originator, the assignee
    for member in (agent, tech_agent):
        client = login(member)
        assert client.get(f"/cases/{secret.pk}/").status_code == 200
        assert "SIM swap" in client.get(f"/parties/{party.pk}/").content.decode()
    mine = login(tech_agent).get("/cases/").content.decode()
    assert "SIM swap" in mine


def test_an_outsider_cannot_reach_a_confidential_case_through_a_bulk_action(secret, billing, departments):
    lead = UserFactory(username="billing_lead", role=Role.SUPERVISOR, departments=[billing])
    response = login(lead).post(
        "/cases/queue/technical-support/", {"action": "close", "case": [f"{secret.pk}:{secret.version}"]}
    )
    assert response.status_code == 400
    assert "no longer exist or are not visible" in response.content.decode()
    assert "SIM swap" not in response.content.decode()


# --- my cases and the queue ------------------------------------------------------------------------------


def test_my_cases_lists_my_open_cases_with_counts_and_the_department_picker(open_case, tech_agent, agent):
    mine = open_case(subject="Mine", assignee=tech_agent)
    open_case(subject="In the queue")
    done = open_case(subject="Done already", assignee=tech_agent)
    services.case_resolve(
        actor=tech_agent,
        case=done,
        resolution_code="solved",
        resolution_summary="ok",
        expected_version=done.version,
    )
    text = login(tech_agent).get("/cases/").content.decode()
    assert mine.number in text and "In the queue" not in text and "Done already" not in text
    assert 'All open <span class="count">1</span>' in text and 'Open <span class="count">1</span>' in text
    assert "/cases/queue/technical-support/" in text
    empty = login(agent).get("/cases/").content.decode()
    assert "No open cases are assigned to you" in empty and "Customer Care queue" in empty


def test_the_department_picker_jumps_to_a_queue_without_javascript(agent):
    client = login(agent)
    response = client.get("/cases/?queue=billing")
    assert response.status_code == 302 and response["Location"] == "/cases/queue/billing/"
    assert client.get("/cases/?queue=../../admin").status_code == 200  # not a slug: no redirect


def test_a_supervisor_sees_the_queues_of_every_department_they_lead(open_case, billing, tech, departments):
    lead = UserFactory(username="lead2", role=Role.SUPERVISOR, departments=[tech])
    billing.supervisor = lead
    billing.save()
    open_case(department=billing, subject="Bill")
    text = login(lead).get("/cases/").content.decode()
    picker = text[text.index('id="h-queues"') : text.index('id="queue-jump"')]
    assert "Billing" in picker and "Technical Support" in picker and "Customer Care" not in picker


def test_the_queue_filters_sorts_and_counts_by_status(open_case, tech_agent, tech_colleague, tech):
    low = open_case(subject="Low one", priority="low")
    urgent = open_case(subject="Urgent one", priority="urgent", assignee=tech_agent)
    taken = open_case(subject="Colleague's", assignee=tech_colleague)
    client = login(tech_agent)
    page = client.get("/cases/queue/technical-support/?ordering=-priority").content.decode()
    assert page.index("Urgent one") < page.index("Colleague&#x27;s") < page.index("Low one")
    page = client.get("/cases/queue/technical-support/?ordering=priority").content.decode()
    assert page.index("Low one") < page.index("Urgent one")
    page = client.get("/cases/queue/technical-support/?assignee=none").content.decode()
    assert "Low one" in page and "Urgent one" not in page and "Colleague" not in page
    page = client.get(f"/cases/queue/technical-support/?assignee={tech_colleague.pk}").content.decode()
    assert "Colleague" in page and "Low one" not in page
    page = client.get("/cases/queue/technical-support/?priority=urgent").content.decode()
    assert "Urgent one" in page and "Low one" not in page
    page = client.get("/cases/queue/technical-support/?status=new").content.decode()
    assert "Low one" in page and "Urgent one" not in page  # assigned at opening: open, not new
    assert 'New <span class="badge badge-soft">1</span>' in page
    assert 'Open <span class="badge badge-soft">2</span>' in page
    assert 'All open <span class="badge badge-soft">3</span>' in page
    assert {low.number, urgent.number, taken.number}  # all three exist


def test_the_resolved_and_closed_tabs_count_up_to_a_cap(open_case, tech_agent, tech, monkeypatch):
    from relay.cases import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    for n in range(3):
        case = open_case(subject=f"Done {n}", assignee=tech_agent)
        services.case_resolve(
            actor=tech_agent,
            case=case,
            resolution_code="solved",
            resolution_summary="ok",
            expected_version=None,
        )
    for n in range(3):
        open_case(subject=f"Still open {n}")
    page = login(tech_agent).get("/cases/queue/technical-support/").content.decode()
    assert 'Resolved <span class="badge badge-soft">2+</span>' in page  # two counted, then "+"
    assert 'All open <span class="badge badge-soft">3</span>' in page  # open ones are exact, above the cap


def test_unknown_filter_and_sort_values_are_refused_not_used(case, agent):
    client = login(agent)
    for query in ("ordering=id;drop", "status=deleted", "priority=__all__", "assignee=1%20or%201=1"):
        response = client.get(f"/cases/queue/technical-support/?{query}")
        assert response.status_code == 200 and "Some filters are not valid." in response.content.decode()


def test_the_queue_pages_by_keyset_and_a_forged_cursor_falls_back(open_case, agent):
    for i in range(27):
        open_case(subject=f"Case number {i:02d}")
    client = login(agent)
    first = client.get("/cases/queue/technical-support/")
    text = first.content.decode()
    assert text.count('class="fw-semibold case-link"') == 25 and 'rel="next"' in text
    cursor = first.context["page"].next_cursor
    second = client.get(f"/cases/queue/technical-support/?cursor={cursor}").content.decode()
    assert second.count('class="fw-semibold case-link"') == 2 and 'rel="prev"' in second
    assert "Case number 00" in second and "Case number 26" not in second
    forged = client.get("/cases/queue/technical-support/?cursor=AAAA").content.decode()
    assert "no longer valid" in forged and forged.count('class="fw-semibold case-link"') == 25


def test_empty_queues_say_what_to_do(agent, departments):
    text = login(agent).get("/cases/queue/billing/").content.decode()
    assert "The Billing queue is empty" in text and "Log a case from a call" in text
    text = login(agent).get("/cases/queue/billing/?status=resolved").content.decode()
    assert "No resolved cases in Billing" in text
    text = login(agent).get("/cases/queue/billing/?priority=urgent").content.decode()
    assert "No case matches these filters" in text and "Clear the filters" in text


# --- the case page and its actions -----------------------------------------------------------------------


def test_the_case_page_shows_the_header_the_timeline_newest_first_and_the_other_cases(
    open_case, agent, tech_agent, party
):
    earlier = open_case(subject="Earlier problem")
    case = open_case(subject="Cannot make calls")
    services.case_watch(actor=agent, case=case)
    services.case_assign(actor=tech_agent, case=case, assignee=tech_agent, expected_version=case.version)
    services.case_add_note(actor=tech_agent, case=case, body="Line test failed at the exchange.")
    text = login(agent).get(f"/cases/{case.pk}/").content.decode()
    assert 'id="case-assignee">' + tech_agent.display_name in text
    watchers = text[text.index('id="case-watchers"') :]
    assert agent.display_name in watchers[:300]
    assert (
        text.index("Line test failed") < text.index("Assigned to") < text.index("Opened: Cannot make calls")
    )
    assert "New → Open" in text
    others = text[text.index('id="other-cases"') :]
    assert earlier.number in others
    assert 'id="action-unwatch"' in text and 'id="action-watch"' not in text


def test_user_text_is_escaped_everywhere(open_case, agent, party):
    case = open_case(subject=XSS, description=XSS)
    services.case_add_note(actor=agent, case=case, body=XSS)
    client = login(agent)
    for path in (f"/cases/{case.pk}/", "/cases/queue/technical-support/", f"/parties/{party.pk}/"):
        text = client.get(path).content.decode()
        assert "<script>alert" not in text and "<img src=x" not in text, path
        assert "&lt;script&gt;" in text


def test_the_transfer_dialog_loads_by_htmx_refreshes_the_people_and_shows_errors_inline(
    case, agent, billing, other_agent
):
    client = login(agent)
    dialog = client.get(f"/cases/{case.pk}/transfer/", **HTMX)
    assert dialog.status_code == 200
    text = dialog.content.decode()
    assert "<html" not in text and "Transfer the case" in text and 'name="reason"' in text
    # choosing Billing offers Billing's people
    people = client.post(
        f"/cases/{case.pk}/transfer/",
        {"version": case.version, "department": billing.pk, "_validate": "department"},
        **HTMX,
    ).content.decode()
    assert other_agent.display_name in people
    # reason and note are required: the dialog comes back with the errors next to the fields
    bad = client.post(
        f"/cases/{case.pk}/transfer/", {"version": case.version, "department": billing.pk}, **HTMX
    )
    assert bad.status_code == 200
    bad_text = bad.content.decode()
    assert bad_text.count("This field is required.") == 2 and 'aria-invalid="true"' in bad_text
    assert fresh(case).department_id == case.department_id
    good = client.post(
        f"/cases/{case.pk}/transfer/",
        {
            "version": case.version,
            "department": billing.pk,
            "assignee": other_agent.pk,
            "reason": "Not technical",
            "note": "Check the bill",
        },
        **HTMX,
    )
    assert good.status_code == 204 and good["HX-Redirect"] == f"/cases/{case.pk}/"
    after = fresh(case)
    assert (after.department, after.assignee) == (billing, other_agent)
    event = CaseEvent.objects.filter(case=case, kind="transferred").get()
    assert (event.reason, event.note) == ("Not technical", "Check the bill")


def test_the_transfer_page_works_without_javascript(case, agent, billing):
    client = login(agent)
    assert "Transfer the case" in client.get(f"/cases/{case.pk}/transfer/").content.decode()
    response = client.post(
        f"/cases/{case.pk}/transfer/",
        {"version": case.version, "department": billing.pk, "reason": "Billing", "note": "Over to you"},
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert fresh(case).department == billing
    bad = client.post(
        f"/cases/{case.pk}/transfer/", {"version": fresh(case).version, "reason": "x", "note": "y"}
    )
    assert bad.status_code == 400 and "Choose a department or a person." in bad.content.decode()


def test_a_stale_transfer_keeps_what_was_typed_and_shows_the_case_as_it_is_now(
    case, agent, tech_agent, billing
):
    seen = case.version
    services.case_assign(actor=tech_agent, case=case, assignee=tech_agent, expected_version=seen)
    response = login(agent).post(
        f"/cases/{case.pk}/transfer/",
        {"version": seen, "department": billing.pk, "reason": "My careful reason", "note": "My long note"},
    )
    assert response.status_code == 409
    text = response.content.decode()
    assert "Someone else changed this case" in text and "Changed by someone else" in text
    assert "My careful reason" in text and "My long note" in text
    assert f'name="version" value="{fresh(case).version}"' in text  # bound to the current version
    assert tech_agent.display_name in text[text.index("the case now") :]
    assert fresh(case).department_id == case.department_id  # nothing was written
    again = login(agent).post(
        f"/cases/{case.pk}/transfer/",
        {"version": fresh(case).version, "department": billing.pk, "reason": "r", "note": "n"},
    )
    assert again.status_code == 302 and fresh(case).department == billing


def test_a_stale_dialog_by_htmx_stays_open_with_the_conflict(case, agent, tech_agent):
    seen = case.version
    services.case_assign(actor=tech_agent, case=case, assignee=tech_agent, expected_version=seen)
    response = login(agent).post(
        f"/cases/{case.pk}/resolve/",
        {"version": seen, "resolution_code": "solved", "resolution_summary": "Fixed the line"},
        **HTMX,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Someone else changed this case" in text and "Fixed the line" in text
    assert fresh(case).status_category == "open"


def test_notes_internal_or_for_the_customer_with_mentions(case, agent, tech_agent):
    client = login(agent)
    response = client.post(
        f"/cases/{case.pk}/note/",
        {"version": case.version, "body": "@tech_agent please call back", "visibility": "customer"},
    )
    assert response.status_code == 302
    event = CaseEvent.objects.get(case=case, kind="note_added")
    assert (event.visibility, event.data["mentions"]) == ("customer", [tech_agent.pk])
    text = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Visible to the customer" in text and "@tech_agent please call back" in text
    empty = client.post(
        f"/cases/{case.pk}/note/", {"version": case.version, "body": "  ", "visibility": "internal"}
    )
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()


def test_a_stale_note_is_kept_and_can_be_sent_again(case, agent, tech_agent):
    seen = case.version
    services.case_assign(actor=tech_agent, case=case, assignee=tech_agent, expected_version=seen)
    client = login(agent)
    response = client.post(
        f"/cases/{case.pk}/note/", {"version": seen, "body": "A note I typed", "visibility": "internal"}
    )
    assert response.status_code == 409 and "A note I typed" in response.content.decode()
    assert not CaseEvent.objects.filter(case=case, kind="note_added").exists()


def test_take_and_acknowledge_and_a_stale_take(case, tech_agent, tech_colleague):
    client = login(tech_agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="action-take"' in page and 'id="action-acknowledge"' in page
    response = client.post(f"/cases/{case.pk}/take/", {"version": case.version}, follow=True)
    assert "The case is yours." in response.content.decode()
    taken = fresh(case)
    assert (taken.assignee, taken.status_category) == (tech_agent, "open")
    client.post(f"/cases/{case.pk}/acknowledge/", {"version": taken.version})
    assert fresh(case).acknowledged_at is not None
    stale = login(tech_colleague).post(f"/cases/{case.pk}/take/", {"version": taken.version}, follow=True)
    text = stale.content.decode()
    assert "Someone else changed the case meanwhile; nothing was done." in text
    assert tech_agent.display_name in text
    assert fresh(case).assignee == tech_agent
    assert (
        "form was incomplete"
        in login(tech_colleague).post(f"/cases/{case.pk}/take/", {}, follow=True).content.decode()
    )


def test_assign_set_status_request_update_and_watch(case, tech_supervisor, tech_agent):
    client = login(tech_supervisor)
    assert tech_agent.display_name in client.get(f"/cases/{case.pk}/assign/").content.decode()
    client.post(f"/cases/{case.pk}/assign/", {"version": case.version, "assignee": tech_agent.pk, "note": ""})
    assert fresh(case).assignee == tech_agent
    waiting = status_of("waiting_customer")
    client.post(
        f"/cases/{case.pk}/status/", {"version": fresh(case).version, "status": waiting.pk, "note": "asked"}
    )
    assert fresh(case).status == waiting
    client.post(f"/cases/{case.pk}/request-update/", {"version": fresh(case).version, "note": "Any news?"})
    assert CaseEvent.objects.filter(case=case, kind="update_requested", note="Any news?").exists()
    client.post(f"/cases/{case.pk}/watch/")
    assert CaseWatcher.objects.filter(case=case, user=tech_supervisor).exists()
    client.post(f"/cases/{case.pk}/unwatch/")
    assert not CaseWatcher.objects.filter(case=case, user=tech_supervisor).exists()
    wrong = client.post(f"/cases/{case.pk}/assign/", {"version": fresh(case).version, "assignee": 999999})
    assert wrong.status_code == 400 and "Select a valid choice" in wrong.content.decode()


def test_resolve_close_reopen_and_a_follow_up_beyond_the_window(case, tech_agent, agent, settings):
    client = login(tech_agent)
    bad = client.post(
        f"/cases/{case.pk}/resolve/",
        {"version": case.version, "resolution_code": "", "resolution_summary": ""},
    )
    assert bad.status_code == 400 and bad.content.decode().count("This field is required.") == 2
    client.post(
        f"/cases/{case.pk}/resolve/",
        {"version": case.version, "resolution_code": "solved", "resolution_summary": "Exchange repaired"},
    )
    resolved = fresh(case)
    assert resolved.status_category == "resolved"
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Resolution: Solved" in page and 'id="action-close"' in page and 'id="action-resolve"' not in page
    client.post(f"/cases/{case.pk}/close/", {"version": resolved.version, "note": ""})
    closed = fresh(case)
    assert closed.status_category == "closed"
    assert 'id="action-reopen"' in client.get(f"/cases/{case.pk}/").content.decode()
    client.post(f"/cases/{case.pk}/reopen/", {"version": closed.version, "reason": "Fails again"})
    assert fresh(case).status_category == "open"
    # closed again, long ago: a follow-up instead
    again = fresh(case)
    services.case_resolve(
        actor=tech_agent,
        case=again,
        resolution_code="solved",
        resolution_summary="ok",
        expected_version=again.version,
    )
    services.case_close(actor=tech_agent, case=fresh(case), expected_version=fresh(case).version)
    with time_machine.travel(clock.now() + timedelta(days=settings.RELAY_CASE_REOPEN_DAYS + 1)):
        client = login(tech_agent)  # a new session: the first one has expired by then
        page = client.get(f"/cases/{case.pk}/").content.decode()
        assert 'id="action-reopen"' not in page and 'id="action-follow-up"' in page
        response = client.post(
            f"/cases/{case.pk}/follow-up/",
            {"subject": "Calls fail again", "description": "", "priority": "high"},
        )
    new = Case.objects.get(subject="Calls fail again")
    assert response.status_code == 302 and response["Location"] == f"/cases/{new.pk}/"
    assert CaseLink.objects.filter(case=new, related=case, kind="follow_up").exists()
    assert fresh(case).status_category == "closed"


def test_merging_asks_for_confirmation_first(open_case, supervisor, agent, party):
    keep = open_case(subject="No dial tone")
    duplicate = open_case(subject="No dial tone (again)")
    assert 'id="action-merge"' not in login(agent).get(f"/cases/{duplicate.pk}/").content.decode()
    assert login(agent).get(f"/cases/{duplicate.pk}/merge/").status_code == 403
    client = login(supervisor)
    assert 'id="action-merge"' in client.get(f"/cases/{duplicate.pk}/").content.decode()
    step = client.post(
        f"/cases/{duplicate.pk}/merge/", {"version": duplicate.version, "target": keep.pk, "reason": "same"}
    )
    text = step.content.decode()
    assert step.status_code == 200 and "This cannot be undone." in text and 'name="confirm" value="1"' in text
    assert fresh(duplicate).merged_into is None  # nothing yet
    done = client.post(
        f"/cases/{duplicate.pk}/merge/",
        {
            "version": duplicate.version,
            "target": keep.pk,
            "target_version": keep.version,
            "reason": "same",
            "confirm": "1",
        },
    )
    assert done.status_code == 302 and done["Location"] == f"/cases/{keep.pk}/"
    assert fresh(duplicate).merged_into == keep


def test_a_case_of_another_party_is_not_offered_as_a_merge_target(open_case, supervisor):
    mine = open_case(subject="Mine")
    other = open_case(party=PartyFactory(), subject="Someone else's")
    response = login(supervisor).post(
        f"/cases/{mine.pk}/merge/", {"version": mine.version, "target": other.pk}
    )
    assert response.status_code == 403 or "Select a valid choice" in response.content.decode()
    assert fresh(mine).merged_into is None


# --- opening cases -----------------------------------------------------------------------------------------


def test_log_a_case_from_a_call_for_a_known_caller_typed_in_another_format(agent, party, departments):
    ContactPointFactory(party=party, kind="phone", raw="+1 415 555 0100", normalized="+14155550100")
    client = login(agent)
    lookup = client.get("/cases/new/from-call/caller/?phone=(415)%20555-0100").content.decode()
    assert "Ada Lovelace" in lookup and f'name="party" value="{party.pk}"' in lookup
    response = client.post(
        "/cases/new/from-call/",
        {
            "phone": "415.555.0100",
            "party": party.pk,
            "call_subject": "",
            "call_notes": "No dial tone since this morning",
            "duration_minutes": "4",
            "subject": "Cannot make calls",
            "description": "",
            "priority": "high",
            "department": departments["Technical Support"].pk,
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert (case.party, case.priority, case.department.name, case.channel) == (
        party,
        "high",
        "Technical Support",
        "phone",
    )
    linked = CaseEvent.objects.get(case=case, kind="interaction_logged").entry
    assert (linked.subject, linked.body, linked.duration_seconds) == (
        "Cannot make calls",
        "No dial tone since this morning",
        240,
    )
    assert linked.party == party and linked.channel == "phone" and linked.case == case


def test_log_a_case_from_a_call_from_a_new_caller(agent):
    client = login(agent)
    lookup = client.get("/cases/new/from-call/caller/?phone=415-555-0199").content.decode()
    assert 'id="caller-new"' in lookup and 'name="given_name"' in lookup
    missing = client.post(
        "/cases/new/from-call/", {"phone": "415-555-0199", "subject": "Moving house", "priority": "normal"}
    )
    assert missing.status_code == 400 and "enter the caller&#x27;s name" in missing.content.decode()
    assert not Party.objects.exists() and not Case.objects.exists()
    response = client.post(
        "/cases/new/from-call/",
        {
            "phone": "415-555-0199",
            "given_name": "Grace",
            "family_name": "Hopper",
            "subject": "Moving house",
            "priority": "normal",
        },
        follow=True,
    )
    grace = Party.objects.get()
    assert grace.display_name == "Grace Hopper" and grace.contact_points.get().normalized == "+14155550199"
    assert "(new on file)" in response.content.decode()
    assert Case.objects.get().department.name == "Customer Care"  # the agent's own department


def test_a_number_several_customers_share_asks_who_calls(agent):
    first, second = PartyFactory(given_name="Ann"), PartyFactory(given_name="Bob")
    for p in (first, second):
        ContactPointFactory(party=p, kind="phone", raw="+14155550111", normalized="+14155550111")
    client = login(agent)
    data = {"phone": "(415) 555-0111", "subject": "Question", "priority": "normal"}
    response = client.post("/cases/new/from-call/", data)
    text = response.content.decode()
    assert response.status_code == 400 and "Several customers have this number" in text
    assert f'id="caller-{first.pk}"' in text and f'id="caller-{second.pk}"' in text
    client.post("/cases/new/from-call/", {**data, "party": second.pk})
    assert Case.objects.get().party == second


def test_an_invalid_number_is_a_field_error(agent):
    response = login(agent).post(
        "/cases/new/from-call/", {"phone": "abc", "subject": "x", "priority": "normal"}
    )
    assert response.status_code == 400 and 'id="id_phone-errors"' in response.content.decode()


def test_new_case_from_the_360_page(agent, party, departments):
    client = login(agent)
    panel = client.get(f"/parties/{party.pk}/").content.decode()
    assert f"/cases/new/?party={party.pk}" in panel and "No cases yet." in panel
    form = client.get(f"/cases/new/?party={party.pk}").content.decode()
    assert "New case for Ada Lovelace" in form
    bad = client.post("/cases/new/", {"party": party.pk, "subject": "", "priority": "normal"})
    assert bad.status_code == 400 and not Case.objects.exists()
    response = client.post(
        "/cases/new/",
        {
            "party": party.pk,
            "subject": "Router broken",
            "priority": "normal",
            "department": departments["Billing"].pk,
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and (case.subject, case.department.name) == (
        "Router broken",
        "Billing",
    )


def test_the_360_panel_lists_open_cases_first_with_reopen_or_a_linked_case(
    open_case, tech_agent, party, agent, settings
):
    def close(case):
        services.case_resolve(
            actor=tech_agent,
            case=case,
            resolution_code="solved",
            resolution_summary="ok",
            expected_version=case.version,
        )
        case = fresh(case)
        services.case_close(actor=tech_agent, case=case, expected_version=case.version)

    old = open_case(subject="Old closed")
    close(old)
    with time_machine.travel(clock.now() + timedelta(days=settings.RELAY_CASE_REOPEN_DAYS + 5)):
        recent = open_case(subject="Recently closed")
        close(recent)
        current = open_case(subject="Still open")
        text = login(agent).get(f"/parties/{party.pk}/").content.decode()
    panel = text[text.index('id="party-cases"') : text.index('id="h-contact"')]
    assert panel.index("Still open") < panel.index("Recently closed") < panel.index("Old closed")
    assert f"/cases/{recent.pk}/reopen/" in panel and f"/cases/{old.pk}/follow-up/" in panel
    assert f"/cases/{old.pk}/reopen/" not in panel and f"/cases/{current.pk}/reopen/" not in panel


# --- bulk --------------------------------------------------------------------------------------------------


def test_supervisors_assign_transfer_and_close_in_bulk(open_case, tech_supervisor, tech_agent, billing):
    a, b = open_case(subject="A"), open_case(subject="B")
    client = login(tech_supervisor)
    page = client.get("/cases/queue/technical-support/").content.decode()
    assert 'id="bulk-form"' in page and f'value="{a.pk}:{a.version}"' in page
    url = "/cases/queue/technical-support/?ordering=-opened"
    response = client.post(
        url,
        {
            "action": "assign",
            "assignee": tech_agent.pk,
            "case": [f"{a.pk}:{a.version}", f"{b.pk}:{b.version}"],
        },
    )
    assert response.status_code == 302 and response["Location"] == url
    assert {fresh(a).assignee, fresh(b).assignee} == {tech_agent}
    missing = client.post(
        url, {"action": "transfer", "department": billing.pk, "case": [f"{a.pk}:{fresh(a).version}"]}
    )
    assert missing.status_code == 400 and "Say why the cases are transferred." in missing.content.decode()
    client.post(
        url,
        {
            "action": "transfer",
            "department": billing.pk,
            "reason": "bills",
            "note": "yours",
            "case": [f"{a.pk}:{fresh(a).version}"],
        },
    )
    assert fresh(a).department == billing


def test_a_bulk_action_is_all_or_nothing_and_keeps_the_choice(open_case, tech_supervisor, tech_agent):
    a, b = open_case(subject="A"), open_case(subject="B")
    stale_b = b.version
    services.case_assign(actor=tech_agent, case=b, assignee=tech_agent, expected_version=b.version)
    client = login(tech_supervisor)
    response = client.post(
        "/cases/queue/technical-support/",
        {"action": "assign", "assignee": tech_agent.pk, "case": [f"{a.pk}:{a.version}", f"{b.pk}:{stale_b}"]},
    )
    text = response.content.decode()
    assert response.status_code == 400 and f"{b.number} was changed by someone else meanwhile" in text
    assert fresh(a).assignee is None  # a was not assigned either
    assert (
        f'value="{a.pk}:{a.version}" form="bulk-form" id="pick-{a.pk}" aria-label="Choose {a.number}" checked'
        in text
    )
    closing = client.post(
        "/cases/queue/technical-support/", {"action": "close", "case": [f"{a.pk}:{a.version}"]}
    )
    assert (
        "Nothing was changed." in closing.content.decode() and "resolve it first" in closing.content.decode()
    )


def test_agents_have_no_bulk_bar_and_cannot_post_one(case, agent):
    client = login(agent)
    assert 'id="bulk-form"' not in client.get("/cases/queue/technical-support/").content.decode()
    response = client.post(
        "/cases/queue/technical-support/", {"action": "close", "case": [f"{case.pk}:{case.version}"]}
    )
    assert response.status_code == 403


# --- query counts -------------------------------------------------------------------------------------------


def test_the_queue_page_costs_the_same_queries_for_few_and_many_cases(open_case, tech_supervisor, tech_agent):
    client = login(tech_supervisor)
    category = CaseCategoryFactory(name="Lines")
    made = iter(range(1000))

    def add(n):
        for _ in range(n):
            i = next(made)
            open_case(subject=f"Case {i}", assignee=tech_agent if i % 2 else None, category=category)

    def call():
        response = client.get("/cases/queue/technical-support/?ordering=-priority")
        assert response.status_code == 200

    # two capped counts (resolved, closed); the three counts (tabs, SLA, picker) each read the configuration
    # generation for the confidential categories
    assert_flat_query_count(call, add, few=3, many=20, at_most=19)


def test_the_case_page_costs_the_same_queries_with_a_short_or_long_history(
    case, agent, tech_agent, open_case
):
    client = login(agent)

    def add(n):
        for i in range(n):
            services.case_add_note(actor=tech_agent, case=case, body=f"note {i}")
            if i % 3 == 0:
                open_case(subject=f"Other {i}")
                services.case_watch(actor=UserFactory(role=Role.AGENT), case=case)

    def call():
        assert client.get(f"/cases/{case.pk}/").status_code == 200

    # 16 for the case itself, 3 for its e-mail panel (messages, templates, mailboxes)
    assert_flat_query_count(call, add, few=3, many=15, at_most=19)


def test_go_to_a_case_by_its_number_but_not_to_one_outside_the_circle(case, secret, agent, other_agent):
    response = login(agent).get(f"/cases/?number={case.number.lower()}")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    hidden = login(other_agent).get(f"/cases/?number={secret.number}", follow=True).content.decode()
    assert f"No case {secret.number} is visible to you" in hidden and "SIM swap" not in hidden


# --- the guard: every page of the console for the actors that must be refused ---------------------------

# url name -> the methods it answers and whether it is about one case (then an outsider gets a 404)
CONSOLE_PAGES: dict[str, tuple[tuple[str, ...], bool]] = {
    "my_cases": (("GET",), False),
    "queue": (("GET", "POST"), False),
    "case_new": (("GET", "POST"), False),
    "from_call": (("GET", "POST"), False),
    "caller_lookup": (("GET",), False),
    "case_detail": (("GET",), True),
    "follow_up": (("GET", "POST"), True),
    "assign": (("GET", "POST"), True),
    "transfer": (("GET", "POST"), True),
    "note": (("GET", "POST"), True),
    "request_update": (("GET", "POST"), True),
    "log": (("GET", "POST"), True),
    "status": (("GET", "POST"), True),
    "resolve": (("GET", "POST"), True),
    "close": (("GET", "POST"), True),
    "reopen": (("GET", "POST"), True),
    "merge": (("GET", "POST"), True),
    "take": (("POST",), True),
    "acknowledge": (("POST",), True),
    "watch": (("POST",), True),
    "unwatch": (("POST",), True),
    "queue_at_risk": (("GET",), False),
    "queue_breached": (("GET",), False),
    "dropped_balls": (("GET",), False),
}


def _console_url(name: str, case: Case) -> str:
    from django.urls import reverse

    if name in ("queue", "queue_at_risk", "queue_breached"):
        return reverse(f"cases:{name}", args=["technical-support"])
    if CONSOLE_PAGES[name][1]:
        return reverse(f"cases:{name}", args=[case.pk])
    return reverse(f"cases:{name}") + (f"?party={case.party_id}" if name == "case_new" else "")


def test_every_console_url_is_in_the_guard_table():
    from relay.cases import urls

    names = {p.name for p in urls.urlpatterns if p.name and not p.name.startswith("routing")}
    assert names == set(CONSOLE_PAGES), "add the new page to CONSOLE_PAGES (and its refusals)"


@pytest.mark.parametrize("name", sorted(CONSOLE_PAGES))
def test_every_console_page_refuses_the_anonymous_the_auditor_and_the_outsider(
    name, secret, case, auditor, other_agent
):
    methods, about_a_case = CONSOLE_PAGES[name]
    url = _console_url(name, secret)
    before = (fresh(secret).version, CaseEvent.objects.count(), Case.objects.count())
    if about_a_case:  # auditors are not in a confidential case's circle either
        assert login(auditor).get(url).status_code == (405 if methods == ("POST",) else 404)
    for method in methods:
        call = Client().get if method == "GET" else Client().post
        response = call(url, {"version": secret.version})
        assert response.status_code == 302 and response["Location"].startswith("/login/"), (method, url)
        if about_a_case:  # outside the confidential case's circle: it does not exist
            outsider = login(other_agent)
            response = (outsider.get if method == "GET" else outsider.post)(url, {"version": secret.version})
            assert response.status_code == 404, (method, url)
            assert b"SIM swap" not in response.content
        if method == "POST":  # an auditor reads the (not confidential) case but changes nothing
            plain = _console_url(name, case)
            response = login(auditor).post(plain, {"version": case.version, "case": [f"{case.pk}:1"]})
            assert response.status_code == 403, (name, plain)
    assert (fresh(secret).version, CaseEvent.objects.count(), Case.objects.count()) == before
    assert fresh(case).version == case.version


def test_the_360_panel_shows_at_most_twenty_cases_and_says_there_are_more(open_case, agent, party):
    for i in range(21):
        open_case(subject=f"Problem {i:02d}")
    panel = login(agent).get(f"/parties/{party.pk}/").content.decode()
    panel = panel[panel.index('id="party-cases"') : panel.index('id="h-contact"')]
    assert panel.count('class="list-group-item party-case') == 20
    assert "Problem 20" in panel and "Problem 00" not in panel  # the newest
    assert "open and most recent cases are shown" in panel


def test_someone_in_no_department_is_told_to_choose_a_queue(auditor, departments):
    text = login(auditor).get("/cases/").content.decode()
    assert "You are in no department: choose a queue below." in text
    assert '<option value="billing"' in text


def test_the_queue_column_headers_sort_and_say_how(open_case, agent):
    open_case(subject="Low one", priority="low")
    open_case(subject="Urgent one", priority="urgent")
    client = login(agent)
    page = client.get("/cases/queue/technical-support/")
    links = page.context["sort_links"]
    assert links["opened"]["aria"] == "descending" and "ordering=opened" in links["opened"]["url"]
    assert links["priority"]["aria"] == "none" and "ordering=-priority" in links["priority"]["url"]
    text = client.get("/cases/queue/technical-support/" + links["priority"]["url"]).content.decode()
    assert text.index("Urgent one") < text.index("Low one") and 'aria-sort="descending"' in text


def test_a_call_back_and_an_e_mail_are_logged_on_the_case_and_the_customer_file(case, agent, party):
    client = login(agent)
    assert "Log a call, e-mail or letter" in client.get(f"/cases/{case.pk}/log/", **HTMX).content.decode()
    response = client.post(
        f"/cases/{case.pk}/log/",
        {
            "version": case.version,
            "channel": "phone",
            "direction": "outbound",
            "subject": "Call back",
            "body": "Told him the line is unfrozen.",
            "duration_minutes": "2",
        },
    )
    assert response.status_code == 302
    client.post(
        f"/cases/{case.pk}/log/",
        {
            "version": case.version,
            "channel": "email",
            "direction": "outbound",
            "subject": "Your line",
            "body": "Confirmed.",
        },
    )
    entries = [
        e.entry for e in CaseEvent.objects.filter(case=case, kind="interaction_logged").order_by("at", "id")
    ]
    assert [(e.channel, e.subject, e.party_id, e.case_id) for e in entries] == [
        ("phone", "Call back", party.pk, case.pk),
        ("email", "Your line", party.pk, case.pk),
    ]
    assert entries[0].duration_seconds == 120 and fresh(case).first_response_at is not None
    assert "Told him the line is unfrozen." in client.get(f"/cases/{case.pk}/").content.decode()
    bad = client.post(
        f"/cases/{case.pk}/log/", {"version": case.version, "channel": "pigeon", "direction": "outbound"}
    )
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
