"""Users and departments: read-only through the API, to every staff role."""

import pytest

from relay.accounts.models import Department, User
from relay.core.testing.api import ReadOnlyTests
from relay.core.testing.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


class TestUserAPI(ReadOnlyTests):
    endpoint = "/api/v1/users/"
    model = User

    def make(self, ctx):
        return UserFactory(departments=[DepartmentFactory(name="Billing")])


class TestDepartmentAPI(ReadOnlyTests):
    endpoint = "/api/v1/departments/"
    model = Department

    def make(self, ctx):
        return DepartmentFactory()


def test_users_show_no_secrets(agent):
    from relay.core.testing.api import client_for

    row = client_for(agent).get(f"/api/v1/users/{agent.pk}/").json()
    assert not {"password", "is_superuser", "last_login", "user_permissions", "groups"} & set(row)
