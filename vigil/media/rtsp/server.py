"""An RTSP server (RFC 2326): one TCP port, what each URL serves decided by a `Catalog`.

Both RTSP servers here are this one: the test cameras' (a fixed path per camera stream,
shared by every client) and the Vigil server's (a feed of its own per client session, live
or from the archive). The catalog says for each request what its URL serves to this client,
or answers it (401, 403, 404…); the server does the rest of the protocol: sessions, SETUP
of each track over TCP (interleaved) or UDP, PLAY, PAUSE, TEARDOWN, keep-alives.

Each connection is read request by request. Sessions outlive neither their connection (over
TCP) nor `SESSION_TIMEOUT_S` without a request or RTCP report (over UDP or TCP), as with
cameras, which free a session a client forgot.
"""

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from vigil.media.rtsp.messages import (
    MAX_HEADER_BYTES,
    BadRequest,
    Request,
    Response,
    read_message,
    track_control,
)
from vigil.media.rtsp.transports import (
    InterleavedSubscriber,
    Subscriber,
    TransportRequest,
    UdpSubscriber,
)
from vigil.tasks import Supervised

logger = logging.getLogger(__name__)

SESSION_TIMEOUT_S = 60
# A connection without a session must send its next request within this.
REQUEST_TIMEOUT_S = 30
# Bounds against clients that open sessions without end: a real camera serves a handful.
MAX_SESSIONS_PER_CONNECTION = 8
MAX_SESSIONS = 4096
# Connections one address may hold: players open one per stream, a recorder of a whole site
# a few hundred; past this they are closed at once.
MAX_CONNECTIONS_PER_CLIENT = 512
STOP_WAIT_S = 5.0
METHODS = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"


@dataclass(frozen=True)
class JoinPoint:
    """Where a client starts on a track: PLAY's RTP-Info names the sequence number and RTP
    time of its first packet, or clients such as ffmpeg wait for the packets "missing"
    before it."""

    frame: int  # on the track's timeline (the test cameras': for sound, its packet)
    seq: int
    rtp_timestamp: int


class Track(Protocol):
    """A track a session plays (video or sound)."""

    ssrc: int

    def join_point(self) -> JoinPoint: ...

    def add(self, subscriber: Subscriber, join: JoinPoint) -> None:
        """Start sending to `subscriber` from `join` (from `join_point()`, just before)."""

    def remove(self, subscriber: Subscriber) -> None: ...


class Mount(Protocol):
    """What a URL serves: video as track 0 and, with sound, track 1."""

    async def describe(self, host: str, session_tag: int) -> Response:
        """The answer to DESCRIBE: the session description, or why there is none."""

    def track(self, index: int) -> Track | None: ...

    async def seek(self, npt_s: float) -> float | None:
        """PLAY's `Range: npt=S-`: start `npt_s` seconds into the presentation; where it
        will start, or None for a presentation that cannot seek (live)."""


class Catalog(Protocol):
    def answers(self, request: Request) -> bool:
        """False: the URL's device is away; the server says nothing and hangs up."""

    async def resolve(self, request: Request, connection: "Connection") -> Mount | Response:
        """What the request's URL serves to this client, or the answer refusing it.

        Asked for every request but OPTIONS, so a refusal (a wrong password, a right
        withdrawn) reaches a session's later requests too.
        """

    async def closed(self, connection: "Connection") -> None:
        """The connection ended (its sessions have ended already)."""


@dataclass(eq=False)
class Session:
    """A client's tracks of one stream, set up one SETUP each and played together."""

    id: str
    path: str
    mount: Mount
    connection: "Connection"
    last_seen: float
    tracks: dict[int, Subscriber] = field(default_factory=dict)
    playing: bool = False
    joins: dict[int, JoinPoint] = field(default_factory=dict)

    def on_air(self) -> list[tuple[int, Track, Subscriber]]:
        """(index, track, subscriber) of each track set up."""
        return [
            (index, track, subscriber)
            for index, subscriber in self.tracks.items()
            if (track := self.mount.track(index)) is not None
        ]


