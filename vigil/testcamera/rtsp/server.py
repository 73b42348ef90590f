"""The RTSP server of all test cameras: one TCP port, a path per camera stream.

Each connection is read request by request. Sessions outlive neither their connection (over
TCP) nor `SESSION_TIMEOUT_S` without a request or RTCP report (over UDP or TCP), as with
cameras, which free a session a client forgot.
"""

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vigil.tasks import cancel_and_wait
from vigil.testcamera.rtsp.audio_stream import LiveAudio
from vigil.testcamera.rtsp.auth import Authenticator
from vigil.testcamera.rtsp.messages import (
    MAX_HEADER_BYTES,
    BadRequest,
    Request,
    Response,
    read_message,
    track_control,
)
from vigil.testcamera.rtsp.sdp import describe
from vigil.testcamera.rtsp.stream import JoinPoint, LiveStream, OnAir, Subscriber
from vigil.testcamera.rtsp.transports import (
    InterleavedSubscriber,
    TransportRequest,
    UdpSubscriber,
)

logger = logging.getLogger(__name__)

SESSION_TIMEOUT_S = 60
# A connection without a session must send its next request within this.
REQUEST_TIMEOUT_S = 30
# Bounds against clients that open sessions without end: a real camera serves a handful.
MAX_SESSIONS_PER_CONNECTION = 8
MAX_SESSIONS = 4096
METHODS = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"


@dataclass
class Mount:
    """What one path serves: video (track 0) and, from a camera with a microphone, sound
    (track 1)."""

    title: str
    stream: LiveStream
    online: Callable[[], bool] = lambda: True
    audio: LiveAudio | None = None

    def track(self, index: int) -> OnAir | None:
        if index == 0:
            return self.stream
        return self.audio if index == 1 else None


@dataclass(eq=False)
class Session:
    """A client's tracks of one stream, set up one SETUP each and played together."""

    id: str
    mount: Mount
    connection: "Connection"
    last_seen: float
    tracks: dict[int, Subscriber] = field(default_factory=dict)
    playing: bool = False
    joins: dict[int, JoinPoint] = field(default_factory=dict)

    def on_air(self) -> list[tuple[int, OnAir, Subscriber]]:
        """(index, track, subscriber) of each track set up."""
        return [
            (index, track, subscriber)
            for index, subscriber in self.tracks.items()
            if (track := self.mount.track(index)) is not None
        ]


@dataclass(eq=False)
class Connection:
    writer: asyncio.StreamWriter
    sessions: set[str] = field(default_factory=set)


class _UdpSink(asyncio.DatagramProtocol):
    """Takes RTCP receiver reports from clients as signs of life of their sessions."""

    def __init__(self, on_report: Callable[[tuple[str, int]], None]) -> None:
        self._on_report = on_report

    def datagram_received(self, data: bytes, addr: tuple[str | bytes, int]) -> None:
        self._on_report((str(addr[0]), addr[1]))


