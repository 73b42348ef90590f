"""The server's RTSP out, pulled by Debian's ffprobe and ffmpeg as any player would: live and
archive of a simulated camera, with its sound, behind the users' passwords and rights."""

import itertools
import json
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from tests.media.test_recording import _add, _timeline
from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess, add_user, system_with_cameras
from tests.testcamera.ffmpeg import decode_errors, record, record_command
from tests.testcamera.rtsp_client import Conversation, session_of
from tests.waiting import wait_for
from vigil.media.rtsp.rtcp import sender_report
from vigil.testcamera.video.caption import read_caption

WAIT_S = 30.0
USER_PASSWORD = "user password 1"


def _url(server: ServerProcess, camera_id: str, *, user: str = OWNER,
         password: str = OWNER_PASSWORD, stream: str = "main", query: str = "") -> str:  # fmt: skip
    credentials = f"{user}:{password.replace(' ', '%20')}@" if user else ""
    return f"rtsp://{credentials}127.0.0.1:{server.rtsp_port}/cameras/{camera_id}/{stream}{query}"


def _probe(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
         "stream=codec_type,codec_name,width,height,sample_rate", "-of", "json", url],
        capture_output=True, text=True, timeout=WAIT_S, check=False,
    )  # fmt: skip


def _streams(url: str) -> list[dict[str, Any]]:
    probed = _probe(url)
    assert probed.returncode == 0, probed.stderr
    streams: list[dict[str, Any]] = json.loads(probed.stdout)["streams"]
    return streams


def _viewers(owner: httpx.Client, camera_id: str) -> int:
    viewers: int = owner.get(f"/cameras/{camera_id}").json()["streams"]["main"]["viewers"]
    return viewers


def _caption_times_ms(clip: Path) -> list[int]:
    """The camera's clock (UTC, milliseconds of the day) burned into each picture of `clip`."""
    times = []
    with av.open(str(clip)) as container:
        for frame in container.decode(video=0):
            luma = np.asarray(frame.to_ndarray(format="yuv420p"))[: frame.height]
            match = re.match(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d)", read_caption(luma))
            assert match is not None, read_caption(luma)
            hours, minutes, seconds, ms = (int(part) for part in match.groups())
            times.append(((hours * 60 + minutes) * 60 + seconds) * 1000 + ms)
    return times


@pytest.fixture(scope="module")
def serving(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, httpx.Client, str]]:
    """A server recording a simulated camera, its main stream online, shared by the module's
    tests (each pulls what was recorded before it): (server, owner, camera id)."""
    with (
        system_with_cameras(tmp_path_factory.mktemp("rtsp")) as (server, camera),
        server.login() as owner,
    ):
        camera_id = _add(owner, camera)
        wait_for(
            lambda: owner.get(f"/cameras/{camera_id}").json()["streams"]["main"]["stats"],
            WAIT_S,
            "the stream to come online",
        )
        yield server, owner, camera_id


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_live_pull_shows_the_camera_codec_size_and_sound_and_decodes(
    tmp_path: Path, serving: tuple[ServerProcess, httpx.Client, str], transport: str
) -> None:
    server, owner, camera_id = serving
    stats = owner.get(f"/cameras/{camera_id}").json()["streams"]["main"]["stats"]
    video, audio = _streams(_url(server, camera_id))
    assert (video["codec_type"], video["codec_name"]) == ("video", stats["codec"])
    assert (video["width"], video["height"]) == (stats["width"], stats["height"])
    assert (audio["codec_type"], audio["codec_name"]) == ("audio", "aac")
    assert stats["audio"].startswith(f"aac {audio['sample_rate']} Hz")
    clip = tmp_path / "live.mkv"
    record(_url(server, camera_id), clip, seconds=2, transport=transport)
    assert decode_errors(clip) == ""
    assert len(_caption_times_ms(clip)) >= 10


def _recorded(owner: httpx.Client, camera_id: str) -> list[dict[str, int]]:
    return _timeline(owner, camera_id, int(time.time() * 1000) - 3_600_000)


def _ms_of_day(time_ms: int) -> int:
    return time_ms % 86_400_000


def _record_for(owner: httpx.Client, camera_id: str, seconds: float) -> None:
    """Wait until the last recorded interval spans `seconds`."""

    def long_enough() -> bool:
        intervals = _recorded(owner, camera_id)
        return bool(intervals) and intervals[-1]["end_ms"] - intervals[-1]["start_ms"] >= (
            seconds * 1000
        )

    wait_for(long_enough, WAIT_S, f"{seconds} s of recording")


