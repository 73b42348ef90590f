"""Builds a server from its parts: the only place that wires components together."""

import fcntl
import logging
import os
import socket
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from fastapi import Depends, FastAPI

from vigil import __version__
from vigil.api import audit as audit_api
from vigil.api import camera_events as camera_events_api
from vigil.api import cameras as cameras_api
from vigil.api import docs as docs_api
from vigil.api import exports as exports_api
from vigil.api import fanout
from vigil.api import layouts as layouts_api
from vigil.api import live as live_api
from vigil.api import notifications as notifications_api
from vigil.api import playback as playback_api
from vigil.api import ptz as ptz_api
from vigil.api import roles as roles_api
from vigil.api import server as server_api
from vigil.api import session as session_api
from vigil.api import snapshots as snapshots_api
from vigil.api import storages as storages_api
from vigil.api import timeline as timeline_api
from vigil.api import users as users_api
from vigil.api import web as web_api
from vigil.api.access import RULES, Access, check_every_route_has_a_rule
from vigil.api.body_limit import BodyLimit
from vigil.api.context import ApiContext
from vigil.api.endpoints import VigilApi
from vigil.api.errors import install_error_handlers
from vigil.api.rtsp import RtspAccess
from vigil.api.security_headers import SecurityHeaders
from vigil.auth import store as auth_store
from vigil.auth.accounts import Accounts
from vigil.auth.audit import AuditTrail
from vigil.auth.lockout import Lockout
from vigil.auth.login import LoginService
from vigil.auth.passwords import Passwords
from vigil.auth.roles import RoleRecord, RoleService
from vigil.auth.sessions import Sessions
from vigil.auth.throttle import LoginThrottle
from vigil.auth.users import UserRecord, UserService
from vigil.cameras.discovery import Discovery
from vigil.cameras.events import CameraEvents
from vigil.cameras.failover import Failover, FailoverSettings, Seen
from vigil.cameras.models import CameraRecord
from vigil.cameras.onvif import OnvifReader
from vigil.cameras.ptz import PtzControl
from vigil.cameras.service import CameraService
from vigil.clock import Clock
from vigil.config import ServerConfig
from vigil.layouts.models import LayoutRecord
from vigil.layouts.service import LayoutService
from vigil.media import archive_relay, relay
from vigil.media.archive.index import ArchiveIndex
from vigil.media.export.service import ExportService
from vigil.media.relay import PeerMedia
from vigil.media.rtsp.service import RtspService
from vigil.media.service import MediaService
from vigil.media.snapshot import Snapshots
from vigil.media.storage.models import StorageRecord
from vigil.media.storage.retention import Retention
from vigil.media.storage.service import StorageService
from vigil.notifications import NotificationHub
from vigil.state import Collection, Database, Singleton, SystemDocument
from vigil.system.identity import load_or_create_identity
from vigil.system.joining import Joining
from vigil.system.leaving import Leaving
from vigil.system.models import DetachedRecord, ServerRecord, SystemRecord
from vigil.system.peers.mesh import PeerMesh
from vigil.system.peers.messages import Status
from vigil.system.service import SystemService

logger = logging.getLogger(__name__)


class DataFolderInUse(Exception):
    """Another server runs on this data folder; two would corrupt each other's state."""


def _keep_private(data_dir: Path) -> None:
    """The data folder (the database: password hashes, camera credentials, session digests)
    is the server's account's alone: 0700, and the files in it 0600, those made by an older
    version or another umask too. Files made from now on are so by the process's umask
    (`vigil server` sets 077)."""
    data_dir.chmod(0o700)
    for path in data_dir.iterdir():
        if path.is_file() and not path.is_symlink():
            path.chmod(0o600)