class RtspServer:
    def __init__(
        self,
        host: str,
        port: int,
        mounts: dict[str, Mount],
        auth: Authenticator | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._host = host
        self._port = port
        self._mounts = mounts
        self._auth = auth
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        # Which session a client's RTCP address belongs to, for its receiver reports.
        self._udp_sessions: dict[tuple[str, int], str] = {}
        self._connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._udp: tuple[asyncio.DatagramTransport, asyncio.DatagramTransport] | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._session_tag = secrets.randbits(31)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=MAX_HEADER_BYTES
        )
        self._udp = await self._bind_udp_pair()
        self._reaper = asyncio.create_task(self._reap(), name="rtsp-session-reaper")
        logger.info("rtsp listening", extra={"url": f"rtsp://{self._host}:{self._port}"})

    async def _bind_udp_pair(self) -> tuple[asyncio.DatagramTransport, asyncio.DatagramTransport]:
        """RTP on an even port and RTCP on the next one, as clients expect (RFC 3550 §11)."""
        loop = asyncio.get_running_loop()
        for _ in range(50):
            rtp, _ = await loop.create_datagram_endpoint(
                lambda: _UdpSink(self._udp_report), local_addr=(self._host, 0)
            )
            port = rtp.get_extra_info("sockname")[1]
            if port % 2 == 0 and port < 65535:
                try:
                    rtcp, _ = await loop.create_datagram_endpoint(
                        lambda: _UdpSink(self._udp_report), local_addr=(self._host, port + 1)
                    )
                except OSError:
                    rtp.close()
                    continue
                return rtp, rtcp
            rtp.close()
        raise OSError("no free pair of UDP ports for RTP and RTCP")

    async def stop(self) -> None:
        await cancel_and_wait(self._reaper)
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.writer.close()
        for session_id in list(self._sessions):
            self._end_session(session_id)
        if self._udp is not None:
            for transport in self._udp:
                transport.close()
        if self._server is not None:
            await self._server.wait_closed()

    def drop_connections(self, mount: Mount | None = None) -> int:
        """Close the connections of `mount`'s sessions (of all, if None): a fault on demand."""
        dropped = 0
        for session in list(self._sessions.values()):
            if mount is None or session.mount is mount:
                session.connection.writer.close()
                self._end_session(session.id)
                dropped += 1
        return dropped

    # --- connections ------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(writer)
        self._connections.add(connection)
        peer = writer.get_extra_info("peername")
        try:
            while True:
                # A playing client may stay silent but for keep-alives; one with no session
                # has no reason to hold the connection open.
                idle_s = SESSION_TIMEOUT_S if connection.sessions else REQUEST_TIMEOUT_S
                message = await read_message(reader, idle_s)
                # Any sign of life keeps the connection's sessions (RTCP, OPTIONS, …).
                for session_id in connection.sessions:
                    self._touch(session_id)
                if isinstance(message, tuple):  # interleaved RTCP from the client
                    continue
                if self._offline(message):
                    break  # an unplugged camera answers nothing
                response = self._answer(message, connection)
                writer.write(response.encode(message.cseq))
                if response.status == 200 and message.method == "PLAY":
                    # Before any await: the pacer must not send the join frame in between.
                    self._start_playing(message)
                await writer.drain()
        except BadRequest as err:
            logger.info("bad rtsp request", extra={"peer": str(peer), "reason": str(err)})
            writer.write(Response(400).encode("0"))
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass
        finally:
            for session_id in list(connection.sessions):
                self._end_session(session_id)
            self._connections.discard(connection)
            writer.close()

    def _answer(self, request: Request, connection: Connection) -> Response:
        if request.version != "RTSP/1.0":
            return Response(505)
        if request.method == "OPTIONS":
            return Response(200, [("Public", METHODS)])
        handler = {
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PLAY": self._play,
            "PAUSE": self._pause,
            "TEARDOWN": self._teardown,
            "GET_PARAMETER": self._keep_alive,
            "SET_PARAMETER": self._keep_alive,
        }.get(request.method)
        if handler is None:
            return Response(501, [("Public", METHODS)])
        if self._auth is not None and not self._auth.check(
            request.method, request.headers.get("authorization")
        ):
            return Response(401, [("WWW-Authenticate", c) for c in self._auth.challenges()])
        return handler(request, connection)

    def _offline(self, request: Request) -> bool:
        mount = self._mount(request)
        return mount is not None and not mount.online()

    def _mount(self, request: Request) -> Mount | None:
        return self._mounts.get(request.path)

    def _describe(self, request: Request, _: Connection) -> Response:
        mount = self._mount(request)
        if mount is None:
            return Response(404)
        audio = mount.audio.loop if mount.audio is not None else None
        sdp = describe(mount.stream.encoded, mount.title, self._host, self._session_tag, audio)
        base = request.url.rstrip("/") + "/"
        return Response(
            200,
            [("Content-Type", "application/sdp"), ("Content-Base", base)],
            sdp.encode(),
        )

    def _setup(self, request: Request, connection: Connection) -> Response:
        mount = self._mount(request)
        if mount is None:
            return Response(404)
        track = mount.track(request.track)
        if track is None:
            return Response(404)
        session: Session | None = None
        if request.headers.get("session"):  # another track of a session set up before
            session = self._session(request)
            if session is None:
                return Response(454)
            if session.mount is not mount:
                return Response(459)  # tracks of one stream only
            if session.playing or request.track in session.tracks:
                return Response(455)
        elif (
            len(connection.sessions) >= MAX_SESSIONS_PER_CONNECTION
            or len(self._sessions) >= MAX_SESSIONS
        ):
            return Response(453)
        transport = TransportRequest.choose(request.headers.get("transport", ""))
        if transport is None:
            return Response(461)
        if transport.tcp and self._channels_taken(connection, transport.channels):
            return Response(461)  # those interleaved channels carry another track
        subscriber: Subscriber
        if transport.tcp:
            subscriber = InterleavedSubscriber(connection.writer, transport.channels)
            reply = "RTP/AVP/TCP;unicast;interleaved={}-{}".format(*transport.channels)
        else:
            if self._udp is None:
                return Response(503)
            peer_host = connection.writer.get_extra_info("peername")[0]
            subscriber = UdpSubscriber(*self._udp, peer_host, transport.client_ports)
            server_ports = [t.get_extra_info("sockname")[1] for t in self._udp]
            reply = (
                "RTP/AVP;unicast;client_port={}-{};".format(*transport.client_ports)
                + "server_port={}-{}".format(*server_ports)
                + f";ssrc={track.ssrc:08X}"
            )
        if session is None:
            session = Session(
                id=secrets.token_hex(8), mount=mount, connection=connection,
                last_seen=self._clock(),
            )  # fmt: skip
            self._sessions[session.id] = session
            connection.sessions.add(session.id)
        session.tracks[request.track] = subscriber
        if isinstance(subscriber, UdpSubscriber):
            self._udp_sessions[subscriber.rtcp_address] = session.id
        return Response(
            200, [("Transport", reply), ("Session", f"{session.id};timeout={SESSION_TIMEOUT_S}")]
        )

    def _channels_taken(self, connection: Connection, channels: tuple[int, int]) -> bool:
        return any(
            isinstance(subscriber, InterleavedSubscriber)
            and set(subscriber.channels) & set(channels)
            for session in map(self._sessions.__getitem__, connection.sessions)
            for subscriber in session.tracks.values()
        )

    def _session(self, request: Request) -> Session | None:
        session_id = request.headers.get("session", "").split(";")[0].strip()
        session = self._sessions.get(session_id)
        if session is not None:
            session.last_seen = self._clock()
        return session

    def _play(self, request: Request, _: Connection) -> Response:
        session = self._session(request)
        if session is None:
            return Response(454)
        if session.playing:  # already playing: nothing changes, no new starting point
            return Response(200, [("Session", session.id), ("Range", "npt=0.000-")])
        session.joins = {index: track.join_point() for index, track, _ in session.on_air()}
        stream_url = request.stream_url
        rtp_info = ",".join(
            f"url={stream_url}/{track_control(index)};seq={join.seq};rtptime={join.rtp_timestamp}"
            for index, join in session.joins.items()
        )
        return Response(
            200, [("Session", session.id), ("Range", "npt=0.000-"), ("RTP-Info", rtp_info)]
        )

    def _start_playing(self, request: Request) -> None:
        session = self._session(request)
        if session is not None and session.joins and not session.playing:
            session.playing = True
            for index, track, subscriber in session.on_air():
                track.add(subscriber, session.joins[index])

    def _pause(self, request: Request, _: Connection) -> Response:
        session = self._session(request)
        if session is None:
            return Response(454)
        session.playing = False
        for _index, track, subscriber in session.on_air():
            track.remove(subscriber)
        return Response(200, [("Session", session.id)])

    def _teardown(self, request: Request, _: Connection) -> Response:
        session = self._session(request)
        if session is None:
            return Response(454)
        self._end_session(session.id)
        return Response(200)

    def _keep_alive(self, request: Request, _: Connection) -> Response:
        if "session" in request.headers and self._session(request) is None:
            return Response(454)
        return Response(200)

    # --- session life -----------------------------------------------------------------
    def _touch(self, session_id: str) -> None:
        session = self._sessions.get(session_id)
        if session is not None:
            session.last_seen = self._clock()

    def _udp_report(self, address: tuple[str, int]) -> None:
        session_id = self._udp_sessions.get(address)
        if session_id is not None:
            self._touch(session_id)

    def _end_session(self, session_id: str) -> None:
        session = self._sessions.pop(session_id, None)
        if session is None:
            return
        for _, track, subscriber in session.on_air():
            track.remove(subscriber)
        session.connection.sessions.discard(session_id)
        for subscriber in session.tracks.values():
            if isinstance(subscriber, UdpSubscriber):
                self._udp_sessions.pop(subscriber.rtcp_address, None)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(5)
            deadline = self._clock() - SESSION_TIMEOUT_S
            for session in list(self._sessions.values()):
                if session.last_seen < deadline:
                    logger.info("rtsp session timed out", extra={"session": session.id})
                    self._end_session(session.id)
                    if not session.connection.sessions:
                        session.connection.writer.close()
