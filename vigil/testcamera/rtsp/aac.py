"""RTP packetisation of AAC (RFC 3640, mode AAC-hbr), done once when the sound loop is loaded.

Each packet carries whole access units behind their AU headers (13-bit size, 3-bit index or
index delta, all 0: units follow one another). A few units share a packet, as cameras do, to
send fewer packets; a packet's RTP time is that of its first unit.
"""

from dataclasses import dataclass

from vigil.testcamera.rtsp.rtp import MAX_PAYLOAD

PAYLOAD_TYPE = 97
MAX_UNITS_PER_PACKET = 4  # 256 ms of 16 kHz sound: latency no one hears on a camera
SIZE_BITS, INDEX_BITS = 13, 3


@dataclass(frozen=True)
class AudioPacket:
    first_unit: int  # the loop's access unit the packet starts with
    payload: bytes


@dataclass(frozen=True)
class AudioLoop:
    """A camera's sound loop, ready to send, and what SDP says of it."""

    packets: tuple[AudioPacket, ...]
    units: int  # access units in the loop
    sample_rate: int  # also the RTP clock rate
    frame_samples: int  # samples per access unit
    specific_config: bytes  # the AudioSpecificConfig (fmtp config=)

    @property
    def seconds(self) -> float:
        return self.units * self.frame_samples / self.sample_rate

    def fmtp(self) -> str:
        # profile-level-id 41: AAC Profile L2 (ISO/IEC 14496-3 Table 1.14), for mono or stereo
        # up to 48 kHz.
        return (
            "streamtype=5; profile-level-id=41; mode=AAC-hbr; "
            f"config={self.specific_config.hex().upper()}; "
            f"sizelength={SIZE_BITS}; indexlength={INDEX_BITS}; indexdeltalength={INDEX_BITS}"
        )


def packetize(units: list[bytes]) -> tuple[AudioPacket, ...]:
    """The loop's units grouped into packets: up to MAX_UNITS_PER_PACKET, within MAX_PAYLOAD."""
    packets: list[AudioPacket] = []
    group: list[bytes] = []
    first = 0
    for index, unit in enumerate(units):
        if group and (len(group) == MAX_UNITS_PER_PACKET or _size([*group, unit]) > MAX_PAYLOAD):
            packets.append(AudioPacket(first, _payload(group)))
            group, first = [], index
        group.append(unit)
    if group:
        packets.append(AudioPacket(first, _payload(group)))
    return tuple(packets)


def _size(units: list[bytes]) -> int:
    return 2 + 2 * len(units) + sum(len(u) for u in units)


def _payload(units: list[bytes]) -> bytes:
    if any(len(unit) >= 1 << SIZE_BITS for unit in units):
        raise ValueError("an AAC access unit too big for its 13-bit size")
    headers = b"".join((len(unit) << INDEX_BITS).to_bytes(2, "big") for unit in units)
    return (16 * len(units)).to_bytes(2, "big") + headers + b"".join(units)
