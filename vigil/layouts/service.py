"""Saving, changing and removing layouts: who may reach which, unique names, the audit trail.

A user reaches their own layouts and the shared ones their role's resources name; any other
answers as if it did not exist. Names are unique among the layouts a user reaches from one
owner: among their own, and among the shared ones.
"""

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict

from vigil.auth.audit import Actor, AuditTrail, audit_changes
from vigil.auth.rights import Rights
from vigil.auth.users import User
from vigil.clock import Clock
from vigil.errors import Conflict, LimitReached, NotFound
from vigil.layouts.models import Grid, LayoutRecord
from vigil.state import Collection, SystemDocument

MAX_LAYOUTS = 2000  # in a system, as the resource lists that name them


class Layout(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    record: LayoutRecord


class LayoutService:
    def __init__(
        self,
        document: SystemDocument,
        records: Collection[LayoutRecord],
        audit: AuditTrail,
        clock: Clock,
    ) -> None:
        self._document = document
        self._records = records
        self._audit = audit
        self._clock = clock

    def reached_by(self, user: User, rights: Rights) -> list[Layout]:
        return [
            Layout(id=i, record=r) for i, r in self._records.items() if _reaches(user, rights, i, r)
        ]

    def require(self, user: User, rights: Rights, layout_id: str) -> Layout:
        record = self._records.get(layout_id)
        if record is None or not _reaches(user, rights, layout_id, record):
            raise NotFound(f"no layout {layout_id!r}")
        return Layout(id=layout_id, record=record)

    async def add(self, actor: Actor, user: User, name: str, grid: Grid, *, shared: bool) -> Layout:
        layout_id = uuid.uuid4().hex
        owner_id = None if shared else user.id
        async with self._document.change():
            if len(self._records) >= MAX_LAYOUTS:
                raise LimitReached(f"a system keeps at most {MAX_LAYOUTS} layouts")
            self._check_name_free(name, owner_id, None)
            record = LayoutRecord(
                name=name, owner_id=owner_id, created_ms=self._clock.now_ms(), grid=grid
            )
            self._records.insert(layout_id, record)
        await self._audit.record(actor, "layout.add", target=layout_id,
                                 details={"after": record.model_dump(mode="json")})  # fmt: skip
        return Layout(id=layout_id, record=record)

    async def update(
        self, actor: Actor, user: User, rights: Rights, layout_id: str, changes: dict[str, Any]
    ) -> Layout:
        """`changes`: any of name, shared and grid."""
        async with self._document.change():
            before = self.require(user, rights, layout_id).record
            fields = {k: v for k, v in changes.items() if k != "shared"}
            if "shared" in changes:  # a shared layout no longer shared becomes this user's
                fields["owner_id"] = None if changes["shared"] else user.id
            owner_id = fields.get("owner_id", before.owner_id)
            name = fields.get("name", before.name)
            if name != before.name or owner_id != before.owner_id:
                self._check_name_free(name, owner_id, layout_id)
            after = LayoutRecord.model_validate({**before.model_dump(), **fields})
            self._records.update(layout_id, after.model_dump(mode="json", include=set(fields)))
        details = audit_changes(before.model_dump(mode="json"), after.model_dump(mode="json"),
                                frozenset())  # fmt: skip
        await self._audit.record(actor, "layout.edit", target=layout_id, details=details)
        return Layout(id=layout_id, record=after)

    async def delete(self, actor: Actor, user: User, rights: Rights, layout_id: str) -> None:
        async with self._document.change():
            record = self.require(user, rights, layout_id).record
            self._records.delete(layout_id)
        await self._audit_deleted(actor, layout_id, record)

    async def delete_owned_by(self, actor: Actor, user_id: str) -> None:
        """A deleted user's own layouts."""
        async with self._document.change():
            owned = [(i, r) for i, r in self._records.items() if r.owner_id == user_id]
            for layout_id, _ in owned:
                self._records.delete(layout_id)
        for layout_id, record in owned:
            await self._audit_deleted(actor, layout_id, record)

    async def _audit_deleted(self, actor: Actor, layout_id: str, record: LayoutRecord) -> None:
        before = record.model_dump(mode="json")
        await self._audit.record(
            actor, "layout.delete", target=layout_id, details={"before": before}
        )

    def _check_name_free(self, name: str, owner_id: str | None, layout_id: str | None) -> None:
        wanted = name.casefold()
        for other_id, other in self._records.items():
            same_owner = other_id != layout_id and other.owner_id == owner_id
            if same_owner and other.name.casefold() == wanted:
                whose = "shared layout" if owner_id is None else "layout of yours"
                raise Conflict(f"a {whose} is named {name!r} already", field="name")


def _reaches(user: User, rights: Rights, layout_id: str, record: LayoutRecord) -> bool:
    if record.owner_id is not None:
        return record.owner_id == user.id
    return rights.may_see_layout(layout_id)
