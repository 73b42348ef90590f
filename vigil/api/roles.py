"""Roles: the built-in ones (read only) and custom roles."""

from fastapi import APIRouter

from vigil.api.access import CallerDep
from vigil.api.context import ApiContext
from vigil.api.schemas.common import changes_of
from vigil.api.schemas.roles import RoleCreate, RoleList, RoleOut, RoleUpdate
from vigil.auth.roles import RoleRecord


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1/roles", tags=["roles"])

    @api.get("")
    async def list_roles(_: CallerDep) -> RoleList:
        return RoleList(roles=[RoleOut.of(role) for role in ctx.roles.all()])

    @api.post("", status_code=201)
    async def create_role(body: RoleCreate, caller: CallerDep) -> RoleOut:
        record = RoleRecord.model_validate(body.model_dump())
        return RoleOut.of(await ctx.accounts.create_role(caller.user, caller.address, record))

    @api.get("/{role_id}")
    async def get_role(role_id: str, _: CallerDep) -> RoleOut:
        return RoleOut.of(ctx.roles.require(role_id))

    @api.patch("/{role_id}")
    async def update_role(role_id: str, body: RoleUpdate, caller: CallerDep) -> RoleOut:
        role = await ctx.accounts.update_role(
            caller.user, caller.address, role_id, changes_of(body)
        )
        return RoleOut.of(role)

    @api.delete("/{role_id}", status_code=204)
    async def delete_role(role_id: str, caller: CallerDep) -> None:
        await ctx.accounts.delete_role(caller.user, caller.address, role_id)

    return api
