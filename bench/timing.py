"""Timing helpers shared by the in-process benchmark scripts (bench/run.py, bench/cases_queue.py)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def percentiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {q[49]:6.2f}  p95 {q[94]:6.2f}  p99 {q[98]:6.2f}  max {max(samples):7.2f} ms"


def measure(name: str, samples: int, call: Callable[[int], object], *, width: int = 44) -> None:
    """Call `call(i)` `samples` times after up to 20 warm-up calls; print the percentiles in ms."""
    for i in range(min(20, samples)):  # warm caches and the connection
        call(i)
    times = []
    for i in range(samples):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{name:<{width}} {percentiles(times)}", flush=True)
