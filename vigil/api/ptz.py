"""PTZ: move a camera's head and keep its presets, through the camera's ONVIF PTZ service."""

from typing import Annotated

from fastapi import APIRouter, Path

from vigil.api.access import CallerDep
from vigil.api.cameras import visible_camera
from vigil.api.context import ApiContext
from vigil.api.schemas.ptz import (
    PresetCreate,
    PresetCreated,
    PresetList,
    PtzAbsolute,
    PtzMove,
    PtzRelative,
    preset_out,
)

# ONVIF's ReferenceToken is at most 64 characters.
PresetToken = Annotated[str, Path(min_length=1, max_length=64)]


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1/cameras/{camera_id}/ptz", tags=["ptz"])

    @api.post("/move", status_code=204)
    async def ptz_move(camera_id: str, body: PtzMove, caller: CallerDep) -> None:
        camera = visible_camera(ctx, caller, camera_id)
        await ctx.ptz.continuous_move(camera, body.velocity(), body.timeout_ms)

    @api.post("/stop", status_code=204)
    async def ptz_stop(camera_id: str, caller: CallerDep) -> None:
        await ctx.ptz.stop(visible_camera(ctx, caller, camera_id))

    @api.post("/absolute", status_code=204)
    async def ptz_absolute(camera_id: str, body: PtzAbsolute, caller: CallerDep) -> None:
        camera = visible_camera(ctx, caller, camera_id)
        await ctx.ptz.absolute_move(camera, body.position())

    @api.post("/relative", status_code=204)
    async def ptz_relative(camera_id: str, body: PtzRelative, caller: CallerDep) -> None:
        camera = visible_camera(ctx, caller, camera_id)
        await ctx.ptz.relative_move(camera, body.step())

    @api.get("/presets")
    async def ptz_presets(camera_id: str, caller: CallerDep) -> PresetList:
        presets = await ctx.ptz.presets(visible_camera(ctx, caller, camera_id))
        return PresetList(presets=[preset_out(preset) for preset in presets])

    @api.post("/presets", status_code=201)
    async def ptz_set_preset(
        camera_id: str, body: PresetCreate, caller: CallerDep
    ) -> PresetCreated:
        camera = visible_camera(ctx, caller, camera_id)
        token = await ctx.ptz.set_preset(caller.actor, camera, body.name)
        return PresetCreated(token=token, name=body.name)

    @api.post("/presets/{token}/go", status_code=204)
    async def ptz_goto_preset(camera_id: str, token: PresetToken, caller: CallerDep) -> None:
        await ctx.ptz.goto_preset(visible_camera(ctx, caller, camera_id), token)

    @api.delete("/presets/{token}", status_code=204)
    async def ptz_remove_preset(camera_id: str, token: PresetToken, caller: CallerDep) -> None:
        camera = visible_camera(ctx, caller, camera_id)
        await ctx.ptz.remove_preset(caller.actor, camera, token)

    return api
