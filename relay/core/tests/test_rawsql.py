"""fetch_one: hand-written SQL read as the ORM would read it, on both databases."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from relay.accounts.models import User
from relay.core.rawsql import fetch_one

pytestmark = pytest.mark.django_db

SQL = f"SELECT u.*, 41 + 1 AS answer FROM {User._meta.db_table} u WHERE u.username = %s"


def test_a_row_comes_back_converted_with_its_extra_columns(agent):
    agent.last_login = timezone.now().replace(microsecond=0)
    agent.save(update_fields=["last_login"])
    for _ in range(2):  # the second time from the plan kept on the connection
        user = fetch_one(User, SQL, [agent.username])
        assert isinstance(user, User) and user.pk == agent.pk and user.answer == 42
        assert user.is_active is True and isinstance(user.last_login, datetime)
        assert user.last_login == agent.last_login and timezone.is_aware(user.last_login)
        assert user.role == agent.role and not user._state.adding


def test_no_row_is_none(db):
    assert fetch_one(User, SQL, ["nobody"]) is None
