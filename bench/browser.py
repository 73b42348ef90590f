"""Live and playback in the browser: how soon the web client's player shows a camera, how far
behind the newest picture it plays, and how soon a seek into the archive shows.

Starts one simulated camera (`bench.cameras`: main 1080p25 4 Mbit/s, sub 360p15, sound) and a
`vigil server` recording it (with `--sections grid`, more cameras, not recorded: what their
tiles cost the browser is measured), opens the web client in Debian's headless Chromium
(software decoding) and measures, per stream:
1. time to first picture: from asking the player for the stream (its `camera` attribute) to
   the video's `playing` event, `--opens` times; p50, p95 and the worst;
2. how far behind the newest picture received the video plays (the end of what is buffered
   less the playing position), sampled every 100 ms for `--seconds` after 3 s of play; p50,
   p95 and the worst. The server's own delay is bench/delivery.py's.
3. playback (main stream), `--opens` seeks to random times of the last 20 s recorded: from
   `seek()` to the video's `playing` event (the keyframe before the time sought), and to the
   picture sought (media time 250 ms, after the pictures between squeezed before it).
4. the client's live grid (`--sections grid`, `--grid N` cameras, default 64, each in a tile
   of an N-tile layout, so each plays its sub stream): from loading the page, logged in, to
   every tile's video playing (its `currentTime` past 0); then CPU of the browser's
   processes (each once) and of the server's tree for `--seconds`, and the page's
   JavaScript heap and the browser's memory at the start and after `--grid-minutes` of play.
5. playback of `--sync` cameras in sync (`--sections sync`; those cameras recorded): the
   client's playback view of a layout of them, from 20 s ago; every 0.5 s for `--seconds`,
   each tile's picture is drawn at once and the clock burned into it read back: the spread
   (latest less earliest) between the cameras' pictures, against the stream's frame
   interval, and how many samples were within one frame.
Prints one JSON object.

Run: `python -m bench.browser [--opens 20] [--seconds 10] [--sections player,grid,sync]
[--grid 64] [--grid-minutes 10] [--sync 16]`.
"""

import argparse
import itertools
import json
import math
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from playwright.sync_api import Page, sync_playwright

from bench.cameras import MAIN_FPS, SUB_FPS, vms_cameras
from bench.delivery import serve
from bench.proc import TreeCpu, cpu_seconds, process_tree, rss_mib
from tests.media.captions import clock_of, full_range_caption
from tests.servers import ServerProcess
from tests.waiting import wait_for
from tests.web.browser import launch, open_player

FIRST_PICTURE_MS = """async ([camera, stream]) => {
    const player = document.querySelector('vigil-video');
    player.removeAttribute('camera');
    await new Promise((resolve) => setTimeout(resolve, 200));  // the last one let go
    const started = performance.now();
    const playing = new Promise((resolve) =>
        player.video.addEventListener('playing', resolve, { once: true }));
    player.setAttribute('stream', stream);
    player.setAttribute('camera', camera);
    await playing;
    return performance.now() - started;
}"""

BEHIND_S = """async (seconds) => {
    const video = document.querySelector('vigil-video video');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const samples = [];
    for (let n = 0; n < seconds * 10; n += 1) {
        const ranges = video.buffered;
        samples.push(ranges.length ? ranges.end(ranges.length - 1) - video.currentTime : null);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return samples;
}"""


SEEK_MS = """async (time) => {
    const player = document.querySelector('vigil-video');
    const started = performance.now();
    const playing = new Promise((resolve) =>
        player.video.addEventListener('playing', resolve, { once: true }));
    player.seek(time);
    await playing;
    const first = performance.now() - started;
    while (player.video.currentTime < 0.25) await new Promise(requestAnimationFrame);
    return [first, performance.now() - started];
}"""
RECORDED_S = 25

FRAME_JITTER_MS = 5  # how far a simulated camera's picture may stray from its instant

# Each playback tile's caption band (its top 32 rows, the first 12 cells: the clock) as
# full-range luma, every tile drawn in the same task: the pictures showing together.
BANDS = """() => [...document.querySelectorAll('#pb-grid video')].map((video) => {
    const canvas = new OffscreenCanvas(192, 32);
    const context = canvas.getContext('2d');
    context.drawImage(video, 0, 0, 192, 32, 0, 0, 192, 32);
    const rgba = context.getImageData(0, 0, 192, 32).data;
    const luma = [];
    for (let i = 0; i < rgba.length; i += 4) {
        luma.push(Math.round(0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]));
    }
    return luma;
})"""

# When the page opened each live WebSocket, and when each one's first message came.
WATCH_SOCKETS = """(() => {
    const Native = window.WebSocket;
    window.benchSockets = { asked: [], opened: [], first: [] };
    window.WebSocket = class extends Native {
        constructor(...args) {
            super(...args);
            if (!String(args[0]).includes('/live')) return;
            window.benchSockets.asked.push(performance.now());
            const opened = () => window.benchSockets.opened.push(performance.now());
            const first = () => window.benchSockets.first.push(performance.now());
            this.addEventListener('open', opened, { once: true });
            this.addEventListener('message', first, { once: true });
        }
    };
})()"""

