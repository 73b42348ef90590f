"""RTP over UDP for the RTSP client: a pair of local ports, packets from the camera only.

The sockets are read on the event loop through `add_reader`, draining every datagram waiting
at each wake-up: asyncio's datagram transport reads one datagram per wake-up, a full turn of
the loop (and an `epoll_wait`) per RTP packet, several hundred a second for each 4 Mbit/s
stream. Packets go through a `ReorderBuffer` to the depacketiser. Of RTCP only the camera's
sender reports are taken (to line up a session's tracks); none are sent: the session is kept
alive over RTSP, as over TCP (docs/design/ingest.md).
"""

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable

from vigil.media.rtsp.reorder import ReorderBuffer

logger = logging.getLogger(__name__)

MAX_DATAGRAM = 65_535
# Room for a burst (a keyframe of several hundred kilobytes) while the loop is busy elsewhere;
# the kernel caps it at net.core.rmem_max.
RECEIVE_BUFFER_BYTES = 2 * 1024 * 1024
MAX_READS_PER_WAKE = 256  # then the other sockets get their turn
MAX_HOLD_S = 0.05  # how long a packet waits for one missing before it (UDP reordering)
PORT_ATTEMPTS = 50


class UdpReceiver:
    """The RTP and RTCP ports of one session, from `open()` to `close()`."""

    def __init__(
        self, rtp: socket.socket, rtcp: socket.socket, camera_host: str,
        deliver: Callable[[bytes], None], on_rtcp: Callable[[bytes], None] | None,
    ) -> None:  # fmt: skip
        self._loop = asyncio.get_running_loop()
        self._rtp = rtp
        self._rtcp = rtcp
        self._camera_host = camera_host
        self._reorder = ReorderBuffer(deliver, self._arm)
        self._on_rtcp = on_rtcp
        self._timer: asyncio.TimerHandle | None = None
        self.packets = 0  # RTP datagrams taken from the camera
        self.strangers = 0  # datagrams from other addresses, dropped
        self._loop.add_reader(rtp.fileno(), self._read_rtp)
        self._loop.add_reader(rtcp.fileno(), self._read_rtcp)

    @classmethod
    def open(
        cls, local_host: str, camera_host: str, deliver: Callable[[bytes], None],
        on_rtcp: Callable[[bytes], None] | None = None,
    ) -> "UdpReceiver":  # fmt: skip
        """Bind an even port and the next one on `local_host` (the address the RTSP connection
        goes out from, so the camera can reach them); `deliver` gets RTP packets in order,
        `on_rtcp` the camera's RTCP packets (without it they are dropped)."""
        rtp, rtcp = _bind_pair(local_host)
        return cls(rtp, rtcp, camera_host, deliver, on_rtcp)

    @property
    def ports(self) -> tuple[int, int]:
        return self._rtp.getsockname()[1], self._rtcp.getsockname()[1]

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for sock in (self._rtp, self._rtcp):
            if sock.fileno() >= 0:
                self._loop.remove_reader(sock.fileno())
                sock.close()

    def _read_rtp(self) -> None:
        sock, camera, push = self._rtp, self._camera_host, self._reorder.push
        taken = 0
        for _ in range(MAX_READS_PER_WAKE):
            try:
                packet, address = sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                logger.debug("rtp socket error", exc_info=True)
                break
            if address[0] != camera:
                self.strangers += 1
                continue
            taken += 1
            push(packet)
        self.packets += taken

    def _read_rtcp(self) -> None:
        with contextlib.suppress(OSError):
            for _ in range(MAX_READS_PER_WAKE):
                packet, address = self._rtcp.recvfrom(MAX_DATAGRAM)
                if self._on_rtcp is not None and address[0] == self._camera_host:
                    self._on_rtcp(packet)

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = self._loop.call_later(MAX_HOLD_S, self._give_up)

    def _give_up(self) -> None:
        self._timer = None
        self._reorder.give_up()  # calls _arm again while packets are still held


def _bind_pair(host: str) -> tuple[socket.socket, socket.socket]:
    """RTP on an even port and RTCP on the next one (RFC 3550 §11), non-blocking."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(PORT_ATTEMPTS):
        rtp = _bound(family, host, 0)
        port = rtp.getsockname()[1]
        if port % 2 == 0 and port < 65535:
            try:
                return rtp, _bound(family, host, port + 1)
            except OSError:
                pass
        rtp.close()
    raise OSError(f"no free pair of UDP ports for RTP and RTCP on {host}")


def _bound(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
