"""`relay worker`: a Huey consumer for the django.tasks queue (embedded SQLite file or Redis)."""

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a background worker that executes queued tasks."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, default=2, help="worker threads (default 2)")

    def handle(self, *args: Any, workers: int, **options: Any) -> None:
        from relay.config.huey import HUEY

        consumer = HUEY.create_consumer(
            workers=workers, worker_type="thread", periodic=True, check_worker_health=True
        )
        self.stdout.write(f"Worker consuming {HUEY.storage.__class__.__name__} with {workers} threads")
        consumer.run()
