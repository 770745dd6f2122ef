"""The dashboard in Debian's Chromium (headless, driven by Playwright) against `inertial up`'s embedded
default: log in, watch sagas arrive without reloading, engage and lift the kill switch with a
confirmation; a viewer sees no edit controls and the server refuses its forged edit."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.control.test_cli import INERTIAL
from tests.temporal.test_devserver import free_port

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


@dataclass
class Running:
    url: str
    keys: dict[str, str]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    home = tmp_path_factory.mktemp("dashboard")
    api = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INERTIAL_") and k != "DRY_RUN"}
    env.update(
        INERTIAL_DATA_DIR=str(home / "data"),
        INERTIAL_TEMPORAL__DEV_SERVER_PORT=str(free_port()),
        INERTIAL_TEMPORAL__UI_PORT=str(free_port()),
        INERTIAL_API__PORT=str(api),
        INERTIAL_TELEGRAM__SANDBOX_PORT=str(free_port()),
        COLUMNS="200",
    )
    proc = subprocess.Popen(
        [str(INERTIAL), "up"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=home
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "Ctrl-C to stop" in line:
            break

    def inertial(*args: str) -> str:
        done = subprocess.run([str(INERTIAL), *args], capture_output=True, text=True, env=env, cwd=home, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    inertial("users", "add", "vic", "--role", "viewer")
    keys = {name: inertial("keys", "create", name).strip().splitlines()[-1] for name in ("owner", "vic")}
    try:
        yield Running(f"http://127.0.0.1:{api}", keys)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and "stopped cleanly" in out, err[-2000:]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        await launched.close()


async def _in_page(browser: Browser, tmp_path: Path, run: Callable[[Page], Awaitable[None]]) -> None:
    """Run `run` on a fresh page; on failure its screenshot is kept under the test's temporary directory."""
    page = await browser.new_page()
    try:
        await run(page)
    except BaseException:
        await page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        raise
    finally:
        await page.close()


async def _log_in(page: Page, running: Running, who: str) -> None:
    await page.goto(running.url + "/")
    await expect(page.locator("#app")).to_be_hidden()  # nothing shows before a key is accepted
    await page.fill("#key", running.keys[who])
    await page.click("#login-form button")
    await expect(page.locator("#app")).to_be_visible()
    await expect(page.locator("#login")).to_be_hidden()


async def test_an_owner_watches_sagas_live_and_uses_the_kill_switch(
    running: Running, browser: Browser, tmp_path: Path
) -> None:
    async def run(page: Page) -> None:
        await page.goto(running.url + "/")
        await page.fill("#key", "ie_nope_nope")
        await page.click("#login-form button")
        await expect(page.locator("#login-error")).to_contain_text("API key")
        await _log_in(page, running, "owner")
        await expect(page.locator("#mode")).to_have_text("PAPER")
        await expect(page.locator("#who")).to_contain_text("owner")
        finished = page.locator("#sagas tr", has_text=re.compile("Completed|Compensated"))
        await expect(finished.first).to_be_visible(timeout=90_000)  # arrived over the stream, no reload
        taken = page.locator("#opportunities tr", has_text=re.compile(r"taken: arb-"))
        await expect(taken.first).to_be_visible()  # the opportunity behind it, with its saga
        link = finished.first.locator("a")
        assert "/namespaces/default/workflows/" in (await link.get_attribute("href") or "")
        await expect(page.locator("#books tr").first).to_be_visible()
        await expect(page.locator("#positions tr", has_text="polymarket").first).to_be_visible()

        await page.click("#kill-on")
        await expect(page.locator("#confirm")).to_be_visible()
        await expect(page.locator("#kill")).to_have_text("off")  # nothing before the confirmation
        await page.fill("#confirm-reason", "browser test")
        await page.click("#confirm-yes")
        await expect(page.locator("#kill")).to_have_text("ON — browser test")
        await expect(page.locator("#kill-on")).to_be_hidden()
        refused = page.locator("#opportunities tr", has_text="skipped: kill_switch: kill switch is on")
        await expect(refused.first).to_be_visible(timeout=90_000)  # found while killed: refused, no saga
        await page.click("#kill-off")
        await page.click("#confirm-no")
        await expect(page.locator("#kill")).to_have_text("ON — browser test")
        await page.click("#kill-off")
        await page.click("#confirm-yes")
        await expect(page.locator("#kill")).to_have_text("off")

        limit = page.locator('#limits tr[data-id="max_daily_loss"]')
        await limit.locator("input").fill("90")
        await limit.locator("button").click()
        await expect(page.locator("#confirm-text")).to_contain_text("to 90?")
        await expect(limit.locator(".value")).not_to_have_text("90")  # nothing before the confirmation
        await page.click("#confirm-yes")
        await expect(page.locator('#limits tr[data-id="max_daily_loss"] .value')).to_have_text("90")
        await expect(page.locator("#audit tr", has_text="set_limit").first).to_be_visible()
        await expect(page.locator("#audit tr", has_text="kill").first).to_be_visible()

    await _in_page(browser, tmp_path, run)


async def test_a_viewer_sees_no_edit_controls_and_a_forged_edit_is_refused(
    running: Running, browser: Browser, tmp_path: Path
) -> None:
    async def run(page: Page) -> None:
        await _log_in(page, running, "vic")
        await expect(page.locator("#who")).to_contain_text("viewer")
        await expect(page.locator("#kill-on")).to_be_hidden()
        await expect(page.locator("#kill-off")).to_be_hidden()
        assert await page.locator("#pairs button").count() == 0
        await expect(page.locator("#limits tr").first).to_be_visible()
        assert await page.locator("#limits input").count() == 0
        await expect(page.locator("#audit")).to_be_hidden()
        status = await page.evaluate(
            """async (key) => (await fetch('/v1/risk/kill', {method: 'POST', headers: {'X-API-Key': key,
                'Content-Type': 'application/json'}, body: JSON.stringify({reason: 'forged'})})).status""",
            running.keys["vic"],
        )
        assert status == 403
        await expect(page.locator("#kill")).to_have_text("off")

    await _in_page(browser, tmp_path, run)
