"""JPEG snapshots against a server recording simulated cameras: the picture recorded at the
time asked for (its caption clock says so), scaled on request, the live picture now, 404 where
nothing was recorded, and refusals by right and camera."""

import io
import time
from typing import Any

import av
import httpx

from tests.media.captions import jpeg_caption_clock, of_day
from tests.media.recorded_site import WAIT_S, Site
from tests.media.test_playback import CLOSE_MS, _recorded_after
from tests.media.test_recording import _timeline
from tests.servers import login_with_rights
from tests.waiting import wait_for


def _snapshot(site: Site, camera: int = 0, client: httpx.Client | None = None,
              **query: Any) -> httpx.Response:  # fmt: skip
    route = "archive/snapshot" if "time_ms" in query else "snapshot"
    return (client or site.owner).get(f"/cameras/{site.cameras[camera]}/{route}", params=query)


def _decoded(answer: httpx.Response) -> av.VideoFrame:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/jpeg"
    with av.open(io.BytesIO(answer.content)) as container:
        return next(container.decode(video=0))


def _size(answer: httpx.Response) -> tuple[int, int]:
    frame = _decoded(answer)
    return frame.width, frame.height


def _clock_ms(answer: httpx.Response) -> int:
    """The caption clock of a JPEG answer at full size, in ms of the day."""
    return jpeg_caption_clock(_decoded(answer))


def test_a_recorded_snapshot_shows_the_picture_recorded_at_that_time(site: Site) -> None:
    # Just after a keyframe, mid-GOP and just before the next keyframe (a second apart).
    for offset_ms in (2_020, 5_510, 8_970):
        target = site.started_ms + offset_ms
        answer = _snapshot(site, time_ms=target)
        assert _size(answer) == (320, 240)
        assert abs(_clock_ms(answer) - of_day(target)) <= CLOSE_MS, offset_ms
        assert "immutable" in answer.headers["cache-control"]


def test_a_snapshot_is_scaled_down_to_the_width_asked_keeping_its_aspect(site: Site) -> None:
    target = site.started_ms + 4_000
    assert _size(_snapshot(site, time_ms=target, width=160)) == (160, 120)
    assert _size(_snapshot(site, time_ms=target, width=2000)) == (320, 240)  # not up
    assert _size(_snapshot(site, width=160)) == (160, 120)


def test_a_live_snapshot_shows_the_picture_now(site: Site) -> None:
    asked_ms = int(time.time() * 1000)
    answer = _snapshot(site, camera=1)
    answered_ms = int(time.time() * 1000)
    assert _size(answer) == (320, 240)
    # The newest picture the server had: a frame and the way to it old at most.
    assert of_day(asked_ms) - 300 <= _clock_ms(answer) <= of_day(answered_ms)
    assert answer.headers["cache-control"] == "no-store"


def test_where_nothing_was_recorded_there_is_no_snapshot(site: Site) -> None:
    before = _snapshot(site, time_ms=site.started_ms - 60_000)
    assert before.status_code == 404
    assert (before.json()["error"]["code"], before.json()["error"]["field"]) == (
        "no_recording", "time_ms")  # fmt: skip
    answer = httpx.post(f"{site.camera.url()}/control/fault/offline", json={"seconds": 5})
    assert answer.status_code == 200, answer.text
    went_off = int(time.time() * 1000)
    offline = wait_for(lambda: (a := _snapshot(site)).status_code == 503 and a, WAIT_S,
                       "the live picture to go")  # fmt: skip
    assert offline.json()["error"]["code"] == "no_live_picture"
    wait_for(lambda: _recorded_after(site, went_off) >= 2, WAIT_S, "recording after the gap")
    intervals = _timeline(site.owner, site.cameras[0], went_off - 5_000)
    (_, gap_from), (gap_to, _) = [(i["start_ms"], i["end_ms"]) for i in intervals[:2]]
    assert _snapshot(site, time_ms=gap_from - 100).status_code == 200
    in_gap = _snapshot(site, time_ms=(gap_from + gap_to) // 2)
    assert (in_gap.status_code, in_gap.json()["error"]["code"]) == (404, "no_recording")
    assert _snapshot(site, time_ms=gap_to + 100).status_code == 200
    assert _snapshot(site).status_code == 200  # live again


def test_refusals(site: Site) -> None:
    owner = site.owner
    now = int(time.time() * 1000)
    refusals = {
        "future": _snapshot(site, time_ms=now + 60_000),
        "width": _snapshot(site, time_ms=now - 1_000, width=8),
        "stream": _snapshot(site, stream="third"),
        "unknown": owner.get("/cameras/nope/snapshot"),
    }
    assert {
        name: (a.status_code, a.json()["error"].get("field")) for name, a in refusals.items()
    } == {
        "future": (422, "time_ms"),
        "width": (422, "width"),
        "stream": (422, "stream"),
        "unknown": (404, None),
    }
    roles = {
        "guard": {"functions": ["live_view"], "resources": {"cameras": "all"}},
        "clerk": {"functions": ["playback"], "resources": {"cameras": "all"}},
        "lobby": {"functions": ["live_view", "playback"],
                  "resources": {"cameras": [site.cameras[1]]}},
    }  # fmt: skip
    answers = {}
    for name, rights in roles.items():
        with login_with_rights(site.server, owner, f"snap-{name}", rights) as client:
            answers[name] = (
                _snapshot(site, client=client).status_code,
                _snapshot(site, client=client, time_ms=site.started_ms + 3_000).status_code,
            )
    assert answers == {
        "guard": (200, 403),  # live view, no playback
        "clerk": (403, 200),  # playback, no live view
        "lobby": (404, 404),  # not a camera of the role's
    }
