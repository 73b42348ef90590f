"""A camera's recording settings: when it records, which streams, and around events.

Schedules are weekly, in the server's local time (as an operator reads a clock on the wall);
outside every slot of a schedule nothing is recorded.
"""

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RecordingMode = Literal["always", "event", "schedule", "off"]
SlotMode = Literal["always", "event"]


class ScheduleSlot(BaseModel):
    model_config = ConfigDict(frozen=True)

    days: tuple[int, ...]  # 0 is Monday … 6 is Sunday
    start_minute: int  # of the day, 0…1439
    end_minute: int  # after start, up to 1440 (midnight at the end of the day)
    mode: SlotMode


class RecordingSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    mode: RecordingMode = "always"
    streams: Literal["main", "sub", "both"] = "both"
    schedule: tuple[ScheduleSlot, ...] = ()  # for mode "schedule"
    # Around an event: recorded from this long before it (kept in memory meanwhile) …
    pre_event_s: int = Field(default=5, ge=0)
    # … until this long after it ends.
    post_event_s: int = Field(default=10, ge=0)

    def records(self, stream: str) -> bool:
        return self.mode != "off" and self.streams in (stream, "both")

    def mode_at(self, time_ms: int) -> Literal["always", "event", "off"]:
        """How recording goes at a moment (for "schedule", what its slot says)."""
        if self.mode != "schedule":
            return self.mode
        moment = time.localtime(time_ms / 1000)
        minute = moment.tm_hour * 60 + moment.tm_min
        for slot in self.schedule:
            if moment.tm_wday in slot.days and slot.start_minute <= minute < slot.end_minute:
                return slot.mode
        return "off"


def next_minute_ms(time_ms: int) -> int:
    """When a schedule's answer may next change: slots begin and end on whole minutes
    (of local time, which differs from UTC by whole minutes in every zone in use)."""
    return (time_ms // 60_000 + 1) * 60_000