# When each tile started playing (its video's currentTime past 0), in ms since the page's
# navigation began, once all of them have.
ALL_PLAYING_MS = """async (count) => {
    const started = new Map();
    for (;;) {
        for (const player of document.querySelectorAll('#grid vigil-video')) {
            if (player.video.currentTime > 0 && !started.has(player)) {
                started.set(player, performance.now());
            }
        }
        if (started.size >= count) return [...started.values()];
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}"""


def _spread(values: list[float], digits: int) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50": round(statistics.median(values), digits),
        "p95": round(values[max(0, int(len(values) * 0.95) - 1)], digits),
        "max": round(values[-1], digits),
    }


def _measure(page: Page, camera_id: str, stream: str, opens: int, seconds: float) -> Any:
    first = [page.evaluate(FIRST_PICTURE_MS, [camera_id, stream]) for _ in range(opens)]
    behind = page.evaluate(BEHIND_S, seconds)
    size = page.evaluate("() => { const v = document.querySelector('vigil-video video');"
                         " return [v.videoWidth, v.videoHeight]; }")  # fmt: skip
    return {
        "size": size,
        "first_picture_ms": _spread(first, 1),
        "behind_newest_s": _spread([b for b in behind if b is not None], 3),
        "samples_without_video": sum(b is None for b in behind),
    }


def _seeks(page: Page, owner: httpx.Client, camera_id: str, opens: int) -> Any:
    def recorded_until() -> int | None:
        now_ms = int(time.time() * 1000)
        answer = owner.get(f"/cameras/{camera_id}/timeline",
                           params={"from_ms": now_ms - 3_600_000, "to_ms": now_ms})  # fmt: skip
        latest = answer.json()["intervals"][-1]
        recorded = latest["end_ms"] - latest["start_ms"] >= RECORDED_S * 1000
        return int(latest["end_ms"]) if recorded else None

    end_ms = wait_for(recorded_until, RECORDED_S + 60, "a long enough recording")
    page.evaluate("() => document.querySelector('vigil-video').setAttribute('stream', 'main')")
    times = [page.evaluate(SEEK_MS, end_ms - random.randint(2_000, 20_000)) for _ in range(opens)]
    page.evaluate("() => document.querySelector('vigil-video').live()")
    return {
        "first_picture_ms": _spread([first for first, _ in times], 1),
        "picture_sought_ms": _spread([sought for _, sought in times], 1),
    }


def _browser_pids(excluded: list[int]) -> list[int]:
    """Chromium's processes: this process's descendants that are not `excluded` trees."""
    left = set(process_tree(os.getpid())) - {os.getpid()}
    for root in excluded:
        left -= set(process_tree(root))
    return [pid for pid in left if "chrom" in Path(f"/proc/{pid}/comm").read_text()]


def _used(pid: int, before: float) -> float:
    """CPU seconds `pid` used since `before` (0 if it ended meanwhile)."""
    try:
        return cpu_seconds(pid) - before
    except FileNotFoundError:
        return 0.0


def _grid(
    page: Page, server: ServerProcess, token: str, ids: list[str], seconds: float, minutes: float
) -> Any:
    page.goto(f"{server.url}/#")  # logged in already (open_player): the live view
    page.wait_for_selector("#workspace:visible")
    _layout(page, server, token, ids)
    page.add_init_script(WATCH_SOCKETS)
    page.reload()
    tiles_playing_ms = page.evaluate(ALL_PLAYING_MS, len(ids))
    sockets = page.evaluate("() => window.benchSockets")
    steps = [b - a for a, b in itertools.pairwise(sorted(sockets["opened"]))]
    page.wait_for_timeout(2000)  # past the first GOPs' burst
    server_pids = [server.pid]
    browser = {pid: cpu_seconds(pid) for pid in _browser_pids(server_pids)}
    serving = TreeCpu(server.pid)
    time.sleep(seconds)
    server_cpu = serving.measure(seconds)
    browser_cores = sum(_used(pid, before) for pid, before in browser.items()) / seconds

    def memory() -> dict[str, float]:
        heap = page.evaluate("() => performance.memory.usedJSHeapSize / 1048576")
        browser_rss = sum(rss_mib(pid) for pid in _browser_pids(server_pids))
        return {"js_heap_mib": round(heap, 1), "browser_rss_mib": round(browser_rss, 1)}

    start = memory()
    time.sleep(max(0.0, minutes * 60 - seconds))
    end = memory()
    still = len(page.evaluate(ALL_PLAYING_MS, len(ids))) == len(ids)
    return {
        "tiles": len(ids),
        "all_playing_after_load_ms": round(max(tiles_playing_ms)),
        "tile_playing_after_load_ms": _spread(tiles_playing_ms, 0),
        # Asked for (the WebSocket made), its handshake done (`open`), its first message.
        "live_socket_asked_after_load_ms": _spread(sockets["asked"], 0),
        "live_socket_open_after_load_ms": _spread(sockets["opened"], 0),
        "live_sockets": len(sockets["asked"]),  # one: the tiles share the page's socket
        "live_socket_open_steps_ms": _spread(steps, 0) if steps else None,
        "first_message_after_load_ms": _spread(sockets["first"], 0),
        "browser_cores": round(browser_cores, 3),
        "server_cores": server_cpu["cores"],
        "server_busiest_process_cores": server_cpu["busiest_process_cores"],
        "memory_at_start": start,
        f"memory_after_{minutes:g}_min": end,
        "all_still_playing": still,
    }


