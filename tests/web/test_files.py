"""The web client's files: served to anyone (they hold no data), even by a server not yet in
a system, as the types a browser runs; nothing outside their folder."""

import httpx

from tests.servers import ServerProcess


def test_the_page_and_its_modules_are_served_without_a_login(
    undefined_server: ServerProcess,
) -> None:
    with httpx.Client(base_url=undefined_server.url, timeout=20.0) as browser:
        page = browser.get("/")
        module = browser.get("/app/player.js")
        again = browser.get("/app/player.js", headers={"If-None-Match": module.headers["etag"]})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<vigil-video>" in page.text
    assert module.status_code == 200
    # Browsers run a module script only when served with a JavaScript type.
    assert module.headers["content-type"].startswith("text/javascript")
    assert "customElements.define('vigil-video'" in module.text
    assert module.headers["cache-control"] == "no-cache"  # asked again: no stale client
    assert again.status_code == 304


def test_missing_files_and_paths_out_of_the_folder_are_not_found(
    undefined_server: ServerProcess,
) -> None:
    paths = ("/app/nothing.js", "/app/%2e%2e/api/web.py", "/app/..%2F..%2Fpyproject.toml")
    with httpx.Client(base_url=undefined_server.url, timeout=20.0) as browser:
        answers = {path: browser.get(path) for path in paths}
    for path, answer in answers.items():
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found", path


def test_browsers_are_told_to_frame_sniff_and_load_from_elsewhere_nothing(
    undefined_server: ServerProcess,
) -> None:
    with httpx.Client(base_url=undefined_server.url, timeout=20.0) as browser:
        page = browser.get("/")
        api = browser.get("/api/v1/server")
        missing = browser.get("/api/v1/nothing")
    for answer in (page, api, missing):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
