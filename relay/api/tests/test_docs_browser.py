"""The interactive API docs render in a real Chromium under the strict CSP (no inline script, no CDN)."""

import os
import shutil
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
CHROMIUM = next(
    (p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)


def test_swagger_ui_renders_every_operation_without_a_csp_violation(live_server):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the page holds no data: make test runs it once, in the SQLite run")
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed: apt-get install chromium (.ci/run does it)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page()
            problems: list[str] = []
            outside: list[str] = []
            page.on(
                "console",
                lambda m: (
                    problems.append(m.text)
                    if m.type == "error" or "Content Security Policy" in m.text
                    else None
                ),
            )
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on(
                "request",
                lambda r: (
                    outside.append(r.url)
                    if not r.url.startswith((live_server.url, "data:", "blob:"))
                    else None
                ),
            )
            response = page.goto(f"{live_server.url}/api/v1/docs", wait_until="networkidle")
            assert response is not None and response.status == 200
            assert "script-src 'self'" in response.headers["content-security-policy"]
            # From 100 operations on, Swagger UI renders only the operations in view (a virtual list):
            # bring the last rendered block into view again and again, collecting every block that appears.
            spec = page.request.get(f"{live_server.url}/api/v1/openapi.json").json()
            operations = sum(1 for item in spec["paths"].values() for key in item if key in HTTP_METHODS)
            assert operations >= 100, "the spec no longer needs the virtual list: simplify this test"
            blocks = page.locator(".swagger-ui .opblock")
            expect(blocks.first).to_be_attached(timeout=30_000)
            seen: set[str] = set()
            deadline = time.monotonic() + 60
            while len(seen) < operations and time.monotonic() < deadline:
                seen.update(blocks.evaluate_all("els => els.map(e => e.id)"))
                blocks.last.scroll_into_view_if_needed()
            assert len(seen) == operations
            assert page.locator(".swagger-ui .info .title").inner_text().startswith("Relay API")
            assert problems == [] and outside == []
        finally:
            browser.close()
