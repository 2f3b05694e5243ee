"""`relay imap poll [--mailbox ADDRESS]` and `relay imap idle --mailbox ADDRESS`: fetch mail from the
mailboxes' IMAP servers by hand, or keep one mailbox up to date with IMAP IDLE (ADR 0012)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def _mailbox(address: str) -> Any:
    from relay.channels.email.models import Mailbox

    mailbox = Mailbox.objects.filter(address=address.strip().lower()).first()
    if mailbox is None:
        raise CommandError(f"--mailbox: no mailbox has the address {address!r}.")
    if not mailbox.imap_enabled:
        raise CommandError(f"{mailbox.address}: IMAP is not enabled on this mailbox.")
    return mailbox


class Command(BaseCommand):
    help = (
        "IMAP: `poll` fetches what is new in every IMAP-enabled mailbox (or one); `idle` keeps one "
        "mailbox up to date with IMAP IDLE (polling where the server has no IDLE) until stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        poll = sub.add_parser("poll", help="fetch new mail once")
        poll.add_argument("--mailbox", default=None, help="only this mailbox (its address)")
        poll.add_argument(
            "--from-now",
            action="store_true",
            help="with --mailbox: take nothing in, only record where the folder stands, so that the polls "
            "take in only mail that arrives from now on (for a folder with a long history)",
        )
        idle = sub.add_parser("idle", help="wait for new mail with IDLE and fetch it as it comes")
        idle.add_argument("--mailbox", required=True, help="the mailbox's address")
        idle.add_argument(
            "--interval",
            type=float,
            default=60.0,
            help="seconds between polls when the server offers no IDLE (default 60)",
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        from relay.channels.email import imap
        from relay.core.origin import Origin, origin

        with origin(Origin.COMMAND):
            if action == "poll":
                if options["from_now"]:
                    if not options["mailbox"]:
                        raise CommandError("--from-now: say which mailbox with --mailbox.")
                    self._from_now(imap, _mailbox(options["mailbox"]))
                    return
                if options["mailbox"]:
                    results = [imap.poll_mailbox(_mailbox(options["mailbox"]).pk)]
                else:
                    results = imap.poll_all()
                    if not results:
                        self.stdout.write("No mailbox has IMAP enabled.")
                for result in results:
                    self.stdout.write(result.as_text())
                if any(r.error for r in results):
                    raise CommandError("Some mailboxes could not be polled (see above and their imap_error).")
                return
            self._idle(imap, _mailbox(options["mailbox"]), options["interval"])

    def _from_now(self, imap: Any, mailbox: Any) -> None:
        try:
            result = imap.start_from_now(mailbox.pk)
        except imap.MailboxBusy as exc:
            raise CommandError(f"{exc}: another poller holds this mailbox.") from exc
        except Exception as exc:
            raise CommandError(f"{mailbox.address}: {exc.__class__.__name__}: {exc}") from exc
        self.stdout.write(
            f"{mailbox.address}: nothing taken in; the polls go on after UID {result.last_uid} of "
            f"{mailbox.imap_folder}"
        )

    def _idle(self, imap: Any, mailbox: Any, interval: float) -> None:
        if interval <= 0:
            raise CommandError("--interval: more than 0 seconds.")
        stop = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write(
            f"Watching {mailbox.imap_folder} of {mailbox.address} on {mailbox.imap_host} (Ctrl+C stops it)"
        )
        self.stdout.flush()

        def report(result: Any) -> None:
            if result.fetched or result.error or result.uidvalidity_changed:
                self.stdout.write(result.as_text())
                self.stdout.flush()

        try:
            imap.idle(mailbox.pk, stop=stop, interval=interval, on_sync=report)
        except imap.MailboxBusy as exc:
            raise CommandError(f"{exc}: another poller holds this mailbox.") from exc
        except KeyboardInterrupt:
            stop.set()
        finally:
            signal.signal(signal.SIGTERM, previous)
