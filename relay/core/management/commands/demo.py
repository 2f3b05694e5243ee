"""`relay demo [--if-empty]`: load the demo organisation and print its logins."""

from typing import Any

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from relay.core.demo import PASSWORD, load_demo
from relay.customers.models import Party


class Command(BaseCommand):
    help = "Load the demo telecom and public office (about 500 customers with their history)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--if-empty", action="store_true", help="do nothing when parties already exist")
        parser.add_argument("--parties", type=int, default=500)

    def handle(self, *args: Any, if_empty: bool, parties: int, **options: Any) -> None:
        console = Console(file=self.stdout)  # type: ignore[arg-type]
        if if_empty and Party.objects.exists():
            console.print("Demo data already loaded. Logins: see README (password [bold]relay-demo[/]).")
            return
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Loading the demo organisation", total=parties)
            result = load_demo(parties=parties, progress=lambda n: progress.advance(task, n))
        table = Table(title=f"Demo logins (password: {PASSWORD})")
        for column in ("username", "role", "department"):
            table.add_column(column)
        for row in result.users:
            table.add_row(*row)
        console.print(table)
        console.print(
            f"{result.parties} parties, {result.interactions} interactions. "
            f"Try searching [bold]{result.sample_phone}[/] after logging in as [bold]care.agent[/]."
        )
