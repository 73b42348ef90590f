"""Login, sessions and lock-out, as a browser and an API client see them."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.clocked import ClockedServer
from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess, add_user


def test_login_gives_a_bearer_token_and_an_http_only_cookie(system_server: ServerProcess) -> None:
    with system_server.client() as client:
        answer = client.post("/login", json={"name": OWNER, "password": OWNER_PASSWORD})
        assert answer.status_code == 200
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "max-age" not in cookie  # gone when the browser closes
        # The cookie alone (as a browser sends it) opens the session.
        assert client.get("/me").json()["user"]["name"] == OWNER
        remembered = client.post("/login", json={"name": OWNER, "password": OWNER_PASSWORD,
                                                 "remember": True})  # fmt: skip
        assert "max-age=604800" in remembered.headers["set-cookie"].lower()  # 7 days
    with system_server.client(answer.json()["token"]) as api_client:
        assert api_client.get("/me").status_code == 200


def test_login_name_is_case_insensitive(system_server: ServerProcess) -> None:
    with system_server.login(OWNER.upper(), OWNER_PASSWORD) as client:
        assert client.get("/me").json()["user"]["name"] == OWNER


def test_unknown_user_and_wrong_password_get_the_same_answer(
    system_server: ServerProcess,
) -> None:
    with system_server.client() as client:
        unknown = client.post("/login", json={"name": "nobody", "password": OWNER_PASSWORD})
        wrong = client.post("/login", json={"name": OWNER, "password": "not the password"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_requests_without_a_session_are_refused(system_server: ServerProcess) -> None:
    with system_server.client("made-up-token") as client:
        answer = client.get("/me")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_logout_ends_the_session(system_server: ServerProcess) -> None:
    client = system_server.login()
    with client:
        assert client.post("/logout").status_code == 204
        assert client.get("/me").status_code == 401


@pytest.mark.parametrize(
    "change",
    [{"enabled": False}, {"password": "a new password"}],
    ids=["disabled", "password-changed"],
)
def test_changing_a_user_ends_their_sessions(
    system_server: ServerProcess, owner: httpx.Client, change: dict[str, object]
) -> None:
    user_id = add_user(owner, "kim", "operator")
    with system_server.login("kim", "user password 1") as kim:
        assert kim.get("/me").status_code == 200
        assert owner.patch(f"/users/{user_id}", json=change).status_code == 200
        assert kim.get("/me").status_code == 401


def test_deleting_a_user_ends_their_sessions(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    user_id = add_user(owner, "lee", "viewer")
    with system_server.login("lee", "user password 1") as lee:
        assert owner.delete(f"/users/{user_id}").status_code == 204
        assert lee.get("/me").status_code == 401
    with system_server.client() as client:
        answer = client.post("/login", json={"name": "lee", "password": "user password 1"})
        assert answer.status_code == 401


def test_disabled_user_cannot_log_in(system_server: ServerProcess, owner: httpx.Client) -> None:
    user_id = add_user(owner, "max", "viewer")
    owner.patch(f"/users/{user_id}", json={"enabled": False})
    with system_server.client() as client:
        answer = client.post("/login", json={"name": "max", "password": "user password 1"})
    assert answer.status_code == 403
    assert "disabled" in answer.json()["error"]["message"]


def test_changing_own_password_needs_the_current_one_and_ends_sessions(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    add_user(owner, "nia", "viewer")
    with system_server.login("nia", "user password 1") as nia:
        wrong = nia.put(
            "/me/password", json={"current_password": "nope nope", "new_password": "next password"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"]["field"] == "current_password"
        weak = nia.put(
            "/me/password", json={"current_password": "user password 1", "new_password": "short"}
        )
        assert weak.status_code == 422
        ok = nia.put(
            "/me/password",
            json={"current_password": "user password 1", "new_password": "next password"},
        )
        assert ok.status_code == 204
        assert nia.get("/me").status_code == 401
    with system_server.login("nia", "next password") as nia:
        assert nia.get("/me").status_code == 200


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[ClockedServer]:
    with ClockedServer(tmp_path / "clocked") as server, server.client() as client:
        client.post(
            "/system",
            json={
                "system_name": "S",
                "server_name": "s",
                "owner_name": OWNER,
                "owner_password": OWNER_PASSWORD,
            },
        )
        yield server


def _login(server: ClockedServer, password: str) -> httpx.Response:
    with server.client() as client:
        return client.post("/login", json={"name": OWNER, "password": password})


def test_locked_account_rejects_correct_password_until_expiry(clocked: ClockedServer) -> None:
    for _ in range(6):
        assert _login(clocked, "wrong password").status_code == 401
    seventh = _login(clocked, "wrong password")
    assert seventh.status_code == 423
    error = seventh.json()["error"]
    assert error["code"] == "account_locked"
    assert error["locked_until_ms"] == clocked.clock.now_ms() + 30 * 60 * 1000
    assert "locked until" in error["message"]

    clocked.clock.advance(minutes=29)
    still = _login(clocked, OWNER_PASSWORD)
    assert still.status_code == 423
    assert still.json()["error"]["locked_until_ms"] == error["locked_until_ms"]

    clocked.clock.advance(minutes=1)
    assert _login(clocked, OWNER_PASSWORD).status_code == 200


def test_wrong_passwords_spread_over_time_do_not_lock(clocked: ClockedServer) -> None:
    for _ in range(6):
        assert _login(clocked, "wrong password").status_code == 401
    clocked.clock.advance(minutes=31)
    assert _login(clocked, "wrong password").status_code == 401
    assert _login(clocked, OWNER_PASSWORD).status_code == 200


def test_success_resets_the_count_of_wrong_passwords(clocked: ClockedServer) -> None:
    for _ in range(6):
        _login(clocked, "wrong password")
    assert _login(clocked, OWNER_PASSWORD).status_code == 200
    for _ in range(6):
        assert _login(clocked, "wrong password").status_code == 401


def test_lock_is_visible_to_administrators_and_they_can_lift_it(
    clocked: ClockedServer,
) -> None:
    token = _login(clocked, OWNER_PASSWORD).json()["token"]
    with clocked.client(token) as owner:
        add_user(owner, "ola", "viewer")
        with clocked.client() as client:
            for _ in range(7):
                client.post("/login", json={"name": "ola", "password": "wrong password"})
        ola = next(u for u in owner.get("/users").json()["users"] if u["name"] == "ola")
        assert ola["locked_until_ms"] == clocked.clock.now_ms() + 30 * 60 * 1000
        assert ola["locked_from"] == ["127.0.0.1"]
        assert owner.patch(f"/users/{ola['id']}", json={"locked": False}).status_code == 200
    with clocked.client() as client:
        answer = client.post("/login", json={"name": "ola", "password": "user password 1"})
    assert answer.status_code == 200


def test_an_address_that_keeps_failing_waits_and_is_told_how_long(
    clocked: ClockedServer,
) -> None:
    with clocked.client() as client:
        for n in range(10):
            answer = client.post("/login", json={"name": f"guess {n}", "password": "x" * 8})
            assert answer.status_code == 401
        slowed = client.post("/login", json={"name": OWNER, "password": OWNER_PASSWORD})
        assert slowed.status_code == 429
        assert slowed.headers["Retry-After"] == "1"
        assert slowed.json()["error"]["code"] == "too_many_attempts"
        assert slowed.json()["error"]["retry_after_s"] == 1
        clocked.clock.advance(seconds=1)
        answer = client.post("/login", json={"name": OWNER, "password": OWNER_PASSWORD})
        assert answer.status_code == 200


def test_idle_session_expires(clocked: ClockedServer) -> None:
    token = _login(clocked, OWNER_PASSWORD).json()["token"]
    with clocked.client(token) as owner:
        clocked.clock.advance(hours=11)
        assert owner.get("/me").status_code == 200
        clocked.clock.advance(hours=11)
        assert owner.get("/me").status_code == 200  # used within 12 hours: still alive
        clocked.clock.advance(hours=12)
        assert owner.get("/me").status_code == 401


def test_session_ends_seven_days_after_login_even_when_in_use(clocked: ClockedServer) -> None:
    token = _login(clocked, OWNER_PASSWORD).json()["token"]
    with clocked.client(token) as owner:
        for _ in range(14):  # in use every 11 h 59 min: never idle for 12 hours
            clocked.clock.advance(hours=12, minutes=-1)
            assert owner.get("/me").status_code == 200
        clocked.clock.advance(minutes=30)  # 7 days and a few minutes after login
        assert owner.get("/me").status_code == 401


def test_passwords_and_tokens_never_reach_the_log(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    add_user(owner, "quiet", "viewer", password="quiet secret 123")
    with system_server.client() as client:
        client.post("/login", json={"name": "quiet", "password": "a wrong guess 9"})
    with system_server.login("quiet", "quiet secret 123") as quiet:
        token = quiet.headers["Authorization"].removeprefix("Bearer ")
        quiet.get("/me")
    logs = system_server.logs()
    assert "login" in logs  # the events are logged …
    for secret in (OWNER_PASSWORD, "quiet secret 123", "a wrong guess 9", token, "argon2"):
        assert secret not in logs  # … their secrets are not


def test_guesses_sent_together_cannot_outrun_the_lock(system_server: ServerProcess) -> None:
    def guess(password: str) -> int:
        with system_server.client() as client:
            return client.post("/login", json={"name": OWNER, "password": password}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(guess, [f"wrong guess {n}" for n in range(20)]))
    assert answers.count(401) <= 6
    assert answers.count(423) == 20 - answers.count(401)
    assert guess(OWNER_PASSWORD) == 423
