"""The API's description at /api/v1/docs works on a network with no way out: its page and
every file it loads come from the server itself."""

import re

from tests.servers import ServerProcess


def test_docs_page_and_its_files_come_from_the_server(undefined_server: ServerProcess) -> None:
    with undefined_server.client() as client:
        page = client.get(undefined_server.url + "/api/v1/docs")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        html = page.text
        # No other host: not a CDN, not Swagger UI's validator.
        assert "://" not in html, html
        loaded = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert any(url.endswith(".js") for url in loaded), html
        assert any(url.endswith(".css") for url in loaded), html
        for url in loaded:
            answer = client.get(undefined_server.url + url)
            assert answer.status_code == 200, (url, answer.text[:200])
            assert len(answer.content) > 0, url
        schema_url = re.search(r"url: '([^']+)'", html)
        assert schema_url is not None, html
        schema = client.get(undefined_server.url + schema_url.group(1))
        assert schema.status_code == 200
        assert schema.json()["info"]["title"] == "Vigil"


def test_docs_file_that_does_not_exist_is_a_json_404(undefined_server: ServerProcess) -> None:
    with undefined_server.client() as client:
        for name in ("no-such-file.js", "..%2F..%2Fpyproject.toml"):
            answer = client.get(f"{undefined_server.url}/api/v1/docs/assets/{name}")
            assert answer.status_code == 404, (name, answer.text)
            assert answer.json()["error"]["code"] == "not_found"
