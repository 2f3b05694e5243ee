"""Run by test_sqlite_concurrency in a fresh process against its own SQLite file.

20 threads write at once (create parties, log calls, update one shared record with optimistic locking);
prints a JSON summary of what each thread believes it wrote.
"""

import json
import os
import sys
import threading
import traceback

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from relay.accounts.models import User  # noqa: E402
from relay.activities import services as activities  # noqa: E402
from relay.core.exceptions import ConflictError  # noqa: E402
from relay.customers import services as customers  # noqa: E402
from relay.customers.models import Party  # noqa: E402

THREADS, PER_THREAD = 20, 15


def main() -> None:
    call_command("migrate", verbosity=0)
    user = User.objects.create_user("writer", role="agent")
    shared = customers.party_create(actor=user, data=customers.PartyInput(family_name="Shared"))
    results: dict[int, dict[str, int]] = {}
    errors: list[str] = []

    def work(n: int) -> None:
        created = updated = conflicts = 0
        try:
            for i in range(PER_THREAD):
                party = customers.party_create(
                    actor=user,
                    data=customers.PartyInput(
                        family_name=f"T{n}-{i}",
                        contact_points=[customers.ContactInput(kind="phone", raw=f"+1 415 5{n:02d} {i:04d}")],
                    ),
                )
                activities.interaction_log(
                    actor=user,
                    party=party,
                    data=activities.InteractionInput(channel="phone", subject="hello"),
                )
                created += 1
                current = Party.objects.get(pk=shared.pk)
                try:
                    customers.party_update(
                        actor=user,
                        party=current,
                        expected_version=current.version,
                        changes={"about": f"{n}-{i}"},
                    )
                    updated += 1
                except ConflictError:
                    conflicts += 1
        except Exception as exc:  # reported, and the test fails on it
            errors.append(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-1500:]}")
        finally:
            connection.close()
        results[n] = {"created": created, "updated": updated, "conflicts": conflicts}

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shared.refresh_from_db()
    print(
        json.dumps(
            {
                "errors": errors,
                "created": sum(r["created"] for r in results.values()),
                "updated": sum(r["updated"] for r in results.values()),
                "parties": Party.objects.exclude(pk=shared.pk).count(),
                "interactions": Party.objects.filter(timeline__isnull=False).distinct().count(),
                "shared_version": shared.version,
                "journal_mode": connection.cursor().execute("PRAGMA journal_mode").fetchone()[0],
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