def _pull_archive(
    tmp_path: Path, server: ServerProcess, camera_id: str, start: str, seconds: float
) -> Path:
    """`seconds` of the archive from `start`, copied by ffmpeg; it decodes cleanly."""
    clip = tmp_path / "archive.mkv"
    record(_url(server, camera_id, query=f"?start={start}"), clip, seconds)
    assert decode_errors(clip) == ""
    return clip


def test_archive_pull_starts_at_the_requested_time(
    tmp_path: Path, serving: tuple[ServerProcess, httpx.Client, str]
) -> None:
    server, owner, camera_id = serving
    _record_for(owner, camera_id, 4)
    start_ms = _recorded(owner, camera_id)[-1]["start_ms"] + 2_000
    shown = _caption_times_ms(_pull_archive(tmp_path, server, camera_id, str(start_ms), 1.5))
    start = _ms_of_day(start_ms)
    # From the keyframe before the time asked for (a GOP is a second), then on from it.
    assert start - 1_200 <= shown[0] <= start + 100, (shown[0], start)
    assert any(abs(t - start) <= 100 for t in shown), (shown, start)
    assert shown == sorted(shown)
    assert shown[-1] >= start + 1_000


def test_archive_pull_goes_on_across_a_gap_with_time_running_on(
    tmp_path: Path, serving: tuple[ServerProcess, httpx.Client, str]
) -> None:
    server, owner, camera_id = serving
    _record_for(owner, camera_id, 2)
    before = len(_recorded(owner, camera_id))
    # A pause ends the file at once: the archive has a gap, then another file.
    assert owner.patch(f"/cameras/{camera_id}", json={"recording": {"mode": "off"}}).is_success
    time.sleep(2)
    assert owner.patch(f"/cameras/{camera_id}", json={"recording": {"mode": "always"}}).is_success
    wait_for(lambda: len(_recorded(owner, camera_id)) > before, WAIT_S, "a second file")
    _record_for(owner, camera_id, 2)
    first, second = _recorded(owner, camera_id)[-2:]
    start = datetime.fromtimestamp((first["end_ms"] - 1_000) / 1000, UTC).isoformat()
    clip = _pull_archive(tmp_path, server, camera_id, start, 2.5)
    shown = _caption_times_ms(clip)
    jumps = [later - earlier for earlier, later in itertools.pairwise(shown)]
    # The pictures on both sides of the gap, one after the other…
    assert max(jumps) >= second["start_ms"] - first["end_ms"] - 200, jumps
    assert shown[-1] >= _ms_of_day(second["start_ms"])
    # …and in the clip's own time, no pause between them.
    with av.open(str(clip)) as container:
        times_s = [float(f.time) for f in container.decode(video=0) if f.time is not None]
    assert max(b - a for a, b in itertools.pairwise(times_s)) < 0.2


