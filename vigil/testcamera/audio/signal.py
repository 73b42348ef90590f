"""What the cameras' microphones hear: a tone burst at the start of every second, its pitch
telling which second of the loop it is.

The loop lasts `LOOP_SECONDS` and is played so that its second s starts at the wall-clock
seconds that are s modulo `LOOP_SECONDS` (see `rtsp/audio_stream.py`). From a recording alone,
then, a burst's onset says where a whole second of the camera's clock falls, and its pitch
which one: tests check that sound is there, unbroken, and in step with the video caption.
"""

import numpy as np

SAMPLE_RATE = 16_000
LOOP_SECONDS = 8  # 8 s of 1024-sample AAC frames is a whole number of them (125)
BURST_S = 0.1
_EDGE_S = 0.005  # raised-cosine edges: no click, and a sharp onset still
_AMPLITUDE = 0.5


def tone_hz(second: int) -> int:
    """The pitch of the burst at the start of loop second `second` (wall second modulo
    LOOP_SECONDS): 500 Hz to 2250 Hz in steps of 250, far apart for a short FFT."""
    return 500 + 250 * (second % LOOP_SECONDS)


def second_of(pitch_hz: float) -> int:
    """The loop second a measured burst pitch stands for (the inverse of `tone_hz`)."""
    return round((pitch_hz - 500) / 250) % LOOP_SECONDS


def render() -> "np.ndarray[tuple[int], np.dtype[np.float32]]":
    """The loop's samples, mono, in [-1, 1]."""
    samples = np.zeros(SAMPLE_RATE * LOOP_SECONDS, dtype=np.float32)
    burst = int(BURST_S * SAMPLE_RATE)
    edge = int(_EDGE_S * SAMPLE_RATE)
    envelope = np.ones(burst)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, edge))
    envelope[:edge], envelope[-edge:] = ramp, ramp[::-1]
    t = np.arange(burst) / SAMPLE_RATE
    for second in range(LOOP_SECONDS):
        tone = _AMPLITUDE * envelope * np.sin(2 * np.pi * tone_hz(second) * t)
        start = second * SAMPLE_RATE
        samples[start : start + burst] = tone
    return samples
