"""`relay serve`: the web server (gunicorn) plus, unless tasks go to Redis, the embedded worker.

gunicorn runs Uvicorn workers serving relay.config.asgi (docs/adr/0013): an open live-push stream
(`GET /push/stream`) is a coroutine, not a blocked worker; plain views run as before, in a thread.
`--wsgi` serves relay.config.wsgi with gunicorn's sync workers instead (no live pops).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def _process_count(text: str) -> int:
    """A count of web processes (`--workers`, or RELAY_WEB_WORKERS for its default): 1 or more."""
    count = int(text) if text.strip().isdigit() else 0
    if count < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of processes: a whole number, 1 or more (--workers, RELAY_WEB_WORKERS)"
        )
    return count


class Command(BaseCommand):
    help = "Serve Relay on HOST:PORT with gunicorn and start the embedded background worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=_process_count,  # argparse passes the default through it too
            # One per core: the views are CPU-bound, and on a machine shared with PostgreSQL more processes
            # only take turns (docs/benchmarks.md: 2 cores, list page 435 req/s with 2, 365 with 4)
            default=os.environ.get("RELAY_WEB_WORKERS") or str(os.cpu_count() or 1),
            help="gunicorn worker processes (one per core; RELAY_WEB_WORKERS)",
        )
        parser.add_argument(
            "--threads", type=int, default=1, help="threads per worker (processes scale better)"
        )
        parser.add_argument("--no-worker", action="store_true", help="do not start the embedded task worker")
        parser.add_argument(
            "--wsgi",
            action="store_true",
            help="sync WSGI workers instead of ASGI (the screen pop needs ASGI)",
        )
        parser.add_argument(
            "--no-smtpd", action="store_true", help="do not start the embedded SMTP ingress (relay smtpd)"
        )
        parser.add_argument(
            "--no-access-log",
            action="store_true",
            default=os.environ.get("RELAY_ACCESS_LOG", "1") == "0",
            help="no line per request on stdout (behind a reverse proxy that logs; RELAY_ACCESS_LOG=0)",
        )

    def handle(
        self, *args: Any, host: str, port: int, workers: int, threads: int, no_worker: bool, **options: Any
    ) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        procs: list[subprocess.Popen[bytes]] = []
        embedded = not settings.RELAY_TASKS.startswith(("redis://", "rediss://", "unix://"))
        if embedded and not no_worker:
            procs.append(subprocess.Popen([sys.executable, "-m", "relay.manage", "worker"]))
        if embedded and not options.get("no_smtpd"):
            # mail for the mailboxes on RELAY_SMTPD_HOST:RELAY_SMTPD_PORT (it logs where it listens)
            procs.append(subprocess.Popen([sys.executable, "-m", "relay.manage", "smtpd"]))
        procs.append(
            subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    *(
                        ["relay.config.wsgi", "--threads", str(threads)]
                        if options.get("wsgi")
                        else ["relay.config.asgi", "--worker-class", "uvicorn_worker.UvicornWorker"]
                    ),
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    str(workers),
                    *([] if options.get("no_access_log") else ["--access-logfile", "-"]),
                    "--graceful-timeout",
                    "10",
                ]
            )
        )
        self.stdout.write(self.style.SUCCESS(f"Relay is serving on http://{host}:{port}/ (Ctrl+C stops it)"))

        def stop(*_: Any) -> None:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(proc.poll() is None for proc in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
