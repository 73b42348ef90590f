"""Recording settings as clients send and see them: times of day as "HH:MM"."""

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, Field, StrictInt, model_validator

from vigil.api.schemas.common import Request
from vigil.cameras.recording import (
    RecordingMode,
    RecordingSettings,
    ScheduleSlot,
    SlotMode,
)

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


def _time_of_day(value: str) -> str:
    if not _TIME.match(value):
        raise ValueError('give a time of day as "HH:MM", from "00:00" to "24:00"')
    return value


TimeOfDay = Annotated[str, AfterValidator(_time_of_day)]
Weekday = Annotated[StrictInt, Field(ge=0, le=6)]


def _minute(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class ScheduleSlotIn(Request):
    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)]  # 0 is Monday
    start: TimeOfDay
    end: TimeOfDay
    mode: SlotMode = "always"

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if _minute(self.end) <= _minute(self.start):
            raise ValueError("end must be after start (a slot ends by 24:00 of its day)")
        if len(set(self.days)) != len(self.days):
            raise ValueError("days: each day once")
        return self


class RecordingIn(Request):
    """The whole of a camera's recording settings: what is left out takes its default."""

    mode: RecordingMode = "always"
    streams: Literal["main", "sub", "both"] = "both"
    schedule: Annotated[list[ScheduleSlotIn], Field(max_length=100)] = []
    pre_event_s: Annotated[StrictInt, Field(ge=0, le=30)] = 5
    post_event_s: Annotated[StrictInt, Field(ge=0, le=3600)] = 10

    @model_validator(mode="after")
    def _schedule_given(self) -> Self:
        if self.mode == "schedule" and not self.schedule:
            raise ValueError("schedule: mode schedule needs at least one slot")
        return self

    def settings(self) -> RecordingSettings:
        slots = tuple(
            ScheduleSlot(
                days=tuple(sorted(s.days)),
                start_minute=_minute(s.start),
                end_minute=_minute(s.end),
                mode=s.mode,
            )
            for s in self.schedule
        )
        return RecordingSettings(mode=self.mode, streams=self.streams, schedule=slots,
                                 pre_event_s=self.pre_event_s,
                                 post_event_s=self.post_event_s)  # fmt: skip


class ScheduleSlotOut(BaseModel):
    days: list[int]
    start: str
    end: str
    mode: SlotMode


class RecordingOut(BaseModel):
    mode: RecordingMode
    streams: str
    schedule: list[ScheduleSlotOut]
    pre_event_s: int
    post_event_s: int


def recording_out(settings: RecordingSettings) -> RecordingOut:
    return RecordingOut(
        mode=settings.mode,
        streams=settings.streams,
        schedule=[
            ScheduleSlotOut(
                days=list(s.days),
                start=_clock(s.start_minute),
                end=_clock(s.end_minute),
                mode=s.mode,
            )
            for s in settings.schedule
        ],
        pre_event_s=settings.pre_event_s,
        post_event_s=settings.post_event_s,
    )
