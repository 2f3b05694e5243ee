"""Signing in with a username and password, and nothing else.

Permissions come from roles only (relay.accounts.permissions, through the `rules` backend): Django's
per-user and per-group permission rows are not part of Relay's model, so this backend grants none and
never reads them. A refused `user.has_perm()` therefore costs no query (Django's ModelBackend would load
both permission tables on the first refusal of each request). Superusers still pass everything. Its
`get_user` takes the user that the session store loaded with the session (relay.accounts.sessions).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from relay.accounts.sessions import take_preloaded_user


class PasswordBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        """The user the session store loaded along with the session (relay.accounts.sessions), checked as
        Django checks the one it loads itself; otherwise Django's query."""
        user = take_preloaded_user(user_id)
        if user is None:
            return super().get_user(user_id)
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()
