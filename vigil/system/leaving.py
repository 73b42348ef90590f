"""Servers leaving the system: deleted while offline (only hidden), or detached.

Detaching writes one change: the server's record goes to the detached list, its storages
leave the system and its cameras are removed or given to the online servers. The detached
server learns it from that change when it is online, or from the first member that refuses
it when it comes back; either way it forgets the system (`SystemService`). See
docs/design/system.md.
"""

import logging
from collections.abc import Callable

from vigil.auth.audit import Actor, AuditTrail
from vigil.auth.roles import OWNER
from vigil.auth.users import User
from vigil.clock import Clock
from vigil.errors import Conflict, Forbidden, NotFound
from vigil.state import Collection, SystemDocument
from vigil.system.models import DetachedRecord, ServerRecord

logger = logging.getLogger(__name__)

# Another part's writes when a server leaves, made inside the change: cameras (removed, or
# given to the online servers listed, with what moved where) and storages.
CamerasLeaving = Callable[[str, bool, list[str]], Callable[[], dict[str, str]]]
StoragesLeaving = Callable[[str], Callable[[], None]]


class Leaving:
    def __init__(
        self,
        *,
        server_id: str,
        document: SystemDocument,
        servers: Collection[ServerRecord],
        detached: Collection[DetachedRecord],
        online: Callable[[str], bool],
        cameras: CamerasLeaving,
        storages: StoragesLeaving,
        audit: AuditTrail,
        clock: Clock,
    ) -> None:
        self._server_id = server_id
        self._document = document
        self._servers = servers
        self._detached = detached
        self._online = online
        self._cameras = cameras
        self._storages = storages
        self._audit = audit
        self._clock = clock

    async def delete(self, actor: User, address: str, server_id: str) -> None:
        """Hide an offline server from the system's lists; when it comes back online it
        shows again, and works as before (its cameras stay its own)."""
        record = self._require(server_id)
        if server_id == self._server_id or self._online(server_id):
            raise Conflict("only an offline server can be deleted; detach an online one")
        async with self._document.change():
            self._require(server_id)
            self._servers.update(server_id, {"hidden": True})
        details = {"before": {"name": record.name}}
        await self._audit.record(Actor(actor.id, actor.record.name, address), "server.delete",
                                 target=server_id, details=details)  # fmt: skip

    async def detach(self, actor: User, address: str, server_id: str, keep_cameras: bool) -> None:
        """Take a server out of the system (the owner only). Its cameras are removed, or,
        with `keep_cameras`, given to the online servers with the fewest first."""
        if actor.record.role_id != OWNER:
            raise Forbidden("only the owner detaches a server")
        record = self._require(server_id)
        online = [
            other
            for other, _ in self._servers.items()
            if other != server_id and (other == self._server_id or self._online(other))
        ]
        if not online:
            raise Conflict("a system keeps at least one server: this one is its last online")
        cameras = self._cameras(server_id, keep_cameras, online)
        storages = self._storages(server_id)
        async with self._document.change():
            self._require(server_id)
            moved = cameras()
            storages()
            self._servers.delete(server_id)
            self._detached.insert(
                server_id,
                DetachedRecord(name=record.name, public_key=record.public_key,
                               detached_ms=self._clock.now_ms()),
            )  # fmt: skip
        names = dict(self._servers.items())
        details = {
            "before": {"name": record.name},
            "cameras": "kept" if keep_cameras else "removed",
            "moved": {
                camera: names[parent].name for camera, parent in moved.items() if parent in names
            },
        }
        await self._audit.record(Actor(actor.id, actor.record.name, address), "server.detach",
                                 target=server_id, details=details)  # fmt: skip
        logger.info("a server was detached", extra={"server": server_id, "cameras": len(moved)})

    def _require(self, server_id: str) -> ServerRecord:
        record = self._servers.get(server_id)
        if record is None:
            raise NotFound(f"no server {server_id!r} in this system")
        return record
