#!/usr/bin/env python
"""The screen pop, measured (docs/adr/0013). Never run by the tests; loopback only; stops by itself.

(a) the server part, in one process: a call rings (caller lookup by number, the call row, the
    recipients, the push message published after commit), then the card is built and rendered for
    the agent as GET /phone/pops/<id>/ does. Target p99 <= 30 ms at 1,000,000 parties on PostgreSQL
    (issue 5); p95 <= 30 ms with 10,000,000 order lines behind the commerce part of the card (issue 6:
    `relay seed --orders 5000000`, then `relay recommend train`).

        DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_bench \
            .venv/bin/python bench/screen_pop.py server

(b) webhook -> browser, end to end: `relay serve` (gunicorn + Uvicorn workers) started here on the same
    database, a real SSE client (an EventSource as the browser opens it) signed in as a Customer Care
    agent, then for each sample a signed webhook is posted and the clock stops when the pop's card has
    been fetched from the server, as pop.js does. Target p95 <= 500 ms.

        DATABASE_URL=... .venv/bin/python bench/screen_pop.py e2e [--samples 300] [--push redis://127.0.0.1:6379/13]
        ... e2e --browser: the clock stops when pop.js shows the pop in headless Chromium

Rows it writes (calls "bench-*", their push messages, one phone line, one agent) are deleted at the end
except the line and the agent, which are reused.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from bench.timing import percentiles  # noqa: E402
from relay.accounts.models import Department, User  # noqa: E402
from relay.accounts.sessions import SessionStore  # noqa: E402
from relay.channels.actors import channel_actor  # noqa: E402
from relay.channels.push.models import PushMessage  # noqa: E402
from relay.channels.push.testing import SseClient, free_port, get, post_json  # noqa: E402
from relay.channels.telephony import selectors, services  # noqa: E402
from relay.channels.telephony.models import Call, PhoneLine  # noqa: E402
from relay.channels.telephony.signing import sign  # noqa: E402
from relay.channels.telephony.views import StartCaseForm  # noqa: E402
from relay.customers.models import ContactPoint, Party  # noqa: E402

BENCH_LINE = "+14155550177"


def _setup() -> tuple[PhoneLine, User, list[str]]:
    care, _ = Department.objects.get_or_create(name="Customer Care", defaults={"slug": "customer-care"})
    line, _ = PhoneLine.objects.get_or_create(
        number=BENCH_LINE, defaults={"name": "Bench line", "department": care}
    )
    agent, _ = User.objects.get_or_create(
        username="bench.pop", defaults={"role": "agent", "first_name": "Pop"}
    )
    agent.departments.add(care)
    top = ContactPoint.objects.filter(kind="phone").order_by("-id").values_list("id", flat=True).first() or 0
    rng = random.Random(5)
    ids = [rng.randint(1, top) for _ in range(3000)]
    numbers = list(ContactPoint.objects.filter(pk__in=ids, kind="phone").values_list("normalized", flat=True))
    numbers += [
        f"+1999555{n:04d}" for n in range(len(numbers) // 10)
    ]  # one call in ten from an unknown number
    rng.shuffle(numbers)
    return line, agent, numbers


def _cleanup() -> None:
    calls = Call.objects.filter(call_id__startswith="bench-")
    PushMessage.objects.filter(event__call__in=list(calls.values_list("pk", flat=True))).delete()
    calls.delete()


def server(samples: int) -> None:
    line, agent, numbers = _setup()
    phone = channel_actor("relay-phone")
    members = line.department.members.filter(is_active=True).count()
    factory = RequestFactory()
    ring_ms, card_ms, total_ms = [], [], []
    try:
        for i in range(samples + 20):
            number = numbers[i % len(numbers)]
            t0 = time.perf_counter()
            with transaction.atomic():
                call = services.call_ring(
                    actor=phone,
                    provider="generic",
                    call_id=f"bench-{time.time_ns()}",
                    from_number=number,
                    to_number=line.number,
                ).call
            t1 = time.perf_counter()  # committed: the push messages are published
            request = factory.get(f"/phone/pops/{call.pk}/")
            request.user = agent
            found = selectors.call_get(actor=agent, pk=call.pk)
            card = selectors.pop_card(actor=agent, call=found)
            html = render_to_string(
                "telephony/_pop.html",
                {"card": card, "call": found, "form": StartCaseForm(), "can_open": True},
                request=request,
            )
            t2 = time.perf_counter()
            assert "pop-title" in html
            if i >= 20:  # warm-up done
                ring_ms.append((t1 - t0) * 1000)
                card_ms.append((t2 - t1) * 1000)
                total_ms.append((t2 - t0) * 1000)
    finally:
        _cleanup()
    parties = Party.objects.count()
    with connection.cursor() as cursor:  # an estimate: counting 10,000,000 rows would take longer
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'commerce_orderline'"
            if connection.vendor == "postgresql"
            else "SELECT count(*) FROM commerce_orderline"
        )
        lines = int(cursor.fetchone()[0])
    print(
        f"screen pop, server part: {connection.vendor}, {parties:,} parties, ~{lines:,} order lines,"
        f" {samples} calls, {members} recipients a call"
    )
    print(f"  ring (lookup + call row + publish)   {percentiles(ring_ms)}")
    print(f"  card (scoped reads + render)         {percentiles(card_ms)}")
    print(f"  total                                {percentiles(total_ms)}")


def _e2e_browser(
    base: str,
    session: str,
    line: PhoneLine,
    numbers: list[str],
    samples: int,
    secret: bytes,
    push: str,
    workers: int,
) -> None:
    """The same, with the pop shown by pop.js in headless Chromium (Debian's package, Playwright)."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = next(
        p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "") if p and Path(p).exists()
    )
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(base_url=base)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])
        page = context.new_page()
        page.goto("/parties/")
        page.wait_for_selector("#pop-root[data-live='1']", state="attached", timeout=10_000)
        for i in range(samples + 10):
            number = numbers[i % len(numbers)]
            body = json.dumps(
                {"event": "ringing", "call_id": f"bench-{time.time_ns()}", "from": number, "to": line.number}
            )
            t0 = time.perf_counter()
            status, answer = post_json(
                base + "/phone/hooks/call", body.encode(), sign(body.encode(), key=secret)
            )
            assert status == 201, answer
            pk = json.loads(answer)["call"]
            page.wait_for_selector(f"#pop-{pk}", state="visible", timeout=10_000)
            if i >= 10:
                times.append((time.perf_counter() - t0) * 1000)
            page.keyboard.press("Escape")
            time.sleep(0.05)
        browser.close()
    print(
        f"screen pop, webhook -> pop visible in headless Chromium: {connection.vendor},"
        f" push={push.split('@')[-1]}, relay serve --workers {workers}, {samples} calls"
    )
    print(f"  pop visible                          {percentiles(times)}")


