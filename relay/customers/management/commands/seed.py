"""`relay seed --parties N --interactions M`: bulk volume data for benchmarks."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from relay.customers.seed import seed as run_seed


class Command(BaseCommand):
    help = "Generate N parties (2-3 contact points each) and M interactions, fast (COPY on PostgreSQL)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--parties", type=int, required=True)
        parser.add_argument("--interactions", type=int, default=0)
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
        batch: int,
        random_seed: int,
        workers: int | None,
        **options: Any,
    ) -> None:
        if parties < 0 or interactions < 0 or batch < 1 or (workers is not None and workers < 1):
            raise CommandError("--parties and --interactions must be >= 0, --batch and --workers >= 1.")
        console = Console(file=self.stdout)  # type: ignore[arg-type]
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as bar:
            tasks = {
                "parties": bar.add_task("parties", total=parties),
                "interactions": bar.add_task("interactions", total=interactions),
            }
            result = run_seed(
                parties=parties,
                interactions=interactions,
                batch=batch,
                seed_value=random_seed,
                progress=lambda kind, n: bar.advance(tasks[kind], n),
                workers=workers,
            )
        rate = result.parties / result.seconds if result.seconds else 0
        console.print(
            f"Seeded {result.parties:,} parties, {result.contact_points:,} contact points and "
            f"{result.interactions:,} interactions in {result.seconds:.1f} s "
            f"({rate:,.0f} parties/s including interactions)."
        )
        console.print("  " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.phases.items()))
