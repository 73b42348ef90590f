"""A bare RTSP/RTP client for tests that look at the packets themselves (sequence numbers,
RTP times, gaps, every track): requests on one connection, interleaved packets as they come."""

import base64
import re
import socket
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from types import TracebackType


@dataclass(frozen=True)
class FrameEnd:
    seq: int
    rtp_time: int
    arrived: float  # time.monotonic()


class Conversation:
    """One RTSP connection: requests answered in turn, then interleaved packets. Close it (or
    use `contextlib.closing`) when done."""

    def __init__(self, port: int, user: str | None = None, password: str | None = None) -> None:
        self._auth = (
            f"Authorization: Basic {base64.b64encode(f'{user}:{password}'.encode()).decode()}\r\n"
            if user
            else ""
        )
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self._reader = self._sock.makefile("rb")

    def send(self, lines: str) -> None:
        """Send a request (its lines, without the blank line that ends it), not waiting for
        its answer (which comes among the interleaved packets of a session playing)."""
        self._sock.sendall(f"{lines}{self._auth}\r\n".encode())

    def ask(self, lines: str) -> str:
        """Send a request; the answer's head and body, whatever its status."""
        self.send(lines)
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            byte = self._reader.read(1)
            if not byte:
                raise ConnectionError("the server closed the connection")
            head += byte
        text = head.decode()
        length = re.search(r"Content-Length: (\d+)", text)
        return text + (self._reader.read(int(length[1])).decode() if length else "")

    def ask_ok(self, lines: str) -> str:
        answer = self.ask(lines)
        if not answer.startswith("RTSP/1.0 200"):
            raise RuntimeError(answer.splitlines()[0])
        return answer

    def packet(self) -> tuple[int, bytes] | None:
        """The next interleaved packet as (channel, data); None when the connection ends."""
        header = self._reader.read(4)
        if len(header) < 4:
            return None
        return header[1], self._reader.read(int.from_bytes(header[2:4], "big"))

    def close(self) -> None:
        self._reader.close()
        self._sock.close()


def session_of(answer: str) -> str:
    match = re.search(r"Session: (\w+)", answer)
    if match is None:
        raise RuntimeError(f"no session in:\n{answer}")
    return match[1]


def _port(url: str) -> int:
    return int(url.split("/")[2].rsplit(":", 1)[1])


class RtpReader:
    """DESCRIBE, SETUP of the video interleaved, PLAY; then frame ends as they arrive."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None) -> None:
        self.url = url
        self._rtsp = Conversation(_port(url), user, password)
        try:
            self._rtsp.ask_ok(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n")
            setup = self._rtsp.ask_ok(
                f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n"
                "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
            )
            self._rtsp.ask_ok(f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {session_of(setup)}\r\n")
        except BaseException:
            self.close()
            raise

    def frames(self, seconds: float) -> Iterator[FrameEnd]:
        """Each frame's last packet (the one with the marker) for `seconds`, or until closed."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            received = self._rtsp.packet()
            if received is None:
                return
            channel, packet = received
            if channel == 0 and packet[1] & 0x80:
                yield FrameEnd(
                    int.from_bytes(packet[2:4], "big"),
                    int.from_bytes(packet[4:8], "big"),
                    time.monotonic(),
                )

    def close(self) -> None:
        self._rtsp.close()

    def __enter__(self) -> "RtpReader":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass
class Pulled:
    """What `pull_tracks` received: the SDP, and per interleaved channel its packets."""

    sdp: str
    url: str
    packets: dict[int, list[bytes]] = field(default_factory=dict)


def pull_tracks(url: str, tracks: int, seconds: float) -> Pulled:
    """Play tracks 0 … `tracks` - 1 of `url` in one session (track n on channels 2n, 2n+1)."""
    with closing(Conversation(_port(url))) as rtsp:
        pulled = Pulled(
            rtsp.ask_ok(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n").split("\r\n\r\n", 1)[1], url
        )
        session = ""
        for track in range(tracks):
            answer = rtsp.ask_ok(
                f"SETUP {url}/trackID={track} RTSP/1.0\r\nCSeq: {2 + track}\r\n"
                + (f"Session: {session}\r\n" if session else "")
                + f"Transport: RTP/AVP/TCP;unicast;interleaved={2 * track}-{2 * track + 1}\r\n"
            )
            session = session_of(answer)
        rtsp.ask_ok(f"PLAY {url} RTSP/1.0\r\nCSeq: 9\r\nSession: {session}\r\n")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and (received := rtsp.packet()) is not None:
            pulled.packets.setdefault(received[0], []).append(received[1])
    return pulled
