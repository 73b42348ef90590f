"""The audit trail: logins, logouts and every change, with who, when, where and what."""

import time

import httpx

from tests.servers import OWNER, ServerProcess, add_user


def _entries(owner: httpx.Client, **params: object) -> list[dict[str, object]]:
    answer = owner.get("/audit", params=params)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, object]] = answer.json()["entries"]
    return entries


def test_newcomer_sees_system_creation_login_and_new_operator(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    operator_id = add_user(owner, "op", "operator")
    actions = [(e["action"], e["user_name"]) for e in _entries(owner)]
    assert actions == [("user.create", OWNER), ("login", OWNER), ("system.create", OWNER)]
    created = _entries(owner, action="user.create")[0]
    assert created["target"] == operator_id
    assert created["address"] == "127.0.0.1"
    details = created["details"]
    assert isinstance(details, dict)
    assert details["after"]["role_id"] == "operator"
    assert "password_hash" not in str(details)


def test_failed_logins_and_logouts_are_recorded(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    with system_server.client() as client:
        client.post("/login", json={"name": "ghost", "password": "whatever you like"})
        client.post("/login", json={"name": OWNER, "password": "wrong password"})
    with system_server.login() as session:
        session.post("/logout")
    failed = _entries(owner, action="login.failed")
    assert [(e["user_name"], e["details"]) for e in failed] == [
        (OWNER, {"reason": "wrong password"}),
        ("ghost", {"reason": "unknown user"}),
    ]
    assert len(_entries(owner, action="logout")) == 1
    assert "wrong password" not in str(_entries(owner, action="login"))


def test_user_edits_record_before_and_after_without_secrets(owner: httpx.Client) -> None:
    user_id = add_user(owner, "val", "viewer")
    owner.patch(f"/users/{user_id}", json={"role_id": "operator", "password": "new password!"})
    entry = _entries(owner, action="user.edit")[0]
    assert entry["target"] == user_id
    details = entry["details"]
    assert isinstance(details, dict)
    assert details["before"]["role_id"] == "viewer"
    assert details["after"]["role_id"] == "operator"
    assert details["after"]["password_hash"] == "(secret)"
    assert "argon2" not in str(details)
    owner.delete(f"/users/{user_id}")
    assert _entries(owner, action="user.delete")[0]["target"] == user_id


def test_filters_by_user_time_and_action_and_pages(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    add_user(owner, "wes", "viewer")
    start_ms = time.time_ns() // 1_000_000
    for _ in range(3):
        system_server.login("WES", "user password 1").close()
    wes = _entries(owner, user="wes")
    assert [e["action"] for e in wes] == ["login"] * 3
    assert all(int(str(e["time_ms"])) >= start_ms for e in wes)
    assert _entries(owner, user="wes", to_ms=start_ms) == []
    recent = _entries(owner, from_ms=start_ms)
    assert {e["user_name"] for e in recent} == {"wes"}

    first = owner.get("/audit", params={"limit": 2}).json()
    second = owner.get("/audit", params={"limit": 2, "before": first["next_before"]}).json()
    everything = _entries(owner)
    assert [e["id"] for e in first["entries"] + second["entries"]] == [
        e["id"] for e in everything[:4]
    ]
    last = owner.get("/audit", params={"limit": 1000}).json()
    assert last["next_before"] is None


def test_bad_audit_queries_name_the_parameter(owner: httpx.Client) -> None:
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"from_ms": "yesterday"}, "from_ms"),
        ({"to_ms": 10**30}, "to_ms"),
        ({"before": "-1"}, "before"),
    ]:
        answer = owner.get("/audit", params=params)
        assert answer.status_code == 422
        assert answer.json()["error"]["field"] == field
