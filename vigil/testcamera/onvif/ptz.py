"""ONVIF PTZ service on the camera's one pan-tilt-zoom head, in ONVIF's generic spaces.

Pan and tilt run from -1 to 1 and zoom from 0 to 1; a continuous velocity of 1 moves one unit
per second. Both media profiles share the head.
"""

import math
import time
from collections.abc import Mapping

from vigil.testcamera.camera import STREAM_NAMES, Ptz, PtzPosition
from vigil.testcamera.onvif.service import Operation
from vigil.testcamera.onvif.soap import invalid_argument, sender_fault
from vigil.testcamera.onvif.xmltree import Element, el, find, text
from vigil.testcamera.onvif.xsdtime import format_datetime, parse_duration_s

_SPACES = "http://www.onvif.org/ver10/tptz"
PAN_TILT_POSITION_SPACE = f"{_SPACES}/PanTiltSpaces/PositionGenericSpace"
ZOOM_POSITION_SPACE = f"{_SPACES}/ZoomSpaces/PositionGenericSpace"
PAN_TILT_VELOCITY_SPACE = f"{_SPACES}/PanTiltSpaces/VelocityGenericSpace"
ZOOM_VELOCITY_SPACE = f"{_SPACES}/ZoomSpaces/VelocityGenericSpace"
PTZ_CONFIGURATION_TOKEN = "ptz"  # noqa: S105 (a reference token, not a secret)
DEFAULT_TIMEOUT_S = 10.0


def ptz_configuration(tag: str) -> Element:
    return el(
        tag,
        el("tt:Name", "PTZ"),
        el("tt:UseCount", str(len(STREAM_NAMES))),
        el("tt:NodeToken", "ptz_node"),
        # "Pant" is how the ONVIF schema spells it.
        el("tt:DefaultAbsolutePantTiltPositionSpace", PAN_TILT_POSITION_SPACE),
        el("tt:DefaultAbsoluteZoomPositionSpace", ZOOM_POSITION_SPACE),
        el("tt:DefaultContinuousPanTiltVelocitySpace", PAN_TILT_VELOCITY_SPACE),
        el("tt:DefaultContinuousZoomVelocitySpace", ZOOM_VELOCITY_SPACE),
        el("tt:DefaultPTZTimeout", f"PT{DEFAULT_TIMEOUT_S:g}S"),
        token=PTZ_CONFIGURATION_TOKEN,
    )


def _position(tag: str, position: PtzPosition) -> Element:
    return el(
        tag,
        el("tt:PanTilt", x=f"{position.pan:.6g}", y=f"{position.tilt:.6g}"),
        el("tt:Zoom", x=f"{position.zoom:.6g}"),
    )


class PtzService:
    def __init__(self, head: Ptz) -> None:
        self._head = head

    def operations(self) -> Mapping[str, Operation]:
        return {
            "ContinuousMove": self.continuous_move,
            "Stop": self.stop,
            "AbsoluteMove": self.absolute_move,
            "RelativeMove": self.relative_move,
            "GetStatus": self.get_status,
            "SetPreset": self.set_preset,
            "GotoPreset": self.goto_preset,
            "GetPresets": self.get_presets,
            "RemovePreset": self.remove_preset,
        }

    async def continuous_move(self, request: Element) -> Element:
        self._check_profile(request)
        pan, tilt, zoom = _vector(request, "tptz:Velocity")
        timeout = text(request, "tptz:Timeout")
        try:
            timeout_s = DEFAULT_TIMEOUT_S if timeout is None else parse_duration_s(timeout)
        except ValueError as err:
            raise invalid_argument(str(err)) from err
        self._head.continuous_move(pan or 0.0, tilt or 0.0, zoom or 0.0, timeout_s)
        return el("tptz:ContinuousMoveResponse")

    async def stop(self, request: Element) -> Element:
        self._check_profile(request)
        self._head.stop()
        return el("tptz:StopResponse")

    async def absolute_move(self, request: Element) -> Element:
        self._check_profile(request)
        pan, tilt, zoom = _vector(request, "tptz:Position")
        # Axes left out of the request stay where they are.
        current = self._head.position()
        self._head.absolute_move(
            PtzPosition(
                current.pan if pan is None else pan,
                current.tilt if tilt is None else tilt,
                current.zoom if zoom is None else zoom,
            )
        )
        return el("tptz:AbsoluteMoveResponse")

    async def relative_move(self, request: Element) -> Element:
        self._check_profile(request)
        pan, tilt, zoom = _vector(request, "tptz:Translation")
        self._head.relative_move(pan or 0.0, tilt or 0.0, zoom or 0.0)
        return el("tptz:RelativeMoveResponse")

    async def get_status(self, request: Element) -> Element:
        self._check_profile(request)
        moving = "MOVING" if self._head.moving() else "IDLE"
        return el(
            "tptz:GetStatusResponse",
            el(
                "tptz:PTZStatus",
                _position("tt:Position", self._head.position()),
                el("tt:MoveStatus", el("tt:PanTilt", moving), el("tt:Zoom", moving)),
                el("tt:UtcTime", format_datetime(time.time())),
            ),
        )

    async def set_preset(self, request: Element) -> Element:
        self._check_profile(request)
        token = text(request, "tptz:PresetToken")
        if token is not None and token not in {p.token for p in self._head.presets()}:
            raise sender_fault("ter:InvalidArgVal/ter:NoToken", f"no preset {token!r}")
        preset = self._head.set_preset(text(request, "tptz:PresetName"), token)
        return el("tptz:SetPresetResponse", el("tptz:PresetToken", preset.token))

    async def goto_preset(self, request: Element) -> Element:
        self._check_profile(request)
        token = text(request, "tptz:PresetToken") or ""
        if not self._head.goto_preset(token):
            raise sender_fault("ter:InvalidArgVal/ter:NoToken", f"no preset {token!r}")
        return el("tptz:GotoPresetResponse")

    async def get_presets(self, request: Element) -> Element:
        self._check_profile(request)
        return el(
            "tptz:GetPresetsResponse",
            *(
                el(
                    "tptz:Preset",
                    el("tt:Name", preset.name),
                    _position("tt:PTZPosition", preset.position),
                    token=preset.token,
                )
                for preset in self._head.presets()
            ),
        )

    async def remove_preset(self, request: Element) -> Element:
        self._check_profile(request)
        token = text(request, "tptz:PresetToken") or ""
        if not self._head.remove_preset(token):
            raise sender_fault("ter:InvalidArgVal/ter:NoToken", f"no preset {token!r}")
        return el("tptz:RemovePresetResponse")

    def _check_profile(self, request: Element) -> None:
        token = text(request, "tptz:ProfileToken")
        if token not in STREAM_NAMES:
            raise sender_fault("ter:InvalidArgVal/ter:NoProfile", f"no profile {token!r}")


def _vector(request: Element, path: str) -> tuple[float | None, float | None, float | None]:
    """Pan, tilt and zoom of a PTZVector or PTZSpeed at `path`; None where left out."""
    vector = find(request, path)
    if vector is None:
        raise invalid_argument(f"{path.partition(':')[2]} is missing")
    pan_tilt = find(vector, "tt:PanTilt")
    zoom = find(vector, "tt:Zoom")
    return (
        None if pan_tilt is None else _number(pan_tilt.get("x")),
        None if pan_tilt is None else _number(pan_tilt.get("y")),
        None if zoom is None else _number(zoom.get("x")),
    )


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError as err:
        raise invalid_argument(f"{value!r} is not a number") from err
    if not math.isfinite(number):
        raise invalid_argument(f"{value!r} is not a finite number")
    return number
