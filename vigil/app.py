"""Builds a server from its parts: the only place that wires components together."""

import fcntl
import logging
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
from vigil.api.context import ApiContext
from vigil.api.endpoints import VigilApi
from vigil.api.errors import install_error_handlers
from vigil.api.rtsp import RtspAccess
from vigil.auth import store as auth_store
from vigil.auth.accounts import Accounts
from vigil.auth.audit import AuditTrail
from vigil.auth.lockout import Lockout
from vigil.auth.login import LoginService
from vigil.auth.passwords import Passwords
from vigil.auth.roles import RoleRecord, RoleService
from vigil.auth.sessions import Sessions
from vigil.auth.users import UserRecord, UserService
from vigil.cameras.discovery import Discovery
from vigil.cameras.events import CameraEvents
from vigil.cameras.models import CameraRecord
from vigil.cameras.onvif import OnvifReader
from vigil.cameras.ptz import PtzControl
from vigil.cameras.service import CameraService
from vigil.clock import Clock
from vigil.config import ServerConfig
from vigil.media.archive.index import ArchiveIndex
from vigil.media.export.service import ExportService
from vigil.media.rtsp.service import RtspService
from vigil.media.service import MediaService
from vigil.media.snapshot import Snapshots
from vigil.media.storage.models import StorageRecord
from vigil.media.storage.retention import Retention
from vigil.media.storage.service import StorageService
from vigil.notifications import NotificationHub
from vigil.state import Collection, Database, Singleton, SystemDocument
from vigil.system.identity import load_or_create_identity
from vigil.system.models import ServerRecord, SystemRecord
from vigil.system.service import SystemService

logger = logging.getLogger(__name__)


class DataFolderInUse(Exception):
    """Another server runs on this data folder; two would corrupt each other's state."""


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

    media: MediaService
    events: CameraEvents
    ptz: PtzControl
    exports: ExportService
    rtsp: RtspService | None  # None: RTSP off (`--rtsp-port 0`)


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
        opened = AsyncExitStack()
        try:
            opened.callback(_lock_data_folder(config.data_dir).close)
            db = Database(config.database_path)
            opened.push_async_callback(db.close)
            await db.open()
            app, parts = await _build(config, clock, db)
            opened.push_async_callback(parts.ptz.close)
            started: list[_Running] = [parts.media, parts.events, parts.exports]
            if parts.rtsp is not None:
                started.append(parts.rtsp)
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
    document = SystemDocument(db)
    await document.open()

    roles = RoleService(Collection(document, "roles", RoleRecord))
    users = UserService(Collection(document, "users", UserRecord), roles, clock)
    passwords = Passwords()
    audit = AuditTrail(db, clock)
    sessions = Sessions(db, users, clock)
    await sessions.open()
    lockout = Lockout(db, document, users, clock)
    archive = ArchiveIndex(db)
    storages = StorageService(
        document,
        Collection(document, "storages", StorageRecord),
        archive,
        audit,
        clock,
        identity.id,
    )
    system = SystemService(
        identity=identity,
        document=document,
        system=Singleton(document, "system", SystemRecord),
        servers=Collection(document, "servers", ServerRecord),
        users=users,
        passwords=passwords,
        audit=audit,
        clock=clock,
        addresses=[f"{config.host}:{config.port}"],
        default_name=socket.gethostname(),
        server_defaults=lambda server_id: storages.prepare_default(
            server_id, config.data_dir / "archive"
        ),
    )
    await system.start()
    cameras = CameraService(
        document,
        Collection(document, "cameras", CameraRecord),
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
        lambda: {
            c.id: c.record.retention_days
            for c in cameras.all()
            if c.record.retention_days and c.record.parent_server_id == identity.id
        },
        clock,
    )
    media = MediaService(identity.id, cameras.all, archive, pool, retention, clock,
                         sync_ms=round(config.sync_every_s * 1000),
                         workers=config.media_workers, log_level=config.log_level)  # fmt: skip
    document.on_change(media.cameras_changed)
    events = CameraEvents(identity.id, cameras.all, clock)
    document.on_change(events.cameras_changed)
    media.record_events_of(events)
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
        storages=storages,
        discovery=Discovery(config.discovery_addresses),
        media=media,
        snapshots=Snapshots(media.cursor, media.stream_now),
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
        login=LoginService(
            document=document,
            users=users,
            passwords=passwords,
            lockout=lockout,
            sessions=sessions,
            audit=audit,
        ),
    )
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
    )
    install_error_handlers(app)
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
    return app, _Components(media, events, ptz, exports, rtsp)
