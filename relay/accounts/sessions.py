"""Staff sessions (SESSION_ENGINE): one query loads the session and the signed-in user.

Django's database sessions take two ORM queries on every signed-in request, the session and then its user,
and building them cost more than anything else a small page does (4.2 ms of a 4.8 ms health check with a
session cookie on the 2-core machine, docs/benchmarks.md). Here the session row carries the user's id as a
column (accounts.StaffSession) and `load` joins the user in one hand-written query. The user found is
offered to the authentication backend for that request only (`preloaded_user`); Django's own
`auth.get_user` still checks the backend, `is_active` and the session hash, so a changed password or a
deactivated user still ends the session.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.utils import timezone

from relay.accounts.models import StaffSession, User
from relay.core.rawsql import fetch_one

_SQL = (  # table names from the models, values bound; a session without a user gives a user of NULLs
    "SELECT u.*, s.session_data AS relay_session_data"  # noqa: S608
    f" FROM {StaffSession._meta.db_table} s LEFT JOIN {User._meta.db_table} u ON u.id = s.user_id"
    " WHERE s.session_key = %s AND s.expire_date > %s"
)
_preloaded: contextvars.ContextVar[User | None] = contextvars.ContextVar("preloaded_user", default=None)


class SessionStore(db.SessionStore):
    loaded_user: User | None = None

    @classmethod
    def get_model_class(cls) -> type[StaffSession]:
        return StaffSession

    def create_model_instance(self, data: dict[str, Any]) -> StaffSession:
        session = super().create_model_instance(data)
        assert isinstance(session, StaffSession)
        user_id = data.get(SESSION_KEY)
        session.user_id = int(user_id) if isinstance(user_id, str) and user_id.isdigit() else None
        return session

    def load(self) -> dict[str, Any]:
        self.loaded_user = None
        if not self.session_key:  # no cookie, or one of the wrong shape (the setter checks it)
            return {}
        row: Any = fetch_one(User, _SQL, [self.session_key, timezone.now()])
        if row is None:
            self._session_key = None
            return {}
        data: dict[str, Any] = self.decode(row.relay_session_data)
        self.loaded_user = row if row.pk is not None else None
        return data


@contextmanager
def preloaded_user(user: User | None) -> Iterator[None]:
    token = _preloaded.set(user)
    try:
        yield
    finally:
        _preloaded.reset(token)


def take_preloaded_user(user_id: Any) -> User | None:
    """The user the session already loaded, if it is the one asked for."""
    user = _preloaded.get()
    return user if user is not None and str(user.pk) == str(user_id) else None
