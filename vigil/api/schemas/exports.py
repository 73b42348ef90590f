"""Export requests and answers (the job itself is `vigil.media.export.models.ExportJob`)."""

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

from vigil.api.schemas.common import Request
from vigil.auth.rights import ResourceId
from vigil.cameras.models import StreamName
from vigil.clock import MAX_TIME_MS
from vigil.media.export.models import ExportJob

MAX_CAMERAS = 64

TimeMs = Annotated[StrictInt, Field(ge=0, le=MAX_TIME_MS)]


class ExportCreate(Request):
    cameras: Annotated[list[ResourceId], Field(min_length=1, max_length=MAX_CAMERAS)]
    stream: StreamName = "main"
    from_ms: TimeMs
    to_ms: TimeMs


class ExportList(BaseModel):
    exports: list[ExportJob]
