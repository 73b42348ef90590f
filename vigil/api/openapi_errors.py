"""Every status an operation can answer, in the API's own description.

FastAPI lists an operation's success and its 422; the errors the API answers (errors.py) come
from shared parts, not from each route, so they are added here, each operation's from what it
is: what the permission table asks of it (`access.RULES`), whether it takes a body or path
parameters, whether it writes, and whether it reaches cameras or other servers. Each error
response carries the one error schema (`Error`). A third-party fuzzer checks the result
against the running server (tests/test_fuzz.py): no answer with a status not listed here.
"""

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
                "fields": {"type": "array", "items": {"type": "string"}},
            },
        }
    },
}

_WHY = {
    400: "The body is not JSON (`malformed_json`), or the request not HTTP (`bad_request`).",
    401: "No session, or wrong credentials (`unauthenticated`).",
    403: "The role lacks the right, or a rule forbids it (`forbidden`).",
    404: "No such object (`not_found` and the like).",
    409: "A conflict with the system's state (`conflict`, `limit_reached`, `server_undefined`).",
    413: "The body is over the endpoint's cap (`too_large`).",
    422: "A field fails validation (`invalid_input`, naming the field).",
    423: "Too many wrong passwords from this address: locked (`account_locked`).",
    429: "Too many wrong passwords from this address: wait (`too_many_attempts`).",
    431: "The request's head (its line and headers) is over 16 KiB (`too_large`).",
    502: "The camera or another server failed to answer as it should.",
    503: "Not now: the change could not be saved, or a camera or storage is away.",
}
# Operations that check a password against the throttle and the lock-out.
_PASSWORD_CHECKS = {("POST", "/api/v1/login"), ("POST", "/api/v1/system/join")}
# Parts of a path whose operations reach a camera or another server.
_REACHING = ("/ptz", "/snapshot", "/discover", "/onvif", "/system/join", "/exports", "/live")


def describe(schema: dict[str, Any], login_needed: dict[tuple[str, str], bool]) -> None:
    """Adds the error responses to every operation of `schema` (in place); `login_needed`
    says for each (method, path) whether it needs a session."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            statuses = _statuses(method.upper(), path, operation, login_needed)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(str(status), _response(status))


def _response(status: int) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {"description": _WHY[status], "content": content}


def _statuses(
    method: str, path: str, operation: dict[str, Any], login_needed: dict[tuple[str, str], bool]
) -> set[int]:
    found: set[int] = {431}  # any request's head may be too long
    has_body = "requestBody" in operation
    writes = method in ("POST", "PUT", "PATCH", "DELETE")
    if login_needed.get((method, path), True):
        found |= {401, 403}
    if has_body:
        found |= {400, 413, 422}
    if operation.get("parameters"):
        found |= {404, 422}  # a query may name what is not there (`?cameras=`)
    if "{" in path or writes:
        found.add(404)
    if writes:
        found |= {409, 503}
    if (method, path) in _PASSWORD_CHECKS or path.endswith("/me/password"):
        found |= {401, 423, 429}
    if any(part in path for part in _REACHING) or (method, path) in {
        ("POST", "/api/v1/cameras"),
        ("PATCH", "/api/v1/cameras/{camera_id}"),
    }:
        found |= {404, 409, 502, 503}
    return found
