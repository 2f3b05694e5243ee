"""`relay import-commerce TYPE FILE --source erp --user erp.sync`: load a CSV file of commerce records
through the same sync as the API (create or update by external id; the same file twice changes
nothing). A bad row is reported with its line and column, and then nothing is written."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relay.accounts.models import User
from relay.commerce import services
from relay.commerce.csv_import import read_csv
from relay.core.audit import Origin, origin


class Command(BaseCommand):
    help = "Import products, orders, invoices, payments, credit-terms or subscriptions from a CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("type", choices=services.RECORD_TYPES)
        parser.add_argument("file", type=Path, help="UTF-8 CSV, first line the column names; - for stdin")
        parser.add_argument("--source", required=True, help="the system the file comes from, e.g. erp")
        parser.add_argument("--user", required=True, help="the account the import acts as (a sync account)")

    def handle(self, *args: Any, type: str, file: Path, source: str, user: str, **options: Any) -> None:
        actor = User.objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"No active user {user!r}.")
        try:
            stream = sys.stdin if str(file) == "-" else file.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        with stream:
            try:
                batch = read_csv(type, csv.reader(stream))
            except UnicodeDecodeError as exc:
                raise CommandError(f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
        errors = list(batch.errors)
        result = None
        if not errors:
            try:
                with origin(Origin.COMMAND):
                    result = services.commerce_sync(
                        actor=actor, kind=type, source=source, records=batch.records, limit=None
                    )
            except services.SyncRejected as exc:
                errors = [batch.locate(e) for e in exc.rows]
            except services.ApplicationError as exc:
                messages = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.errors.items()) or exc.message
                raise CommandError(messages) from exc
        if errors:
            for error in sorted(errors, key=lambda e: (e.line, e.column)):
                self.stderr.write(f"{file}: {error}")
            raise CommandError(f"{len(errors)} error(s) in {file}; nothing was written.")
        assert result is not None
        self.stdout.write(
            f"{type} from {result.source}: {len(result.outcomes)} records, {result.created} created, "
            f"{result.updated} updated, {result.unchanged} unchanged."
        )
