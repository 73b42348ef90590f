"""The cameras' RTSP as clients nobody here wrote see it: Debian's ffprobe and ffmpeg."""

import base64
import itertools
import json
import re
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.testcamera.ffmpeg import decode_errors, record
from tests.testcamera.process import TestCameraProcess
from tests.testcamera.rtsp_client import RtpReader
from vigil.media.rtsp.server import MAX_CONNECTIONS_PER_CLIENT

USER = "viewer"
PASSWORD = "rtsp password"
SMALL = ("--main", "320x240@25:400k", "--sub", "160x120@10:100k", "--gop", "25")


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCameraProcess]:
    folder = tmp_path_factory.mktemp("rtsp-h264")
    with TestCameraProcess(
        folder,
        count=2,
        user=USER,
        password=PASSWORD,
        extra_args=SMALL,
    ) as process:
        yield process.start(timeout_s=120)


def _url(cameras: TestCameraProcess, path: str, *, auth: bool = True) -> str:
    credentials = f"{USER}:{PASSWORD}@" if auth else ""
    return f"rtsp://{credentials}127.0.0.1:{cameras.rtsp_port}{path}"


def _probe(url: str, transport: str = "tcp") -> dict[str, object]:
    """What ffprobe says of the video stream."""
    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-rtsp_transport",
            transport,
            "-select_streams",
            "v",
            "-show_entries",
            "stream=codec_name,width,height,r_frame_rate",
            "-of",
            "json",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    streams = json.loads(result.stdout)["streams"]
    assert len(streams) == 1
    stream: dict[str, object] = streams[0]
    return stream


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_ffprobe_reads_codec_size_and_frame_rate(h264: TestCameraProcess, transport: str) -> None:
    assert _probe(_url(h264, "/cam1/main"), transport) == {
        "codec_name": "h264",
        "width": 320,
        "height": 240,
        "r_frame_rate": "25/1",
    }
    assert _probe(_url(h264, "/cam2/sub"), transport) == {
        "codec_name": "h264",
        "width": 160,
        "height": 120,
        "r_frame_rate": "10/1",
    }


def test_ffmpeg_records_five_seconds_that_decode_without_errors(
    h264: TestCameraProcess, tmp_path: Path
) -> None:
    _record_and_check(_url(h264, "/cam1/main"), tmp_path / "clip.mp4", seconds=5, fps=25)


def test_timestamps_rise_evenly_across_the_loop_point(h264: TestCameraProcess) -> None:
    """The loop is 10 s (100 frames here); more than 100 frames cross its end at least once."""
    fps = 10
    # Up to one GOP (2.5 s) passes before the first keyframe, then 13 s of frames.
    with RtpReader(_url(h264, "/cam2/sub", auth=False), USER, PASSWORD) as reader:
        frames = list(reader.frames(seconds=16))
    assert len(frames) > 10 * fps
    steps = {(b.rtp_time - a.rtp_time) & 0xFFFFFFFF for a, b in itertools.pairwise(frames)}
    assert steps == {90_000 // fps}
    # Sequence numbers rise, modulo 2^16: a camera starts them anywhere, so they may wrap.
    assert all(0 < (b.seq - a.seq) & 0xFFFF < 0x8000 for a, b in itertools.pairwise(frames))


def _record_and_check(url: str, clip: Path, *, seconds: int, fps: int) -> None:
    record(url, clip, seconds)
    assert decode_errors(clip) == ""
    packets = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "packet=pts_time",
            "-of",
            "csv=p=0",
            str(clip),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    times = [float(t) for t in packets]
    # ffmpeg gives the first frame of an RTSP recording the time of the second (it learns the
    # stream's start only from the first frame's end), so the even steps start after it; the
    # second came 1.35 s into an H.265 recording in two full runs, and `-t` counts from 0.
    assert len(times) >= (seconds - 2) * fps
    steps = [round(b - a, 3) for a, b in itertools.pairwise(times[1:])]
    assert set(steps) == {round(1 / fps, 3)}


def test_many_clients_watch_one_stream_at_once(h264: TestCameraProcess) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: _probe(_url(h264, "/cam1/main")), range(4)))
    assert all(r["codec_name"] == "h264" for r in results)


