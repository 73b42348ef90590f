"""Users of the system."""

from fastapi import APIRouter

from vigil.api.access import CallerDep
from vigil.api.context import ApiContext
from vigil.api.schemas.common import changes_of
from vigil.api.schemas.users import UserCreate, UserList, UserOut, UserUpdate


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1/users", tags=["users"])

    @api.get("")
    async def list_users(_: CallerDep) -> UserList:
        now = ctx.clock.now_ms()
        return UserList(users=[UserOut.of(user, now) for user in ctx.users.all()])

    @api.post("", status_code=201)
    async def create_user(body: UserCreate, caller: CallerDep) -> UserOut:
        user = await ctx.accounts.create_user(caller.user, caller.address, **body.model_dump())
        return UserOut.of(user, ctx.clock.now_ms())

    @api.get("/{user_id}")
    async def get_user(user_id: str, _: CallerDep) -> UserOut:
        return UserOut.of(ctx.users.require(user_id), ctx.clock.now_ms())

    @api.patch("/{user_id}")
    async def update_user(user_id: str, body: UserUpdate, caller: CallerDep) -> UserOut:
        user = await ctx.accounts.update_user(
            caller.user, caller.address, user_id, changes_of(body)
        )
        return UserOut.of(user, ctx.clock.now_ms())

    @api.delete("/{user_id}", status_code=204)
    async def delete_user(user_id: str, caller: CallerDep) -> None:
        await ctx.accounts.delete_user(caller.user, caller.address, user_id)
        # Their own layouts go with them: nobody else could ever see them.
        await ctx.layouts.delete_owned_by(caller.actor, user_id)

    return api
