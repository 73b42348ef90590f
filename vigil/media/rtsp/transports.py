"""How a session's packets reach its client: interleaved on the RTSP connection, or UDP."""

import asyncio
import re
from dataclasses import dataclass
from typing import Protocol

_INTERLEAVED = re.compile(r"interleaved=(\d{1,3})(?:-(\d{1,3}))?")
_CLIENT_PORT = re.compile(r"client_port=(\d{1,5})(?:-(\d{1,5}))?")


class Subscriber(Protocol):
    """Where a track's packets go: an RTSP session's client over TCP or UDP."""

    def send_packets(self, packets: list[bytes]) -> None: ...

    def send_report(self, report: bytes) -> None: ...

    def backlog(self) -> int:
        """Bytes queued for the client and not yet sent."""


@dataclass(frozen=True)
class TransportRequest:
    """The one transport of a SETUP's `Transport:` list that this server takes."""

    tcp: bool
    channels: tuple[int, int] = (0, 1)
    client_ports: tuple[int, int] = (0, 0)

    @classmethod
    def choose(cls, header: str) -> "TransportRequest | None":
        for spec in header.split(","):
            fields = [f.strip() for f in spec.split(";")]
            protocol = fields[0].upper()
            if "multicast" in (f.lower() for f in fields):
                continue
            options = ";".join(fields[1:])
            if protocol == "RTP/AVP/TCP":
                match = _INTERLEAVED.search(options)
                rtp = int(match[1]) if match else 0
                rtcp = int(match[2]) if match and match[2] else rtp + 1
                if rtp > 255 or rtcp > 255:
                    continue
                return cls(tcp=True, channels=(rtp, rtcp))
            if protocol in ("RTP/AVP", "RTP/AVP/UDP"):
                match = _CLIENT_PORT.search(options)
                if not match:
                    continue
                rtp = int(match[1])
                rtcp = int(match[2]) if match[2] else rtp + 1
                if not (0 < rtp < 65536 and 0 < rtcp < 65536):
                    continue
                return cls(tcp=False, client_ports=(rtp, rtcp))
        return None


class InterleavedSubscriber:
    """RTP and RTCP framed as `$ channel length data` on the RTSP connection (RFC 2326 §10.12)."""

    def __init__(self, writer: asyncio.StreamWriter, channels: tuple[int, int]) -> None:
        self._writer = writer
        self.channels = channels
        self._rtp = bytes([ord("$"), channels[0]])
        self._rtcp = bytes([ord("$"), channels[1]])

    def send_packets(self, packets: list[bytes]) -> None:
        if self._writer.is_closing():
            return
        self._writer.write(b"".join(self._rtp + len(p).to_bytes(2, "big") + p for p in packets))

    def send_report(self, report: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(self._rtcp + len(report).to_bytes(2, "big") + report)

    def backlog(self) -> int:
        return self._writer.transport.get_write_buffer_size()


class UdpSubscriber:
    def __init__(
        self,
        rtp: asyncio.DatagramTransport,
        rtcp: asyncio.DatagramTransport,
        host: str,
        ports: tuple[int, int],
    ) -> None:
        self._rtp = rtp
        self._rtcp = rtcp
        self.rtp_address = (host, ports[0])
        self.rtcp_address = (host, ports[1])

    def send_packets(self, packets: list[bytes]) -> None:
        for packet in packets:
            self._rtp.sendto(packet, self.rtp_address)

    def send_report(self, report: bytes) -> None:
        self._rtcp.sendto(report, self.rtcp_address)

    def backlog(self) -> int:
        # Datagrams are never queued here: what the kernel cannot take, it drops, as on a
        # real network.
        return 0
