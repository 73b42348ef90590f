"""The server itself and its system: what a login screen shows, creating a system."""

from fastapi import APIRouter, Request

from vigil import __version__
from vigil.api.access import CallerDep, client_address
from vigil.api.context import ApiContext
from vigil.api.schemas.system import (
    MediaWorkerOut,
    MediaWorkersOut,
    ServerInfo,
    ServerOut,
    SystemCreate,
    SystemCreated,
    SystemOut,
    SystemRef,
    SystemUpdate,
)


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["server and system"])

    def system_out() -> SystemOut:
        system = ctx.system.require_system()
        servers = [
            ServerOut(id=server_id, **record.model_dump(exclude={"hidden"}))
            for server_id, record in ctx.system.servers()
            if not record.hidden
        ]
        return SystemOut(
            id=system.id, name=system.name, created_ms=system.created_ms, servers=servers
        )

    @api.get("/server")
    async def get_server() -> ServerInfo:
        """This server and, once it has one, its system. No login needed."""
        system = ctx.system.system()
        return ServerInfo(
            id=ctx.system.server_id,
            name=ctx.system.server_name(),
            version=__version__,
            state=ctx.system.state(),
            system=SystemRef(id=system.id, name=system.name) if system else None,
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

    @api.get("/system")
    async def get_system(_: CallerDep) -> SystemOut:
        return system_out()

    @api.patch("/system")
    async def update_system(body: SystemUpdate, caller: CallerDep) -> SystemOut:
        await ctx.system.rename(caller.user, caller.address, body.name)
        return system_out()

    return api
