#!/usr/bin/env python
"""Inbound e-mail throughput (issue 5): parse, thread, store through `message_receive`.

    .venv/bin/python bench/email_ingest.py [--messages 600] [--processes 2]
    DATABASE_URL=postgres://... .venv/bin/python bench/email_ingest.py --processes 2

The mix: the shared sample files (/work/shared/data/email) and generated mail: half of the generated
messages open new cases, half are replies (In-Reply-To / References, or [C-...] in the subject) to
earlier ones. Prints messages/s. Writes into the configured database: use a benchmark database.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")
SAMPLES = Path("/work/shared/data/email")


def _setup() -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def _mailbox_id() -> int:
    from relay.accounts.models import Department
    from relay.channels.email.models import Mailbox

    department, _ = Department.objects.get_or_create(name="Bench Mail", defaults={"slug": "bench-mail"})
    mailbox, _ = Mailbox.objects.get_or_create(
        address="bench@relay.localhost", defaults={"name": "Bench", "department": department}
    )
    return mailbox.pk


def _message(n: int, worker: str, previous: list[tuple[str, str, str]]) -> tuple[bytes, str, str]:
    """Message `n` (raw bytes, its Message-ID, its From): a new case from a new sender when `n` is even,
    else a reply from the sender of an earlier case, as a customer answering would send it."""
    from email.message import EmailMessage
    from email.utils import format_datetime

    from relay.core import clock

    msg = EmailMessage()
    sender = f"Customer {n % 300} <customer{n % 300}.{worker}@example.com>"
    msg["To"] = "bench@relay.localhost"
    msg["Date"] = format_datetime(clock.now())
    message_id = f"bench.{worker}.{n}.{uuid.uuid4().hex[:8]}@example.com"
    msg["Message-ID"] = f"<{message_id}>"
    if previous and n % 2:
        parent_id, number, sender = previous[n % len(previous)]
        if n % 4 == 1:
            msg["Subject"] = "Re: still broken"
            msg["In-Reply-To"] = f"<{parent_id}>"
            msg["References"] = f"<{parent_id}>"
        else:
            msg["Subject"] = f"Any news? [{number}]"
    else:
        msg["Subject"] = f"Problem number {n}"
    msg["From"] = sender
    msg.set_content(f"Hello,\n\nmessage {n}: my line is down again.\n\nOn Monday you wrote:\n> quoted text\n")
    if n % 5 == 0:
        msg.add_alternative(f"<p>message {n}: <b>my line</b> is down</p>", subtype="html")
    if n % 10 == 0:
        msg.add_attachment(b"%PDF-1.4 bench", maintype="application", subtype="pdf", filename="bill.pdf")
    return msg.as_bytes(), message_id, sender


def _work(args: tuple[int, int, int, str]) -> tuple[int, float, int]:
    """Receives `count` messages; returns (messages, seconds, cases they opened)."""
    mailbox_id, count, index, samples_flag = args
    _setup()
    from django.db import connection

    from relay.channels.email.models import Mailbox
    from relay.channels.email.services import message_receive

    mailbox = Mailbox.objects.get(pk=mailbox_id)
    worker = f"{os.getpid()}.{index}.{uuid.uuid4().hex[:6]}"
    samples = sorted(SAMPLES.glob("msg_*.txt")) if samples_flag == "yes" else []
    raws = [p.read_bytes().replace(b"Message-ID:", b"X-Old:") for p in samples]
    previous: list[tuple[str, str, str]] = []
    cases: set[int] = set()  # replies land on cases already in it: its size is the cases opened
    start = time.perf_counter()
    for n in range(count):
        if raws and n % 10 == 9:
            sample = raws[n % len(raws)] + f"\n{worker}.{n}\n".encode()  # unique bytes: a synthetic id
            receipt = message_receive(mailbox=mailbox, raw=sample, via="http")
            cases.add(receipt.case.pk if receipt.case else 0)
            continue
        raw, message_id, sender = _message(n, worker, previous)
        receipt = message_receive(mailbox=mailbox, raw=raw, via="http")
        cases.add(receipt.case.pk if receipt.case else 0)
        if receipt.case is not None and not n % 2:
            previous.append((message_id, receipt.case.number, sender))
    elapsed = time.perf_counter() - start
    connection.close()
    return count, elapsed, len(cases - {0})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=600, help="per process")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--no-samples", action="store_true")
    options = parser.parse_args()
    _setup()
    from django.db import connection

    mailbox_id = _mailbox_id()
    vendor = connection.vendor
    connection.close()
    flag = "no" if options.no_samples else "yes"
    jobs = [(mailbox_id, options.messages, i, flag) for i in range(options.processes)]
    wall = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(options.processes) as pool:
        results = pool.map(_work, jobs)
    wall = time.perf_counter() - wall
    total = sum(c for c, _, _ in results)
    slowest = max(e for _, e, _ in results)
    opened = sum(o for _, _, o in results)
    print(
        f"{vendor}: {total} messages ({opened} opened a case) in {slowest:.1f} s with "
        f"{options.processes} processes: {total / slowest:.0f} messages/s (wall incl. start-up {wall:.1f} s)"
    )


if __name__ == "__main__":
    main()
