"""AAC over RTP (RFC 3640, mpeg4-generic): the SDP's parameters, and packets → access units.

Cameras send AAC-hbr: each packet starts with AU headers (13-bit size, 3-bit index) for the
access units that follow, several to a packet; an access unit too big for one packet is
split across packets that repeat its header. Like the video depacketizer this runs for every
packet on the event loop, so it stays a few integer operations per access unit.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from vigil.media.bits import BitReader
from vigil.media.depacketize import RtpIntake
from vigil.media.frames import AudioConfig

# ISO/IEC 14496-3 Table 1.16, sampling_frequency_index → Hz.
SAMPLE_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025,
                8000, 7350)  # fmt: skip
_SBR, _PS = 5, 29  # HE-AAC object types: the core decodes at half the output rate
_UNSUPPORTED_FMTP = ("ctsdeltalength", "dtsdeltalength", "randomaccessindication",
                     "streamstateindication", "auxiliarydatasizelength")  # fmt: skip


class AacError(ValueError):
    """An AudioSpecificConfig or RFC 3640 parameter set we cannot use."""


def parse_config(specific_config: bytes) -> AudioConfig:
    """Sample rate, channels and frame length from an AudioSpecificConfig (§1.6.2.1), as the
    fmtp `config` parameter or an MP4 `esds` carries it."""
    reader = BitReader(specific_config)
    try:
        object_type = _object_type(reader)
        sample_rate = _sample_rate(reader)
        channels = reader.u(4)
        frame_samples = 1024
        if object_type in (_SBR, _PS):  # explicit HE-AAC signalling: the output rate follows
            sample_rate = _sample_rate(reader)
            object_type = _object_type(reader)
            frame_samples = 2048
        if object_type in (1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23) and reader.u(1):
            frame_samples = frame_samples * 960 // 1024  # GASpecificConfig frameLengthFlag
    except ValueError as err:
        raise AacError(f"AudioSpecificConfig {specific_config.hex()} is cut short") from err
    if not 1 <= channels <= 7:  # 0: described by a program config element, not supported
        raise AacError(f"AudioSpecificConfig {specific_config.hex()}: channel layout {channels}")
    return AudioConfig("aac", sample_rate, channels, frame_samples, specific_config)


def object_type(specific_config: bytes) -> int:
    """The audio object type an AudioSpecificConfig starts with (2: AAC LC, 5: HE-AAC)."""
    try:
        return _object_type(BitReader(specific_config))
    except ValueError as err:
        raise AacError(f"AudioSpecificConfig {specific_config.hex()} is cut short") from err


def _object_type(reader: BitReader) -> int:
    kind = reader.u(5)
    return 32 + reader.u(6) if kind == 31 else kind


def _sample_rate(reader: BitReader) -> int:
    index = reader.u(4)
    if index == 15:
        return reader.u(24)
    if index >= len(SAMPLE_RATES):
        raise AacError(f"sampling frequency index {index} is reserved")
    return SAMPLE_RATES[index]


@dataclass(frozen=True)
class AacParameters:
    """A track's RFC 3640 parameters (SDP fmtp) for AAC in the AU-header modes."""

    config: AudioConfig
    size_bits: int  # sizelength
    index_bits: int  # indexlength
    index_delta_bits: int  # indexdeltalength

    @classmethod
    def from_fmtp(cls, fmtp: Mapping[str, str]) -> "AacParameters":
        """From the fmtp parameters, names lower-cased (as `sdp.Track.fmtp` holds them)."""
        mode = fmtp.get("mode", "").lower()
        if mode not in ("aac-hbr", "aac-lbr"):
            raise AacError(f"mpeg4-generic mode {mode or '(none)'} is not AAC-hbr or AAC-lbr")
        if any(int(fmtp.get(name, "0") or "0") for name in _UNSUPPORTED_FMTP):
            raise AacError("AU headers with time stamps or flags are not supported")
        try:
            config = bytes.fromhex(fmtp.get("config", ""))
            sizes = [int(fmtp.get(n, "0")) for n in ("sizelength", "indexlength",
                                                      "indexdeltalength")]  # fmt: skip
        except ValueError as err:
            raise AacError(f"unreadable mpeg4-generic parameters: {err}") from err
        if not config:
            raise AacError("the mpeg4-generic track has no config")
        if not 1 <= sizes[0] <= 16 or not all(0 <= s <= 8 for s in sizes[1:]):
            raise AacError(f"AU header field sizes {sizes} are out of range")
        return cls(parse_config(config), *sizes)


