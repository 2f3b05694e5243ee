from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_audit_guards(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from relay.core.audit_guard import install_guards

    install_guards(connections[using])


class CoreConfig(AppConfig):
    name = "relay.core"
    label = "core"

    def ready(self) -> None:
        from relay.core import audit_guard, checks  # noqa: F401  (registers the system checks)

        audit_guard.connect_delete_guards()
        post_migrate.connect(_install_audit_guards, sender=self)
