"""Pan, tilt and zoom over ONVIF: moves, stop and presets of a camera added by its ONVIF address.

Each camera's connection is kept between calls: opening one costs three round trips before the
first move (the clock and capabilities in `update_xaddrs`, then the media profiles for the
token PTZ requests name), and a joystick sends a move every few hundred milliseconds. A
connection is kept while the camera's address and credentials stay the same, dropped after any
failure of the camera or the way to it, and closed by the first call after `IDLE_S` without use
(or when the server stops). Idle, it holds no socket: the library lets its HTTP connections go
after 4 s without a request.

Values are in ONVIF's generic spaces, named in every request rather than left to the camera's
defaults (which a camera may set to degrees): pan and tilt from -1 to 1, zoom from 0 (wide) to
1 (tele); velocities and relative steps from -1 to 1 on every axis. Every exchange with the
camera, connecting included, is bounded by one `asyncio.timeout`, as the library's own
timeouts are 30 to 90 s.
"""

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigil.auth.audit import Actor, AuditTrail
from vigil.cameras.errors import CameraError, CameraUnauthorized
from vigil.cameras.models import Camera
from vigil.cameras.onvif import (
    DEFAULT_TIMEOUT_S,
    DISCOVERY,
    OnvifEndpoint,
    Step,
    camera_error,
    connect,
    fault_codes,
    ptz_profile,
)
from vigil.errors import Conflict, InvalidInput, LimitReached, NotFound, VigilError

logger = logging.getLogger(__name__)

IDLE_S = 60.0  # a connection unused this long is closed
_SPACES = "http://www.onvif.org/ver10/tptz"
_POSITION = ("PanTiltSpaces/PositionGenericSpace", "ZoomSpaces/PositionGenericSpace")
_VELOCITY = ("PanTiltSpaces/VelocityGenericSpace", "ZoomSpaces/VelocityGenericSpace")
_TRANSLATION = ("PanTiltSpaces/TranslationGenericSpace", "ZoomSpaces/TranslationGenericSpace")


def _as_is(answer: Any) -> Any:
    return answer


class PtzUnsupported(CameraError):
    """The camera cannot be moved: added without ONVIF, or without a PTZ head."""

    code = "ptz_unsupported"


class PtzRefused(CameraError):
    """The camera answered the PTZ request with a fault of its own."""

    code = "ptz_refused"


@dataclass(frozen=True)
class PtzVector:
    """Pan, tilt and zoom: a position, a velocity or a step, by the request it goes in."""

    pan: float
    tilt: float
    zoom: float


@dataclass(frozen=True)
class PtzPreset:
    token: str  # the camera's own reference
    name: str
    position: PtzVector | None  # None when the camera does not say


@dataclass
class _Connection:
    endpoint: OnvifEndpoint
    camera: Any  # onvif.ONVIFCamera
    service: Any  # its PTZ service
    profile: str  # the token of a media profile with a PTZ configuration
    used_at: float = 0.0  # the event loop's time at the start of the last call


