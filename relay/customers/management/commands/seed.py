"""`relay seed --parties N --interactions M --cases C --orders O`: bulk volume data for benchmarks."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from relay.cases.seed import seed_cases
from relay.commerce.seed import seed_commerce
from relay.core.exceptions import ApplicationError
from relay.customers.seed import seed as run_seed


class Command(BaseCommand):
    help = (
        "Generate N parties (2-3 contact points each), M interactions, C cases and O orders (about 2 O order "
        "lines, invoices, payments, services, credit terms) on the parties, fast (inside the server on "
        "PostgreSQL; orders on PostgreSQL only)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--parties", type=int, default=0)
        parser.add_argument("--interactions", type=int, default=0)
        parser.add_argument("--cases", type=int, default=0, help="cases on the parties in the database")
        parser.add_argument(
            "--orders", type=int, default=0, help="orders of 1-3 lines on the parties (PostgreSQL)"
        )
        parser.add_argument(
            "--open-share", type=float, default=0.1, help="the share of the cases still open (default 0.1)"
        )
        parser.add_argument("--batch", type=int, default=20_000)
        parser.add_argument("--seed", dest="random_seed", type=int, default=1, help="same seed, same data")
        parser.add_argument(
            "--workers", type=int, default=None, help="parallel connections on PostgreSQL (default: cores)"
        )

    def handle(
        self,
        *args: Any,
        parties: int,
        interactions: int,
        cases: int,
        orders: int,
        open_share: float,
        batch: int,
        random_seed: int,
        workers: int | None,
        **options: Any,
    ) -> None:
        if (
            min(parties, interactions, cases, orders) < 0
            or batch < 1
            or (workers is not None and workers < 1)
        ):
            raise CommandError(
                "--parties, --interactions, --cases and --orders must be >= 0, --batch and --workers >= 1."
            )
        if not 0 <= open_share <= 1:
            raise CommandError("--open-share is between 0 and 1.")
        if not (parties or interactions or cases or orders):
            raise CommandError("Say what to generate: --parties, --interactions, --cases and/or --orders.")
        console = Console(file=self.stdout)  # type: ignore[arg-type]
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as bar:
            tasks = {
                "parties": bar.add_task("parties", total=parties),
                "interactions": bar.add_task("interactions", total=interactions),
                "cases": bar.add_task("cases", total=cases),
                "orders": bar.add_task("orders", total=orders),
            }
            common: dict[str, Any] = {
                "batch": batch,
                "seed_value": random_seed,
                "progress": lambda kind, n: bar.advance(tasks[kind], n),
                "workers": workers,
            }
            result = None
            if parties or interactions:
                result = run_seed(parties=parties, interactions=interactions, **common)
            try:
                made = seed_cases(cases=cases, open_share=open_share, **common)
                sold = seed_commerce(orders=orders, batch=batch, progress=common["progress"], workers=workers)
            except ApplicationError as exc:
                raise CommandError(str(exc)) from exc
        if result is not None:
            rate = result.parties / result.seconds if result.seconds else 0
            console.print(
                f"Seeded {result.parties:,} parties, {result.contact_points:,} contact points and "
                f"{result.interactions:,} interactions in {result.seconds:.1f} s "
                f"({rate:,.0f} parties/s including interactions)."
            )
            console.print(_phases(result.phases))
        if cases:
            console.print(
                f"Seeded {made.cases:,} cases ({made.open:,} open) in {made.seconds:.1f} s "
                f"({made.cases / made.seconds if made.seconds else 0:,.0f} cases/s)."
            )
            console.print(_phases(made.phases))
        if orders:
            console.print(
                f"Seeded {sold.orders:,} orders with {sold.lines:,} order lines in {sold.seconds:.1f} s "
                f"({sold.lines / sold.seconds if sold.seconds else 0:,.0f} lines/s)."
            )
            console.print(_phases(sold.phases))


def _phases(phases: dict[str, float]) -> str:
    """The time of each phase of a seed, on one line."""
    return "  " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())