def _lock_data_folder(data_dir: Path) -> TextIO:
    lock = (data_dir / ".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as err:
        lock.close()
        raise DataFolderInUse(f"another Vigil server is running on {data_dir}") from err
    return lock


class _Running(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass(frozen=True)
class _Components:
    """What a server runs besides its HTTP app, started and stopped with it."""

    system: SystemService
    failover: Failover
    media: MediaService
    events: CameraEvents
    ptz: PtzControl
    exports: ExportService
    rtsp: RtspService | None  # None: RTSP off (`--rtsp-port 0`)
    mesh: PeerMesh | None  # None: no peer port (`--peer-port 0`)


class VigilServer:
    """All components of one server, opened and closed together, and its HTTP app."""

    def __init__(self, app: FastAPI, opened: AsyncExitStack) -> None:
        self.app = app
        self._opened = opened

    @classmethod
    async def open(cls, config: ServerConfig, clock: Clock) -> "VigilServer":
        """Everything opened is closed again in reverse order: by `close`, or at once when
        a later part fails to start (a taken port leaves no camera connected)."""
        config.data_dir.mkdir(parents=True, exist_ok=True)
        _keep_private(config.data_dir)
        opened = AsyncExitStack()
        try:
            opened.callback(_lock_data_folder(config.data_dir).close)
            db = Database(config.database_path)
            opened.push_async_callback(db.close)
            await db.open()
            app, parts = await _build(config, clock, db)
            opened.push_async_callback(parts.ptz.close)
            started: list[_Running] = [
                parts.system, parts.media, parts.events, parts.exports, parts.failover
            ]  # fmt: skip
            if parts.rtsp is not None:
                started.append(parts.rtsp)
            if parts.mesh is not None:
                started.append(parts.mesh)
            for part in started:
                await part.start()
                opened.push_async_callback(part.stop)
        except BaseException:
            await opened.aclose()
            raise
        return cls(app, opened)

    async def close(self) -> None:
        await self._opened.aclose()


async def _build(config: ServerConfig, clock: Clock, db: Database) -> tuple[FastAPI, _Components]:
    await db.migrate("auth", auth_store.MIGRATIONS)
    identity = await load_or_create_identity(db)
    document = SystemDocument(db, clock)
    await document.open()

    roles = RoleService(Collection(document, "roles", RoleRecord))
    users = UserService(Collection(document, "users", UserRecord), roles, clock)
    passwords = Passwords()
    audit = AuditTrail(db, clock)
    sessions = Sessions(db, users, clock)
    await sessions.open()
    lockout = Lockout(db, document, users, clock)
    login = LoginService(
        document=document,
        users=users,
        passwords=passwords,
        lockout=lockout,
        throttle=LoginThrottle(clock),
        sessions=sessions,
        audit=audit,
    )
    archive = ArchiveIndex(db)
    storages = StorageService(
        document,
        Collection(document, "storages", StorageRecord),
        archive,
        audit,
        clock,
        identity.id,
    )
    servers = Collection(document, "servers", ServerRecord)
    detached = Collection(document, "detached", DetachedRecord)
    system = SystemService(
        identity=identity,
        document=document,
        system=Singleton(document, "system", SystemRecord),
        servers=servers,
        detached=detached,
        users=users,
        passwords=passwords,
        sessions=sessions,
        audit=audit,
        clock=clock,
        addresses=[f"{config.address or config.host}:{config.port}"],
        peer_port=config.peer_port,
        default_name=socket.gethostname(),
        server_defaults=lambda server_id: storages.prepare_default(
            server_id, config.data_dir / "archive"
        ),
    )
    document.on_change(system.changed)
    joining = Joining(
        identity=identity,
        system=system,
        document=document,
        servers=servers,
        detached=detached,
        users=users,
        login=login,
        audit=audit,
    )
    camera_records = Collection(document, "cameras", CameraRecord, sealed=frozenset({"password"}))
    if system.state() == "member":  # its secrets sealed (state/sealing.py)
        await document.make_key()
        if camera_records.plain_secrets():  # stored by a version before sealing
            async with document.change():
                camera_records.seal_plain()
            await document.forget_history()
    cameras = CameraService(
        document,
        camera_records,
        audit,
        clock,
        server_ids=lambda: {server_id for server_id, _ in system.servers()},
        onvif=OnvifReader(),
    )
    await archive.open()
    pool = storages.pool
    document.on_change(pool.changed)
    retention = Retention(
        archive,
        pool,
        # Any camera's: this server's archive may hold one it recorded only while standing in.
        lambda: {c.id: c.record.retention_days for c in cameras.all() if c.record.retention_days},
        clock,
    )
    mesh = None
    if config.peer_port:
        started_ms = clock.now_ms()
        cores = os.cpu_count() or 1

        def status() -> Status:
            own = sum(1 for c in cameras.all() if c.record.recording_server_id == identity.id)
            return Status(
                started_ms=started_ms,
                cameras=own,
                cameras_online=media.cameras_online(),
                load=round(os.getloadavg()[0] / cores, 2),
            )

        mesh = PeerMesh(
            key=identity.private_key,
            members=system,
            document=document,
            clock=clock,
            host=config.host,
            port=config.peer_port,
            folder=config.data_dir,
            status=status,
            on_join=joining.admit,
            on_detached=system.told_detached,
        )
        document.on_change(mesh.members_changed)
        document.on_update(mesh.broadcast)
    peers = None
    if mesh is not None:
        peers = PeerMedia(ask=mesh.ask, send=mesh.send_media, behind=mesh.behind,
                          reachable=mesh.reachable, online=mesh.online,
                          dial_target=mesh.dial_target)  # fmt: skip
    media = MediaService(identity.id, cameras.all, archive, pool, retention, clock,
                         sync_ms=round(config.sync_every_s * 1000),
                         workers=config.media_workers, log_level=config.log_level,
                         peers=peers)  # fmt: skip
    if mesh is not None and media.relays is not None and media.archive_feeds is not None:
        mesh.answer(relay.KIND, media.relays.answer)
        mesh.on_media(media.relays.received)
        mesh.accept_media(media.relays.source_of_token)
        mesh.on_connection(media.relays.connected)
        mesh.answer(archive_relay.KIND, media.archive_feeds.answer)
        mesh.on_connection(media.archive_feeds.connected)
    document.on_change(media.cameras_changed)
    events = CameraEvents(identity.id, cameras.all, clock)
    document.on_change(events.cameras_changed)
    media.record_events_of(events)
    leaving = Leaving(
        server_id=identity.id,
        document=document,
        servers=servers,
        detached=detached,
        online=lambda server_id: mesh is not None and mesh.presence(server_id).online,
        cameras=cameras.prepare_leaving,
        storages=storages.prepare_leaving,
        audit=audit,
        clock=clock,
    )

    def seen(server_id: str) -> Seen:
        if mesh is None:
            return Seen(server_id == identity.id, 0)
        presence = mesh.presence(server_id)
        return Seen(presence.online, presence.since_ms)

    def failover_settings() -> FailoverSettings | None:
        record = system.system()
        return FailoverSettings(record.failover_after_s, record.failback) if record else None

    failover = Failover(
        server_id=identity.id,
        document=document,
        records=camera_records,
        servers=lambda: [server_id for server_id, _ in system.servers()],
        seen=seen,
        settings=failover_settings,
        stand_by=media.stand_by,
        clock=clock,
    )
    ptz = PtzControl(audit)
    notifications = NotificationHub(clock)
    exports = ExportService(media, config.data_dir / "exports", notifications, audit, clock)
    ctx = ApiContext(
        clock=clock,
        system=system,
        users=users,
        roles=roles,
        audit=audit,
        cameras=cameras,
        layouts=LayoutService(
            document, Collection(document, "layouts", LayoutRecord), audit, clock
        ),
        storages=storages,
        discovery=Discovery(config.discovery_addresses),
        media=media,
        # Its own archive: a recorded picture elsewhere is asked of that server (api/snapshots.py).
        snapshots=Snapshots(media.local.cursor, media.stream_now),
        camera_events=events,
        ptz=ptz,
        notifications=notifications,
        exports=exports,
        sessions=sessions,
        accounts=Accounts(
            document=document,
            users=users,
            roles=roles,
            passwords=passwords,
            lockout=lockout,
            sessions=sessions,
            audit=audit,
        ),
        login=login,
        mesh=mesh,
        joining=joining,
        leaving=leaving,
    )
    fanout.register(ctx)
    access = Access(RULES, system, sessions, users)
    rtsp = None
    if config.rtsp_port:
        gate = RtspAccess(access, ctx.login, sessions, cameras)
        rtsp = RtspService(config.host, config.rtsp_port, media, gate)

    app = VigilApi(
        title="Vigil",
        version=__version__,
        # Served by vigil/api/docs.py, through the permission table and without a CDN.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(access.authorize)],
        login_needed={endpoint: rule.login for endpoint, rule in RULES.items()},
    )
    install_error_handlers(app)
    open_endpoints = [endpoint for endpoint, rule in RULES.items() if not rule.login]
    app.add_middleware(BodyLimit, open_endpoints=open_endpoints)
    app.add_middleware(SecurityHeaders)
    areas = (
        server_api,
        session_api,
        users_api,
        roles_api,
        audit_api,
        cameras_api,
        live_api,
        playback_api,
        timeline_api,
        snapshots_api,
        exports_api,
        notifications_api,
        camera_events_api,
        ptz_api,
        storages_api,
        layouts_api,
    )
    for area in areas:
        app.include_router(area.router(ctx))
    app.include_router(web_api.router())
    app.include_router(docs_api.router())
    check_every_route_has_a_rule(app, RULES)
    logger.info(
        "server ready",
        extra={"server_id": identity.id, "state": system.state(), "data": str(config.data_dir)},
    )
    return app, _Components(system, failover, media, events, ptz, exports, rtsp, mesh)
