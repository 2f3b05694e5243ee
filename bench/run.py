#!/usr/bin/env python
"""Server-time benchmarks of the foundation against a seeded database (see docs/benchmarks.md).

    DATABASE_URL=... .venv/bin/relay seed --parties 1000000 --interactions 5000000
    DATABASE_URL=... .venv/bin/python bench/run.py [--samples 400]

Times are measured in-process through Django's test client: middleware, view, queries and template
rendering, without the network. Prints p50 / p95 / p99 in milliseconds for each operation.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django
import timing  # bench/timing.py: the script's folder is on sys.path

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from relay.accounts.models import User  # noqa: E402
from relay.accounts.services import api_token_create  # noqa: E402
from relay.core.pagination import _encode  # noqa: E402
from relay.customers import selectors  # noqa: E402
from relay.customers.models import Party  # noqa: E402
from relay.customers.seed import phone_of  # noqa: E402


def measure(name: str, samples: int, call: Callable[[], object]) -> None:
    timing.measure(name, samples, lambda _i: call())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()
    rng = random.Random(7)

    user, _ = User.objects.get_or_create(username="bench", defaults={"role": "agent", "first_name": "Bench"})
    _, token = api_token_create(user=user, name="bench")
    web = Client()
    web.force_login(user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    bounds = Party.objects.order_by("id").values_list("id", flat=True)
    low, high = bounds.first(), Party.objects.order_by("-id").values_list("id", flat=True).first()
    total = Party.objects.count() if high and high < 200_000 else high
    print(f"database: {connection.vendor}, parties up to id {high:,} (~{total:,})", flush=True)

    def random_phone() -> str:
        pid = rng.randint(low, high)
        _, national = phone_of(2 * pid)  # the seeded main phone of party `pid`
        return rng.choice(
            [f"({national[:3]}) {national[3:6]}-{national[6:]}", f"+1 {national}", f"001{national}"]
        )

    def random_party() -> Party:
        return Party.objects.only("id", "name_key").get(pk=rng.randint(low, high))

    fragments = ["smi", "john", "garcia", "lee", "aisha", "novak", "mary jo", "rivera", "wil", "okaf"]

    measure(
        "phone lookup (selector)",
        args.samples,
        lambda: selectors.party_lookup_by_phone(actor=user, raw=random_phone()),
    )
    measure(
        "phone lookup (API, any format)",
        args.samples,
        lambda: api.get("/api/v1/parties/lookup/", {"phone": random_phone()}),
    )
    measure(
        "search-as-you-type (UI, name fragments)",
        args.samples,
        lambda: web.get("/search/", {"q": rng.choice(fragments)}),
    )
    measure(
        "search-as-you-type (UI, phone digits)",
        args.samples,
        lambda: web.get("/search/", {"q": random_phone()}),
    )
    measure(
        "search-as-you-type (UI, e-mail)",
        args.samples,
        lambda: web.get("/search/", {"q": f"{rng.choice(['james', 'mary', 'aisha'])}."}),
    )
    measure("party 360 page (UI)", args.samples, lambda: web.get(f"/parties/{rng.randint(low, high)}/"))
    measure("party detail (API)", args.samples, lambda: api.get(f"/api/v1/parties/{rng.randint(low, high)}/"))

    def deep_list(extra: dict[str, str]) -> Callable[[], object]:
        # the cursors are drawn before the clock starts: fetching a random party is not part of the page
        parties = [random_party() for _ in range(args.samples + 20)]  # + the warm-up calls
        cursors = iter([_encode(p.name_key, p.pk) for p in parties])

        def call() -> object:
            return web.get("/parties/", {"cursor": next(cursors), **extra})

        return call

    measure("list page (UI, first page)", args.samples, lambda: web.get("/parties/"))
    measure("list page (UI, random deep page)", args.samples, deep_list({}))
    measure("list page (UI, deep page, stage=use)", args.samples, deep_list({"stage": "use"}))
    measure(
        "list page (API, random deep page)",
        args.samples,
        lambda: api.get(
            "/api/v1/parties/", {"cursor": _encode(random_party().name_key, rng.randint(low, high))}
        ),
    )


if __name__ == "__main__":
    main()
