"""Run by test_outbox_workers in fresh processes against the database the workers use.

    python -m relay.core.tests.outbox_cluster setup        migrate (SQLite file) and create the users
    python -m relay.core.tests.outbox_cluster emit N       N events, each in its own committed transaction
    python -m relay.core.tests.outbox_cluster report SECS  wait up to SECS for the outbox to empty; a summary

Every command prints one line of JSON.
"""

import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.core.tests.outbox_worker_settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Max  # noqa: E402

from relay.accounts.models import User  # noqa: E402
from relay.core import outbox  # noqa: E402
from relay.core.outbox_models import DeliveryChannel, OutboxDelivery, OutboxEvent  # noqa: E402
from relay.notifications.models import Notification  # noqa: E402

ACTOR, PEOPLE = "outbox-actor", ("outbox-a", "outbox-b")


def setup() -> dict:
    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0)
    for username in (ACTOR, *PEOPLE):
        User.objects.create_user(username, email=f"{username}@relay.test", role="agent")
    return {"users": User.objects.count()}


def emit(n: int) -> dict:
    actor = User.objects.get(username=ACTOR)
    people = list(User.objects.filter(username__in=PEOPLE).values_list("pk", flat=True))
    for i in range(n):
        with transaction.atomic():
            outbox.emit(
                "case.transferred",
                payload={
                    "title": f"Case {i} transferred",
                    "url": f"/cases/{i}/",
                    "case_id": i,
                    "actor_id": actor.pk,
                },
                recipients=[actor.pk, *people],
                key=f"worker-test:{i}",
            )
    return {"events": n, "recipients": people}


def report(wait: float) -> dict:
    deadline = time.monotonic() + wait
    while OutboxEvent.objects.filter(dispatched_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.25)
    pairs = Notification.objects.values("event_id", "recipient_id").annotate(n=Count("id"))
    return {
        "events": OutboxEvent.objects.count(),
        "undispatched": OutboxEvent.objects.filter(dispatched_at__isnull=True).count(),
        "still_claimed": OutboxEvent.objects.exclude(claimed_by="").count(),
        "reclaimed": OutboxEvent.objects.filter(attempts__gt=1).count(),
        "notifications": Notification.objects.count(),
        "distinct_notifications": pairs.count(),
        "actor_notified": Notification.objects.filter(recipient__username=ACTOR).count(),
        "email_rows": OutboxDelivery.objects.filter(channel=DeliveryChannel.EMAIL).count(),
        "in_app_rows": OutboxDelivery.objects.filter(channel=DeliveryChannel.IN_APP).count(),
        "errors": list(OutboxEvent.objects.exclude(last_error="").values_list("last_error", flat=True)[:5]),
        "max_attempts": OutboxEvent.objects.aggregate(m=Max("attempts"))["m"],
        "pairs": sorted(
            f"{e}.{r}"
            for e, r in OutboxDelivery.objects.filter(channel=DeliveryChannel.EMAIL).values_list(
                "event_id", "recipient_id"
            )
        ),
    }


def main() -> None:
    command, *args = sys.argv[1:]
    if command == "setup":
        out = setup()
    elif command == "emit":
        out = emit(int(args[0]))
    else:
        out = report(float(args[0]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
