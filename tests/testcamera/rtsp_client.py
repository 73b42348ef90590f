"""A bare RTSP/RTP reader for tests that look at the packets themselves (sequence numbers,
RTP times, gaps): DESCRIBE, SETUP interleaved, PLAY, then frame ends as they arrive."""

import base64
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class FrameEnd:
    seq: int
    rtp_time: int
    arrived: float  # time.monotonic()


class RtpReader:
    def __init__(self, url: str, user: str | None = None, password: str | None = None) -> None:
        self.url = url
        port = int(url.split("/")[2].rsplit(":", 1)[1])
        self._auth = (
            f"Authorization: Basic {base64.b64encode(f'{user}:{password}'.encode()).decode()}\r\n"
            if user
            else ""
        )
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self._reader = self._sock.makefile("rb")
        try:
            self._play(url)
        except BaseException:
            self.close()
            raise

    def _play(self, url: str) -> None:
        self._request(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n")
        setup = self._request(
            f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n"
            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
        )
        session = re.search(r"Session: (\w+)", setup)
        if session is None:
            raise RuntimeError(f"SETUP gave no session:\n{setup}")
        self._request(f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {session[1]}\r\n")

    def _request(self, lines: str) -> str:
        self._sock.sendall(f"{lines}{self._auth}\r\n".encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            byte = self._reader.read(1)
            if not byte:
                raise ConnectionError("the server closed the connection")
            head += byte
        text = head.decode()
        if not text.startswith("RTSP/1.0 200"):
            raise RuntimeError(text.splitlines()[0])
        length = re.search(r"Content-Length: (\d+)", text)
        if length:
            self._reader.read(int(length[1]))
        return text

    def frames(self, seconds: float) -> Iterator[FrameEnd]:
        """Each frame's last packet (the one with the marker) for `seconds`, or until closed."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            header = self._reader.read(4)
            if len(header) < 4:
                return
            packet = self._reader.read(int.from_bytes(header[2:4], "big"))
            if header[1] == 0 and packet[1] & 0x80:
                yield FrameEnd(
                    int.from_bytes(packet[2:4], "big"),
                    int.from_bytes(packet[4:8], "big"),
                    time.monotonic(),
                )

    def close(self) -> None:
        self._reader.close()
        self._sock.close()

    def __enter__(self) -> "RtpReader":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
