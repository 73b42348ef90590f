"""An RTSP client for pulling one camera stream, RTP over TCP (interleaved) or over UDP.

One `asyncio.Protocol` per stream parses whatever a socket read brings: RTSP answers while
the session is set up and kept alive, interleaved RTP packets in between, which go straight to
the depacketiser. Over UDP the connection carries only RTSP and `udp.UdpReceiver` the packets.
See docs/design/ingest.md for why this is not FFmpeg's demuxer.
"""

import asyncio
import base64
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from vigil.cameras.models import Transport
from vigil.media.codecs import Codec
from vigil.media.depacketize import AccessUnit, Depacketizer
from vigil.media.rtsp import digest
from vigil.media.rtsp.sdp import SdpError, Track, parse_tracks
from vigil.media.rtsp.udp import UdpReceiver
from vigil.tasks import cancel_and_wait

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 256 * 1024
USER_AGENT = "Vigil"


class RtspError(Exception):
    """The camera refused or broke the exchange; the message says how, for the camera's status."""


class Unauthorized(RtspError):
    """The camera wants credentials we do not have, or refused the ones we sent."""


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]  # names lower-cased; a 401 repeats WWW-Authenticate
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)


@dataclass(frozen=True)
class StreamUrl:
    """A camera URL split into what goes on the wire and the credentials it may carry."""

    url: str  # without user info
    host: str
    port: int
    user: str
    password: str = field(repr=False)

    @classmethod
    def parse(cls, url: str, user: str = "", password: str = "") -> "StreamUrl":
        try:
            parts = urlsplit(url)
            port = parts.port or 554
        except ValueError as err:
            raise ValueError(f"expected rtsp://host[:port]/path ({err})") from err
        if parts.scheme.lower() != "rtsp" or not parts.hostname:
            raise ValueError("expected rtsp://host[:port]/path")
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if parts.port:
            netloc += f":{parts.port}"
        bare = urlunsplit(("rtsp", netloc, parts.path or "/", parts.query, ""))
        return cls(
            bare,
            parts.hostname,
            port,
            unquote(parts.username) if parts.username else user,
            unquote(parts.password) if parts.password else password,
        )


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        # RTP packets of channel 0 go here once the session is set up; the rest (RTCP) is
        # not needed for ingest.
        self.on_rtp: Callable[[memoryview], None] | None = None
        self._buffer = bytearray()
        self._answers: dict[int, asyncio.Future[Response]] = {}
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.error: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        # One copy per read; packets are handed on as views of it.
        chunk = bytes(buffer)
        view = memoryview(chunk)
        position, size = 0, len(chunk)
        try:
            while position < size:
                if chunk[position] == 0x24:  # '$': an interleaved packet
                    if size - position < 4:
                        break
                    end = position + 4 + ((chunk[position + 2] << 8) | chunk[position + 3])
                    if end > size:
                        break
                    if chunk[position + 1] == 0 and self.on_rtp is not None:
                        self.on_rtp(view[position + 4 : end])
                    position = end
                    continue
                used = self._answer(chunk, position)
                if used == 0:
                    break
                position += used
        except RtspError as err:
            self._fail(err)
            return
        del buffer[:position]

    def _answer(self, buffer: bytes, position: int) -> int:
        """Parse one RTSP answer at `position`; the bytes it took, 0 if it is not all here."""
        end = buffer.find(b"\r\n\r\n", position)
        if end < 0:
            if len(buffer) - position > MAX_HEAD_BYTES:
                raise RtspError("the camera sent an over-long or garbled answer")
            return 0
        lines = bytes(buffer[position:end]).decode("utf-8", "replace").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("RTSP/"):
            raise RtspError(f"not an RTSP answer: {lines[0][:80]!r}")
        if not status_line[1].isdigit():
            raise RtspError(f"bad status line: {lines[0][:80]!r}")
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        response = Response(int(status_line[1]), status_line[2] if len(status_line) > 2 else "",
                            headers, b"")  # fmt: skip
        length_text = response.header("content-length") or "0"
        length = int(length_text) if length_text.isdigit() else -1
        if not 0 <= length <= MAX_BODY_BYTES:
            raise RtspError("bad Content-Length in the camera's answer")
        body_end = end + 4 + length
        if body_end > len(buffer):
            return 0
        answer = Response(response.status, response.reason, headers,
                          bytes(buffer[end + 4 : body_end]))  # fmt: skip
        cseq = answer.header("cseq") or ""
        waiting = self._answers.pop(int(cseq), None) if cseq.isdigit() else None
        if waiting is not None and not waiting.done():
            waiting.set_result(answer)
        return body_end - position

    def expect(self, cseq: int) -> "asyncio.Future[Response]":
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._answers[cseq] = future
        return future

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or RtspError("the camera closed the connection"))

    def _fail(self, error: Exception) -> None:
        if self.error is None:
            self.error = error
        for future in self._answers.values():
            if not future.done():
                future.set_exception(RtspError(str(error)))
        self._answers.clear()
        if not self.closed.done():
            self.closed.set_result(None)
        if self.transport is not None:
            self.transport.close()


