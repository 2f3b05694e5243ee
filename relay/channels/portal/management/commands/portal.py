"""`relay portal link EMAIL`: print a fresh one-time sign-in link for a customer's address (support staff
and the demo: in `make run` mail goes to files under var/mail). Older unused links of the address stop
working. Nothing is e-mailed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relay.channels.portal import services


class Command(BaseCommand):
    help = "Customer portal tools: `link EMAIL` prints a fresh one-time sign-in link."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        link = sub.add_parser("link", help="Print a fresh one-time sign-in link for EMAIL.")
        link.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "link":
            issued = services.link_issue(email=options["email"])
            if issued is None:
                raise CommandError(f"No customer has the e-mail address {options['email']!r}.")
            minutes = services._setting("RELAY_PORTAL_LINK_MINUTES", 30)
            self.stdout.write(issued.url)
            self.stderr.write(f"One-time link for {issued.link.email}, valid {minutes} minutes.")
