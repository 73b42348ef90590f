"""RTP packets back in sequence order, for transports that may reorder them (UDP).

Packets that arrive in order go straight through (the usual case: one comparison each). One
that arrives ahead of a missing packet is held until the missing one comes, so reordering is
never mistaken for loss; the wait is bounded, by `max_held` packets and by whoever calls
`give_up()` when the wait has lasted long enough (the owner's timer, armed by `on_hold`), so a
packet really lost costs a little latency, not a stall. Then the depacketiser sees the gap and
counts the loss as it does over TCP. A packet that comes after it was given up for (or twice)
is dropped.
"""

from collections.abc import Callable

# How far behind the expected sequence number a packet may be and still count as late (or a
# duplicate); further back is a sender that restarted its numbering.
MAX_LATE = 1_000


class ReorderBuffer:
    def __init__(
        self,
        deliver: Callable[[bytes], None],
        on_hold: Callable[[], None],
        max_held: int = 128,
    ) -> None:
        self._deliver = deliver
        # The buffer started holding packets: give_up() is due soon (a repeated call while
        # that is pending needs no second one).
        self._on_hold = on_hold
        self._max_held = max_held
        self._next: int | None = None  # the sequence number due
        self._held: dict[int, bytes] = {}

    def push(self, packet: bytes) -> None:
        if len(packet) < 12:
            return  # not RTP: not even a header
        seq = (packet[2] << 8) | packet[3]
        due = self._next
        if seq == due or due is None:
            self._next = (seq + 1) & 0xFFFF
            self._deliver(packet)
            if self._held:
                self._drain(self._next)
            return
        ahead = (seq - due) & 0xFFFF
        if ahead < 0x8000:
            self._held[seq] = packet
            if len(self._held) == 1:
                self._on_hold()
            elif len(self._held) > self._max_held:
                self.give_up()
        elif 0x10000 - ahead > MAX_LATE:  # numbering restarted: what is held goes first
            while self._held:
                self.give_up()
            self._next = (seq + 1) & 0xFFFF
            self._deliver(packet)

    def give_up(self) -> None:
        """Stop waiting for the packets missing before the first one held; pass on what
        follows in order. `on_hold` is called again if a later gap still holds packets."""
        if not self._held or self._next is None:
            return
        due = self._next
        self._drain(min(self._held, key=lambda seq: (seq - due) & 0xFFFF))
        if self._held:
            self._on_hold()

    def _drain(self, seq: int) -> None:
        """Deliver the held packets that follow on from `seq`, the next one due."""
        held, deliver = self._held, self._deliver
        while seq in held:
            deliver(held.pop(seq))
            seq = (seq + 1) & 0xFFFF
        self._next = seq
