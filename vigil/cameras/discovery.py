"""WS-Discovery from the server: a multicast Probe for ONVIF video transmitters, and who answers.

The `wsdiscovery` package builds the Probe and parses the ProbeMatches here, but its client
(`ThreadedWSDiscovery`) is not used, for three reasons:
- it binds UDP 3702 on every address to listen for announcements, which a probe does not need
  (matches come back to the probe's own port) and which fails or steals datagrams wherever
  another program holds that port, a camera simulator or a second VMS;
- it probes only from non-loopback, non-link-local addresses, so it never finds cameras that
  fell back to a 169.254.x.x address for want of DHCP, nor a simulator on this machine;
- it is blocking (four threads per client, `time.sleep` for the wait), where a probe is one
  datagram socket per interface that the event loop reads.
So the transport is this module's: one socket per IPv4 interface address (or the addresses the
server is told to use), bound to an ephemeral port, sending the Probe to 239.255.255.250:3702
out of that interface, twice as SOAP-over-UDP repeats it, then collecting matches until the
wait is over.
"""

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vigil.cameras.address import device_service_url
from vigil.cameras.errors import DiscoveryUnavailable

logger = logging.getLogger(__name__)

GROUP = ("239.255.255.250", 3702)
_TRANSMITTER = ("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn")
_REPEATS = 2
_REPEAT_GAP_S = 0.1


@dataclass(frozen=True)
class DiscoveredDevice:
    endpoint: str  # the device's stable id, usually urn:uuid:...
    addresses: tuple[str, ...]  # device service URLs in the stored form (vigil.cameras.address)
    scopes: tuple[str, ...]


class Discovery:
    def __init__(self, interface_addresses: Sequence[str] = ()) -> None:
        """Probe out of these IPv4 addresses' interfaces; none given: every IPv4 interface."""
        self._interface_addresses = tuple(interface_addresses)

    async def probe(self, wait_s: float) -> list[DiscoveredDevice]:
        """The devices that answered within `wait_s`, each once, in order of address."""
        # Imported here, as in `_matches`: the SOAP and XML modules are a megabyte of memory
        # that a server which never probes need not hold.
        from wsdiscovery import QName
        from wsdiscovery.actions.probe import constructProbe
        from wsdiscovery.message import createSOAPMessage

        envelope = constructProbe([QName(*_TRANSMITTER)], [])
        message = createSOAPMessage(envelope).encode()
        found: dict[str, DiscoveredDevice] = {}
        transports = await self._open(envelope.getMessageId(), found)
        try:
            for _ in range(_REPEATS):
                for transport in transports:
                    transport.sendto(message, GROUP)
                await asyncio.sleep(_REPEAT_GAP_S)
            await asyncio.sleep(max(0.0, wait_s - _REPEATS * _REPEAT_GAP_S))
        finally:
            for transport in transports:
                transport.close()
        return sorted(found.values(), key=lambda device: device.addresses)

    async def _open(
        self, message_id: str, found: dict[str, DiscoveredDevice]
    ) -> list[asyncio.DatagramTransport]:
        loop = asyncio.get_running_loop()
        transports: list[asyncio.DatagramTransport] = []
        for address in self._interface_addresses or _ipv4_addresses():
            try:
                sock = _probe_socket(address)
            except OSError as err:
                logger.debug(
                    "cannot probe from this address", extra={"address": address, "error": str(err)}
                )
                continue
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Collector(message_id, found), sock=sock
            )
            transports.append(transport)
        if not transports:
            raise DiscoveryUnavailable("no network interface can send a WS-Discovery probe")
        return transports


def _ipv4_addresses() -> list[str]:
    import ifaddr

    return [
        ip.ip
        for adapter in ifaddr.get_adapters()
        for ip in adapter.ips
        if isinstance(ip.ip, str) and ipaddress.ip_address(ip.ip).version == 4
    ]


def _probe_socket(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setblocking(False)
        sock.bind((address, 0))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
    except OSError:
        sock.close()
        raise
    return sock


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, message_id: str, found: dict[str, DiscoveredDevice]) -> None:
        self._message_id = message_id
        self._found = found

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        for device in _matches(data, str(addr[0]), self._message_id):
            known = self._found.get(device.endpoint)
            if known is not None:  # heard on two interfaces: one device, all its addresses
                addresses = tuple(dict.fromkeys(known.addresses + device.addresses))
                device = DiscoveredDevice(device.endpoint, addresses, known.scopes)
            self._found[device.endpoint] = device

    def error_received(self, exc: Exception) -> None:
        logger.debug("discovery socket error", extra={"error": str(exc)})


def _matches(data: bytes, sender: str, message_id: str) -> list[DiscoveredDevice]:
    """The devices a datagram announces in answer to our Probe; none for anything else."""
    from wsdiscovery.message import parseSOAPMessage
    from wsdiscovery.namespaces import NS_ACTION_PROBE_MATCH

    try:
        envelope = parseSOAPMessage(data, sender)
    # The parser walks the DOM unguarded: odd but well-formed XML raises whatever it hits.
    except Exception:
        logger.debug(
            "ignored a datagram that is not a WS-Discovery message", extra={"from": sender}
        )
        return []
    if envelope is None or envelope.getAction() != NS_ACTION_PROBE_MATCH:
        return []
    if envelope.getRelatesTo() != message_id:
        return []
    devices = []
    for match in envelope.getProbeResolveMatches():
        addresses = tuple(dict.fromkeys(_usable(match.getXAddrs())))
        if not addresses:
            logger.debug("a device answered without a usable address", extra={"from": sender})
            continue
        scopes = tuple(str(scope.getValue()) for scope in match.getScopes())
        devices.append(DiscoveredDevice(str(match.getEPR()), addresses, scopes))
    return devices


def _usable(xaddrs: list[str]) -> list[str]:
    usable = []
    for xaddr in xaddrs:
        try:
            usable.append(device_service_url(xaddr))
        except ValueError:
            continue  # not at the standard path: it could not be added by its address
    return usable
