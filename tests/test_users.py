"""Users: create, read, change, delete, with the rules a VMS owner relies on."""

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.servers import OWNER, ServerProcess, add_user


def test_owner_adds_an_operator_who_can_log_in(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    answer = owner.post(
        "/users",
        json={
            "name": "Olga",
            "password": "olga password",
            "role_id": "operator",
            "full_name": "Olga Ivanova",
            "email": "olga@example.com",
        },
    )
    assert answer.status_code == 201
    user = answer.json()
    assert user["role_id"] == "operator"
    assert "password" not in str(user).lower()
    assert owner.get(f"/users/{user['id']}").json() == user
    with system_server.login("olga", "olga password") as olga:
        me = olga.get("/me").json()
    assert "live_view" in me["rights"]["functions"]
    assert "user.add" not in me["rights"]["operations"]


def test_no_api_answer_contains_a_password_hash(owner: httpx.Client) -> None:
    add_user(owner, "hash-check", "viewer")
    for path in ("/users", "/me", "/audit", "/system"):
        assert "argon2" not in owner.get(path).text


def test_user_names_are_unique_ignoring_case(owner: httpx.Client) -> None:
    add_user(owner, "Alice", "viewer")
    answer = owner.post("/users", json={"name": "ALICE", "password": "p" * 10, "role_id": "viewer"})
    assert answer.status_code == 409
    assert answer.json()["error"]["field"] == "name"
    assert [u["name"] for u in owner.get("/users").json()["users"]].count("Alice") == 1


def test_a_system_holds_at_most_100_users(owner: httpx.Client) -> None:
    # The owner is the first of the 100; the others are made two at a time, as the server
    # hashes their passwords on threads (httpx clients may be shared between threads).
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda i: add_user(owner, f"user{i:03d}", "viewer", "same password"),
                      range(99)))  # fmt: skip
    answer = owner.post(
        "/users", json={"name": "one-too-many", "password": "p" * 10, "role_id": "viewer"}
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "limit_reached"
    assert "100" in answer.json()["error"]["message"]
    assert len(owner.get("/users").json()["users"]) == 100


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "password": "good password", "role_id": "viewer"}, "name"),
        ({"name": "x" * 65, "password": "good password", "role_id": "viewer"}, "name"),
        ({"name": "bad\nname", "password": "good password", "role_id": "viewer"}, "name"),
        ({"name": "\ud800", "password": "good password", "role_id": "viewer"}, "name"),
        ({"name": "ok", "password": "", "role_id": "viewer"}, "password"),
        ({"name": "ok", "password": " \t  \n    ", "role_id": "viewer"}, "password"),
        ({"name": "ok", "password": "short", "role_id": "viewer"}, "password"),
        ({"name": 12, "password": "good password", "role_id": "viewer"}, "name"),
        (
            {"name": "ok", "password": "good password", "role_id": "viewer", "enabled": "yes"},
            "enabled",
        ),
        (
            {"name": "ok", "password": "good password", "role_id": "viewer", "is_admin": True},
            "is_admin",
        ),
        (
            {
                "name": "ok",
                "password": "good password",
                "role_id": "viewer",
                "email": "not-an-address",
            },
            "email",
        ),
        ({"name": "ok", "password": "good password"}, "role_id"),
        ({"name": "ok", "password": "good password", "role_id": "no-such-role"}, "role_id"),
    ],
)
def test_invalid_users_are_refused_naming_the_field(
    owner: httpx.Client, body: dict[str, object], field: str
) -> None:
    before = owner.get("/users").json()
    # json.dumps escapes what is not ASCII, so a lone surrogate goes out as the text "\ud800".
    answer = owner.post(
        "/users", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert 400 <= answer.status_code < 500
    assert answer.json()["error"]["field"] == field
    assert owner.get("/users").json() == before


def test_nobody_makes_a_second_owner(owner: httpx.Client) -> None:
    answer = owner.post("/users", json={"name": "owner2", "password": "p" * 10, "role_id": "owner"})
    assert answer.status_code == 403
    user_id = add_user(owner, "hopeful", "administrator")
    answer = owner.patch(f"/users/{user_id}", json={"role_id": "owner"})
    assert answer.status_code == 403


def test_nobody_deletes_or_demotes_the_owner(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    owner_id = owner.get("/me").json()["user"]["id"]
    add_user(owner, "admin1", "administrator")
    with system_server.login("admin1", "user password 1") as admin:
        assert admin.delete(f"/users/{owner_id}").status_code == 403
        assert admin.patch(f"/users/{owner_id}", json={"role_id": "viewer"}).status_code == 403
        assert admin.patch(f"/users/{owner_id}", json={"enabled": False}).status_code == 403
    assert owner.delete(f"/users/{owner_id}").status_code == 403
    assert owner.patch(f"/users/{owner_id}", json={"role_id": "viewer"}).status_code == 403
    assert owner.get("/me").json()["user"]["role_id"] == "owner"


def test_only_the_owner_changes_administrators(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    add_user(owner, "admin1", "administrator")
    admin2 = add_user(owner, "admin2", "administrator")
    operator = add_user(owner, "op1", "operator")
    with system_server.login("admin1", "user password 1") as admin:
        assert (
            admin.post(
                "/users", json={"name": "admin3", "password": "p" * 10, "role_id": "administrator"}
            ).status_code
            == 403
        )
        assert admin.patch(f"/users/{admin2}", json={"full_name": "X"}).status_code == 403
        assert admin.delete(f"/users/{admin2}").status_code == 403
        assert (
            admin.patch(f"/users/{operator}", json={"role_id": "administrator"}).status_code == 403
        )
        # Administrators do manage everyone below them.
        assert admin.patch(f"/users/{operator}", json={"role_id": "viewer"}).status_code == 200
        assert admin.delete(f"/users/{operator}").status_code == 204
    assert owner.patch(f"/users/{admin2}", json={"role_id": "operator"}).status_code == 200


def test_users_cannot_lock_themselves_out(owner: httpx.Client) -> None:
    owner_id = owner.get("/me").json()["user"]["id"]
    assert owner.patch(f"/users/{owner_id}", json={"enabled": False}).status_code == 403
    assert owner.delete(f"/users/{owner_id}").status_code == 403


def test_edit_changes_only_the_given_fields(owner: httpx.Client) -> None:
    user_id = add_user(owner, "pat", "viewer")
    before = owner.get(f"/users/{user_id}").json()
    after = owner.patch(f"/users/{user_id}", json={"full_name": "Pat Smith"}).json()
    assert after == {**before, "full_name": "Pat Smith"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({}, "body"),
        ({"name": "ok", "shoe_size": 9}, "shoe_size"),
        ({"enabled": 0}, "enabled"),
    ],
)
def test_invalid_edits_change_nothing(
    owner: httpx.Client, body: dict[str, object], field: str
) -> None:
    user_id = add_user(owner, "quinn", "viewer")
    before = owner.get(f"/users/{user_id}").json()
    answer = owner.patch(f"/users/{user_id}", json=body)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == field
    assert owner.get(f"/users/{user_id}").json() == before


def test_renaming_onto_another_users_name_is_refused(owner: httpx.Client) -> None:
    add_user(owner, "rae", "viewer")
    sam = add_user(owner, "sam", "viewer")
    answer = owner.patch(f"/users/{sam}", json={"name": "RAE"})
    assert answer.status_code == 409
    assert owner.get(f"/users/{sam}").json()["name"] == "sam"


def test_unknown_user_is_404(owner: httpx.Client) -> None:
    assert owner.get("/users/nope").status_code == 404
    assert owner.patch("/users/nope", json={"full_name": "x"}).status_code == 404
    assert owner.delete("/users/nope").status_code == 404
    assert owner.get("/me").json()["user"]["name"] == OWNER


def test_own_password_changes_only_with_the_current_one(owner: httpx.Client) -> None:
    owner_id = owner.get("/me").json()["user"]["id"]
    answer = owner.patch(f"/users/{owner_id}", json={"password": "taken over!"})
    assert answer.status_code == 403
    assert "/me/password" in answer.json()["error"]["message"]
    assert owner.get("/me").status_code == 200