class PtzControl:
    def __init__(self, audit: AuditTrail, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self._audit = audit
        self._timeout_s = timeout_s
        self._connections: dict[str, _Connection] = {}
        # One connect at a time per camera, so concurrent first calls share one connection.
        self._connecting: dict[str, asyncio.Lock] = {}

    async def continuous_move(self, camera: Camera, velocity: PtzVector, timeout_ms: int) -> None:
        """Move at `velocity` until stopped, another move, or `timeout_ms` passes."""
        await self._call(
            camera,
            "ContinuousMove",
            Velocity=_vector(velocity, _VELOCITY),
            Timeout=dt.timedelta(milliseconds=timeout_ms),
        )

    async def stop(self, camera: Camera) -> None:
        await self._call(camera, "Stop", PanTilt=True, Zoom=True)

    async def absolute_move(self, camera: Camera, position: PtzVector) -> None:
        await self._call(camera, "AbsoluteMove", Position=_vector(position, _POSITION))

    async def relative_move(self, camera: Camera, step: PtzVector) -> None:
        await self._call(camera, "RelativeMove", Translation=_vector(step, _TRANSLATION))

    async def presets(self, camera: Camera) -> list[PtzPreset]:
        presets: list[PtzPreset] = await self._call(
            camera, "GetPresets", read=lambda answer: [_preset(p) for p in answer or []]
        )
        return presets

    async def goto_preset(self, camera: Camera, token: str) -> None:
        await self._call(camera, "GotoPreset", PresetToken=token)

    async def set_preset(self, actor: Actor, camera: Camera, name: str) -> str:
        """A new preset at the head's position now; its token."""
        token = str(await self._call(camera, "SetPreset", PresetName=name))
        await self._audit.record(actor, "ptz.preset.set", target=camera.id,
                                 details={"token": token, "name": name})  # fmt: skip
        return token

    async def remove_preset(self, actor: Actor, camera: Camera, token: str) -> None:
        # Looked up first, so that the trail says which preset went, by its name.
        preset = next((p for p in await self.presets(camera) if p.token == token), None)
        if preset is None:
            raise _no_preset(token)
        await self._call(camera, "RemovePreset", PresetToken=token)
        await self._audit.record(actor, "ptz.preset.remove", target=camera.id,
                                 details={"token": token, "name": preset.name})  # fmt: skip

    async def close(self) -> None:
        for camera_id, connection in list(self._connections.items()):
            await self._drop(camera_id, connection)

    async def _call(
        self, camera: Camera, operation: str, read: Callable[[Any], Any] = _as_is, **request: Any
    ) -> Any:
        """The camera's answer to `operation`, through `read`: what the answer lacks is then
        a malformed answer to the operation, not a server error."""
        endpoint = _endpoint(camera)
        await self._close_idle()
        connection: _Connection | None = None
        doing = Step()
        try:
            async with asyncio.timeout(self._timeout_s):
                connection = await self._connection(camera.id, endpoint, doing)
                send = getattr(connection.service, operation)
                doing.at(operation)
                return read(await send({"ProfileToken": connection.profile, **request}))
        except Exception as err:
            failure = _failure(err, endpoint.address, self._timeout_s, request, doing.operation)
            # The camera failed, not the request: the next call starts afresh. Only this
            # connection goes: a concurrent call may have replaced it with a working one.
            if isinstance(failure, CameraError) and connection is not None:
                await self._drop(camera.id, connection)
            raise failure from err

    async def _connection(
        self, camera_id: str, endpoint: OnvifEndpoint, doing: Step
    ) -> _Connection:
        async with self._connecting.setdefault(camera_id, asyncio.Lock()):
            connection = self._connections.get(camera_id)
            if connection is None or connection.endpoint != endpoint:
                if connection is not None:  # the camera's address or credentials changed
                    await self._drop(camera_id, connection)
                connection = await _connect(endpoint, doing)
                self._connections[camera_id] = connection
            # Marked at the start of each call, which lasts at most the timeout, far less
            # than IDLE_S: no call's connection is closed as idle under it.
            connection.used_at = asyncio.get_running_loop().time()
            return connection

    async def _drop(self, camera_id: str, connection: _Connection) -> None:
        if self._connections.get(camera_id) is connection:
            del self._connections[camera_id]
            await connection.camera.close()

    async def _close_idle(self) -> None:
        idle_since = asyncio.get_running_loop().time() - IDLE_S
        for camera_id, connection in list(self._connections.items()):
            if connection.used_at < idle_since:
                await self._drop(camera_id, connection)
                lock = self._connecting.get(camera_id)
                if lock is not None and not lock.locked():
                    del self._connecting[camera_id]


def _endpoint(camera: Camera) -> OnvifEndpoint:
    endpoint = OnvifEndpoint.of(camera.record)
    if endpoint is None:
        raise PtzUnsupported(
            "the camera was added by its RTSP address: PTZ needs it added by its ONVIF address",
            field="onvif_address",
        )
    return endpoint


async def _connect(endpoint: OnvifEndpoint, doing: Step) -> _Connection:
    from onvif.exceptions import ONVIFError  # loaded with the SOAP stack (cameras/onvif.py)

    address = endpoint.address
    camera = connect(address, endpoint.username, endpoint.password)
    try:
        doing.at(DISCOVERY)
        await camera.update_xaddrs()
        try:
            service = await camera.create_ptz_service()
        except ONVIFError as err:
            raise PtzUnsupported(f"{address} offers no PTZ service", field="onvif_address") from err
        media = await camera.create_media_service()
        doing.at("GetProfiles")
        profile = ptz_profile(await media.GetProfiles() or [])
        if profile is None:
            raise PtzUnsupported(
                f"no media profile of {address} has a PTZ configuration", field="onvif_address"
            )
    except BaseException:
        await camera.close()
        raise
    logger.info("PTZ connected", extra={"address": address})
    return _Connection(endpoint, camera, service, profile)


def _vector(vector: PtzVector, spaces: tuple[str, str]) -> dict[str, Any]:
    pan_tilt, zoom = spaces
    return {
        "PanTilt": {"x": vector.pan, "y": vector.tilt, "space": f"{_SPACES}/{pan_tilt}"},
        "Zoom": {"x": vector.zoom, "space": f"{_SPACES}/{zoom}"},
    }


def _preset(preset: Any) -> PtzPreset:
    token = str(preset.token)
    return PtzPreset(token=token, name=str(preset.Name or token), position=_position(preset))


def _position(preset: Any) -> PtzVector | None:
    position = preset.PTZPosition
    if position is None or position.PanTilt is None or position.Zoom is None:
        return None
    return PtzVector(float(position.PanTilt.x), float(position.PanTilt.y), float(position.Zoom.x))


def _no_preset(token: str) -> NotFound:
    return NotFound(f"the camera has no preset {token!r}", field="token")


def _failure(
    err: Exception,
    address: str,
    timeout_s: float,
    request: dict[str, Any],
    operation: str | None,
) -> VigilError:
    """What `err` means to a user; the camera's faults about the request become input errors."""
    import zeep.exceptions

    if isinstance(err, VigilError):
        return err
    failure = camera_error(err, address, timeout_s, operation)
    if not isinstance(err, zeep.exceptions.Fault) or isinstance(failure, CameraUnauthorized):
        return failure
    codes = fault_codes(err)
    if "NoToken" in codes:
        return _no_preset(str(request.get("PresetToken", "")))
    if "PresetExist" in codes:
        return Conflict("the camera has a preset of that name already", field="name")
    if "InvalidPresetName" in codes:
        return InvalidInput("the camera does not take that preset name", field="name")
    if "TooManyPresets" in codes:
        return LimitReached("the camera holds no more presets", field="name")
    return PtzRefused(f"the camera refused: {str(err.message)[:200]}")
