"""Adding, changing and removing cameras: validation, limits, the audit trail."""

import uuid
from collections.abc import Callable
from typing import Any

from vigil.auth.audit import Actor, AuditTrail, audit_changes
from vigil.cameras.address import StreamUrl
from vigil.cameras.balancing import MAX_CAMERAS_PER_SERVER, spread
from vigil.cameras.models import Camera, CameraRecord
from vigil.cameras.onvif import OnvifDevice, OnvifReader
from vigil.clock import Clock
from vigil.errors import Conflict, InvalidInput, LimitReached, NotFound
from vigil.state import Collection, SystemDocument

MAX_NAME_LENGTH = 64  # as the API's names
_SECRET_FIELDS = frozenset({"password"})


def _public(record: CameraRecord) -> dict[str, Any]:
    """What the audit trail may keep of a camera: no secrets."""
    return record.model_dump(exclude=set(_SECRET_FIELDS))


class CameraService:
    def __init__(
        self,
        document: SystemDocument,
        records: Collection[CameraRecord],
        audit: AuditTrail,
        clock: Clock,
        server_ids: Callable[[], set[str]],
        onvif: OnvifReader,
    ) -> None:
        self._document = document
        self._records = records
        self._audit = audit
        self._clock = clock
        self._server_ids = server_ids
        self._onvif = onvif

    def all(self) -> list[Camera]:
        return [Camera(id=i, record=r) for i, r in self._records.items()]

    def require(self, camera_id: str) -> Camera:
        record = self._records.get(camera_id)
        if record is None:
            raise NotFound(f"no camera {camera_id!r}")
        return Camera(id=camera_id, record=record)

    def prepare_leaving(
        self, server_id: str, keep: bool, online: list[str]
    ) -> Callable[[], dict[str, str]]:
        """For a server leaving the system: the writes (inside its change) that remove its
        cameras, or give them to the `online` servers; what moved where."""

        def write() -> dict[str, str]:
            theirs = sorted(i for i, r in self._records.items() if r.parent_server_id == server_id)
            if not keep:
                for camera_id in theirs:
                    self._records.delete(camera_id)
                return {}
            cameras_of = dict.fromkeys(online, 0)
            for record in self._records.all():
                if record.parent_server_id in cameras_of:
                    cameras_of[record.parent_server_id] += 1
            moves = spread(theirs, cameras_of)  # raises before anything is written
            for camera_id, parent in moves.items():
                self._records.update(
                    camera_id, {"parent_server_id": parent, "acting_server_id": None}
                )
            return moves

        return write

    async def add(self, actor: Actor, fields: dict[str, Any]) -> Camera:
        fields = _with_credentials_from_urls(fields)
        camera_id = uuid.uuid4().hex
        async with self._document.change():
            self._check_parent(fields["parent_server_id"])
            self._check_name_free(fields["name"], None)
            if fields.get("onvif_address") is not None:
                self._check_onvif_free(fields["onvif_address"])
            on_parent = [r for r in self._records.all()
                         if r.parent_server_id == fields["parent_server_id"]]  # fmt: skip
            if len(on_parent) >= MAX_CAMERAS_PER_SERVER:
                raise LimitReached(
                    f"a server records at most {MAX_CAMERAS_PER_SERVER} cameras",
                    field="parent_server_id",
                )
            record = CameraRecord(**fields, created_ms=self._clock.now_ms())
            self._records.insert(camera_id, record)
        await self._audit.record(actor, "camera.add", target=camera_id,
                                 details={"after": _public(record)})  # fmt: skip
        return Camera(id=camera_id, record=record)

    async def read_onvif(self, address: str, username: str, password: str) -> OnvifDevice:
        """What the camera at `address` says of itself over ONVIF, read from this server."""
        return await self._onvif.read(address, username, password)

    async def add_by_onvif(
        self, actor: Actor, fields: dict[str, Any], device: OnvifDevice | None = None
    ) -> Camera:
        """Add the camera at `fields["onvif_address"]` with the streams it names over ONVIF,
        and its own name unless `fields` gives one. `device`: read already (by the server
        that will record it, on its network)."""
        address = fields["onvif_address"]
        self._check_onvif_free(address)  # before asking the camera anything
        if device is None:
            device = await self._onvif.read(address, fields["username"], fields["password"])
        return await self.add(
            actor,
            {
                **fields,
                "name": fields["name"] or self._free_name(device.name),
                "main_url": device.main_url,
                "sub_url": device.sub_url,
                "ptz": device.ptz,
            },
        )

    def by_onvif_address(self) -> dict[str, Camera]:
        return {c.record.onvif_address: c for c in self.all() if c.record.onvif_address}

    async def update(self, actor: Actor, camera_id: str, changes: dict[str, Any]) -> Camera:
        changes = _with_credentials_from_urls(changes)
        async with self._document.change():
            before = self.require(camera_id).record
            if "parent_server_id" in changes:
                self._check_parent(changes["parent_server_id"])
                changes = {**changes, "acting_server_id": None}  # a new home: no stand-in
            if "name" in changes:
                self._check_name_free(changes["name"], camera_id)
            self._records.update(camera_id, changes)
        after = self.require(camera_id).record
        details = audit_changes(before.model_dump(), after.model_dump(), _SECRET_FIELDS)
        await self._audit.record(actor, "camera.edit", target=camera_id, details=details)
        return Camera(id=camera_id, record=after)

    async def delete(self, actor: Actor, camera_id: str) -> None:
        async with self._document.change():
            before = self.require(camera_id).record
            self._records.delete(camera_id)
        await self._audit.record(actor, "camera.delete", target=camera_id,
                                 details={"before": _public(before)})  # fmt: skip

    def _check_parent(self, server_id: str) -> None:
        if server_id not in self._server_ids():
            raise InvalidInput(f"no server {server_id!r} in this system", field="parent_server_id")

    def _check_name_free(self, name: str, camera_id: str | None) -> None:
        key = name.casefold()
        for other_id, record in self._records.items():
            if other_id != camera_id and record.name.casefold() == key:
                raise Conflict(f"a camera is already named {name!r}", field="name")

    def _check_onvif_free(self, address: str) -> None:
        if address in self.by_onvif_address():
            raise Conflict(f"the camera at {address} is added already", field="onvif_address")

    def _free_name(self, wanted: str) -> str:
        """`wanted`, or with " (2)", " (3)"... when taken: cameras of one model share a name."""
        taken = {record.name.casefold() for record in self._records.all()}
        name, number = wanted[:MAX_NAME_LENGTH], 1
        while name.casefold() in taken:
            number += 1
            suffix = f" ({number})"
            name = wanted[: MAX_NAME_LENGTH - len(suffix)] + suffix
        return name


def _with_credentials_from_urls(fields: dict[str, Any]) -> dict[str, Any]:
    """Credentials written into a URL (rtsp://user:pass@host/...) move to their own fields,
    so the stored URL never carries them."""
    fields = dict(fields)
    for name in ("main_url", "sub_url"):
        url = fields.get(name)
        if url is None:
            continue
        try:
            parsed = StreamUrl.parse(url)
        except ValueError as err:
            raise InvalidInput(str(err), field=name) from err
        fields[name] = parsed.url
        if parsed.user and not fields.get("username"):
            fields["username"] = parsed.user
        if parsed.password and not fields.get("password"):
            fields["password"] = parsed.password
    return fields
