from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_search_index(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from relay.customers.search_index import ensure_search_index

    ensure_search_index(connections[using])


class CustomersConfig(AppConfig):
    name = "relay.customers"
    label = "customers"
    verbose_name = "Customer file"

    def ready(self) -> None:
        post_migrate.connect(_ensure_search_index, sender=self)
