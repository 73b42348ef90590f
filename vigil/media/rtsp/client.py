"""An RTSP client for pulling one camera stream, RTP over TCP (interleaved) or over UDP.

One `asyncio.Protocol` per stream parses whatever a socket read brings: RTSP answers while
the session is set up and kept alive, interleaved RTP packets in between, which go straight to
the depacketiser. Over UDP the connection carries only RTSP and `udp.UdpReceiver` the packets.
See docs/design/ingest.md for why this is not FFmpeg's demuxer.

A session takes the video track and, when asked for sound, the camera's AAC track beside it
(interleaved channels 2-3, or a port pair of its own over UDP); the latest RTCP sender report
of each track is kept (`sender_reports`), as they are what lines the tracks up.
"""

import asyncio
import base64
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from vigil.cameras.address import StreamUrl
from vigil.cameras.models import Transport
from vigil.media.aac import AacDepacketizer, AacError, AudioUnit
from vigil.media.codecs import Codec
from vigil.media.depacketize import AccessUnit, Depacketizer
from vigil.media.frames import AudioConfig
from vigil.media.rtsp import digest
from vigil.media.rtsp.rtcp import SenderReport, TrackKind, sender_report
from vigil.media.rtsp.sdp import SdpError, Track, parse_tracks
from vigil.media.rtsp.udp import UdpReceiver
from vigil.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 256 * 1024
USER_AGENT = "Vigil"

Packets = Callable[[bytes | memoryview], None]


UNSUPPORTED_TRANSPORT = 461  # RFC 2326 §11.3.10


