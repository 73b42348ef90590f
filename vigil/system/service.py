"""The server's life from undefined to a member of a system, and the system's settings.

Creating a system writes the system record, this server's record and the owner in one
document transaction, committed before the answer: a crash leaves either an undefined server
or a whole system, never a half-made one. Joining is `joining.py`, leaving `leaving.py`.

While a member, the server keeps its own record true (version, addresses, shown again after
it was deleted while offline); once detached, it forgets the system: the document with every
secret in it, and its sessions. Its recordings and audit trail stay.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from vigil import __version__
from vigil.auth.audit import Actor, AuditTrail, audit_changes
from vigil.auth.passwords import Passwords
from vigil.auth.sessions import Sessions
from vigil.auth.users import User, UserService
from vigil.clock import Clock
from vigil.errors import Conflict, ServerUndefined
from vigil.state import Collection, Singleton, SystemDocument
from vigil.state.conflicts import Overwrite
from vigil.system.identity import ServerIdentity
from vigil.system.models import DetachedRecord, ServerRecord, ServerState, SystemRecord
from vigil.tasks import Follower

logger = logging.getLogger(__name__)


class SystemService:
    def __init__(
        self,
        *,
        identity: ServerIdentity,
        document: SystemDocument,
        system: Singleton[SystemRecord],
        servers: Collection[ServerRecord],
        detached: Collection[DetachedRecord],
        users: UserService,
        passwords: Passwords,
        sessions: Sessions,
        audit: AuditTrail,
        clock: Clock,
        addresses: list[str],
        peer_port: int,
        default_name: str,
        # What a server brings into the document when it becomes a member (its first
        # storage): prepared before the change, and then written inside it.
        server_defaults: Callable[[str], Awaitable[Callable[[], None]]],
    ) -> None:
        self._server_defaults = server_defaults
        self._identity = identity
        self._document = document
        self._system = system
        self._servers = servers
        self._detached = detached
        self._users = users
        self._passwords = passwords
        self._sessions = sessions
        self._audit = audit
        self._clock = clock
        self._addresses = addresses
        self._peer_port = peer_port
        self._default_name = default_name
        self._told_detached = False
        self._own = Follower("own server record", self._follow_own_record)

    @property
    def server_id(self) -> str:
        return self._identity.id

    def system_id(self) -> str | None:
        system = self._system.get()
        return system.id if system else None

    def records(self) -> dict[str, ServerRecord]:
        return dict(self._servers.items())

    def detached(self, server_id: str) -> bool:
        return server_id in self._detached

    async def conflicts(self, limit: int) -> list[Overwrite]:
        return await self._document.conflicts(limit)

    def state(self) -> ServerState:
        return "undefined" if self._system.get() is None else "member"

    def system(self) -> SystemRecord | None:
        return self._system.get()

    def require_system(self) -> SystemRecord:
        system = self._system.get()
        if system is None:
            raise ServerUndefined("this server is not part of a system yet")
        return system

    def server_name(self) -> str:
        record = self._servers.get(self._identity.id)
        return record.name if record else self._default_name

    def servers(self) -> list[tuple[str, ServerRecord]]:
        return sorted(self._servers.items(), key=lambda item: item[1].name.casefold())

    async def start(self) -> None:
        self._own.start()

    async def stop(self) -> None:
        await self._own.stop()

    def changed(self) -> None:
        """The document changed (here or by a peer): this server's record is looked at."""
        self._own.changed()

    def told_detached(self) -> None:
        """A member refused this server as detached: it forgets the system."""
        self._told_detached = True
        self._own.changed()

    async def _follow_own_record(self) -> None:
        if self._system.get() is None:
            return
        me = self._identity.id
        record = self._servers.get(me)
        if self._told_detached or (record is None and me in self._detached):
            await self._forget()
            return
        if record is None:
            return  # joined, and the document that lists it not here yet
        fields = {
            "version": __version__,
            "addresses": self._addresses,
            "peer_port": self._peer_port,
            "hidden": False,  # deleted while offline: back, it shows again
        }
        if any(getattr(record, key) != value for key, value in fields.items()):
            async with self._document.change():
                self._servers.update(me, fields)

    async def _forget(self) -> None:
        system = self._system.get()
        self._told_detached = False
        await self._document.clear()
        await self._sessions.end_all()
        await self._audit.record(
            Actor(None, "", "this server"),
            "system.detached",
            target=system.id if system else None,
            details={"before": {"system_name": system.name if system else ""}},
        )
        logger.warning("this server was detached from its system; it is undefined now")

    async def create(
        self,
        *,
        system_name: str,
        server_name: str,
        owner_name: str,
        owner_password: str,
        address: str,
    ) -> tuple[SystemRecord, User]:
        if self._system.get() is not None:
            raise Conflict("this server belongs to a system already")
        password_hash = await self._passwords.hash(owner_password)
        await self._document.make_key()  # the new system's, before any secret is written
        record = SystemRecord(
            id=uuid.uuid4().hex, name=system_name, created_ms=self._clock.now_ms()
        )
        write_defaults = await self.prepare_defaults()
        async with self._document.change():
            # Checked again inside the change: another request may have created it meanwhile.
            if self._system.get() is not None:
                raise Conflict("this server belongs to a system already")
            write_defaults()
            self._system.set(record)
            self._servers.insert(self._identity.id, self.own_record(server_name))
            owner = self._users.create_owner(owner_name, password_hash)
        await self._audit.record(
            Actor(owner.id, owner.record.name, address),
            "system.create",
            target=record.id,
            details={
                "after": {
                    "system_name": system_name,
                    "server_name": server_name,
                    "owner": owner_name,
                }
            },
        )
        logger.info("system created", extra={"system_id": record.id, "system": system_name})
        return record, owner

    async def update(self, actor: User, address: str, changes: dict[str, Any]) -> SystemRecord:
        """Change the system's settings (name, failover): only the fields given."""
        before = self.require_system()
        async with self._document.change():
            self._system.update(changes)
        after = self.require_system()
        details = audit_changes(before.model_dump(), after.model_dump(), frozenset())
        await self._audit.record(
            Actor(actor.id, actor.record.name, address), "system.edit", target=before.id,
            details=details,
        )  # fmt: skip
        return after

    async def prepare_defaults(self) -> Callable[[], None]:
        """What this server brings into the document as it becomes a member (its storage),
        to write inside the change that makes it one."""
        return await self._server_defaults(self._identity.id)

    def own_record(self, name: str) -> ServerRecord:
        """This server's record as it writes it, under `name`."""
        return ServerRecord(
            name=name,
            version=__version__,
            addresses=self._addresses,
            peer_port=self._peer_port,
            public_key=self._identity.public_key,
        )
