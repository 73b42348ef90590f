"""Real `vigil server` processes on free loopback ports, for tests and benchmarks to use."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.ports import free_port
from tests.processes import VigilProcess
from tests.testcamera.process import TestCameraProcess

OWNER = "owner"
OWNER_PASSWORD = "owner password 1"


def api_client(url: str, token: str | None = None) -> httpx.Client:
    """An HTTP client for the API of the server at `url`, with a session token if given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=f"{url}/api/v1", headers=headers, timeout=20.0)


class ServerProcess(VigilProcess):
    """One `vigil server` with its own data folder; start, stop, kill and start again."""

    name = "server"

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        rtsp_port: int | None = None,
        options: Sequence[str] = (),
        peer_port: int | None = None,
        https_port: int | None = None,
    ) -> None:
        super().__init__(data_dir.parent / f"{data_dir.name}.log")
        self.data_dir = data_dir
        self.options = list(options)  # more of `vigil server`'s options
        self.port = port or free_port()
        self.rtsp_port = rtsp_port or free_port()
        self.peer_port = peer_port or free_port()
        self.https_port = https_port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.https_url = f"https://127.0.0.1:{self.https_port}"

    def arguments(self) -> list[str]:
        return [
            "server",
            "--data",
            str(self.data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--rtsp-port",
            str(self.rtsp_port),
            "--peer-port",
            str(self.peer_port),
            "--https-port",
            str(self.https_port),
            # Camera discovery stays on this machine, as everything a test sends does.
            "--discovery-address",
            "127.0.0.1",
            *self.options,
        ]

    def ready(self) -> bool:
        """Answering on either port (a server may be told not to listen on HTTP)."""
        for url in (self.url, self.https_url):
            try:
                httpx.get(f"{url}/api/v1/server", timeout=1.0, verify=False)  # noqa: S501
            except httpx.TransportError:
                continue
            return True
        return False

    @property
    def certificate(self) -> Path:
        """The certificate the server made for itself (HTTPS)."""
        return self.data_dir / "https" / "cert.pem"

    def client(self, token: str | None = None) -> httpx.Client:
        return api_client(self.url, token)

    def create_system(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "system_name": "Test system",
            "server_name": "Server 1",
            "owner_name": OWNER,
            "owner_password": OWNER_PASSWORD,
            **overrides,
        }
        with self.client() as client:
            answer = client.post("/system", json=body)
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    def join(self, member: "ServerProcess", name: str, **overrides: Any) -> httpx.Response:
        """Ask this undefined server to join `member`'s system as `name`; the answer."""
        body = {
            "address": f"127.0.0.1:{member.port}",
            "server_name": name,
            "owner_name": OWNER,
            "owner_password": OWNER_PASSWORD,
            **overrides,
        }
        with self.client() as client:
            return client.post("/system/join", json=body)

    def login(self, name: str = OWNER, password: str = OWNER_PASSWORD) -> httpx.Client:
        """A client carrying a fresh session's bearer token."""
        with self.client() as anonymous:
            answer = anonymous.post("/login", json={"name": name, "password": password})
        assert answer.status_code == 200, answer.text
        return self.client(answer.json()["token"])


def add_user(
    owner: httpx.Client, name: str, role_id: str, password: str = "user password 1"
) -> str:
    """Create a user through the API (as `owner`, any client allowed to) and return its id."""
    answer = owner.post("/users", json={"name": name, "password": password, "role_id": role_id})
    assert answer.status_code == 201, answer.text
    user_id: str = answer.json()["id"]
    return user_id


def login_with_rights(
    server: ServerProcess, owner: httpx.Client, name: str, rights: dict[str, Any]
) -> httpx.Client:
    """A client of a new user `name`, whose new role (named after them) has `rights`:
    `functions`, `operations`, `resources` as the roles API takes them."""
    role = owner.post("/roles", json={"name": f"Role of {name}", **rights})
    assert role.status_code == 201, role.text
    add_user(owner, name, role.json()["id"])
    return server.login(name, "user password 1")


@contextmanager
def system_with_cameras(
    folder: Path, count: int = 1, options: Sequence[str] = ()
) -> Iterator[tuple[ServerProcess, TestCameraProcess]]:
    """A one-server system (`vigil server` with `options`) beside `count` simulated cameras
    (not added to it yet), running until the block ends; data and logs in `folder`."""
    with (
        TestCameraProcess(folder, count=count) as cameras,
        ServerProcess(folder / "server", options=options) as server,
    ):
        cameras.start(timeout_s=120)
        server.start()
        server.create_system()
        yield server, cameras


def add_main_streams(owner: httpx.Client, cameras: TestCameraProcess, count: int) -> list[str]:
    """The main streams of the first `count` simulated cameras added as "Camera n"; their ids."""
    ids = []
    for n in range(1, count + 1):
        url = f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n}/main"
        answer = owner.post("/cameras", json={"name": f"Camera {n}", "main_url": url})
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    return ids
