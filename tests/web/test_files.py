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
