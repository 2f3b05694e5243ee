"""Connection set-up shared by both databases."""

from typing import Any

from django.db.backends.signals import connection_created
from django.dispatch import receiver


@receiver(connection_created)
def _postgres_session(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Trigram searches rank by similarity; a lower threshold keeps short fragments matching.
            cursor.execute("SET pg_trgm.similarity_threshold = 0.2")


def is_postgres(using: Any = None) -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"
