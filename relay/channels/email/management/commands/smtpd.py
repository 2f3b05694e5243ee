"""`relay smtpd [--host HOST] [--port PORT]`: the SMTP ingress for Relay's mailboxes (ADR 0012)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Accept mail for Relay's mailboxes over SMTP (only for known, active mailboxes: not an open relay). "
        "Put it behind your MX, or point a mail client at it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=None, help="address to listen on (RELAY_SMTPD_HOST)")
        parser.add_argument("--port", type=int, default=None, help="port to listen on (RELAY_SMTPD_PORT)")

    def handle(self, *args: Any, host: str | None, port: int | None, **options: Any) -> None:
        from relay.channels.email.smtpd import controller, max_bytes

        if options["verbosity"] < 2:
            # aiosmtpd logs every SMTP command at INFO; ours logs one line per message
            logging.getLogger("mail.log").setLevel(logging.WARNING)
        host = host or settings.RELAY_SMTPD_HOST
        port = port or settings.RELAY_SMTPD_PORT
        server = controller(host=host, port=port)
        try:
            server.start()
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}): choose another with --port or "
                "RELAY_SMTPD_PORT (`relay serve --no-smtpd` serves without the SMTP ingress)."
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"SMTP ingress listening on {host}:{port} (messages up to {max_bytes():,} bytes; "
                "Ctrl+C stops it)"
            )
        )
        self.stdout.flush()
        stopped = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        try:
            while not stopped.wait(1):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
            signal.signal(signal.SIGTERM, previous)