def _answer(server: ServerProcess, url: str, user: str | None, password: str | None) -> str:
    """The head of the answer to a DESCRIBE of `url` with those credentials."""
    with closing(Conversation(server.rtsp_port, user, password)) as rtsp:
        return rtsp.ask(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n").split("\r\n\r\n")[0]


def test_refusals_wrong_password_no_right_no_camera(
    serving: tuple[ServerProcess, httpx.Client, str],
) -> None:
    server, owner, camera_id = serving
    url = _url(server, camera_id, user="")
    assert _answer(server, url, None, None).startswith("RTSP/1.0 401")
    wrong = _answer(server, url, OWNER, "not the password")
    assert wrong.startswith("RTSP/1.0 401")
    assert 'WWW-Authenticate: Basic realm="Vigil"' in wrong
    assert "401 Unauthorized" in _probe(_url(server, camera_id, password="wrong")).stderr
    failed = owner.get("/audit", params={"action": "login.failed"}).json()["entries"]
    assert failed
    assert failed[0]["user_name"] == OWNER
    # A role with the rights but not this camera; one with the camera but no playback.
    blind = owner.post(
        "/roles",
        json={
            "name": "Blind",
            "functions": ["live_view", "playback"],
            "resources": {"cameras": []},
        },
    ).json()["id"]
    add_user(owner, "blind", blind)
    live_only = owner.post(
        "/roles", json={"name": "Live", "functions": ["live_view"], "resources": {"cameras": "all"}}
    ).json()["id"]
    add_user(owner, "live", live_only)
    assert _answer(server, url, "blind", USER_PASSWORD).startswith("RTSP/1.0 403 Forbidden")
    assert _answer(server, url, "live", USER_PASSWORD).startswith("RTSP/1.0 200")
    archive = _url(server, camera_id, user="", query=f"?start={int(time.time() * 1000)}")
    assert _answer(server, archive, "live", USER_PASSWORD).startswith("RTSP/1.0 403")
    assert (
        "403 Forbidden"
        in _probe(_url(server, camera_id, user="blind", password=USER_PASSWORD)).stderr
    )
    unknown = _url(server, "no-such-camera", user="")
    assert _answer(server, unknown, OWNER, OWNER_PASSWORD).startswith("RTSP/1.0 404")
    assert "404 Not Found" in _probe(_url(server, "no-such-camera")).stderr


def test_a_right_withdrawn_ends_the_session_at_its_next_request(
    serving: tuple[ServerProcess, httpx.Client, str],
) -> None:
    server, owner, camera_id = serving
    role_id = owner.post("/roles", json={"name": "Live until", "functions": ["live_view"],
                                         "resources": {"cameras": "all"}}).json()["id"]  # fmt: skip
    add_user(owner, "until", role_id)
    url = _url(server, camera_id, user="")
    wait_for(lambda: _viewers(owner, camera_id) == 0, WAIT_S, "no viewer")
    with closing(Conversation(server.rtsp_port, "until", USER_PASSWORD)) as rtsp:
        rtsp.ask_ok(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n")
        setup = rtsp.ask_ok(f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n"
                            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")  # fmt: skip
        session = session_of(setup)
        rtsp.ask_ok(f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {session}\r\n")
        wait_for(lambda: _viewers(owner, camera_id) == 1, WAIT_S, "the RTSP viewer")
        assert owner.patch(f"/roles/{role_id}", json={"functions": []}).is_success
        rtsp.send(f"GET_PARAMETER {url} RTSP/1.0\r\nCSeq: 4\r\nSession: {session}\r\n")
        wait_for(lambda: _viewers(owner, camera_id) == 0, WAIT_S, "the session to end")


def test_a_client_that_drops_leaves_no_viewer_behind(
    tmp_path: Path, serving: tuple[ServerProcess, httpx.Client, str]
) -> None:
    server, owner, camera_id = serving
    wait_for(lambda: _viewers(owner, camera_id) == 0, WAIT_S, "no viewer")
    pulling = subprocess.Popen(
        record_command(_url(server, camera_id), tmp_path / "dropped.mkv", seconds=60),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: _viewers(owner, camera_id) == 1, WAIT_S, "the RTSP viewer")
    finally:
        pulling.kill()  # no TEARDOWN: the connection just ends
        pulling.wait()
    wait_for(lambda: _viewers(owner, camera_id) == 0, WAIT_S, "the viewer to be gone")


def test_play_with_a_range_starts_that_far_into_the_archive(
    serving: tuple[ServerProcess, httpx.Client, str],
) -> None:
    server, owner, camera_id = serving
    _record_for(owner, camera_id, 4)
    start_ms = _recorded(owner, camera_id)[-1]["start_ms"] + 500
    url = _url(server, camera_id, user="", query=f"?start={start_ms}")
    with closing(Conversation(server.rtsp_port, OWNER, OWNER_PASSWORD)) as rtsp:
        rtsp.ask_ok(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n")
        setup = rtsp.ask_ok(f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n"
                            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")  # fmt: skip
        play = rtsp.ask_ok(f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\n"
                           f"Session: {session_of(setup)}\r\nRange: npt=2.5-\r\n")  # fmt: skip
        assert "Range: npt=2.500-" in play
        rtptime = re.search(r"rtptime=(\d+)", play)
        assert rtptime is not None
        packets = iter(rtsp.packet, None)
        report = next(found for channel, data in packets
                      if channel == 1 and (found := sender_report(data)) is not None)  # fmt: skip
        first_rtp = next(data for channel, data in packets if channel == 0)
    # RTP-Info's time is 2.5 s into the archive, as the report ahead of the first picture
    # says in UTC…
    assert report.rtp_timestamp == int(rtptime[1])
    assert report.wall_us // 1000 == pytest.approx(start_ms + 2_500, abs=1)
    # …and the first picture is the keyframe at or before it (a GOP is a second).
    before_ms = (int(rtptime[1]) - int.from_bytes(first_rtp[4:8], "big")) % 2**32 // 90
    assert 0 <= before_ms <= 1_200


@pytest.mark.parametrize(
    "query",
    [
        "?start=9223372036854775808",  # past SQLite's integers
        "?start=" + "9" * 4301,  # past Python's conversion of digits
        "?start=" + "%D9%A3" * 3,  # Arabic-Indic digits: digits to Python, not a time here
        "?start=1969-12-31T23:00:00%2B00:00",  # before 1970
        "?start=2026-12-05T10:00:00",  # no time zone: another instant on each server
    ],
)
def test_an_archive_start_that_is_no_time_is_a_bad_request(
    serving: tuple[ServerProcess, httpx.Client, str], query: str
) -> None:
    server, _, camera_id = serving
    url = _url(server, camera_id, user="", query=query)
    assert _answer(server, url, OWNER, OWNER_PASSWORD).startswith("RTSP/1.0 400 Bad Request")
    assert _streams(_url(server, camera_id))  # and it goes on serving


@pytest.mark.parametrize("range_", ["clock=20261205T100000Z-", "npt=soon-", "npt=5"])
def test_a_range_that_is_not_a_play_time_is_a_bad_request(
    serving: tuple[ServerProcess, httpx.Client, str], range_: str
) -> None:
    server, _, camera_id = serving
    url = _url(server, camera_id, user="", query=f"?start={int(time.time() * 1000) - 60_000}")
    with closing(Conversation(server.rtsp_port, OWNER, OWNER_PASSWORD)) as rtsp:
        rtsp.ask_ok(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n")
        setup = rtsp.ask_ok(f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n"
                            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")  # fmt: skip
        session = session_of(setup)
        bad = rtsp.ask(f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {session}\r\n"
                       f"Range: {range_}\r\n")  # fmt: skip
        assert bad.startswith("RTSP/1.0 400 Bad Request\r\nCSeq: 3\r\n"), bad
        # The session is still there, and plays with a good one.
        rtsp.ask_ok(f"PLAY {url} RTSP/1.0\r\nCSeq: 4\r\nSession: {session}\r\n"
                    "Range: npt=0-\r\n")  # fmt: skip


def test_deleting_the_camera_ends_its_rtsp_sessions(
    serving: tuple[ServerProcess, httpx.Client, str],
) -> None:
    server, owner, camera_id = serving
    source = owner.get(f"/cameras/{camera_id}").json()["streams"]["main"]["url"]
    answer = owner.post("/cameras", json={"name": "Doomed", "main_url": source})
    assert answer.status_code == 201, answer.text
    doomed = answer.json()["id"]
    wait_for(lambda: owner.get(f"/cameras/{doomed}").json()["streams"]["main"]["stats"],
             WAIT_S, "the stream to come online")  # fmt: skip
    url = _url(server, doomed, user="")
    with closing(Conversation(server.rtsp_port, OWNER, OWNER_PASSWORD)) as rtsp:
        rtsp.ask_ok(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n")
        setup = rtsp.ask_ok(f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n"
                            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")  # fmt: skip
        rtsp.ask_ok(f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {session_of(setup)}\r\n")
        assert rtsp.packet() is not None
        assert owner.delete(f"/cameras/{doomed}").status_code == 204
        # The packets stop and the server hangs up (a silent one would time the read out).
        deadline = time.monotonic() + WAIT_S
        while rtsp.packet() is not None:
            assert time.monotonic() < deadline, "the session went on after the camera was deleted"


def test_a_players_logins_are_marked_rtsp_in_the_audit_trail(
    serving: tuple[ServerProcess, httpx.Client, str],
) -> None:
    server, owner, camera_id = serving
    add_user(owner, "player", "viewer")
    server.login("player", USER_PASSWORD).close()
    assert _streams(_url(server, camera_id, user="player", password=USER_PASSWORD))
    assert _probe(_url(server, camera_id, user="player", password="wrong")).returncode != 0

    def entries(action: str) -> list[dict[str, Any]]:
        found = owner.get("/audit", params={"action": action}).json()["entries"]
        return [entry for entry in found if entry["user_name"] == "player"]

    # Newest first: ffprobe's login, then the API's, which says nothing of a way in.
    logins = entries("login")
    assert [entry["details"] for entry in logins] == [{"via": "rtsp"}, None]
    failed = entries("login.failed")
    assert [entry["details"] for entry in failed] == [{"reason": "wrong password", "via": "rtsp"}]
    # The connection's session ends with it.
    logouts = wait_for(lambda: entries("logout"), WAIT_S, "the RTSP session's logout")
    assert logouts[0]["details"] == {"via": "rtsp"}
