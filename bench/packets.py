"""CPU of the work done for every packet and every fragment of every stream, one call at a time.

What the recording of a 1080p25 4 Mbit/s main stream costs its server, piece by piece, on
synthetic data of that shape: depacketising its H.264 RTP packets (about 360 a second),
depacketising AAC sound (16 a second at 16 kHz), and building its fMP4 fragment (one a second,
one GOP of 25 pictures). Each figure is CPU time (`time.process_time`) per call and per
stream-second; `bench.recording` measures the whole server beside ffmpeg.

Run: `python -m bench.packets`.
"""

import json
import os
import struct
import time
from collections.abc import Callable

from vigil.media import mp4
from vigil.media.aac import AacDepacketizer, AacParameters, AudioUnit
from vigil.media.depacketize import AccessUnit, Depacketizer
from vigil.media.frames import Frame, StreamConfig
from vigil.media.rtsp.rtp import packetize_units
from vigil.media.sps import SpsInfo

CONFIG = StreamConfig("h264", (b"\x67\x42", b"\x68"), SpsInfo(1920, 1080, 1, 8, 8))
FPS = 25
KEYFRAME_BYTES = 120_000
PICTURE_BYTES = 20_000  # the GOP makes about 600 KB a second: 4.8 Mbit/s with the keyframe


def _per_call_us(calls: int, work: Callable[[], None]) -> float:
    started = time.process_time()
    work()
    return (time.process_time() - started) / calls * 1e6


def _rtp(payload_type: int, seq: int, timestamp: int, marker: bool, payload: bytes) -> bytes:
    second = payload_type | (0x80 if marker else 0)
    return struct.pack(">BBHII", 0x80, second, seq & 0xFFFF, timestamp, 1) + payload


def _h264_packets(pictures: int) -> list[bytes]:
    packets = []
    for n in range(pictures):
        nal = (b"\x65" if n % FPS == 0 else b"\x41") + os.urandom(
            KEYFRAME_BYTES if n % FPS == 0 else PICTURE_BYTES
        )
        payloads = packetize_units("h264", [nal]).payloads
        for i, payload in enumerate(payloads):
            packets.append(_rtp(96, len(packets), n * 3600, i == len(payloads) - 1, payload))
    return packets


def _aac_packets(count: int) -> list[bytes]:
    data = os.urandom(300)
    header = struct.pack(">HH", 16, len(data) << 3)  # one AU header: 13-bit size, 3-bit index
    return [_rtp(97, n, n * 1024, True, header + data) for n in range(count)]


def main() -> None:
    video = _h264_packets(10 * FPS)
    units: list[AccessUnit] = []
    depacketizer = Depacketizer("h264", 96, units.append)
    h264_us = _per_call_us(len(video), lambda: [depacketizer.push(memoryview(p)) for p in video])
    assert len(units) == 10 * FPS

    sound = _aac_packets(1600)
    heard: list[AudioUnit] = []
    fmtp = {"mode": "AAC-hbr", "config": "1408", "sizelength": "13", "indexlength": "3"}
    parameters = AacParameters.from_fmtp({**fmtp, "indexdeltalength": "3"})
    aac = AacDepacketizer(parameters, 97, heard.append)
    aac_us = _per_call_us(len(sound), lambda: [aac.push(memoryview(p)) for p in sound])
    assert len(heard) == len(sound)

    gop = [Frame(n * 40, n == 0, (unit.nals[0],), CONFIG, 0) for n, unit in enumerate(units[:FPS])]
    rounds = 200

    def fragments() -> None:
        for _ in range(rounds):  # each made and let go, as the recorder does once it is written
            mp4.fragment(1, gop, 1000, 0)

    fragment_us = _per_call_us(rounds, fragments)
    per_second = len(video) / 10
    print(
        json.dumps(
            {
                "bench": "packets",
                "h264_packets_a_second": per_second,
                "h264_packet_us": round(h264_us, 2),
                "aac_packet_us": round(aac_us, 2),
                "fragment_of_a_1080p_gop_us": round(fragment_us, 1),
                "ms_a_stream_second": {
                    "h264_depacketising": round(h264_us * per_second / 1000, 3),
                    "aac_depacketising": round(aac_us * 16 / 1000, 3),
                    "fragments": round(fragment_us / 1000, 3),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
