"""Whatever a client sends, the answer is JSON with a fitting status, never a 500."""

import httpx
import pytest

from tests.servers import ServerProcess

GARBAGE_BODIES: list[bytes] = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"text"',
    b"12345678901234567890123456789",
    b'{"name": {"nested": true}}',
    b'{"name": "a", "name": "b"}',
    b"\xff\xfe\xfa not utf-8",
    b'{"name": "\\ud800", "password": "\\udfff"}',
    b'{"name": "' + b"x" * 100_000 + b'"}',
]


def test_malformed_json_is_400(owner: httpx.Client) -> None:
    answer = owner.post(
        "/users", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "malformed_json"


def test_unknown_routes_and_methods_answer_in_json(owner: httpx.Client) -> None:
    missing = owner.get("/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = owner.delete("/me")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    # Every method the path takes (GET and POST /cameras are two routes).
    assert owner.put("/cameras").headers["Allow"] == "GET, POST"
    assert owner.post("/cameras/any-id").headers["Allow"] == "DELETE, GET, PATCH"
    assert owner.post("/cameras/discovery").headers["Allow"] == "GET"  # the path's own route


def test_openapi_schema_is_served(system_server: ServerProcess) -> None:
    with system_server.client() as client:
        schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] == "Vigil"
    assert "/api/v1/users" in schema["paths"]
    # The errors each operation can answer, in the one error schema.
    paths = schema["paths"]
    login = paths["/api/v1/login"]["post"]["responses"]
    assert {"400", "401", "413", "422", "423", "429"} <= set(login)
    assert login["429"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    camera = paths["/api/v1/cameras/{camera_id}"]
    assert {"401", "403", "404"} <= set(camera["get"]["responses"])
    assert {"409", "503"} <= set(camera["delete"]["responses"])
    assert "401" not in paths["/api/v1/server"]["get"]["responses"]  # no login needed
    assert "text/html" in paths["/"]["get"]["responses"]["200"]["content"]


def test_garbage_to_every_endpoint_never_fails_the_server(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    with system_server.client() as client:
        paths = client.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if path.endswith(("/logout", "/password")):
                continue  # these end the owner's session; their bad input is tested elsewhere
            url = path.removeprefix("/api/v1").replace("{user_id}", "x").replace("{role_id}", "x")
            # An operation that takes no body never reads one: two kinds are enough for it.
            bodies = GARBAGE_BODIES if "requestBody" in operation else GARBAGE_BODIES[:2]
            for body in bodies:
                answer = owner.request(
                    method.upper(),
                    url,
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                assert answer.status_code < 500, (method, path, body[:40], answer.text)
                assert "error" in answer.json() or answer.status_code < 300
                assert "Traceback" not in answer.text
    assert "Traceback" not in system_server.logs()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_body_of_the_wrong_type_is_a_clear_error(
    system_server: ServerProcess, content_type: str
) -> None:
    with system_server.client() as client:
        answer = client.post(
            "/login",
            content=b'{"name": "owner", "password": "x"}',
            headers={"Content-Type": content_type},
        )
    assert answer.status_code in (415, 422)
    assert "JSON" in answer.json()["error"]["message"]
