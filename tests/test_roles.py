"""Built-in and custom roles: rights that decide what a user can do."""

import httpx

from tests.servers import ServerProcess, add_user


def test_built_in_roles_have_the_rights_docs_roles_md_lists(owner: httpx.Client) -> None:
    roles = {r["id"]: r for r in owner.get("/roles").json()["roles"]}
    catalogue = owner.get("/rights").json()
    assert set(roles) == {"owner", "administrator", "operator", "viewer"}
    for full in ("owner", "administrator"):
        assert sorted(roles[full]["functions"]) == sorted(catalogue["functions"])
        assert sorted(roles[full]["operations"]) == sorted(catalogue["operations"])
    for role in roles.values():
        assert role["resources"] == {"cameras": "all", "layouts": "all"}
    assert "settings" not in roles["operator"]["functions"]
    assert "user.add" not in roles["operator"]["operations"]
    assert set(roles["viewer"]["functions"]) == {"live_view", "playback"}
    assert roles["viewer"]["operations"] == []


def test_built_in_roles_cannot_be_changed_or_deleted(owner: httpx.Client) -> None:
    assert owner.patch("/roles/viewer", json={"functions": ["export"]}).status_code == 403
    assert owner.delete("/roles/operator").status_code == 403
    viewer = owner.get("/roles/viewer").json()
    assert "export" not in viewer["functions"]


def test_custom_role_grants_exactly_its_rights(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    role = owner.post(
        "/roles",
        json={
            "name": "Auditor",
            "functions": ["audit_trail", "settings"],
            "operations": [],
            "resources": {"cameras": ["cam-1"], "layouts": []},
        },
    )
    assert role.status_code == 201
    add_user(owner, "aud", role.json()["id"])
    with system_server.login("aud", "user password 1") as auditor:
        assert auditor.get("/audit").status_code == 200
        assert auditor.get("/users").status_code == 200
        assert (
            auditor.post(
                "/users", json={"name": "x", "password": "p" * 10, "role_id": "viewer"}
            ).status_code
            == 403
        )
        me = auditor.get("/me").json()
        assert me["rights"]["resources"]["cameras"] == ["cam-1"]
        assert me["role_name"] == "Auditor"


def test_editing_a_role_changes_its_users_rights_at_once(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    role_id = owner.post("/roles", json={"name": "Desk"}).json()["id"]
    add_user(owner, "desk1", role_id)
    with system_server.login("desk1", "user password 1") as desk:
        assert desk.get("/audit").status_code == 403
        assert (
            owner.patch(f"/roles/{role_id}", json={"functions": ["audit_trail"]}).status_code == 200
        )
        assert desk.get("/audit").status_code == 200


def test_custom_role_users_cannot_grant_rights_they_lack(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    manager = owner.post(
        "/roles",
        json={
            "name": "User manager",
            "functions": ["settings", "live_view"],
            "operations": ["user.add", "user.edit", "role.add"],
        },
    ).json()["id"]
    add_user(owner, "mgr", manager)
    with system_server.login("mgr", "user password 1") as mgr:
        for role_id in ("viewer", "operator", "administrator"):
            answer = mgr.post(
                "/users", json={"name": f"new-{role_id}", "password": "p" * 10, "role_id": role_id}
            )
            assert answer.status_code == 403, role_id
        bigger = mgr.post("/roles", json={"name": "Bigger", "functions": ["export"]})
        assert bigger.status_code == 403
        smaller = mgr.post("/roles", json={"name": "Smaller", "functions": ["live_view"]})
        assert smaller.status_code == 201
        assert (
            mgr.post(
                "/users",
                json={"name": "watcher", "password": "p" * 10, "role_id": smaller.json()["id"]},
            ).status_code
            == 201
        )


def test_a_role_in_use_cannot_be_deleted(owner: httpx.Client) -> None:
    role_id = owner.post("/roles", json={"name": "Night shift"}).json()["id"]
    user_id = add_user(owner, "night1", role_id)
    answer = owner.delete(f"/roles/{role_id}")
    assert answer.status_code == 409
    assert owner.get(f"/roles/{role_id}").status_code == 200
    owner.delete(f"/users/{user_id}")
    assert owner.delete(f"/roles/{role_id}").status_code == 204
    assert owner.get(f"/roles/{role_id}").status_code == 404


def test_role_names_are_unique_ignoring_case(owner: httpx.Client) -> None:
    assert owner.post("/roles", json={"name": "Guards"}).status_code == 201
    assert owner.post("/roles", json={"name": "GUARDS"}).status_code == 409
    assert owner.post("/roles", json={"name": "viewer"}).status_code == 409


def test_invalid_roles_are_refused(owner: httpx.Client) -> None:
    before = owner.get("/roles").json()
    for body, field in [
        ({"name": "R", "functions": ["fly"]}, "functions.0"),
        ({"name": "R", "operations": ["camera.explode"]}, "operations.0"),
        ({"name": "R", "resources": {"cameras": "some"}}, "resources.cameras"),
        ({"name": "R", "resources": {"cameras": [], "doors": []}}, "resources.doors"),
        ({"name": ""}, "name"),
    ]:
        answer = owner.post("/roles", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["field"].startswith(field), answer.json()
    assert owner.get("/roles").json() == before


def test_a_refused_role_change_changes_nothing(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    manager = owner.post(
        "/roles",
        json={"name": "Manager", "functions": ["settings"], "operations": ["role.edit"]},
    ).json()
    add_user(owner, "mia", manager["id"])
    with system_server.login("mia", "user password 1") as mia:
        grab = mia.patch(
            f"/roles/{manager['id']}",
            json={"description": "harmless", "functions": ["settings", "audit_trail"]},
        )
        assert grab.status_code == 403
        assert mia.get("/audit").status_code == 403
        assert mia.get(f"/roles/{manager['id']}").json() == manager
    system_server.stop()
    system_server.start()
    with system_server.login() as owner_again:
        assert owner_again.get(f"/roles/{manager['id']}").json() == manager


def test_only_the_owner_makes_a_role_with_every_right(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    everything = owner.get("/rights").json()
    full = {
        "functions": everything["functions"],
        "operations": everything["operations"],
        "resources": {"cameras": "all", "layouts": "all"},
    }
    add_user(owner, "adm", "administrator")
    with system_server.login("adm", "user password 1") as admin:
        assert admin.post("/roles", json={"name": "Shadow admin", **full}).status_code == 403
        role_id = owner.post("/roles", json={"name": "Deputy", **full}).json()["id"]
        answer = admin.post(
            "/users", json={"name": "dep", "password": "p" * 10, "role_id": role_id}
        )
        assert answer.status_code == 403
        assert admin.delete(f"/roles/{role_id}").status_code == 403


def test_role_resources_must_be_ids_and_bounded(owner: httpx.Client) -> None:
    before = owner.get("/roles").json()
    for resources in (
        '{"cameras": ["\\ud800"]}',
        '{"cameras": ["a b"]}',
        '{"layouts": ["' + "x" * 65 + '"]}',
        '{"cameras": [' + ",".join(f'"c{i}"' for i in range(2001)) + "]}",
    ):
        answer = owner.post(
            "/roles",
            content='{"name": "R", "resources": ' + resources + "}",
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 422, resources[:40]
        assert answer.json()["error"]["field"].startswith("resources.")
    assert owner.get("/roles").json() == before
