#!/usr/bin/env python
"""SLA due-time computations per second (issue 4 asks for at least 50,000/s), pure, no database:

    .venv/bin/python bench/sla_due.py [--starts 200000] [--seed 4]

The typical case: a Mon-Fri 09:00-17:00 Europe/Berlin calendar with the German (DE) public holidays, due
times for random start instants spread over 2025-2028 (any hour, weekends and DST days included), with
the targets 8 working hours and 3 business days (24 working hours). `WorkCalendar.add` is called once per
start and target. Prints the rate of a first pass (the calendar's day cache cold, holidays expanding)
and of a second pass over the same starts (the cache warm, as in a long-running worker).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from relay.cases.sla import WorkCalendar

TARGETS = (timedelta(hours=8), timedelta(hours=24))  # 8 h, 3 business days of 8 h


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--starts", type=int, default=200_000, help="random start instants (default 200000)")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    low = datetime(2025, 1, 1, tzinfo=UTC)
    span = int((datetime(2029, 1, 1, tzinfo=UTC) - low).total_seconds())
    starts = [
        low + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(1_000_000))
        for _ in range(args.starts)
    ]
    calendar = WorkCalendar(zone="Europe/Berlin", country="DE")  # week defaults to Mon-Fri 09:00-17:00
    add = calendar.add

    print(
        f"{len(starts):,} starts x {len(TARGETS)} targets (8 h, 3 business days), Europe/Berlin, DE holidays"
    )
    for label in ("first pass (cold cache)", "second pass (warm cache)"):
        began = time.perf_counter()
        for target in TARGETS:
            for start in starts:
                add(start, target)
        seconds = time.perf_counter() - began
        count = len(starts) * len(TARGETS)
        print(f"{label:<28} {count / seconds:>12,.0f} due times/s  ({seconds:.2f} s)", flush=True)


if __name__ == "__main__":
    main()
