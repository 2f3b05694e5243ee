"""`people.shared_data`: records built once for a module, each test's writes rolled back (the tests run in
file order: the second sees what the first undid)."""

import pytest

from relay.accounts.models import Department
from relay.core.testing import people

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def shared(django_db_setup, django_db_blocker):
    with people.shared_data(django_db_blocker):
        with django_db_blocker.unblock():
            department = Department.objects.create(name="Shared", slug="shared")
        yield department


def test_a_test_changes_the_shared_records(shared):
    Department.objects.filter(pk=shared.pk).update(name="Changed")
    Department.objects.create(name="Temporary", slug="temporary")
    assert set(Department.objects.values_list("name", flat=True)) == {"Changed", "Temporary"}


def test_the_next_test_sees_them_as_built(shared):
    assert list(Department.objects.values_list("name", flat=True)) == ["Shared"]