def test_wrong_or_missing_credentials_are_refused(h264: TestCameraProcess) -> None:
    for url in (
        _url(h264, "/cam1/main", auth=False),
        f"rtsp://{USER}:wrong@127.0.0.1:{h264.rtsp_port}/cam1/main",
    ):
        result = subprocess.run(
            ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", url],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode != 0
        assert "401" in result.stderr


def _exchange(port: int, request: bytes) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        return sock.recv(4096).decode(errors="replace")


@pytest.mark.parametrize(
    ("request_text", "status"),
    [
        ("GARBAGE\r\n\r\n", "400"),
        ("DESCRIBE rtsp://h/cam1/main RTSP/1.0\r\nCSeq 1\r\n\r\n", "400"),
        ("DESCRIBE rtsp://h/cam1/main RTSP/1.0\r\nCSeq: 1\r\nContent-Length: x\r\n\r\n", "400"),
        ("DESCRIBE rtsp://h/cam9/main RTSP/1.0\r\nCSeq: 1\r\n{auth}\r\n", "404"),
        (
            "SETUP rtsp://h/cam1/main/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n{auth}"
            "Transport: RTP/AVP;multicast;destination=239.1.1.1\r\n\r\n",
            "461",
        ),
        (
            "SETUP rtsp://h/cam1/main/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n{auth}"
            "Transport: RTP/AVP/TCP;unicast;interleaved=a-b\r\n\r\n",
            "461",
        ),
        (
            "SETUP rtsp://h/cam1/main/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n{auth}"
            "Transport: RTP/AVP;unicast;client_port=70000-70001\r\n\r\n",
            "461",
        ),
        ("PLAY rtsp://h/cam1/main RTSP/1.0\r\nCSeq: 1\r\n{auth}Session: nope\r\n\r\n", "454"),
        # RFC 2326 §12.17: every request has a CSeq, a number; nothing else is echoed.
        ("OPTIONS * RTSP/1.0\r\n\r\n", "400"),
        ("OPTIONS * RTSP/1.0\r\nCSeq: one\r\n\r\n", "400"),
        ("OPTIONS * RTSP/1.0\r\nCSeq: 1\rX-Injected: yes\r\n\r\n", "400"),
        ("DESCRIBE rtsp://h/cam1/main\x01 RTSP/1.0\r\nCSeq: 1\r\n{auth}\r\n", "400"),
        ("FLY rtsp://h/cam1/main RTSP/1.0\r\nCSeq: 1\r\n\r\n", "501"),
        ("OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n", "505"),
    ],
)
def test_malformed_requests_get_rtsp_errors_and_the_server_goes_on(
    h264: TestCameraProcess, request_text: str, status: str
) -> None:
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    text = request_text.replace("{auth}", f"Authorization: Basic {basic}\r\n")
    answer = _exchange(h264.rtsp_port, text.encode())
    assert answer.startswith(f"RTSP/1.0 {status} "), answer
    assert "X-Injected" not in answer
    if status == "400":
        assert "CSeq" not in answer  # the request's was not known to be good
    assert _probe(_url(h264, "/cam1/main"))["codec_name"] == "h264"


def test_one_address_holds_a_bounded_number_of_connections(h264: TestCameraProcess) -> None:
    held = [socket.create_connection(("127.0.0.1", h264.rtsp_port), timeout=10)
            for _ in range(MAX_CONNECTIONS_PER_CLIENT)]  # fmt: skip
    try:
        with socket.create_connection(("127.0.0.1", h264.rtsp_port), timeout=10) as one_more:
            assert one_more.recv(1) == b""  # closed at once
        held[0].sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        assert held[0].recv(4096).startswith(b"RTSP/1.0 200 OK")
    finally:
        for sock in held:
            sock.close()
    assert _probe(_url(h264, "/cam1/main"))["codec_name"] == "h264"


def test_binary_junk_does_not_stop_the_server(h264: TestCameraProcess) -> None:
    with socket.create_connection(("127.0.0.1", h264.rtsp_port), timeout=10) as sock:
        sock.sendall(bytes(range(256)) * 64)
    assert _probe(_url(h264, "/cam1/main"))["codec_name"] == "h264"


def test_h265_cameras_serve_h265_that_decodes(tmp_path: Path) -> None:
    with TestCameraProcess(
        tmp_path,
        count=1,
        extra_args=("--codec", "h265", "--main", "320x240@15:300k", "--sub", "160x120@10:100k"),
    ) as cameras:
        cameras.start(timeout_s=120)
        url = f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam1/main"
        assert _probe(url, "udp") == {
            "codec_name": "hevc",
            "width": 320,
            "height": 240,
            "r_frame_rate": "15/1",
        }
        _record_and_check(url, tmp_path / "h265.mp4", seconds=5, fps=15)


def _exchange_many(port: int, requests: list[str]) -> list[str]:
    """Send requests one after another on one connection; the status line of each answer."""
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reader = sock.makefile("rb")
        for request in requests:
            sock.sendall(request.encode())
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                head += reader.read(1)
            text = head.decode()
            answers.append(text)
            length = re.search(r"Content-Length: (\d+)", text)
            if length:
                reader.read(int(length[1]))
        reader.close()
    return answers


def _basic() -> str:
    return "Authorization: Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def test_keep_alive_on_the_sessions_connection(h264: TestCameraProcess) -> None:
    url = f"rtsp://127.0.0.1:{h264.rtsp_port}/cam1/sub"
    with socket.create_connection(("127.0.0.1", h264.rtsp_port), timeout=10) as sock:
        reader = sock.makefile("rb")

        def ask(text: str) -> str:
            sock.sendall(text.encode())
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                head += reader.read(1)
            return head.decode()

        setup = ask(
            f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n{_basic()}\r\n"
            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
        )
        session = re.search(r"Session: (\w+)", setup)
        assert session is not None
        for n, method in enumerate(("GET_PARAMETER", "SET_PARAMETER", "OPTIONS"), start=2):
            answer = ask(
                f"{method} {url} RTSP/1.0\r\nCSeq: {n}\r\n{_basic()}\r\n"
                f"Session: {session[1]}\r\n\r\n"
            )
            assert answer.startswith("RTSP/1.0 200"), answer
            assert f"CSeq: {n}" in answer
        reader.close()


def test_one_connection_holds_a_bounded_number_of_sessions(h264: TestCameraProcess) -> None:
    url = f"rtsp://127.0.0.1:{h264.rtsp_port}/cam1/sub"
    answers = _exchange_many(
        h264.rtsp_port,
        [
            f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: {n}\r\n{_basic()}\r\n"
            f"Transport: RTP/AVP;unicast;client_port={40000 + 2 * n}-{40001 + 2 * n}\r\n\r\n"
            for n in range(10)
        ],
    )
    statuses = [a.split(" ")[1] for a in answers]
    assert statuses[:8] == ["200"] * 8
    assert statuses[8:] == ["453", "453"]


def test_udp_setup_offers_an_even_rtp_port_and_the_next_for_rtcp(h264: TestCameraProcess) -> None:
    url = f"rtsp://127.0.0.1:{h264.rtsp_port}/cam1/sub"
    (answer,) = _exchange_many(
        h264.rtsp_port,
        [
            f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n{_basic()}\r\n"
            "Transport: RTP/AVP;unicast;client_port=41000-41001\r\n\r\n"
        ],
    )
    ports = re.search(r"server_port=(\d+)-(\d+)", answer)
    assert ports is not None
    assert int(ports[1]) % 2 == 0
    assert int(ports[2]) == int(ports[1]) + 1


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic " + base64.b64encode("vïewer:pässword".encode()).decode(),
        'Digest username="vïewer", realm="x", nonce="n", uri="/", response="ä"',
    ],
)
def test_non_ascii_credentials_are_refused_not_crashed_on(
    h264: TestCameraProcess, authorization: str
) -> None:
    url = f"rtsp://127.0.0.1:{h264.rtsp_port}/cam1/sub"
    (answer,) = _exchange_many(
        h264.rtsp_port,
        [f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAuthorization: {authorization}\r\n\r\n"],
    )
    assert answer.startswith("RTSP/1.0 401")


def test_a_malformed_url_is_a_bad_request(h264: TestCameraProcess) -> None:
    answer = _exchange(h264.rtsp_port, b"DESCRIBE rtsp://[::1/cam1 RTSP/1.0\r\nCSeq: 1\r\n\r\n")
    assert answer.startswith("RTSP/1.0 400")
