"""Signing in with a username and password, and nothing else.

Permissions come from roles only (relay.accounts.permissions, through the `rules` backend): Django's
per-user and per-group permission rows are not part of Relay's model, so this backend grants none and
never reads them. A refused `user.has_perm()` therefore costs no query (Django's ModelBackend would load
both permission tables on the first refusal of each request). Superusers still pass everything.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class PasswordBackend(ModelBackend):
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()
