"""Joining a system: an undefined server asks a member (`join`), the member lets it in
(`admit`). The owner's credentials are checked by the member like a login, so wrong ones
count towards the owner's lock-out on every server. See docs/design/system.md.
"""

import asyncio
import http.client
import json
import logging
from typing import Any

from vigil.auth.audit import Actor, AuditTrail
from vigil.auth.login import LoginService
from vigil.auth.roles import OWNER
from vigil.auth.users import UserService
from vigil.errors import Conflict, Forbidden, PeerUnreachable
from vigil.state import Collection, SystemDocument, read_root
from vigil.system.identity import ServerIdentity
from vigil.system.models import DetachedRecord, ServerRecord, SystemRecord
from vigil.system.peers import handshake
from vigil.system.peers.join import request_join
from vigil.system.peers.messages import Challenge, JoinRequest
from vigil.system.service import SystemService

ASK_TIMEOUT_S = 10.0
MAX_INFO_BYTES = 64 * 1024  # of a member's `GET /server`, which is a few hundred bytes

logger = logging.getLogger(__name__)


class Joining:
    def __init__(
        self,
        *,
        identity: ServerIdentity,
        system: SystemService,
        document: SystemDocument,
        servers: Collection[ServerRecord],
        detached: Collection[DetachedRecord],
        users: UserService,
        login: LoginService,
        audit: AuditTrail,
    ) -> None:
        self._identity = identity
        self._system = system
        self._document = document
        self._servers = servers
        self._detached = detached
        self._users = users
        self._login = login
        self._audit = audit

    async def join(
        self,
        *,
        member_address: str,
        owner_name: str,
        owner_password: str,
        server_name: str,
        address: str,
    ) -> SystemRecord:
        """Make this undefined server a member of the system of the server at
        `member_address` (host:port of its API), given the owner's credentials."""
        if self._system.system() is not None:
            raise Conflict("this server belongs to a system already: detach it first")
        host, peer_port = await _peer_port_of(member_address)
        own = self._system.own_record(server_name)

        def request(challenge: Challenge) -> JoinRequest:
            signature = handshake.sign(
                self._identity.private_key,
                challenge.system_id or "",
                challenge.server_id,
                self._identity.id,
                challenge.nonce,
            )
            return JoinRequest(
                owner_name=owner_name,
                owner_password=owner_password,
                server_id=self._identity.id,
                server_name=server_name,
                public_key=own.public_key,
                addresses=own.addresses,
                peer_port=own.peer_port,
                version=own.version,
                signature=signature,
            )

        document, system_key, member_id, member_key = await request_join(host, peer_port, request)
        try:
            servers = read_root(document, "servers")
            system = SystemRecord.model_validate(read_root(document, "system"))
        except ValueError as err:
            raise PeerUnreachable("the server sent a broken document", field="address") from err
        listed = servers.get(member_id, {}).get("public_key")
        if listed is None or handshake.raw_key(listed) != member_key:
            raise PeerUnreachable(
                "the server that answered is not the one its system lists", field="address"
            )
        write_defaults = await self._system.prepare_defaults()
        if self._system.system() is not None:  # another join or create got here first
            raise Conflict("this server belongs to a system already: detach it first")
        await self._document.replace(document, system_key)
        async with self._document.change():
            write_defaults()
        owner = self._users.find_by_name(owner_name)
        await self._audit.record(
            Actor(owner.id if owner else None, owner_name, address),
            "system.join",
            target=system.id,
            details={"after": {"system_name": system.name, "server_name": server_name}},
        )
        logger.info("joined a system", extra={"system_id": system.id, "system": system.name})
        return system

    async def admit(self, request: JoinRequest, address: str) -> tuple[bytes, bytes]:
        """Add the server asking to join, if the owner's credentials are right; the whole
        document and the system key for it. Wrong ones count against the owner's lock-out,
        here as at login."""
        system = self._system.require_system()
        user = await self._login.check(
            request.owner_name, request.owner_password, address, via="join"
        )
        if user.record.role_id != OWNER:
            raise Forbidden("only the owner's credentials add a server to the system")
        record = ServerRecord(
            name=request.server_name,
            version=request.version,
            addresses=request.addresses,
            peer_port=request.peer_port,
            public_key=request.public_key,
        )
        async with self._document.change():
            self._check_new_server(request.server_id, record)
            self._servers.insert(request.server_id, record)
            if request.server_id in self._detached:  # detached once, welcome again
                self._detached.delete(request.server_id)
        await self._audit.record(
            Actor(user.id, user.record.name, address),
            "server.join",
            target=request.server_id,
            details={"after": {"name": record.name, "addresses": record.addresses}},
        )
        logger.info("a server joined", extra={"server": request.server_id, "system": system.id})
        key = self._document.key
        if key is None:  # a member always has one (made with the system, or at start)
            raise RuntimeError("a member without a system key")
        return self._document.updates_since(None), key

    def _check_new_server(self, server_id: str, record: ServerRecord) -> None:
        for other_id, other in self._servers.items():
            if other_id == server_id or other.public_key == record.public_key:
                raise Conflict("this server is a member already: detach it first")
            if other.name.casefold() == record.name.casefold():
                raise Conflict(
                    f"the system has a server named {other.name!r} already", field="server_name"
                )


async def _peer_port_of(member_address: str) -> tuple[str, int]:
    """Where the server whose API is at `member_address` answers other servers."""
    host = member_address.rsplit(":", 1)[0].strip("[]")
    try:
        info = await asyncio.to_thread(_server_info, member_address)
        return host, int(info["peer_port"])
    except (OSError, ValueError, KeyError, TypeError, http.client.HTTPException) as err:
        raise PeerUnreachable(
            f"no Vigil server answers at {member_address}", field="address"
        ) from err


def _server_info(member_address: str) -> dict[str, Any]:
    """`GET /api/v1/server` of a member, blocking. The standard library's client, once per
    join: an HTTP client library kept for it would weigh on the server's memory for ever
    (aiohttp: 7 MB, docs/design/system.md)."""
    connection = http.client.HTTPConnection(member_address, timeout=ASK_TIMEOUT_S)
    try:
        connection.request("GET", "/api/v1/server")
        answer = connection.getresponse()
        if answer.status != 200:
            raise ValueError(f"answered {answer.status}")
        info = json.loads(answer.read(MAX_INFO_BYTES))
    finally:
        connection.close()
    if not isinstance(info, dict):
        raise ValueError("not a JSON object")
    return info