def e2e(samples: int, push: str, workers: int, browser: bool = False) -> None:
    line, agent, numbers = _setup()
    session = SessionStore()
    session[SESSION_KEY] = str(agent.pk)
    session[BACKEND_SESSION_KEY] = "relay.accounts.backends.PasswordBackend"
    session[HASH_SESSION_KEY] = agent.get_session_auth_hash()
    session.create()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    port = free_port()
    var = Path(tempfile.mkdtemp(prefix="relay-pop-bench-"))
    env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL, "RELAY_PUSH": push, "RELAY_VAR_DIR": str(var)}
    log = open(var / "serve.log", "wb")  # noqa: SIM115
    cmd = [sys.executable, "-m", "relay.manage", "serve", "--no-worker", "--no-smtpd", "--port", str(port)]
    server_proc = subprocess.Popen(
        [*cmd, "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if get(base + "/healthz", timeout=1)[0] == 200:
                    break
            except OSError:  # not listening yet
                pass
            time.sleep(0.5)
        secret = settings.RELAY_PHONE_WEBHOOK_SECRET.encode()
        if browser:
            _e2e_browser(base, session.session_key or "", line, numbers, samples, secret, push, workers)
            return
        stream = SseClient(base + "/push/stream", cookie=cookie)
        assert stream.connected.wait(10), "the stream did not open"
        times, webhook_ms = [], []
        for i in range(samples + 10):
            number = numbers[i % len(numbers)]
            body = json.dumps(
                {"event": "ringing", "call_id": f"bench-{time.time_ns()}", "from": number, "to": line.number}
            )
            t0 = time.perf_counter()
            status, answer = post_json(
                base + "/phone/hooks/call", body.encode(), sign(body.encode(), key=secret)
            )
            t1 = time.perf_counter()
            assert status == 201, answer
            _, _, event = stream.next_event(timeout=10)
            code, html = get(base + event["url"], cookie=cookie)
            t2 = time.perf_counter()
            assert code == 200 and "pop-title" in html
            if i >= 10:
                times.append((t2 - t0) * 1000)
                webhook_ms.append((t1 - t0) * 1000)
            time.sleep(0.05)
        stream.close()
    finally:
        server_proc.terminate()
        server_proc.wait(timeout=20)
        log.close()
        _cleanup()
    print(
        f"screen pop, webhook -> card in the browser: {connection.vendor}, push={push.split('@')[-1]}, "
        f"relay serve --workers {workers}, {samples} calls"
    )
    print(f"  webhook answered                     {percentiles(webhook_ms)}")
    print(f"  pop shown (event + card fetched)     {percentiles(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("part", choices=["server", "e2e"])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--push", default="database", help="database, or a redis:// URL")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--browser", action="store_true", help="e2e: measure in headless Chromium (pop.js)")
    args = parser.parse_args()
    if args.part == "server":
        server(args.samples)
    else:
        e2e(min(args.samples, 2000), args.push, args.workers, browser=args.browser)


if __name__ == "__main__":
    main()
