"""The cases endpoints through the generic API cases (reads, creation, versioned edits and every refusal),
plus the read-only configuration endpoints. The workflow actions are in test_api_actions.py."""

import pytest

from relay.cases import services
from relay.cases.models import Case, CaseCategory, CaseStatus
from relay.cases.tests.factories import CaseCategoryFactory, CaseStatusFactory
from relay.core.testing.api import (
    CreateTests,
    ReadOnlyTests,
    ReadTests,
    UpdateTests,
    assert_problem,
    client_for,
)
from relay.core.testing.factories import PartyFactory

pytestmark = pytest.mark.django_db


def open_for(ctx, **kwargs):
    """A case opened by the care agent (for Customer Care, the agent's department)."""
    params = {"actor": ctx["agent"], "party": PartyFactory(), "subject": "Cannot make calls", **kwargs}
    return services.case_open(**params)


class TestCaseAPI(ReadTests, CreateTests, UpdateTests):
    endpoint = "/api/v1/cases/"
    model = Case
    invalid_fields = ("subject", "priority")
    max_detail_queries = 9

    def make(self, ctx):
        return open_for(ctx)

    def create_data(self, ctx):
        return {"party": PartyFactory().pk, "subject": "No dial tone", "priority": "high", "channel": "phone"}

    def update_data(self, ctx):
        return {"priority": "urgent", "subject": "No calls at all"}

    def invalid_data(self, ctx):
        return {"party": PartyFactory().pk, "subject": "", "priority": "whenever"}

    def test_cases_cannot_be_deleted(self, ctx):
        case = self.make(ctx)
        assert_problem(client_for(ctx["admin"]).delete(self.url(case), HTTP_IF_MATCH='"1"'), 405)
        assert Case.objects.filter(pk=case.pk).exists()

    def test_create_opens_the_case_with_the_defaults(self, ctx):
        party = PartyFactory()
        response = client_for(ctx["agent"]).post(
            self.url(), {"party": party.pk, "subject": "  Bill too high "}, format="json"
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["number"].startswith("C-") and body["subject"] == "Bill too high"
        assert body["department_name"] == "Customer Care" and body["status_category"] == "new"
        assert (body["party"], body["originator"], body["version"]) == (party.pk, ctx["agent"].pk, 1)
        assert response["ETag"] == '"1"'

    def test_an_edit_is_on_the_case_timeline(self, ctx):
        case = self.make(ctx)
        client = client_for(ctx["agent"])
        client.patch(self.url(case), {"priority": "high", "version": 1}, format="json")
        events = client.get(f"{self.url(case)}events/").json()
        assert [e["kind"] for e in events] == ["created", "edited"]
        assert events[-1]["data"]["changes"] == {"priority": ["normal", "high"]}

    def test_an_unknown_party_category_or_department_is_a_field_error(self, ctx):
        client = client_for(ctx["agent"])
        party = PartyFactory()
        for body, field in (
            ({"party": 999999, "subject": "x"}, "party"),
            ({"party": party.pk, "subject": "x", "category": 999999}, "category"),
            ({"party": party.pk, "subject": "x", "department": 999999}, "department"),
            ({"party": party.pk, "subject": "x", "assignee": 999999}, "assignee"),
            ({"party": party.pk, "subject": "x", "watcher_users": [999999]}, "watcher_users"),
        ):
            assert_problem(client.post(self.url(), body, format="json"), 400, field)
        assert not Case.objects.exists()

    def test_fields_that_are_not_editable_do_not_change(self, ctx):
        case = self.make(ctx)
        client = client_for(ctx["agent"])
        response = client.patch(
            self.url(case), {"status_category": "closed", "number": "C-1", "version": 1}, format="json"
        )
        assert response.status_code == 200 and response.json()["version"] == 1
        case.refresh_from_db()
        assert (case.status_category, case.number) == ("new", response.json()["number"])

    def test_an_edit_with_a_bad_value_is_a_field_error(self, ctx):
        case = self.make(ctx)
        client = client_for(ctx["agent"])
        for body, field in (
            ({"subject": "   "}, "subject"),
            ({"priority": "whenever"}, "priority"),
            ({"category": 999999}, "category"),
        ):
            assert_problem(client.patch(self.url(case), {**body, "version": 1}, format="json"), 400, field)
        case.refresh_from_db()
        assert case.version == 1


class TestCaseCategoryAPI(ReadOnlyTests):
    endpoint = "/api/v1/case-categories/"
    model = CaseCategory

    def make(self, ctx):
        return CaseCategoryFactory()

    def test_the_confidential_flag_is_shown_and_inherited(self, ctx):
        secret = CaseCategoryFactory(name="Complaints about staff", is_confidential=True)
        child = CaseCategoryFactory(name="Rudeness", parent=secret)
        plain = CaseCategoryFactory(name="Billing")
        rows = {r["id"]: r for r in client_for(ctx["agent"]).get(self.url()).json()["results"]}
        assert (rows[secret.pk]["is_confidential"], rows[secret.pk]["confidential"]) == (True, True)
        assert (rows[child.pk]["is_confidential"], rows[child.pk]["confidential"]) == (False, True)
        assert (rows[plain.pk]["is_confidential"], rows[plain.pk]["confidential"]) == (False, False)
        assert rows[child.pk]["parent"] == secret.pk


class TestCaseStatusAPI(ReadOnlyTests):
    endpoint = "/api/v1/case-statuses/"
    model = CaseStatus

    def make(self, ctx):
        return CaseStatusFactory()

    def test_the_defaults_are_listed_with_their_category(self, ctx):
        rows = client_for(ctx["auditor"]).get(self.url()).json()["results"]
        defaults = {r["category"] for r in rows if r["is_default"]}
        assert defaults == {"new", "open", "waiting_customer", "waiting_third_party", "resolved", "closed"}
