"""Login attempts slowed down per client address once they keep failing.

The lock-out (lockout.py) stops guessing one account's password; it does not stop one address
trying a few passwords on every name. Here the wrong passwords of an address, whatever the
name, are counted over 30 minutes: the first `FREE_FAILURES` cost nothing, after that each
further attempt is heard only `1 s, 2 s, 4 s … MAX_DELAY_S` after the address's last failure;
earlier ones are answered 429 `too_many_attempts` at once, without checking anything (so they
cost the server no password hash). A right password from the address starts it afresh. A person
who mistypes is never slowed; 100 guesses from one address take minutes, not 10 s.

Kept in memory, per server: an address that stopped is forgotten after the window, and past
`MAX_ADDRESSES` the one idle longest goes first.
"""

from collections import OrderedDict

from vigil.clock import Clock

FREE_FAILURES = 10
MAX_DELAY_S = 60
WINDOW_MS = 30 * 60 * 1000
MAX_ADDRESSES = 10_000


class LoginThrottle:
    def __init__(self, clock: Clock, *, free_failures: int = FREE_FAILURES) -> None:
        self._clock = clock
        self._free = free_failures
        self._failures: OrderedDict[str, list[int]] = OrderedDict()  # address → times (ms)

    def wait_ms(self, address: str) -> int:
        """How long `address` must wait before its next attempt is heard; 0: now."""
        times = self._recent(address)
        if len(times) < self._free:
            return 0
        delay_ms: int = 1000 * min(2 ** (len(times) - self._free), MAX_DELAY_S)
        return max(0, times[-1] + delay_ms - self._clock.now_ms())

    def succeeded(self, address: str) -> None:
        """A right password from `address`: whoever is there knows one, and is not slowed for
        the mistakes before it (each account's own lock-out still counts them)."""
        self._failures.pop(address, None)

    def failed(self, address: str) -> None:
        times = self._recent(address)
        times.append(self._clock.now_ms())
        self._failures[address] = times
        self._failures.move_to_end(address)
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)

    def _recent(self, address: str) -> list[int]:
        since = self._clock.now_ms() - WINDOW_MS
        times = [t for t in self._failures.get(address, ()) if t >= since]
        if not times:
            self._failures.pop(address, None)
        return times
