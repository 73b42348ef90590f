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
def console_errors() -> list[str]:
    """What the page's console said as errors (failed requests among them), in order."""
    return []


@pytest.fixture
def page(browser: Browser, console_errors: list[str]) -> Iterator[Page]:
    """A page with nothing remembered; the test fails if its scripts throw."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    thrown: list[Error] = []
    page.on("pageerror", lambda error: thrown.append(error))
    page.on("console", lambda m: console_errors.append(f"{m.text} ({m.location['url']})")
            if m.type == "error" else None)  # fmt: skip
    yield page
    context.close()
    assert not thrown, f"the page threw: {thrown}"


@pytest.fixture
def no_console_errors() -> None:
    """Asked for by a test that must leave no error in the console that it did not provoke
    (one that provokes one, a refused request, clears `console_errors` once it has seen it).
    Checked as the test ends (`pytest_runtest_call`), before its servers stop."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    said = getattr(item, "funcargs", {}).get("console_errors")
    if "no_console_errors" in getattr(item, "fixturenames", ()) and said:
        raise AssertionError(f"the console said: {said}")
    return result
