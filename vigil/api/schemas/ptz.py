from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

from vigil.api.schemas.common import Name, Request
from vigil.cameras.ptz import PtzPreset, PtzVector

# ONVIF's generic spaces (vigil.cameras.ptz): strict, so true and "0.5" are refused, not read.
Axis = Annotated[float, Field(strict=True, ge=-1, le=1, allow_inf_nan=False)]
ZoomPosition = Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]
# A move nobody stops still ends: a client that vanishes mid-move does not leave it turning.
DEFAULT_MOVE_MS = 10_000


class PtzMove(Request):
    """Velocities: 1 is the camera's fastest, the sign the direction; axes left out stay."""

    pan: Axis = 0.0  # positive: right
    tilt: Axis = 0.0  # positive: up
    zoom: Axis = 0.0  # positive: in (tele)
    timeout_ms: Annotated[StrictInt, Field(ge=100, le=60_000)] = DEFAULT_MOVE_MS

    def velocity(self) -> PtzVector:
        return PtzVector(self.pan, self.tilt, self.zoom)


class PtzAbsolute(Request):
    pan: Axis
    tilt: Axis
    zoom: ZoomPosition

    def position(self) -> PtzVector:
        return PtzVector(self.pan, self.tilt, self.zoom)


class PtzRelative(Request):
    """A step from where the head is: `{"zoom": 0.1}` zooms in a little."""

    pan: Axis = 0.0
    tilt: Axis = 0.0
    zoom: Axis = 0.0

    def step(self) -> PtzVector:
        return PtzVector(self.pan, self.tilt, self.zoom)


class PresetCreate(Request):
    name: Name


class PresetCreated(BaseModel):
    token: str  # the camera's reference, for going to and removing the preset
    name: str


class PositionOut(BaseModel):
    pan: float
    tilt: float
    zoom: float


class PresetOut(BaseModel):
    token: str
    name: str
    position: PositionOut | None  # null when the camera does not say


class PresetList(BaseModel):
    presets: list[PresetOut]


def preset_out(preset: PtzPreset) -> PresetOut:
    at = preset.position
    position = None if at is None else PositionOut(pan=at.pan, tilt=at.tilt, zoom=at.zoom)
    return PresetOut(token=preset.token, name=preset.name, position=position)