class RtspError(Exception):
    """The camera refused or broke the exchange; the message says how, for the camera's status.
    `status`: the camera's answer, when it refused a request."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


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


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        # Interleaved channel → where its packets go, once the session's tracks are set up;
        # packets of other channels are dropped.
        self.channels: dict[int, Packets] = {}
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
        channels = self.channels
        try:
            while position < size:
                if chunk[position] == 0x24:  # '$': an interleaved packet
                    if size - position < 4:
                        break
                    end = position + 4 + ((chunk[position + 2] << 8) | chunk[position + 3])
                    if end > size:
                        break
                    take = channels.get(chunk[position + 1])
                    if take is not None:
                        take(view[position + 4 : end])
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
    audio: AudioConfig | None = None  # the AAC track set up beside the video, if any


class RtspStream:
    """A PLAYing RTSP session; access units go to `on_unit` as they complete. With `on_audio`,
    the camera's AAC track is set up too (if it has one) and its access units go there."""

    def __init__(
        self,
        url: StreamUrl,
        on_unit: Callable[[AccessUnit], None],
        transport: Transport = "tcp",
        *,
        on_audio: Callable[[AudioUnit], None] | None = None,
    ) -> None:
        self._url = url
        self._on_unit = on_unit
        self._on_audio = on_audio
        self.transport = transport
        self._cseq = 0
        self._connection: _Connection | None = None
        self._udp: UdpReceiver | None = None
        self._audio_udp: UdpReceiver | None = None
        self._depacketizer: Depacketizer | None = None
        self._audio: AacDepacketizer | None = None
        self._session: str | None = None
        self._authorization: Callable[[str, str], str] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._keepalive_method = "OPTIONS"
        self.info: StreamInfo | None = None
        # The latest sender report of each track (only while sound is set up: they serve to
        # line it up with the picture).
        self.sender_reports: dict[TrackKind, SenderReport] = {}
        self.last_unit_at = 0.0  # loop time of the last access unit taken; 0 before the first

    @property
    def depacketizer(self) -> Depacketizer | None:
        return self._depacketizer

    @property
    def audio_depacketizer(self) -> AacDepacketizer | None:
        """The sound track's, once it is set up (None without one)."""
        return self._audio

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
            setup, self._udp = await self._set_up_track(
                connection, video, self._depacketizer.push, "video", 0
            )
            session = setup.header("session")
            if not session:
                raise RtspError("SETUP answered without a session")
            self._session, _, parameters = session.partition(";")
            timeout = 60
            for parameter in parameters.split(";"):
                name, _, value = parameter.strip().partition("=")
                if name.lower() == "timeout" and value.isdigit():
                    timeout = max(5, int(value))
            audio = await self._set_up_sound(connection, tracks)
            self.info = StreamInfo(codec, video, video.parameter_sets(), audio)
            await self._request("PLAY", self._url.url, [("Range", "npt=0.000-")])
        return self.info, timeout / 2

    async def _set_up_sound(
        self, connection: _Connection, tracks: list[Track]
    ) -> AudioConfig | None:
        """SETUP the camera's AAC track in the session, if asked for and offered; a camera
        whose sound cannot be taken is still recorded, without it."""
        track = next((t for t in tracks if t.audio_codec), None)
        if track is None or self._on_audio is None:
            return None
        try:
            parameters = track.aac_parameters()
            depacketizer = AacDepacketizer(parameters, track.payload_type, self._on_audio)
            _, self._audio_udp = await self._set_up_track(
                connection, track, depacketizer.push, "audio", 2
            )
        except (AacError, RtspError) as err:
            if connection.error is not None:
                raise
            logger.warning("camera sound left out", extra={"url": self._url.url,
                                                           "reason": str(err)})  # fmt: skip
            return None
        self._audio = depacketizer
        return parameters.config

    async def _set_up_track(
        self, connection: _Connection, track: Track, push: Packets, kind: TrackKind,
        channel: int,
    ) -> tuple[Response, UdpReceiver | None]:  # fmt: skip
        """SETUP one track, its packets to `push`: over TCP on interleaved channel `channel`
        (or the one the camera picks), over UDP on ports bound first, on the address the RTSP
        connection goes out from, as the camera's packets must reach them."""
        on_rtcp = self._rtcp_reader(kind)
        if self.transport == "tcp":
            offer = f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}"
            answer = await self._request("SETUP", track.control, [("Transport", offer)])
            channel = _interleaved_channel(answer.header("transport") or "", channel)
            connection.channels[channel] = push
            if on_rtcp is not None:
                connection.channels[channel + 1] = on_rtcp
            return answer, None
        if connection.transport is None:
            raise RtspError("not connected")
        local = connection.transport.get_extra_info("sockname")[0]
        camera = connection.transport.get_extra_info("peername")[0]
        receiver = UdpReceiver.open(local, camera, push, on_rtcp)
        try:
            offer = "RTP/AVP;unicast;client_port={}-{}".format(*receiver.ports)
            try:
                answer = await self._request("SETUP", track.control, [("Transport", offer)])
            except RtspError as err:
                if err.status != UNSUPPORTED_TRANSPORT:
                    raise
                raise RtspError(f"the camera does not send RTP over UDP ({err}): use TCP",
                                err.status) from err  # fmt: skip
            chosen = (answer.header("transport") or "").partition(";")[0].upper()
            if chosen.endswith("/TCP"):
                raise RtspError("the camera does not send RTP over UDP: use TCP")
        except BaseException:
            receiver.close()
            raise
        return answer, receiver

    def _rtcp_reader(self, kind: TrackKind) -> Packets | None:
        if self._on_audio is None:
            return None
        reports = self.sender_reports

        def read(packet: bytes | memoryview) -> None:
            report = sender_report(packet)
            if report is not None:
                reports[kind] = report

        return read

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
        for receiver in (self._udp, self._audio_udp):
            if receiver is not None:
                receiver.close()
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
            refused = f"{method} answered {answer.status} {answer.reason}".strip()
            raise RtspError(refused, answer.status)
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


def _interleaved_channel(transport: str, offered: int) -> int:
    """The RTP channel a SETUP answer's Transport names (`interleaved=4-5`), else the offer."""
    for parameter in transport.split(";"):
        name, _, value = parameter.strip().partition("=")
        first = value.partition("-")[0]
        if name.lower() == "interleaved" and first.isdigit():
            return int(first)
    return offered


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
