from pydantic import BaseModel, StrictBool

from vigil.api.schemas.common import Name, Patch, Request
from vigil.layouts.models import Grid
from vigil.layouts.service import Layout


class LayoutOut(BaseModel):
    id: str
    name: str
    shared: bool  # False: the caller's own
    grid: Grid

    @classmethod
    def of(cls, layout: Layout) -> "LayoutOut":
        record = layout.record
        return cls(id=layout.id, name=record.name, shared=record.owner_id is None, grid=record.grid)


class LayoutList(BaseModel):
    layouts: list[LayoutOut]


class LayoutCreate(Request):
    name: Name
    shared: StrictBool = False
    grid: Grid


class LayoutUpdate(Patch):
    name: Name | None = None
    shared: StrictBool | None = None
    grid: Grid | None = None
