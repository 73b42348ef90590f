"""The server's life from undefined to a member of a system, and the system's settings.

Creating a system writes the system record, this server's record and the owner in one
document transaction, committed before the answer: a crash leaves either an undefined server
or a whole system, never a half-made one.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable

from vigil import __version__
from vigil.auth.audit import Actor, AuditTrail
from vigil.auth.passwords import Passwords
from vigil.auth.users import User, UserService
from vigil.clock import Clock
from vigil.errors import Conflict, ServerUndefined
from vigil.state import Collection, Singleton, SystemDocument
from vigil.system.identity import ServerIdentity
from vigil.system.models import ServerRecord, ServerState, SystemRecord

logger = logging.getLogger(__name__)


class SystemService:
    def __init__(
        self,
        *,
        identity: ServerIdentity,
        document: SystemDocument,
        system: Singleton[SystemRecord],
        servers: Collection[ServerRecord],
        users: UserService,
        passwords: Passwords,
        audit: AuditTrail,
        clock: Clock,
        addresses: list[str],
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
        self._users = users
        self._passwords = passwords
        self._audit = audit
        self._clock = clock
        self._addresses = addresses
        self._default_name = default_name

    @property
    def server_id(self) -> str:
        return self._identity.id

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
        """Bring this server's own record up to date (version and addresses change)."""
        record = self._servers.get(self._identity.id)
        if record is None:
            return
        fields = {"version": __version__, "addresses": self._addresses}
        if any(getattr(record, key) != value for key, value in fields.items()):
            async with self._document.change():
                self._servers.update(self._identity.id, fields)

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
        record = SystemRecord(
            id=uuid.uuid4().hex, name=system_name, created_ms=self._clock.now_ms()
        )
        write_defaults = await self._server_defaults(self._identity.id)
        async with self._document.change():
            # Checked again inside the change: another request may have created it meanwhile.
            if self._system.get() is not None:
                raise Conflict("this server belongs to a system already")
            write_defaults()
            self._system.set(record)
            self._servers.insert(
                self._identity.id,
                ServerRecord(
                    name=server_name,
                    version=__version__,
                    addresses=self._addresses,
                    public_key=self._identity.public_key,
                ),
            )
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

    async def rename(self, actor: User, address: str, name: str) -> SystemRecord:
        before = self.require_system()
        async with self._document.change():
            self._system.update({"name": name})
        await self._audit.record(
            Actor(actor.id, actor.record.name, address),
            "system.edit",
            target=before.id,
            details={"before": {"name": before.name}, "after": {"name": name}},
        )
        return before.model_copy(update={"name": name})
