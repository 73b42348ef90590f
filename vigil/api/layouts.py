"""Layouts: the caller's own and the shared ones their role reaches (vigil/layouts)."""

from fastapi import APIRouter

from vigil.api.access import CallerDep
from vigil.api.context import ApiContext
from vigil.api.schemas.common import changes_of
from vigil.api.schemas.layouts import LayoutCreate, LayoutList, LayoutOut, LayoutUpdate
from vigil.layouts.service import Layout


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1/layouts", tags=["layouts"])

    @api.get("")
    async def list_layouts(caller: CallerDep) -> LayoutList:
        layouts = ctx.layouts.reached_by(caller.user, caller.role.rights)
        return LayoutList(layouts=[LayoutOut.of(layout) for layout in sorted(layouts, key=_order)])

    @api.post("", status_code=201)
    async def create_layout(body: LayoutCreate, caller: CallerDep) -> LayoutOut:
        layout = await ctx.layouts.add(
            caller.actor, caller.user, body.name, body.grid, shared=body.shared
        )
        return LayoutOut.of(layout)

    @api.get("/{layout_id}")
    async def get_layout(layout_id: str, caller: CallerDep) -> LayoutOut:
        return LayoutOut.of(ctx.layouts.require(caller.user, caller.role.rights, layout_id))

    @api.patch("/{layout_id}")
    async def update_layout(layout_id: str, body: LayoutUpdate, caller: CallerDep) -> LayoutOut:
        layout = await ctx.layouts.update(
            caller.actor, caller.user, caller.role.rights, layout_id, changes_of(body)
        )
        return LayoutOut.of(layout)

    @api.delete("/{layout_id}", status_code=204)
    async def delete_layout(layout_id: str, caller: CallerDep) -> None:
        await ctx.layouts.delete(caller.actor, caller.user, caller.role.rights, layout_id)

    return api


def _order(layout: Layout) -> tuple[bool, str]:
    """The caller's own first, then the shared ones; by name."""
    return (layout.record.owner_id is None, layout.record.name.casefold())
