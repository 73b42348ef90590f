"""Debian's Chromium, headless, driven by Playwright: one browser per test module, a fresh
context (cookies, storage) per test."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, Page, sync_playwright

# Debian's build, not a browser Playwright downloads: the one users of the distribution have.
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",  # the tests may run as root, which Chromium's sandbox refuses
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Nothing but the page under test talks to the network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (CI installs it)")
    with sync_playwright() as playwright:
        # Playwright gives the browser a fresh, temporary profile of its own.
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page with nothing remembered; the test fails if its scripts throw."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    thrown: list[Error] = []
    page.on("pageerror", lambda error: thrown.append(error))
    yield page
    context.close()
    assert not thrown, f"the page threw: {thrown}"
