"""Debian's Chromium, headless, driven by Playwright: one browser per test module, a fresh
context (cookies, storage) per test."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Error, Page, sync_playwright

from tests.web.browser import CHROMIUM, launch


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (CI installs it)")
    with sync_playwright() as playwright:
        browser = launch(playwright)
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
