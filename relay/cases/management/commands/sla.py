"""`relay sla sweep [--now ISO-8601]`: run an SLA sweep by hand (the worker runs one every 30 s)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"--now: {value!r} is not an ISO-8601 date and time (e.g. 2026-12-07T09:30:00+01:00)."
        ) from exc
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


class Command(BaseCommand):
    help = "SLA clocks: `sweep` records and notifies the warnings, breaches and escalations now due."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sweep = sub.add_parser("sweep", help="evaluate every clock with something due")
        sweep.add_argument(
            "--now",
            type=str,
            default=None,
            help="evaluate as of this ISO-8601 instant instead of the clock (a zone-less value is in "
            "TIME_ZONE), for tests and simulations",
        )
        sweep.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        from relay.cases.services import sla
        from relay.core.audit import Origin, origin

        now = _instant(options["now"]) if options.get("now") else None
        if options["batch_size"] < 1:
            raise CommandError("--batch-size: at least 1.")
        with origin(Origin.COMMAND):
            result = sla.sweep(now=now, batch_size=options["batch_size"])
        self.stdout.write(result.as_text())
