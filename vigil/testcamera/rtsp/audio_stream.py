"""A camera stream's sound on the air: its loop played on a clock of its own, fanned out.

Like the video (`stream.py`), the sound runs whether anyone listens or not, and only costs
anything while someone does. Its timeline starts at a wall-clock multiple of the loop's
length, so the loop's second s plays at the wall-clock seconds that are s modulo its length:
the video caption shows that same wall clock, so sound and picture of a recording can be
checked against each other. Every access unit decodes on its own: a new client starts with
the next packet.
"""

import math
import secrets
import time
from collections.abc import Callable

from vigil.media.rtsp.rtp import rtp_header
from vigil.media.rtsp.server import JoinPoint
from vigil.media.rtsp.transports import Subscriber
from vigil.testcamera.rtsp.aac import PAYLOAD_TYPE, AudioLoop
from vigil.testcamera.rtsp.stream import (
    MAX_BACKLOG,
    MAX_CATCH_UP_S,
    SENDER_REPORT_EVERY_S,
    Broadcast,
    ReportCounter,
)


class LiveAudio(Broadcast):
    def __init__(
        self,
        loop: AudioLoop,
        cname: str,
        clock: Callable[[], float],
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.loop = loop
        self.cname = cname
        self.ssrc = secrets.randbits(32)
        self._clock = clock
        self._origin = clock() - wall_clock() % loop.seconds
        self._timestamp_base = secrets.randbits(32)
        self._seq = secrets.randbits(16)
        self._reports = ReportCounter(self.ssrc, cname)
        self._last_report = -math.inf

    # --- the timeline -------------------------------------------------------------------
    def _unit_of(self, packet_number: int) -> int:
        """The timeline's access unit that packet `packet_number` of the timeline starts with."""
        turns, index = divmod(packet_number, len(self.loop.packets))
        return turns * self.loop.units + self.loop.packets[index].first_unit

    def _time_of_unit(self, unit: int) -> float:
        return self._origin + unit * self.loop.frame_samples / self.loop.sample_rate

    def _timestamp_at(self, instant: float) -> int:
        return self._timestamp_base + round((instant - self._origin) * self.loop.sample_rate)

    def next_due(self) -> float:
        return self._time_of_unit(self._unit_of(self._next))

    def _first_packet_after(self, instant: float) -> int:
        loop = self.loop
        unit = math.ceil((instant - self._origin) * loop.sample_rate / loop.frame_samples)
        turns, unit_in_loop = divmod(unit, loop.units)
        index = next((n for n, p in enumerate(loop.packets) if p.first_unit >= unit_in_loop),
                     len(loop.packets))  # fmt: skip
        return turns * len(loop.packets) + index

    def join_point(self) -> JoinPoint:
        """Where a client that starts listening now joins: the next packet sent."""
        packet = self._next if self.watched else self._first_packet_after(self._clock())
        timestamp = self._timestamp_base + self._unit_of(packet) * self.loop.frame_samples
        return JoinPoint(packet, self._seq & 0xFFFF, timestamp & 0xFFFFFFFF)

    # --- sending ------------------------------------------------------------------------
    def send_due(self, now: float) -> None:
        if now - self.next_due() > MAX_CATCH_UP_S:  # after a stall: on with the present
            self._next = self._first_packet_after(now)
        while self.next_due() <= now:
            self._send_packet()
        if now - self._last_report >= SENDER_REPORT_EVERY_S:
            self._last_report = now
            self._send_report_to(list(self._clients))

    def _send_packet(self) -> None:
        loop = self.loop
        unit = self._unit_of(self._next)
        payload = loop.packets[self._next % len(loop.packets)].payload
        timestamp = self._timestamp_base + unit * loop.frame_samples
        # Each packet ends its access units: the marker bit is always set (RFC 3640 §3.2.3.2).
        packet = [rtp_header(self._seq, timestamp, self.ssrc, True, PAYLOAD_TYPE) + payload]
        self._seq += 1
        self._next += 1
        self._reports.count(1, len(payload))
        # A report ahead of a client's first packet pairs RTP time with the wall clock, so
        # the client can line the sound up with the picture from the start.
        self._send_report_to([s for s, first in self._clients.items() if first])
        for subscriber in self._clients:
            self._clients[subscriber] = False
            if subscriber.backlog() <= MAX_BACKLOG:
                subscriber.send_packets(packet)

    def _send_report_to(self, subscribers: list[Subscriber]) -> None:
        if subscribers:
            report = self._reports.report(self._timestamp_at(self._clock()))
            for subscriber in subscribers:
                subscriber.send_report(report)