def _layout(page: Page, server: ServerProcess, token: str, ids: list[str]) -> None:
    """This window's live layout made of `ids`, as the client keeps it in the browser."""
    with server.client(token) as owner:
        system_id = owner.get("/server").json()["system"]["id"]
        user_id = owner.get("/me").json()["user"]["id"]
    side = math.isqrt(len(ids) - 1) + 1
    tiles = [{"x": n % side, "y": n // side, "width": 1, "height": 1, "camera_id": camera_id}
             for n, camera_id in enumerate(ids)]  # fmt: skip
    layout = {"grid": {"columns": side, "rows": side, "tiles": tiles}, "saved": None}
    page.evaluate("([key, layout]) => localStorage.setItem(key, JSON.stringify(layout))",
                  [f"vigil.layout.{system_id}.{user_id}.1", layout])  # fmt: skip


def _sync(page: Page, server: ServerProcess, token: str, ids: list[str], seconds: float) -> Any:
    page.goto(f"{server.url}/#")
    page.wait_for_selector("#workspace:visible")
    _layout(page, server, token, ids)
    page.goto(f"{server.url}/#playback={int(time.time() * 1000) - 20_000}")
    page.reload()  # the page reads the layout at its start
    played = "() => [...document.querySelectorAll('#pb-grid video')].map(v => v.currentTime)"
    page.wait_for_function(f"({played})().length === {len(ids)} && ({played})().every(t => t > 2)",
                           timeout=60_000)  # fmt: skip
    spreads, unread = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        clocks = []
        for band in page.evaluate(BANDS):
            clock = clock_of(full_range_caption(np.array(band, dtype=np.uint8).reshape(32, 192)))
            if clock is None:
                unread += 1
            else:
                clocks.append(clock)
        if len(clocks) == len(ids):
            spreads.append(max(clocks) - min(clocks))
        time.sleep(0.5)
    frame_ms = 1000 / (SUB_FPS if len(ids) > 4 else MAIN_FPS)
    # The simulated cameras send their pictures at the same instants: pictures shown together
    # are of one instant or of neighbouring ones, a picture's interval apart (plus a few ms
    # of the cameras' own jitter).
    within = sum(spread <= frame_ms + FRAME_JITTER_MS for spread in spreads)
    return {
        "cameras": len(ids),
        "samples": len(spreads),
        "pictures_unread": unread,
        "spread_ms": _spread(spreads, 0) if spreads else None,
        "frame_interval_ms": round(frame_ms),
        "samples_within_one_frame": within,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--opens", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sections", default="player,grid")
    parser.add_argument("--grid", type=int, default=64, help="cameras in the grid")
    parser.add_argument("--grid-minutes", type=float, default=10.0)
    parser.add_argument("--sync", type=int, default=16, help="cameras played back in sync")
    args = parser.parse_args()
    sections = args.sections.split(",")
    count = max(args.grid if "grid" in sections else 1, args.sync if "sync" in sections else 1)
    recorded = args.sync if "sync" in sections else 1  # the player's seeks: the first
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cameras = vms_cameras(folder, count)
        try:
            with ServerProcess(folder / "server") as server, sync_playwright() as playwright:
                token, ids = serve(server, cameras, count, recorded=recorded)
                browser = launch(playwright)
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                open_player(page, server.url, ids[0])
                if "player" in sections:
                    for stream in ("main", "sub"):
                        figures[stream] = _measure(page, ids[0], stream, args.opens, args.seconds)
                    with server.client(token) as owner:
                        figures["playback_seek"] = _seeks(page, owner, ids[0], args.opens)
                if "grid" in sections:
                    figures["grid"] = _grid(page, server, token, ids[: args.grid], args.seconds,
                                            args.grid_minutes)  # fmt: skip
                if "sync" in sections:
                    figures["sync"] = _sync(page, server, token, ids[: args.sync], args.seconds)
                browser.close()
        finally:
            cameras.stop()
    print(json.dumps({"bench": "browser", "opens": args.opens, **figures}, indent=2))


if __name__ == "__main__":
    main()