@dataclass
class StreamInfo:
    codec: Codec
    track: Track
    parameter_sets: list[bytes]  # from the SDP; in-band ones arrive with the frames


class RtspStream:
    """A PLAYing RTSP session; access units go to `on_unit` as they complete."""

    def __init__(
        self, url: StreamUrl, on_unit: Callable[[AccessUnit], None], transport: Transport = "tcp"
    ) -> None:
        self._url = url
        self._on_unit = on_unit
        self.transport = transport
        self._cseq = 0
        self._connection: _Connection | None = None
        self._udp: UdpReceiver | None = None
        self._depacketizer: Depacketizer | None = None
        self._session: str | None = None
        self._authorization: Callable[[str, str], str] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._keepalive_method = "OPTIONS"
        self.info: StreamInfo | None = None
        self.last_unit_at = 0.0  # loop time of the last access unit taken; 0 before the first

    @property
    def depacketizer(self) -> Depacketizer | None:
        return self._depacketizer

    async def start(self, timeout_s: float = 10.0) -> StreamInfo:
        """Connect, DESCRIBE, SETUP the first H.264/H.265 video track, PLAY. On any failure
        the connection is closed and the error raised."""
        try:
            info, keepalive_s = await self._set_up(timeout_s)
        except BaseException:
            self._release()
            raise
        self._keepalive = asyncio.create_task(self._keep_alive(keepalive_s))
        return info

    async def _set_up(self, timeout_s: float) -> tuple[StreamInfo, float]:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout_s):
            _, connection = await loop.create_connection(
                _Connection, self._url.host, self._url.port
            )
            self._connection = connection
            options = await self._request("OPTIONS", self._url.url)
            if "GET_PARAMETER" in (options.header("public") or "").upper():
                self._keepalive_method = "GET_PARAMETER"
            described = await self._request(
                "DESCRIBE", self._url.url, [("Accept", "application/sdp")]
            )
            base = described.header("content-base") or self._url.url
            tracks = parse_tracks(described.body.decode("utf-8", "replace"), base)
            video = next((t for t in tracks if t.media == "video" and t.codec), None)
            if video is None or video.codec is None:
                kinds = ", ".join(f"{t.media} {t.encoding}" for t in tracks) or "none"
                raise SdpError(f"no H.264 or H.265 video track (the camera offers: {kinds})")
            codec: Codec = video.codec
            self._depacketizer = Depacketizer(codec, video.payload_type, self._on_unit)
            offer = self._offer(connection, self._depacketizer)
            setup = await self._request("SETUP", video.control, [("Transport", offer)])
            chosen = (setup.header("transport") or "").partition(";")[0].upper()
            if self._udp is not None and chosen.endswith("/TCP"):
                raise RtspError("the camera does not send RTP over UDP: use TCP")
            session = setup.header("session")
            if not session:
                raise RtspError("SETUP answered without a session")
            self._session, _, parameters = session.partition(";")
            timeout = 60
            for parameter in parameters.split(";"):
                name, _, value = parameter.strip().partition("=")
                if name.lower() == "timeout" and value.isdigit():
                    timeout = max(5, int(value))
            if self._udp is None:
                connection.on_rtp = self._depacketizer.push
            self.info = StreamInfo(codec, video, video.parameter_sets())
            await self._request("PLAY", self._url.url, [("Range", "npt=0.000-")])
        return self.info, timeout / 2

    def _offer(self, connection: _Connection, depacketizer: Depacketizer) -> str:
        """The SETUP's Transport header; over UDP, the ports it names are bound first, on the
        address the RTSP connection goes out from, as the camera's packets must reach them."""
        if self.transport == "tcp":
            return "RTP/AVP/TCP;unicast;interleaved=0-1"
        if connection.transport is None:
            raise RtspError("not connected")
        local = connection.transport.get_extra_info("sockname")[0]
        camera = connection.transport.get_extra_info("peername")[0]
        self._udp = UdpReceiver.open(local, camera, depacketizer.push)
        return "RTP/AVP;unicast;client_port={}-{}".format(*self._udp.ports)

    @property
    def udp(self) -> UdpReceiver | None:
        """Where packets arrive over UDP, once set up (None over TCP)."""
        return self._udp

    async def closed(self) -> Exception:
        """Wait until the connection ends; why it ended."""
        assert self._connection is not None
        await self._connection.closed
        return self._connection.error or RtspError("closed")

    async def close(self) -> None:
        await cancel_and_wait(self._keepalive)
        connection = self._connection
        if (
            connection is not None
            and connection.transport is not None
            and self._session is not None
            and connection.error is None
        ):
            with contextlib.suppress(RtspError, TimeoutError):
                async with asyncio.timeout(1):
                    await self._request("TEARDOWN", self._url.url)
        self._release()

    def _release(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._connection is not None and self._connection.transport is not None:
            self._connection.transport.close()

    async def _keep_alive(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                async with asyncio.timeout(10):
                    await self._request(self._keepalive_method, self._url.url)
            except (RtspError, TimeoutError):
                return  # the connection's end is noticed by whoever waits on closed()

    async def _request(
        self, method: str, url: str, headers: list[tuple[str, str]] | None = None
    ) -> Response:
        answer = await self._send(method, url, headers or [])
        if answer.status == 401:
            self._authorization = self._authorizer(answer)
            answer = await self._send(method, url, headers or [])
            if answer.status == 401:
                raise Unauthorized("the camera refused the user name or password")
        if answer.status != 200:
            raise RtspError(f"{method} answered {answer.status} {answer.reason}".strip())
        return answer

    async def _send(self, method: str, url: str, headers: list[tuple[str, str]]) -> Response:
        connection = self._connection
        if connection is None or connection.transport is None or connection.error is not None:
            raise RtspError(str(connection.error) if connection else "not connected")
        self._cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self._cseq}", f"User-Agent: {USER_AGENT}"]
        if self._session is not None:
            lines.append(f"Session: {self._session}")
        if self._authorization is not None:
            lines.append(f"Authorization: {self._authorization(method, url)}")
        lines += [f"{name}: {value}" for name, value in headers]
        answer = connection.expect(self._cseq)
        connection.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        return await answer

    def _authorizer(self, answer: Response) -> Callable[[str, str], str]:
        """How to sign requests from now on, from a 401's challenges: Digest if offered."""
        user, password = self._url.user, self._url.password
        if not user:
            raise Unauthorized("the camera needs a user name and password")
        challenges = [value for name, value in answer.headers if name == "www-authenticate"]
        for challenge in challenges:
            scheme, _, rest = challenge.partition(" ")
            if scheme.lower() == "digest":
                return _DigestSigner(user, password, digest.parse_params(rest))
        if any(c.lower().startswith("basic") for c in challenges):
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return lambda _method, _uri: f"Basic {token}"
        raise Unauthorized("the camera asks for an authentication scheme we do not speak")


class _DigestSigner:
    """Authorization values for a Digest challenge, counting nonce uses for qop=auth."""

    def __init__(self, user: str, password: str, challenge: dict[str, str]) -> None:
        self._user, self._password = user, password
        self._challenge = challenge
        self._qop = "auth" in challenge.get("qop", "").split(",")
        self._count = 0

    def __call__(self, method: str, uri: str) -> str:
        realm, nonce = self._challenge.get("realm", ""), self._challenge.get("nonce", "")
        self._count += 1
        quality = (f"{self._count:08x}", secrets.token_hex(8)) if self._qop else None
        value = digest.response(self._user, self._password, realm, nonce, method, uri, quality)
        fields = [f'username="{self._user}"', f'realm="{realm}"', f'nonce="{nonce}"',
                  f'uri="{uri}"', f'response="{value}"']  # fmt: skip
        if quality is not None:
            fields += ["qop=auth", f"nc={quality[0]}", f'cnonce="{quality[1]}"']
        if "opaque" in self._challenge:
            fields.append(f'opaque="{self._challenge["opaque"]}"')
        return "Digest " + ", ".join(fields)
