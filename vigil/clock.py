"""Time as a component: everything that depends on the wall clock takes a `Clock`.

Lock-outs, session expiry and (later) retention read the time through this protocol so that
tests can move time forward instead of sleeping.
"""

import time
from typing import Protocol

# The latest time taken anywhere (API, RTSP out): beyond it clients' numbers (JavaScript's)
# are no longer exact, and far beyond it SQLite's integers overflow.
MAX_TIME_MS = 2**53


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch, UTC."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000