@dataclass(frozen=True, slots=True)
class AudioUnit:
    rtp_timestamp: int  # 32-bit, of its first sample, in the track's clock (its sample rate)
    data: bytes


class AacDepacketizer(RtpIntake):
    """Takes a track's RTP packets in order of arrival; hands each access unit to `on_unit`.

    An access unit split across packets is joined; one whose packets were not all received is
    dropped and counted, as are units whose headers do not match the data.
    """

    def __init__(
        self,
        parameters: AacParameters,
        payload_type: int,
        on_unit: Callable[[AudioUnit], None],
    ) -> None:
        super().__init__(payload_type)
        self._parameters = parameters
        self._on_unit = on_unit
        self._frame_samples = parameters.config.frame_samples
        self._fragment = bytearray()  # of the split access unit being joined
        self._fragment_size = 0  # its whole size; 0 when none is being joined
        self._fragment_timestamp = 0
        self._broken = False  # packets were lost since the last whole unit

    def push(self, packet: bytes | memoryview) -> None:
        accepted = self._accept(packet)
        if accepted is None:
            return
        timestamp, marker, start, end, lost = accepted
        self._broken |= lost
        self._take(memoryview(packet)[start:end], timestamp, marker)

    def _take(self, payload: memoryview, timestamp: int, marker: bool) -> None:
        if len(payload) < 2:
            self.dropped_units += 1
            return
        header_bits = (payload[0] << 8) | payload[1]
        data_start = 2 + (header_bits + 7) // 8
        if data_start > len(payload):
            self.dropped_units += 1
            return
        sizes, indexes = self._au_headers(payload[2:data_start], header_bits)
        data = payload[data_start:]
        piece = len(sizes) == 1 and (bool(self._fragment_size) or sizes[0] > len(data))
        if self._fragment_size and not (piece and timestamp == self._fragment_timestamp):
            self._end_fragment(whole=False)  # its last piece never came
            piece = len(sizes) == 1 and sizes[0] > len(data)
        if piece:
            self._join(sizes[0], data, timestamp, marker)
            return
        self._broken = False
        position = 0
        for size, index in zip(sizes, indexes, strict=True):
            if position + size > len(data):
                self.dropped_units += 1
                return
            unit_time = (timestamp + index * self._frame_samples) & 0xFFFFFFFF
            self._on_unit(AudioUnit(unit_time, bytes(data[position : position + size])))
            position += size

    def _join(self, size: int, data: memoryview, timestamp: int, marker: bool) -> None:
        """A piece of a split unit. After a loss it may not be the first: the unit is then
        joined all the same, to be dropped (once) when its last piece comes."""
        if not self._fragment_size:
            self._fragment_size, self._fragment_timestamp = size, timestamp
        self._fragment += data
        if marker or len(self._fragment) >= self._fragment_size:
            self._end_fragment(whole=not self._broken and len(self._fragment) == size)

    def _end_fragment(self, *, whole: bool) -> None:
        if whole:
            self._on_unit(AudioUnit(self._fragment_timestamp, bytes(self._fragment)))
        else:
            self.dropped_units += 1
        self._fragment_size = 0
        self._fragment.clear()
        self._broken = False

    def _au_headers(self, headers: memoryview, header_bits: int) -> tuple[list[int], list[int]]:
        """The sizes of the access units of a packet and their places after the first (RFC 3640
        §3.2.1.1: each index delta counts the units between, plus one; the first unit's own
        index only matters to interleaving, which cameras do not use)."""
        parameters = self._parameters
        reader = BitReader(bytes(headers))
        sizes: list[int] = []
        indexes: list[int] = []
        index, index_bits = 0, parameters.index_bits
        while reader.position + parameters.size_bits + index_bits <= header_bits:
            sizes.append(reader.u(parameters.size_bits))
            step = reader.u(index_bits)
            index = 0 if not indexes else index + step + 1
            indexes.append(index)
            index_bits = parameters.index_delta_bits
        return sizes, indexes
