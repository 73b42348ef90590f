"""WS-Discovery responder: answers Probes on UDP 3702 with a ProbeMatch for each camera.

It listens twice on the cameras' host: joined to the multicast group 239.255.255.250 on that
host's interface (loopback included) for the usual multicast Probe, and on host:3702 itself for
Probes sent straight to the device. Both sockets share the port (SO_REUSEADDR) with discovery
clients and other simulators on the machine, as devices and clients on one host must.
"""

import asyncio
import ipaddress
import logging
import socket
import struct
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, cast

from vigil.testcamera.camera import SimulatedCamera
from vigil.testcamera.onvif.device import scopes
from vigil.testcamera.onvif.xmltree import (
    NS,
    Element,
    MalformedXml,
    el,
    find,
    parse,
    text,
    to_bytes,
)

logger = logging.getLogger(__name__)

MULTICAST_GROUP = "239.255.255.250"
PORT = 3702
_PROBE = f"{NS['d']}/Probe"
_PROBE_MATCHES = f"{NS['d']}/ProbeMatches"
_ANONYMOUS = f"{NS['wsa04']}/role/anonymous"
# Types as (namespace, local name): what a Probe may ask for and a ProbeMatch announces.
_TYPES = ((NS["dn"], "NetworkVideoTransmitter"), (NS["tds"], "Device"))
_TYPES_TEXT = "dn:NetworkVideoTransmitter tds:Device"
# Clients repeat a multicast Probe (usually 2 to 4 times) with the same message id.
_REMEMBERED_PROBES = 256


def endpoint_uuid(camera: SimulatedCamera) -> str:
    """A stable device id, so that a client sees the same camera after a restart."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"vigil-testcamera:{camera.identity.serial}"))


def probe_matches(cameras: Sequence[SimulatedCamera], probe: Element) -> list[Element]:
    """The ProbeMatches envelopes answering `probe`, one per matching camera; none if no Probe."""
    header = find(probe, "env:Header")
    body_probe = find(probe, "env:Body/d:Probe")
    if header is None or body_probe is None:
        return []
    if text(header, "wsa04:Action") != _PROBE:
        return []
    message_id = text(header, "wsa04:MessageID")
    if not message_id or not _types_match(find(body_probe, "d:Types")):
        return []
    wanted_scopes = (text(body_probe, "d:Scopes") or "").split()
    return [
        _probe_match(camera, message_id)
        for camera in cameras
        if all(_scope_matches(want, scopes(camera)) for want in wanted_scopes)
    ]


def _types_match(types: Element | None) -> bool:
    """True unless the Probe lists types and none is ours; QNames resolve in the Probe's scope."""
    if types is None or not (types.text or "").strip():
        return True
    for qualified in (types.text or "").split():
        prefix, _, local = qualified.rpartition(":")
        namespace = types.nsmap.get(prefix or None)
        if (namespace, local) in _TYPES:
            return True
    return False


def _scope_matches(wanted: str, ours: list[str]) -> bool:
    """RFC 3986 matching, simplified: the wanted scope is ours or a path prefix of one."""
    wanted = wanted.rstrip("/")
    return any(scope == wanted or scope.startswith(f"{wanted}/") for scope in ours)


def _probe_match(camera: SimulatedCamera, relates_to: str) -> Element:
    return el(
        "env:Envelope",
        el(
            "env:Header",
            el("wsa04:MessageID", uuid.uuid4().urn),
            el("wsa04:RelatesTo", relates_to),
            el("wsa04:To", _ANONYMOUS),
            el("wsa04:Action", _PROBE_MATCHES),
        ),
        el(
            "env:Body",
            el(
                "d:ProbeMatches",
                el(
                    "d:ProbeMatch",
                    el(
                        "wsa04:EndpointReference",
                        el("wsa04:Address", f"urn:uuid:{endpoint_uuid(camera)}"),
                    ),
                    el("d:Types", _TYPES_TEXT),
                    el("d:Scopes", " ".join(scopes(camera))),
                    el("d:XAddrs", camera.onvif_url),
                    el("d:MetadataVersion", "1"),
                ),
            ),
        ),
    )


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, cameras: Sequence[SimulatedCamera], seen: "OrderedDict[str, None]") -> None:
        self._cameras = cameras
        self._seen = seen
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # create_datagram_endpoint always makes a datagram transport; the signature is generic.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        try:
            probe = parse(data)
        except MalformedXml:
            logger.debug("ignored a datagram that is not XML", extra={"from": addr[0]})
            return
        message_id = text(probe, "env:Header/wsa04:MessageID")
        if message_id is None or message_id in self._seen:
            return
        self._seen[message_id] = None
        while len(self._seen) > _REMEMBERED_PROBES:
            self._seen.popitem(last=False)
        matches = probe_matches(self._cameras, probe)
        if matches and self._transport is not None:
            logger.debug("probe answered", extra={"from": addr[0], "matches": len(matches)})
            for match in matches:
                self._transport.sendto(to_bytes(match), addr)

    def error_received(self, exc: Exception) -> None:
        logger.debug("discovery socket error", extra={"error": str(exc)})


class DiscoveryResponder:
    def __init__(self, host: str, cameras: Sequence[SimulatedCamera]) -> None:
        self._host = host
        self._cameras = cameras
        self._transports: list[asyncio.DatagramTransport] = []

    async def start(self) -> None:
        sockets: list[socket.socket] = []
        try:
            sockets.append(self._multicast_socket())
            sockets.append(self._unicast_socket())
        except OSError as err:
            for sock in sockets:
                sock.close()
            logger.warning(
                "WS-Discovery is off: cannot listen on UDP 3702",
                extra={"host": self._host, "error": str(err)},
            )
            return
        loop = asyncio.get_running_loop()
        seen: OrderedDict[str, None] = OrderedDict()
        for sock in sockets:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Responder(self._cameras, seen), sock=sock
            )
            self._transports.append(transport)
        logger.info("WS-Discovery listening", extra={"host": self._host, "port": PORT})

    async def stop(self) -> None:
        for transport in self._transports:
            transport.close()
        self._transports.clear()

    def _multicast_socket(self) -> socket.socket:
        sock = _udp_socket()
        try:
            # Bound to the group address, the socket gets the group's datagrams and no others.
            sock.bind((MULTICAST_GROUP, PORT))
            membership = struct.pack(
                "4s4s", socket.inet_aton(MULTICAST_GROUP), socket.inet_aton(self._interface())
            )
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        except OSError:
            sock.close()
            raise
        return sock

    def _unicast_socket(self) -> socket.socket:
        sock = _udp_socket()
        try:
            sock.bind((self._interface(), PORT))
        except OSError:
            sock.close()
            raise
        return sock

    def _interface(self) -> str:
        """The IPv4 address whose interface joins the group: the host the cameras serve on."""
        try:
            address = ipaddress.ip_address(self._host)
        except ValueError as err:
            raise OSError(
                f"WS-Discovery needs the host as an IPv4 address, not {self._host}"
            ) from err
        if address.version != 4:
            raise OSError(f"WS-Discovery here needs an IPv4 host, not {self._host}")
        return self._host


def _udp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setblocking(False)
    return sock
