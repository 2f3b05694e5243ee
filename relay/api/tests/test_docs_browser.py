"""The interactive API docs render in a real Chromium under the strict CSP (no inline script, no CDN)."""

import os
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM = next(
    (p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)


@pytest.mark.xfail(
    strict=True,
    reason="known regression since the commerce API (127ea8b): Swagger UI renders the first two tags only, "
    "with no console error; the schema itself is valid (issue 6 note, 2026-12-01). Remove when fixed.",
)
def test_swagger_ui_renders_every_operation_without_a_csp_violation(live_server):
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
            # Swagger UI renders the operations one tag after another: wait for the 40th
            expect(page.locator(".swagger-ui .opblock").nth(39)).to_be_attached(timeout=30_000)
            assert page.locator(".swagger-ui .info .title").inner_text().startswith("Relay API")
            assert problems == [] and outside == []
        finally:
            browser.close()
