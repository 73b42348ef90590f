"""How a session's packets reach its client: interleaved on the RTSP connection, or UDP."""

import asyncio
import re
from dataclasses import dataclass
from typing import Protocol

# A parameter's value: one number, or a pair "a-b" (RFC 2326 §12.39).
_PAIR = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")


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
        """The first transport of the list that is well-formed and taken here; None when
        there is none (the answer is 461)."""
        for spec in header.split(","):
            fields = [f.strip() for f in spec.split(";")]
            protocol = fields[0].upper()
            options = dict(f.partition("=")[::2] for f in fields[1:])
            options = {name.lower(): value for name, value in options.items()}
            if "multicast" in options:
                continue
            if protocol == "RTP/AVP/TCP":
                rtp, rtcp = _pair(options.get("interleaved", "0"), limit=255)
                if rtp is not None and rtcp is not None:
                    return cls(tcp=True, channels=(rtp, rtcp))
            elif protocol in ("RTP/AVP", "RTP/AVP/UDP") and "client_port" in options:
                rtp, rtcp = _pair(options["client_port"], limit=65535)
                if rtp and rtcp:  # port 0 is no port
                    return cls(tcp=False, client_ports=(rtp, rtcp))
        return None


def _pair(text: str, limit: int) -> tuple[int, int] | tuple[None, None]:
    """A parameter's "a" or "a-b" (b defaults to a + 1), each at most `limit`."""
    match = _PAIR.match(text)
    if match is None:
        return None, None
    first = int(match[1])
    second = int(match[2]) if match[2] else first + 1
    return (first, second) if first <= limit and second <= limit else (None, None)


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
