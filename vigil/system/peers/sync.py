"""Document sync between two servers: the y-protocols sync messages (pycrdt's encoding).

A connection starts with both ends sending SyncStep1 (their state vector); each answers the
other's with SyncStep2 (every update the other lacks). After that, each local change is sent
as a SyncUpdate. SyncStep1 is sent again now and then, so that a change one server missed
while a third carried it reaches it without waiting for a reconnection.

Vigil adds one thing to the protocol's messages: after the update of a SyncStep2 or a
SyncUpdate comes the sender's state vector, which tells which of the receiver's writes the
update's author had seen (`vigil/state/conflicts.py`). A peer that leaves it out is merged
all the same, without a conflict log.
"""

from pycrdt import Decoder, YMessageType, YSyncMessageType, write_message

from vigil.state import SystemDocument


class SyncError(Exception):
    """A binary frame that is not a sync message."""


def step1(document: SystemDocument) -> bytes:
    return _message(YSyncMessageType.SYNC_STEP1, document.state_vector())


def update(document: SystemDocument, data: bytes) -> bytes:
    return _message(YSyncMessageType.SYNC_UPDATE, data, document.state_vector())


async def handle(document: SystemDocument, message: bytes, peer: str) -> bytes | None:
    """Merge what the message carries; the answer to send back, if any."""
    if len(message) < 2 or message[0] != YMessageType.SYNC:
        raise SyncError("not a document sync message")
    decoder = Decoder(message[2:])
    try:
        payload = decoder.read_message()
        peer_state = decoder.read_message()
    except (IndexError, RuntimeError) as err:
        raise SyncError("a truncated document sync message") from err
    if payload is None:
        raise SyncError("an empty document sync message")
    kind = message[1]
    if kind == YSyncMessageType.SYNC_STEP1:
        return _message(
            YSyncMessageType.SYNC_STEP2, document.updates_since(payload), document.state_vector()
        )
    if kind in (YSyncMessageType.SYNC_STEP2, YSyncMessageType.SYNC_UPDATE):
        if payload != b"\x00\x00":  # nothing missing
            await document.merge(payload, peer, peer_state)
        return None
    raise SyncError(f"unknown document sync message {kind}")


def _message(kind: YSyncMessageType, *payloads: bytes) -> bytes:
    return bytes((YMessageType.SYNC, kind)) + b"".join(write_message(p) for p in payloads)
