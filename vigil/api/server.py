"""The server itself and its system: what a login screen shows, creating a system."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from vigil import __version__
from vigil.api import fanout
from vigil.api.access import CallerDep, client_address, token_of
from vigil.api.context import ApiContext
from vigil.api.schemas.system import (
    ConflictOut,
    ConflictsOut,
    MediaWorkerOut,
    MediaWorkersOut,
    ServerDetach,
    ServerInfo,
    ServerOut,
    ServersOut,
    SystemCreate,
    SystemCreated,
    SystemJoin,
    SystemJoined,
    SystemOut,
    SystemRef,
    SystemUpdate,
)
from vigil.system.peers.mesh import Presence


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["server and system"])

    def presence(server_id: str) -> Presence:
        if ctx.mesh is not None:
            return ctx.mesh.presence(server_id)
        here = server_id == ctx.system.server_id
        return Presence(here, ctx.clock.now_ms() if not here else 0, None)

    def servers_out() -> list[ServerOut]:
        servers = []
        for server_id, record in ctx.system.servers():
            if record.hidden:
                continue
            seen = presence(server_id)
            status = seen.status
            servers.append(
                ServerOut(
                    id=server_id,
                    **record.model_dump(include={"name", "version", "addresses", "public_key"}),
                    connected=server_id == ctx.system.server_id,
                    online=seen.online,
                    since_ms=seen.since_ms,
                    cameras=status.cameras if status else None,
                    cameras_online=status.cameras_online if status else None,
                    load=status.load if status else None,
                )
            )
        return servers

    def system_out() -> SystemOut:
        system = ctx.system.require_system()
        return SystemOut(**system.model_dump(), servers=servers_out())

    @api.get("/server")
    async def get_server(request: Request) -> ServerInfo:
        """This server and, once it has one, its system. No login needed."""
        system = ctx.system.system()
        token = token_of(request)
        return ServerInfo(
            id=ctx.system.server_id,
            name=ctx.system.server_name(),
            version=__version__,
            state=ctx.system.state(),
            system=SystemRef(id=system.id, name=system.name) if system else None,
            peer_port=ctx.mesh.port if ctx.mesh is not None else 0,
            logged_in=token is not None and await ctx.sessions.resolve(token) is not None,
        )

    @api.get("/server/media")
    async def get_media_workers(_: CallerDep) -> MediaWorkersOut:
        """The processes that pull and record this server's cameras, and how they fare."""
        workers = [MediaWorkerOut(**vars(worker)) for worker in ctx.media.workers()]
        return MediaWorkersOut(workers=workers)

    @api.post("/system", status_code=201)
    async def create_system(body: SystemCreate, request: Request) -> SystemCreated:
        """Make this undefined server a one-server system with its owner."""
        system, owner = await ctx.system.create(
            system_name=body.system_name,
            server_name=body.server_name,
            owner_name=body.owner_name,
            owner_password=body.owner_password,
            address=client_address(request),
        )
        return SystemCreated(system=SystemRef(id=system.id, name=system.name), owner_id=owner.id)

    @api.post("/system/join", status_code=201)
    async def join_system(body: SystemJoin, request: Request) -> SystemJoined:
        """Make this undefined server a member of the system of the server at `address`
        (host:port of its API), given its owner's name and password."""
        system = await ctx.joining.join(
            member_address=body.address,
            owner_name=body.owner_name,
            owner_password=body.owner_password,
            server_name=body.server_name,
            address=client_address(request),
        )
        return SystemJoined(
            system=SystemRef(id=system.id, name=system.name), server_id=ctx.system.server_id
        )

    @api.get("/system")
    async def get_system(_: CallerDep) -> SystemOut:
        return system_out()

    @api.delete("/system/servers/{server_id}", status_code=204)
    async def delete_server(server_id: str, caller: CallerDep) -> None:
        """Hide an offline server; it shows again when it comes back online."""
        await ctx.leaving.delete(caller.user, caller.address, server_id)

    @api.post("/system/servers/{server_id}/detach", status_code=204)
    async def detach_server(server_id: str, body: ServerDetach, caller: CallerDep) -> None:
        """Take a server out of the system (the owner only): it becomes undefined, keeps its
        recordings and forgets the system; every other server refuses it from then on."""
        await ctx.leaving.detach(caller.user, caller.address, server_id, body.cameras == "keep")

    @api.get("/system/conflicts")
    async def get_conflicts(
        _: CallerDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> ConflictsOut:
        """Values that concurrent writes overwrote when servers met after a partition, on
        every server (each logs its own losses), newest first."""
        gathered = await fanout.everywhere(ctx, "conflicts", {"limit": limit})
        found = sorted(
            (ConflictOut(lost_on=server_id, **c) for server_id, answer in
             gathered.answers.items() for c in answer["conflicts"]),
            key=lambda c: (c.at_ms, c.lost_on, c.id), reverse=True,
        )  # fmt: skip
        return ConflictsOut(conflicts=found[:limit], partial=bool(gathered.missing),
                            missing_servers=gathered.missing)  # fmt: skip

    @api.get("/system/servers")
    async def get_servers(_: CallerDep) -> ServersOut:
        """The servers of the system, online or not, as this server sees them now."""
        return ServersOut(servers=servers_out())

    @api.patch("/system")
    async def update_system(body: SystemUpdate, caller: CallerDep) -> SystemOut:
        await ctx.system.update(caller.user, caller.address, body.model_dump(exclude_none=True))
        return system_out()

    return api


@fanout.answers("conflicts")
async def conflicts_here(ctx: ApiContext, body: dict[str, Any]) -> dict[str, Any]:
    found = await ctx.system.conflicts(body["limit"])
    return {
        "conflicts": [
            {
                "id": c.id,
                "at_ms": c.at_ms,
                "kind": c.root,
                "record_id": c.record,
                "field": c.field,
                "overwritten": _hidden(c.root, c.field, c.overwritten),
                "kept": _hidden(c.root, c.field, c.kept),
                "server_id": c.peer,
            }
            for c in found
        ]
    }


# Fields no answer shows, whatever it is about: password hashes, camera passwords (sealed).
_SECRETS = {"users": {"password_hash"}, "cameras": {"password"}}
HIDDEN = "(hidden)"


def _hidden(kind: str, field: str, value: Any) -> Any:
    """A conflict's value with its secrets hidden (a field, or fields of a whole record)."""
    secrets = _SECRETS.get(kind, set())
    if field in secrets:
        return HIDDEN if value else value
    if field == "" and isinstance(value, dict):
        return {k: HIDDEN if k in secrets and v else v for k, v in value.items()}
    return value
