"""`relay apitoken USERNAME`: print a new API token for a user (shown once, stored hashed)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from relay.accounts.models import User
from relay.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it. Use it as 'Authorization: Bearer TOKEN'."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="default", help="a label for the token")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named '{username}'.")
        if not user.is_active:
            raise CommandError(f"User '{username}' is not active.")
        _, raw = api_token_create(user=user, name=name)
        self.stdout.write(raw)
