"""The timeline of many cameras in one call, against a server recording two simulated
cameras: intervals, or the time recorded per bucket, both showing where one camera was
offline, up to the file being written; and refusals by input, camera and right."""

import time
from typing import Any

import httpx

from tests.media.recorded_site import WAIT_S, Site, recorded_s
from tests.servers import login_with_rights
from tests.waiting import wait_for

DAY_MS = 86_400_000


def _timeline(site: Site, client: httpx.Client | None = None, **query: Any) -> httpx.Response:
    query.setdefault("cameras", ",".join(site.cameras))
    return (client or site.owner).get("/timeline", params=query)


def _zero_runs(recorded: list[int]) -> list[int]:
    """The lengths of the runs of empty buckets between recorded ones."""
    first = next(n for n, ms in enumerate(recorded) if ms)
    last = max(n for n, ms in enumerate(recorded) if ms)
    runs, run = [], 0
    for ms in recorded[first : last + 1]:
        if ms == 0:
            run += 1
        elif run:
            runs, run = [*runs, run], 0
    return runs


def test_the_timeline_of_two_cameras_shows_where_one_was_offline(site: Site) -> None:
    answer = httpx.post(f"{site.camera.url()}/control/fault/offline", json={"seconds": 5})
    assert answer.status_code == 200, answer.text
    went_off = int(time.time() * 1000)
    wait_for(lambda: recorded_s(site.owner, site.cameras[0], went_off + 8_000) >= 3, WAIT_S,
             "recording after the gap")  # fmt: skip
    now = int(time.time() * 1000)
    span = {"from_ms": site.started_ms, "to_ms": now}

    listed = _timeline(site, **span)
    assert listed.status_code == 200, listed.text
    offline, online = (c["intervals"] for c in listed.json()["cameras"])
    assert len(offline) == 2
    assert 4_000 <= offline[1]["start_ms"] - offline[0]["end_ms"] <= 12_000
    assert len(online) == 1
    # Up to the file being written: the last second or two of it are on disk.
    assert now - online[0]["end_ms"] <= 2_500

    bucketed = _timeline(site, bucket_ms=1_000, **span)
    assert bucketed.status_code == 200, bucketed.text
    body = bucketed.json()
    assert (body["bucket_ms"], body["from_ms"], body["to_ms"]) == (1_000, *span.values())
    hole, steady = (c["recorded_ms"] for c in body["cameras"])
    assert len(hole) == len(steady) == -(-(now - site.started_ms) // 1_000)
    assert all(0 <= ms <= 1_000 for ms in hole + steady)
    [run] = _zero_runs(hole)
    assert 3 <= run <= 12
    assert _zero_runs(steady) == []
    # The same time recorded either way (intervals join across gaps of under a second).
    for intervals, recorded in ((offline, hole), (online, steady)):
        listed_ms = sum(i["end_ms"] - i["start_ms"] for i in intervals)
        assert abs(sum(recorded) - listed_ms) <= 1_000


def test_cameras_come_back_in_the_order_asked(site: Site) -> None:
    now = int(time.time() * 1000)
    answer = _timeline(site, cameras=f"{site.cameras[1]},{site.cameras[0]}",
                       from_ms=now - 365 * DAY_MS, to_ms=now, bucket_ms=DAY_MS)  # fmt: skip
    assert answer.status_code == 200, answer.text
    cameras = answer.json()["cameras"]
    assert [c["camera_id"] for c in cameras] == site.cameras[::-1]
    assert all(len(c["recorded_ms"]) == 365 and c["intervals"] is None for c in cameras)
    # All of it recorded since the module started, in the last day's bucket.
    assert all(c["recorded_ms"][-1] >= 12_000 and sum(c["recorded_ms"][:-1]) == 0
               for c in cameras)  # fmt: skip


def test_refusals(site: Site) -> None:
    owner = site.owner
    now = int(time.time() * 1000)
    day = {"from_ms": now - DAY_MS, "to_ms": now}
    refusals = {
        "too many buckets": _timeline(
            site, bucket_ms=1_000, from_ms=now - 3 * 3_600_000, to_ms=now
        ),
        "short buckets": _timeline(site, bucket_ms=999, **day),
        "intervals over a week": _timeline(site, from_ms=now - 8 * DAY_MS, to_ms=now),
        "buckets over 400 days": _timeline(
            site, bucket_ms=DAY_MS, from_ms=now - 401 * DAY_MS, to_ms=now
        ),
        "backwards": _timeline(site, from_ms=now, to_ms=now - 1),
        "65 cameras": _timeline(site, cameras=",".join(f"c{n}" for n in range(65)), **day),
        "twice": _timeline(site, cameras=f"{site.cameras[0]},{site.cameras[0]}", **day),
        "stream": _timeline(site, stream="third", **day),
        "unknown": _timeline(site, cameras=f"{site.cameras[0]},nope", **day),
    }
    assert {
        name: (a.status_code, a.json()["error"].get("field")) for name, a in refusals.items()
    } == {
        "too many buckets": (422, "bucket_ms"),
        "short buckets": (422, "bucket_ms"),
        "intervals over a week": (422, "to_ms"),
        "buckets over 400 days": (422, "to_ms"),
        "backwards": (422, "to_ms"),
        "65 cameras": (422, "cameras"),
        "twice": (422, "cameras"),
        "stream": (422, "stream"),
        "unknown": (404, None),
    }
    roles = {
        "guard": {"functions": ["live_view"], "resources": {"cameras": "all"}},
        "lobby": {"functions": ["playback"], "resources": {"cameras": [site.cameras[1]]}},
    }
    answers = {}
    for name, rights in roles.items():
        with login_with_rights(site.server, owner, f"timeline-{name}", rights) as client:
            answers[name] = (
                _timeline(site, client, **day).status_code,
                _timeline(site, client, cameras=site.cameras[1], **day).status_code,
            )
    assert answers == {
        "guard": (403, 403),  # no playback
        "lobby": (404, 200),  # one of the cameras is not the role's to see
    }