@dataclass(eq=False)
class Connection:
    writer: asyncio.StreamWriter
    address: str  # the client's
    handler: "asyncio.Task[Any] | None"  # the task reading its requests
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
        catalog: Catalog,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._host = host
        self._port = port
        self._catalog = catalog
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        # Which session a client's RTCP address belongs to, for its receiver reports.
        self._udp_sessions: dict[tuple[str, int], str] = {}
        self._connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._udp: tuple[asyncio.DatagramTransport, asyncio.DatagramTransport] | None = None
        self._reaper = Supervised("rtsp-session-reaper", self._reap)
        self._session_tag = secrets.randbits(31)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=MAX_HEADER_BYTES
        )
        self._udp = await self._bind_udp_pair()
        self._reaper.start()
        if self._port == 0:
            self._port = self._server.sockets[0].getsockname()[1]
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
        await self._reaper.stop()
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
        # Each connection's handler ends at once on its closed connection; it may still be
        # telling the catalog (which logs the client out).
        handlers = [c.handler for c in self._connections if c.handler is not None]
        if handlers:
            await asyncio.wait(handlers, timeout=STOP_WAIT_S)

    @property
    def port(self) -> int:
        return self._port

    def drop_connections(self, mount: Mount | None = None) -> int:
        """Close the connections of `mount`'s sessions (of all, if None): a fault on demand,
        or the end of what a mount had to send."""
        dropped = 0
        for session in list(self._sessions.values()):
            if mount is None or session.mount is mount:
                session.connection.writer.close()
                self._end_session(session.id)
                dropped += 1
        return dropped

    # --- connections ------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else "unknown"
        connection = Connection(writer, address, asyncio.current_task())
        if sum(c.address == address for c in self._connections) >= MAX_CONNECTIONS_PER_CLIENT:
            logger.info("rtsp connection refused: too many from one address",
                        extra={"peer": address})  # fmt: skip
            writer.close()
            return
        self._connections.add(connection)
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
                if not self._catalog.answers(message):
                    break
                try:
                    response = await self._answer(message, connection)
                except BadRequest:
                    raise
                except Exception:
                    logger.exception("answering an rtsp request failed",
                                     extra={"method": message.method})  # fmt: skip
                    response = Response(500)
                writer.write(response.encode(message.cseq))
                if response.status == 200 and message.method == "PLAY":
                    # Before any await: the pacer must not send the join frame in between.
                    self._start_playing(message)
                await writer.drain()
        except BadRequest as err:
            logger.info("bad rtsp request", extra={"peer": str(peer), "reason": str(err)})
            writer.write(Response(400).encode(None))
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass
        finally:
            for session_id in list(connection.sessions):
                self._end_session(session_id)
            writer.close()
            await self._catalog.closed(connection)
            self._connections.discard(connection)

    async def _answer(self, request: Request, connection: Connection) -> Response:
        if request.version != "RTSP/1.0":
            return Response(505)
        if request.method == "OPTIONS":
            return Response(200, [("Public", METHODS)])
        if request.method not in (*_SESSION_METHODS, "DESCRIBE", "SETUP", "PLAY"):
            return Response(501, [("Public", METHODS)])
        found = await self._catalog.resolve(request, connection)
        if isinstance(found, Response):
            session = self._session(request) if "session" in request.headers else None
            if session is not None and found.status in (401, 403):
                self._end_session(session.id)  # credentials or rights withdrawn meanwhile
            return found
        if request.method == "DESCRIBE":
            return await self._describe(request, found)
        if request.method == "SETUP":
            return self._setup(request, found, connection)
        if request.method == "PLAY":
            return await self._play(request)
        return _SESSION_METHODS[request.method](self, request)

    async def _describe(self, request: Request, mount: Mount) -> Response:
        response = await mount.describe(self._host, self._session_tag)
        if response.status == 200:
            response.headers.append(("Content-Base", request.stream_url + "/"))
        return response

    def _setup(self, request: Request, mount: Mount, connection: Connection) -> Response:
        session: Session | None = None
        if request.headers.get("session"):  # another track of a session set up before
            session = self._session(request)
            if session is None:
                return Response(454)
            if session.path != request.path:
                return Response(459)  # tracks of one stream only
            if session.playing or request.track in session.tracks:
                return Response(455)
            mount = session.mount
        elif (
            len(connection.sessions) >= MAX_SESSIONS_PER_CONNECTION
            or len(self._sessions) >= MAX_SESSIONS
        ):
            return Response(453)
        track = mount.track(request.track)
        if track is None:
            return Response(404)
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
                id=secrets.token_hex(8), path=request.path, mount=mount,
                connection=connection, last_seen=self._clock(),
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

    async def _play(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return Response(454)
        if session.playing:  # already playing: nothing changes, no new starting point
            return Response(200, [("Session", session.id), ("Range", "npt=0.000-")])
        try:
            asked = _npt_start(request.headers.get("range", ""))
        except _BadRange:
            return Response(400)
        start_s = await session.mount.seek(asked) if asked is not None else None
        session.joins = {index: track.join_point() for index, track, _ in session.on_air()}
        stream_url = request.stream_url
        rtp_info = ",".join(
            f"url={stream_url}/{track_control(index)};seq={join.seq};rtptime={join.rtp_timestamp}"
            for index, join in session.joins.items()
        )
        npt = f"npt={start_s or 0:.3f}-"
        return Response(200, [("Session", session.id), ("Range", npt), ("RTP-Info", rtp_info)])

    def _start_playing(self, request: Request) -> None:
        session = self._session(request)
        if session is not None and session.joins and not session.playing:
            session.playing = True
            for index, track, subscriber in session.on_air():
                track.add(subscriber, session.joins[index])

    def _pause(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return Response(454)
        session.playing = False
        for _index, track, subscriber in session.on_air():
            track.remove(subscriber)
        return Response(200, [("Session", session.id)])

    def _teardown(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return Response(454)
        self._end_session(session.id)
        return Response(200)

    def _keep_alive(self, request: Request) -> Response:
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


# RFC 2326 §3.6: "npt=" then a start, "-", and an end that is left out or ignored here; a
# time is "now", seconds, or h:mm:ss, each with a fraction. Parameters after ";" are ignored.
_NPT_TIME = r"(?:now|\d{1,9}(?:\.\d{0,9})?|\d{1,6}:[0-5]\d:[0-5]\d(?:\.\d{0,9})?)"
_NPT_RANGE = re.compile(rf"^npt\s*=\s*({_NPT_TIME})?\s*-\s*(?:{_NPT_TIME})?\s*(?:;.*)?$")


class _BadRange(ValueError):
    pass


def _npt_start(header: str) -> float | None:
    """The start of a `Range: npt=S-[E]` header in seconds (None: no header, `now-` or no
    start); _BadRange for anything else (another unit is not served here)."""
    if not header.strip():
        return None
    match = _NPT_RANGE.match(header.strip())
    if match is None:
        raise _BadRange(header)
    start = match[1]
    if start is None or start == "now":
        return None
    seconds = 0.0
    for part in start.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


_SESSION_METHODS: dict[str, Callable[[RtspServer, Request], Response]] = {
    "PAUSE": RtspServer._pause,
    "TEARDOWN": RtspServer._teardown,
    "GET_PARAMETER": RtspServer._keep_alive,
    "SET_PARAMETER": RtspServer._keep_alive,
}
