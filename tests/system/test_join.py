"""Servers joining a system: the whole system on every server, refusals, the owner's lock."""

from collections.abc import Callable

from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess
from tests.waiting import wait_for


def _online_names(server: ServerProcess) -> set[str] | None:
    with server.login() as client:
        servers = client.get("/system/servers").json()["servers"]
    return {s["name"] for s in servers if s["online"]}


def test_servers_join_through_any_member_and_see_each_other(
    start_server: Callable[..., ServerProcess],
) -> None:
    # The third is reached at the address it is told, not the one it listens on.
    third = start_server("c", options=["--address", "localhost"])
    first, second = start_server("a"), start_server("b")
    first.create_system(server_name="A")
    joined = second.join(first, "B")
    assert joined.status_code == 201, joined.text
    assert third.join(second, "C").status_code == 201  # through a server that joined itself

    everyone = {"A", "B", "C"}
    for server in (first, second, third):
        wait_for(lambda s=server: _online_names(s) == everyone, 10, f"{server.url} to see all")
        with server.client() as anonymous:
            info = anonymous.get("/server").json()
        assert (info["state"], info["system"]["name"]) == ("member", "Test system")
    with third.login() as client:  # the owner made on the first server logs in on the third
        servers = client.get("/system/servers").json()["servers"]

        def storages_known() -> list[dict[str, object]] | None:
            found = client.get("/storages").json()["storages"]
            return found if all(s["status"]["state"] == "online" for s in found) else None

        # Each server brought its own archive folder, which the others list too, with the
        # health its own server sees.
        storages = wait_for(storages_known, 10, "every server's storage online")
    assert [s["name"] for s in servers if s["connected"]] == ["C"]
    assert [s["addresses"] for s in servers if s["name"] == "C"] == [[f"localhost:{third.port}"]]
    assert all(s["cameras"] == 0 and s["version"] for s in servers)
    assert len({s["server_id"] for s in storages}) == 3

    # A change made on one server reaches the others.
    with first.login() as client:
        assert client.patch("/system", json={"name": "Renamed"}).status_code == 200
    for server in (second, third):
        wait_for(lambda s=server: _system_name(s) == "Renamed", 10, "the new name everywhere")


def _system_name(server: ServerProcess) -> str:
    with server.client() as anonymous:
        name: str = anonymous.get("/server").json()["system"]["name"]
    return name


def test_joining_is_refused_to_a_member_a_taken_name_and_unknown_addresses(
    start_server: Callable[..., ServerProcess],
) -> None:
    first, second, other = start_server("a"), start_server("b"), start_server("other")
    first.create_system(server_name="A")
    other.create_system(system_name="Another system", server_name="O")

    taken = second.join(first, "a")  # names are matched ignoring case
    assert taken.status_code == 409, taken.text
    assert taken.json()["error"]["field"] == "server_name"

    member = other.join(first, "O")
    assert member.status_code == 409
    assert "detach it first" in member.json()["error"]["message"]

    nobody = second.join(first, "B", address="127.0.0.1:1")
    assert nobody.status_code == 502
    assert nobody.json()["error"] == {
        "code": "server_unreachable",
        "message": nobody.json()["error"]["message"],
        "field": "address",
    }
    with first.login() as client:
        names = [s["name"] for s in client.get("/system/servers").json()["servers"]]
    assert names == ["A"]  # nothing of the refused joins was written


def test_seven_wrong_owner_passwords_lock_joining_and_the_owner_everywhere(
    start_server: Callable[..., ServerProcess],
) -> None:
    first, second, joining = start_server("a"), start_server("b"), start_server("c")
    first.create_system(server_name="A")
    assert second.join(first, "B").status_code == 201
    wait_for(lambda: _online_names(first) == {"A", "B"}, 10, "the two servers to connect")

    answers = [joining.join(first, "C", owner_password=f"wrong {n}") for n in range(7)]
    assert [a.status_code for a in answers] == [401] * 6 + [423]
    locked = answers[-1].json()["error"]
    assert locked["code"] == "account_locked"
    assert "locked until" in locked["message"]
    until = locked["locked_until_ms"]

    # The right password no longer helps, for joining or logging in, on any server.
    assert joining.join(first, "C").status_code == 423
    for server in (first, second):

        def refused(s: ServerProcess = server) -> bool:
            with s.client() as anonymous:
                answer = anonymous.post("/login", json={"name": OWNER, "password": OWNER_PASSWORD})
            return answer.status_code == 423 and answer.json()["error"]["locked_until_ms"] == until

        wait_for(refused, 10, f"the owner's login to be locked on {server.url}")
    with joining.client() as anonymous:
        assert anonymous.get("/server").json()["state"] == "undefined"
