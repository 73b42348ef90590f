"""WS-Discovery on loopback, with the `wsdiscovery` package as the client."""

import ipaddress
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wsdiscovery import QName, Scope
from wsdiscovery.actions.probe import constructProbe
from wsdiscovery.discovery import ThreadedWSDiscovery
from wsdiscovery.message import createSOAPMessage, parseSOAPMessage

from tests.testcamera.process import TestCameraProcess

# WS-Discovery listens on UDP 3702, one process at a time: these tests run on their own.
pytestmark = pytest.mark.udp_3702

ONVIF_NETWORK = "http://www.onvif.org/ver10/network/wsdl"


class LoopbackDiscovery(ThreadedWSDiscovery):  # type: ignore[misc]
    """wsdiscovery's client probing over loopback only.

    The library probes from every non-loopback interface it finds; these tests must not send
    anything beyond 127.0.0.1, so the interface list is replaced by loopback alone.
    """

    def _networkAddressAdded(self, addr: Any) -> None:
        pass

    def _networkAddressRemoved(self, addr: Any) -> None:
        pass

    def start(self) -> None:
        super().start()
        self.addSourceAddr(ipaddress.IPv4Address("127.0.0.1"))


@pytest.fixture(scope="module")
def discoverable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCameraProcess]:
    with TestCameraProcess(
        tmp_path_factory.mktemp("discovery"), count=2, discovery=True
    ) as process:
        yield process.start()


@pytest.fixture
def client() -> Iterator[LoopbackDiscovery]:
    discovery = LoopbackDiscovery()
    discovery.start()
    yield discovery
    discovery.stop()


def _ours(services: list[Any], process: TestCameraProcess) -> dict[str, Any]:
    """Discovered services of `process` (others may run on this machine), by XAddr."""
    ports = range(process.http_port, process.http_port + process.count)
    return {
        xaddr: service
        for service in services
        for xaddr in service.getXAddrs()
        if any(f"127.0.0.1:{port}/" in xaddr for port in ports)
    }


def test_multicast_probe_finds_every_camera_with_its_device_service(
    discoverable: TestCameraProcess, client: LoopbackDiscovery
) -> None:
    services = client.searchServices(
        types=[QName(ONVIF_NETWORK, "NetworkVideoTransmitter", "dn")], timeout=1.5
    )
    found = _ours(services, discoverable)
    assert sorted(found) == [
        f"{discoverable.url(i)}/onvif/device_service" for i in range(discoverable.count)
    ]
    first = found[f"{discoverable.url(0)}/onvif/device_service"]
    scopes = [scope.getValue() for scope in first.getScopes()]
    assert "onvif://www.onvif.org/name/Camera_001" in scopes
    assert any(scope.startswith("onvif://www.onvif.org/hardware/") for scope in scopes)
    assert any(scope.startswith("onvif://www.onvif.org/location/") for scope in scopes)
    assert first.getEPR().startswith("urn:uuid:")


def test_probe_for_a_scope_finds_only_that_camera(
    discoverable: TestCameraProcess, client: LoopbackDiscovery
) -> None:
    services = client.searchServices(
        scopes=[Scope("onvif://www.onvif.org/name/Camera_002")], timeout=1.5
    )
    assert list(_ours(services, discoverable)) == [f"{discoverable.url(1)}/onvif/device_service"]


def test_unicast_probe_to_the_host_is_answered(discoverable: TestCameraProcess) -> None:
    probe = constructProbe([QName(ONVIF_NETWORK, "NetworkVideoTransmitter", "dn")], [])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.sendto(createSOAPMessage(probe).encode(), ("127.0.0.1", 3702))
        xaddrs = []
        deadline = time.monotonic() + 3.0
        while len(xaddrs) < discoverable.count and time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, _ = sock.recvfrom(65536)
            except TimeoutError:
                break
            answer = parseSOAPMessage(data, "127.0.0.1")
            assert answer.getRelatesTo() == probe.getMessageId()
            xaddrs += [x for match in answer.getProbeResolveMatches() for x in match.getXAddrs()]
    assert sorted(xaddrs) == [
        f"{discoverable.url(i)}/onvif/device_service" for i in range(discoverable.count)
    ]


def test_without_discovery_nothing_answers(tmp_path: Path, client: LoopbackDiscovery) -> None:
    with TestCameraProcess(tmp_path, discovery=False) as process:
        process.start()
        assert _ours(client.searchServices(timeout=1.0), process) == {}
