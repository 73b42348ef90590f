"""PTZ: move a camera's head and keep its presets, through the camera's ONVIF PTZ service."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path

from vigil.api import fanout
from vigil.api.access import Caller, CallerDep
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
from vigil.auth.audit import Actor
from vigil.cameras.ptz import PtzPreset, PtzVector
from vigil.errors import NotFound

# ONVIF's ReferenceToken is at most 64 characters.
# An ONVIF ReferenceToken: up to 64 characters; no control character reaches the camera.
PresetToken = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1/cameras/{camera_id}/ptz", tags=["ptz"])

    async def ptz(caller: Caller, camera_id: str, op: str, **args: Any) -> dict[str, Any]:
        """Done by the server that records the camera: it reaches the camera's network."""
        camera = visible_camera(ctx, caller, camera_id)
        actor = caller.actor
        body = {"camera_id": camera.id, "op": op, "args": args,
                "actor": [actor.user_id, actor.user_name, actor.address]}  # fmt: skip
        return await fanout.at(ctx, camera.record.recording_server_id, "ptz", body)

    @api.post("/move", status_code=204)
    async def ptz_move(camera_id: str, body: PtzMove, caller: CallerDep) -> None:
        await ptz(caller, camera_id, "move", velocity=asdict(body.velocity()),
                  timeout_ms=body.timeout_ms)  # fmt: skip

    @api.post("/stop", status_code=204)
    async def ptz_stop(camera_id: str, caller: CallerDep) -> None:
        await ptz(caller, camera_id, "stop")

    @api.post("/absolute", status_code=204)
    async def ptz_absolute(camera_id: str, body: PtzAbsolute, caller: CallerDep) -> None:
        await ptz(caller, camera_id, "absolute", vector=asdict(body.position()))

    @api.post("/relative", status_code=204)
    async def ptz_relative(camera_id: str, body: PtzRelative, caller: CallerDep) -> None:
        await ptz(caller, camera_id, "relative", vector=asdict(body.step()))

    @api.get("/presets")
    async def ptz_presets(camera_id: str, caller: CallerDep) -> PresetList:
        found = await ptz(caller, camera_id, "presets")
        return PresetList(presets=[preset_out(_preset(p)) for p in found["presets"]])

    @api.post("/presets", status_code=201)
    async def ptz_set_preset(
        camera_id: str, body: PresetCreate, caller: CallerDep
    ) -> PresetCreated:
        made = await ptz(caller, camera_id, "set_preset", name=body.name)
        return PresetCreated(token=made["token"], name=body.name)

    @api.post("/presets/{token}/go", status_code=204)
    async def ptz_goto_preset(camera_id: str, token: PresetToken, caller: CallerDep) -> None:
        await ptz(caller, camera_id, "goto_preset", token=token)

    @api.delete("/presets/{token}", status_code=204)
    async def ptz_remove_preset(camera_id: str, token: PresetToken, caller: CallerDep) -> None:
        await ptz(caller, camera_id, "remove_preset", token=token)

    return api


@fanout.answers("ptz")
async def ptz_here(ctx: ApiContext, body: dict[str, Any]) -> dict[str, Any]:
    """A PTZ request for a camera this server records (asked here, or by a peer)."""
    camera = ctx.cameras.require(body["camera_id"])
    op, args = body["op"], body["args"]
    actor = Actor(*body["actor"])
    if op == "move":
        await ctx.ptz.continuous_move(camera, PtzVector(**args["velocity"]), args["timeout_ms"])
    elif op == "stop":
        await ctx.ptz.stop(camera)
    elif op == "absolute":
        await ctx.ptz.absolute_move(camera, PtzVector(**args["vector"]))
    elif op == "relative":
        await ctx.ptz.relative_move(camera, PtzVector(**args["vector"]))
    elif op == "presets":
        return {"presets": [asdict(preset) for preset in await ctx.ptz.presets(camera)]}
    elif op == "set_preset":
        return {"token": await ctx.ptz.set_preset(actor, camera, args["name"])}
    elif op == "goto_preset":
        await ctx.ptz.goto_preset(camera, args["token"])
    elif op == "remove_preset":
        await ctx.ptz.remove_preset(actor, camera, args["token"])
    else:
        raise NotFound(f"no PTZ operation {op!r}")
    return {}


def _preset(fields: dict[str, Any]) -> PtzPreset:
    position = fields["position"]
    return PtzPreset(fields["token"], fields["name"], PtzVector(**position) if position else None)
