"""Failover: the cameras of a server offline for a while are recorded by the online servers.

One server decides for the whole system, so that two do not take the same camera: the
online server with the smallest id, as each server sees it (on both sides of a partition
each side decides for itself; they agree again when it heals, and meanwhile a camera is at
worst recorded twice, never not at all). A camera whose recording server has been offline
for the system's `failover_after_s` and whose priority is not `never` gets an acting server:
the online one with the fewest cameras and room for one more, cameras of higher priority
first. With `failback`, a camera goes back to its parent once the parent is online again.
The change is a document change like any other; each server's media follow it.

Meanwhile every server works out what it would take were the offline servers away already
(the same plan, as the deciding server would make it) and stands by for those cameras: its
media pull them and keep what they send in memory (`stand_by`), so that the recording the
takeover starts begins where the stand-by did, seconds before the decision. The gap in a
camera's archive is then how long the stand-by took to connect, not the wait.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from vigil.cameras.balancing import MAX_CAMERAS_PER_SERVER
from vigil.cameras.models import CameraRecord
from vigil.clock import Clock
from vigil.state import Collection, SystemDocument
from vigil.tasks import Supervised

logger = logging.getLogger(__name__)

LOOK_EVERY_S = 0.5
STAND_BY_MARGIN_S = 5  # kept beyond the wait: the decision and the document change take time
_FIRST = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Seen:
    online: bool
    since_ms: int  # online, or offline, since then


@dataclass(frozen=True)
class FailoverSettings:
    after_s: int
    failback: bool


class Failover:
    def __init__(
        self,
        *,
        server_id: str,
        document: SystemDocument,
        records: Collection[CameraRecord],
        servers: Callable[[], list[str]],
        seen: Callable[[str], Seen],
        settings: Callable[[], FailoverSettings | None],  # None: no system
        stand_by: Callable[[set[str], int], None],  # cameras, and seconds to keep of them
        clock: Clock,
    ) -> None:
        self._server_id = server_id
        self._document = document
        self._records = records
        self._servers = servers
        self._seen = seen
        self._settings = settings
        self._stand_by = stand_by
        self._standing_by: tuple[set[str], int] = (set(), 0)
        self._clock = clock
        self._loop = Supervised("failover", self._watch)
        self._no_room: set[str] = set()  # cameras already said to have no server to go to

    async def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _watch(self) -> None:
        while True:
            await self.look()
            await asyncio.sleep(LOOK_EVERY_S)

    async def look(self) -> None:
        """Decide once, if this server is the one to decide; stand by for what it would take."""
        settings = self._settings()
        if settings is None:
            self._standing(set(), 0)
            return
        seen = {server_id: self._seen(server_id) for server_id in self._servers()}
        online = sorted(server_id for server_id, s in seen.items() if s.online)
        if self._server_id not in online:
            self._standing(set(), 0)
            return
        now = self._clock.now_ms()
        offline = {server_id: now - s.since_ms for server_id, s in seen.items() if not s.online}
        soon = self._plan(online, set(offline), settings.failback, quiet=True)
        me = self._server_id
        records = dict(self._records.items())
        self._standing({camera_id for camera_id, acting in soon.items() if acting == me
                        and records[camera_id].recording_server_id != me},
                       settings.after_s)  # fmt: skip
        if online[0] != me:
            return
        away = {server_id for server_id, for_ms in offline.items()
                if for_ms >= settings.after_s * 1000}  # fmt: skip
        moves = self._plan(online, away, settings.failback)
        if not moves:
            return
        async with self._document.change():
            for camera_id, acting in moves.items():
                if camera_id in self._records:  # deleted meanwhile
                    self._records.update(camera_id, {"acting_server_id": acting})
        for camera_id, acting in moves.items():
            logger.info("failover", extra={"camera": camera_id, "acting_server": acting})

    def _standing(self, cameras: set[str], after_s: int) -> None:
        standing = (cameras, after_s + STAND_BY_MARGIN_S if cameras else 0)
        if standing != self._standing_by:
            self._standing_by = standing
            self._stand_by(*standing)

    def _plan(
        self, online: list[str], away: set[str], failback: bool, quiet: bool = False
    ) -> dict[str, str | None]:
        records = dict(self._records.items())
        moves: dict[str, str | None] = {}
        for camera_id, record in records.items():
            if record.acting_server_id is None:
                continue
            home = record.parent_server_id
            if (home in online and failback) or home == record.acting_server_id:
                moves[camera_id] = None
        load = dict.fromkeys(online, 0)
        for camera_id, record in records.items():
            server = record.parent_server_id if camera_id in moves else record.recording_server_id
            if server in load:
                load[server] += 1
        orphans = sorted(
            (camera_id for camera_id, record in records.items()
             if record.failover != "never" and record.enabled and camera_id not in moves
             and record.recording_server_id in away),
            key=lambda camera_id: (_FIRST[records[camera_id].failover], camera_id),
        )  # fmt: skip
        for camera_id in orphans:
            parent = records[camera_id].parent_server_id
            room = [s for s in online if load[s] < MAX_CAMERAS_PER_SERVER]
            if parent in room:  # its parent back, without failback: still, at home is best
                room = [parent]
            if not room:
                if camera_id not in self._no_room and not quiet:
                    logger.warning("failover: no online server has room for a camera",
                                   extra={"camera": camera_id})  # fmt: skip
                    self._no_room.add(camera_id)
                continue
            chosen = min(room, key=lambda s: (load[s], s))
            load[chosen] += 1
            moves[camera_id] = None if chosen == parent else chosen
        return moves
