"""Debian's Chromium driven by Playwright, and the web client's player in it: for the browser
tests and bench/browser.py."""

from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright

from tests.servers import OWNER, OWNER_PASSWORD

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


def launch(playwright: Playwright) -> Browser:
    """Headless Chromium with a fresh, temporary profile (Playwright makes one per launch)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)


def open_player(page: Page, url: str, camera_id: str, stream: str = "main") -> None:
    """The page at `url`, logged in as the owner through the API, showing `camera_id`."""
    page.goto(f"{url}/#camera={camera_id}&stream={stream}")
    page.wait_for_selector("#login", state="visible")  # not logged in yet
    status = page.evaluate(
        """async ([name, password]) => {
            const { login } = await import('/app/api.js');
            await login(name, password);
            return (await fetch('/api/v1/me')).status;
        }""",
        [OWNER, OWNER_PASSWORD],
    )
    assert status == 200
    page.reload()
    page.wait_for_selector("vigil-video video")
