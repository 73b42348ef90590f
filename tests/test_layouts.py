"""Layouts kept by the system: a user's own, and shared ones that roles reach as resources."""

from typing import Any

import httpx

from tests.servers import ServerProcess, add_user, login_with_rights

# A 3 by 3 grid with one big tile over 2x2 cells and five small ones: "1 + 5".
ONE_AND_FIVE = {
    "columns": 3,
    "rows": 3,
    "tiles": [{"x": 0, "y": 0, "width": 2, "height": 2, "camera_id": "cam-1"}]
    + [{"x": x, "y": y} for x, y in [(2, 0), (2, 1), (0, 2), (1, 2), (2, 2)]],
}


def _names(client: httpx.Client) -> list[str]:
    answer = client.get("/layouts")
    assert answer.status_code == 200, answer.text
    return [layout["name"] for layout in answer.json()["layouts"]]


def test_a_layout_is_its_owners_until_shared_then_every_role_that_reaches_it_sees_it(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    add_user(owner, "day shift", "operator")
    add_user(owner, "night shift", "operator")
    add_user(owner, "guard", "viewer")
    day = system_server.login("day shift", "user password 1")
    night = system_server.login("night shift", "user password 1")
    guard = system_server.login("guard", "user password 1")
    saved = day.post("/layouts", json={"name": "Gate", "grid": ONE_AND_FIVE})
    assert saved.status_code == 201, saved.text
    layout = saved.json()
    assert (layout["shared"], layout["grid"]) == (False, ONE_AND_FIVE | {"tiles": [
        {"width": 1, "height": 1, "camera_id": None} | tile for tile in ONE_AND_FIVE["tiles"]
    ]})  # fmt: skip
    assert _names(day) == ["Gate"]
    assert _names(night) == []
    assert _names(owner) == []  # nobody else's, not even the owner's
    assert night.get(f"/layouts/{layout['id']}").status_code == 404
    assert night.delete(f"/layouts/{layout['id']}").status_code == 404

    shared = day.patch(f"/layouts/{layout['id']}", json={"shared": True})
    assert shared.status_code == 200, shared.text
    assert shared.json()["shared"]
    for client in (day, night, guard, owner):  # their roles reach every layout
        assert _names(client) == ["Gate"]
    gatekeeper = login_with_rights(system_server, owner, "gate keeper", {
        "functions": ["live_view"], "resources": {"cameras": "all", "layouts": []},
    })  # fmt: skip
    assert _names(gatekeeper) == []
    role = next(r["id"] for r in owner.get("/roles").json()["roles"]
                if r["name"] == "Role of gate keeper")  # fmt: skip
    widened = owner.patch(
        f"/roles/{role}", json={"resources": {"cameras": "all", "layouts": [layout["id"]]}}
    )
    assert widened.status_code == 200, widened.text
    assert _names(gatekeeper) == ["Gate"]

    # A viewer may look at shared layouts, not change them; an operator may.
    assert guard.post("/layouts", json={"name": "Mine", "grid": ONE_AND_FIVE}).status_code == 403
    assert guard.patch(f"/layouts/{layout['id']}", json={"name": "X"}).status_code == 403
    renamed = night.patch(f"/layouts/{layout['id']}", json={"name": "Gate and yard"})
    assert renamed.status_code == 200, renamed.text
    assert night.delete(f"/layouts/{layout['id']}").status_code == 204
    assert _names(day) == []

    trail = owner.get("/audit", params={"limit": 50}).json()["entries"]
    actions = [(e["user_name"], e["action"]) for e in trail if e["action"].startswith("layout.")]
    assert sorted(actions) == sorted([("day shift", "layout.add"), ("day shift", "layout.edit"),
                                      ("night shift", "layout.edit"),
                                      ("night shift", "layout.delete")])  # fmt: skip
    # A user's own layouts go with them.
    assert day.post("/layouts", json={"name": "Mine", "grid": ONE_AND_FIVE}).status_code == 201
    day_id = next(u["id"] for u in owner.get("/users").json()["users"] if u["name"] == "day shift")
    assert owner.delete(f"/users/{day_id}").status_code == 204
    trail = owner.get("/audit", params={"limit": 5}).json()["entries"]
    assert [(e["user_name"], e["action"]) for e in trail][:2] == [
        ("owner", "layout.delete"),
        ("owner", "user.delete"),
    ]
    for client in (day, night, guard, gatekeeper):
        client.close()


def test_a_layout_that_does_not_fit_its_grid_or_takes_a_name_is_refused_and_nothing_changes(
    owner: httpx.Client,
) -> None:
    def grid(**changes: Any) -> dict[str, Any]:
        return {**ONE_AND_FIVE, **changes}

    refused = [
        (grid(tiles=[{"x": 0, "y": 0, "width": 2, "height": 2}, {"x": 1, "y": 1}]), "grid"),
        (grid(tiles=[{"x": 2, "y": 2, "width": 2}]), "grid"),
        (grid(columns=9), "grid.columns"),
        (grid(tiles=[{"x": 0, "y": 0, "camera_id": "no/such"}]), "grid.tiles.0.camera_id"),
        (grid(tiles=[{"x": -1, "y": 0}]), "grid.tiles.0.x"),
        (grid(tiles=[{"x": 0, "y": False}]), "grid.tiles.0.y"),  # a boolean is no row
    ]
    for body, field in refused:
        answer = owner.post("/layouts", json={"name": "Bad", "grid": body})
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["field"].startswith(field), (body, answer.json())
    assert _names(owner) == []

    first = owner.post("/layouts", json={"name": "Lobby", "grid": ONE_AND_FIVE})
    assert first.status_code == 201, first.text
    again = owner.post("/layouts", json={"name": "lobby", "grid": ONE_AND_FIVE})
    assert again.status_code == 409, again.text
    assert again.json()["error"]["field"] == "name"
    # A shared layout may take the name of someone's own one.
    assert owner.post("/layouts", json={"name": "Lobby", "shared": True,
                                        "grid": ONE_AND_FIVE}).status_code == 201  # fmt: skip
    layout_id = first.json()["id"]
    nulled = owner.patch(f"/layouts/{layout_id}", json={"grid": None})
    assert nulled.status_code == 422, nulled.text
    overlapping = owner.patch(f"/layouts/{layout_id}", json={"grid": refused[0][0]})
    assert overlapping.status_code == 422, overlapping.text
    assert owner.get(f"/layouts/{layout_id}").json()["grid"]["tiles"][0]["camera_id"] == "cam-1"
    assert _names(owner) == ["Lobby", "Lobby"]
