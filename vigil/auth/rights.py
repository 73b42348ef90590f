"""What a user may do: functions, operations and resources, the three kinds of rights.

- functions: features a user may use (live view, playback, export, …);
- operations: changes a user may make (add a camera, edit a user, …);
- resources: which cameras and which layouts the user may see (all, or a list of ids).
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class Function(StrEnum):
    LIVE_VIEW = "live_view"
    PLAYBACK = "playback"
    EXPORT = "export"
    PTZ = "ptz"
    SMART_SEARCH = "smart_search"
    EVENT_LOG = "event_log"
    AUDIT_TRAIL = "audit_trail"
    SETTINGS = "settings"


class Operation(StrEnum):
    CAMERA_ADD = "camera.add"
    CAMERA_EDIT = "camera.edit"
    CAMERA_DELETE = "camera.delete"
    USER_ADD = "user.add"
    USER_EDIT = "user.edit"
    USER_DELETE = "user.delete"
    ROLE_ADD = "role.add"
    ROLE_EDIT = "role.edit"
    ROLE_DELETE = "role.delete"
    LAYOUT_ADD = "layout.add"
    LAYOUT_EDIT = "layout.edit"
    LAYOUT_DELETE = "layout.delete"
    RULE_ADD = "rule.add"
    RULE_EDIT = "rule.edit"
    RULE_DELETE = "rule.delete"
    LIST_ADD = "list.add"
    LIST_EDIT = "list.edit"
    LIST_DELETE = "list.delete"
    STORAGE_EDIT = "storage.edit"
    SYSTEM_EDIT = "system.edit"


ALL = "all"
# A system has at most 2,000 cameras (docs/design/architecture.md); layouts are bounded alike.
MAX_RESOURCES = 2000

ResourceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
ResourceList = Annotated[list[ResourceId], Field(max_length=MAX_RESOURCES)]


class ResourceAccess(BaseModel):
    """Which cameras and layouts a role reaches: every one, or those listed by id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cameras: Literal["all"] | ResourceList = Field(default_factory=list)
    layouts: Literal["all"] | ResourceList = Field(default_factory=list)

    def covers(self, other: "ResourceAccess") -> bool:
        return _covers(self.cameras, other.cameras) and _covers(self.layouts, other.layouts)


def _covers(mine: Literal["all"] | list[str], theirs: Literal["all"] | list[str]) -> bool:
    if mine == ALL:
        return True
    if theirs == ALL:
        return False
    return set(theirs) <= set(mine)


class Rights(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    functions: frozenset[Function] = frozenset()
    operations: frozenset[Operation] = frozenset()
    resources: ResourceAccess = ResourceAccess()

    def covers(self, other: "Rights") -> bool:
        """True when every right of `other` is also a right of this one."""
        return (
            other.functions <= self.functions
            and other.operations <= self.operations
            and self.resources.covers(other.resources)
        )

    def may_see_camera(self, camera_id: str) -> bool:
        cameras = self.resources.cameras
        return cameras == ALL or camera_id in cameras

    def may_see_layout(self, layout_id: str) -> bool:
        layouts = self.resources.layouts
        return layouts == ALL or layout_id in layouts
