"""What the routers are given: the server's components, passed in by `vigil.app`."""

from dataclasses import dataclass

from vigil.auth.accounts import Accounts
from vigil.auth.audit import AuditTrail
from vigil.auth.login import LoginService
from vigil.auth.roles import RoleService
from vigil.auth.sessions import Sessions
from vigil.auth.users import UserService
from vigil.cameras.discovery import Discovery
from vigil.cameras.events import CameraEvents
from vigil.cameras.ptz import PtzControl
from vigil.cameras.service import CameraService
from vigil.clock import Clock
from vigil.layouts.service import LayoutService
from vigil.media.export.service import ExportService
from vigil.media.service import MediaService
from vigil.media.snapshot import Snapshots
from vigil.media.storage.service import StorageService
from vigil.notifications import NotificationHub
from vigil.system.joining import Joining
from vigil.system.leaving import Leaving
from vigil.system.peers.mesh import PeerMesh
from vigil.system.service import SystemService


@dataclass(frozen=True)
class ApiContext:
    clock: Clock
    system: SystemService
    users: UserService
    roles: RoleService
    accounts: Accounts
    login: LoginService
    sessions: Sessions
    audit: AuditTrail
    cameras: CameraService
    layouts: LayoutService
    storages: StorageService
    discovery: Discovery
    media: MediaService
    snapshots: Snapshots
    camera_events: CameraEvents
    ptz: PtzControl
    notifications: NotificationHub
    exports: ExportService
    mesh: PeerMesh | None  # None: a server on its own (`--peer-port 0`)
    joining: Joining
    leaving: Leaving
