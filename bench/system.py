"""A system of many real `vigil server` processes on loopback: how fast a change reaches
every server, how fast a server that was away catches up, what an idle member costs; what a
relayed live viewer costs against a direct one, and the latency it adds; the recording gap
of a failover.

Prints one JSON object. Run: `python -m bench.system [--servers 10,25,50] [--changes 1000]
[--sections mesh,relay,failover] [--cameras 4] [--seconds 15] [--relay-rounds 4]`. Every
server runs on this machine's cores, so the figures for 50 include 50 servers' pings and
status messages competing for two cores.
"""

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.cameras import vms_cameras
from bench.delivery import WARM_UP_S, live_latency, live_viewer
from bench.proc import TreeCpu, cpu_seconds, rss_mib
from tests.servers import ServerProcess
from tests.testcamera.process import TestCameraProcess

ROUNDS = 5
POLL_S = 0.01
DEADLINE_S = 60.0
IDLE_S = 10.0


def _start(folder: Path, index: int) -> ServerProcess:
    options = ["--media-workers", "1"]
    return ServerProcess(folder / f"s{index}", options=options).start(timeout_s=120)


async def _everywhere(servers: list[ServerProcess], name: str, since: float) -> float:
    """Seconds from `since` until every server's `GET /server` names the system `name`."""
    waiting = {server.url for server in servers}
    deadline = since + DEADLINE_S
    async with httpx.AsyncClient(timeout=10) as client:

        async def shows(url: str) -> bool:
            answer = await client.get(f"{url}/api/v1/server")
            return bool(answer.json()["system"]["name"] == name)

        while waiting:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{len(waiting)} servers did not get the change")
            urls = sorted(waiting)
            for url, done in zip(urls, await asyncio.gather(*map(shows, urls)), strict=True):
                if done:
                    waiting.discard(url)
            if waiting:
                await asyncio.sleep(POLL_S)
    return time.perf_counter() - since


def _rename(owner: httpx.Client, name: str) -> float:
    start = time.perf_counter()
    answer = owner.patch("/system", json={"name": name})
    answer.raise_for_status()
    return start


def _all_online(server: ServerProcess, count: int) -> bool:
    with server.login() as client:
        servers = client.get("/system/servers").json()["servers"]
    return sum(1 for s in servers if s["online"]) == count


def _wait(look: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S * 2
    while not look():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited for {what}")
        time.sleep(0.2)


def _propagation(servers: list[ServerProcess], owner: httpx.Client) -> dict[str, float]:
    times = []
    for n in range(ROUNDS):
        name = f"{len(servers)} servers, round {n}"
        times.append(asyncio.run(_everywhere(servers, name, _rename(owner, name))))
    return {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}


def _catch_up(servers: list[ServerProcess], owner: httpx.Client, changes: int) -> dict[str, float]:
    away = servers[-1]
    away.stop()
    for n in range(changes):
        _rename(owner, f"change {n}")
    started = time.perf_counter()
    away.start(timeout_s=120)
    ready = time.perf_counter()
    last = f"change {changes - 1}"
    caught_up = asyncio.run(_everywhere([away], last, ready))
    return {
        "changes": changes,
        "after_ready_s": round(caught_up, 3),
        "after_start_s": round(ready - started + caught_up, 3),
    }


def _idle(servers: list[ServerProcess]) -> dict[str, float]:
    pids = [server.pid for server in servers]
    before = {pid: cpu_seconds(pid) for pid in pids}
    time.sleep(IDLE_S)
    cpu = [(cpu_seconds(pid) - before[pid]) / IDLE_S for pid in pids]
    rss = [rss_mib(pid) for pid in pids]
    return {
        "rss_mib_median": round(statistics.median(rss), 1),
        "rss_mib_max": round(max(rss), 1),
        "cpu_cores_per_server_median": round(statistics.median(cpu), 4),
        "cpu_cores_all_servers": round(sum(cpu), 3),
    }


def _pair_with_cameras(
    folder: Path, cameras: TestCameraProcess, count: int
) -> tuple[ServerProcess, ServerProcess, httpx.Client, list[str]]:
    """Two servers, the second recording `count` cameras (failover high): the first's owner
    client and the camera ids."""
    first, second = _start(folder, 0), _start(folder, 1)
    first.create_system(server_name="A")
    second.join(first, "B").raise_for_status()
    _wait(lambda: _all_online(first, 2), "two servers online")
    owner = first.login()
    with second.client() as anonymous:
        second_id = anonymous.get("/server").json()["id"]
    ids = []
    for n in range(count):
        stream = f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n + 1}"
        answer = owner.post("/cameras", json={
            "name": f"Camera {n + 1}", "main_url": f"{stream}/main", "sub_url": f"{stream}/sub",
            "parent_server_id": second_id, "failover": "high",
        })  # fmt: skip
        answer.raise_for_status()
        ids.append(answer.json()["id"])
    with second.login() as on_b:

        def online() -> bool:
            found = on_b.get("/cameras").json()["cameras"]
            return all(s["stats"] for c in found for s in c["streams"].values())

        _wait(online, "every stream online on B")
    time.sleep(WARM_UP_S)
    return first, second, owner, ids


async def _cores(servers: dict[str, int], seconds: float) -> dict[str, float]:
    """The cores each process of the servers' trees used over `seconds`, by server and role
    ("B media-1")."""
    trees = {label: TreeCpu(pid) for label, pid in servers.items()}
    await asyncio.sleep(seconds)
    used = {}
    for label, tree in trees.items():
        for process in tree.measure(seconds)["processes"]:  # type: ignore[attr-defined]
            used[f"{label} {process['name']}"] = float(process["cores"])
    return used


async def _viewing(
    via: ServerProcess, ids: list[str], servers: dict[str, int], seconds: float
) -> dict[str, float]:
    token = _token(via)
    viewers = [await live_viewer(via, token, camera_id, "main") for camera_id in ids]
    try:
        await asyncio.sleep(2.0)  # past every viewer's first burst
        return await _cores(servers, seconds)
    finally:
        for viewer in viewers:
            await viewer.close()


async def _viewing_costs(
    first: ServerProcess, second: ServerProcess, ids: list[str], seconds: float, rounds: int
) -> dict[str, object]:
    """Rounds of three windows (no viewers, viewers through B, the same through A): the
    machine's own load drifts by a tenth over minutes, so the modes take turns and each is
    the mean of its rounds, beyond the mean without viewers."""
    servers = {"A": first.pid, "B": second.pid}
    found: dict[str, object] = {}
    for per_camera in (1, 8):
        viewers = [camera_id for camera_id in ids for _ in range(per_camera)]
        windows: dict[str, list[dict[str, float]]] = {"idle": [], "direct": [], "relayed": []}
        for _ in range(rounds):
            windows["idle"].append(await _cores(servers, seconds))
            windows["direct"].append(await _viewing(second, viewers, servers, seconds))
            windows["relayed"].append(await _viewing(first, viewers, servers, seconds))
        idle = _mean(windows["idle"])
        figures: dict[str, object] = {"viewers": len(viewers)}
        per_viewer: dict[str, float] = {}
        for mode in ("direct", "relayed"):
            beyond = {process: cores - idle.get(process, 0.0)
                      for process, cores in _mean(windows[mode]).items()}  # fmt: skip
            each = [(sum(w.values()) - sum(idle.values())) / len(viewers) for w in windows[mode]]
            per_viewer[mode] = statistics.mean(each)
            figures[mode] = {
                "per_viewer": round(per_viewer[mode], 4),
                "per_viewer_stdev": round(statistics.stdev(each), 4) if rounds > 1 else None,
                "processes_beyond_idle": {p: round(c, 4) for p, c in beyond.items()},
            }
        direct, relayed = per_viewer["direct"], per_viewer["relayed"]
        figures["relayed_per_direct"] = round(relayed / direct, 2) if direct > 0 else None
        found[f"{per_camera}_per_camera"] = figures
    found["latency"] = {mode: await _latency(via, ids, seconds)
                        for mode, via in (("direct", second), ("relayed", first))}  # fmt: skip
    return found


async def _latency(via: ServerProcess, ids: list[str], seconds: float) -> dict[str, object]:
    """One viewer's pictures (the first camera's sub stream) against the camera's clock
    burned into them, while the other cameras' main streams are watched through the same
    server (relayed, their frames share the messages of B's worker's connection to A)."""
    token = _token(via)
    others = [await live_viewer(via, token, camera_id, "main") for camera_id in ids[1:]]
    try:
        return await live_latency(via, token, ids[0], seconds)
    finally:
        for viewer in others:
            await viewer.close()


def _token(via: ServerProcess) -> str:
    with via.login() as client:  # sessions are each server's own
        return client.headers["authorization"].removeprefix("Bearer ")


def _mean(windows: list[dict[str, float]]) -> dict[str, float]:
    return {
        process: statistics.mean(w.get(process, 0.0) for w in windows) for process in windows[0]
    }


def _relay(folder: Path, count: int, seconds: float, rounds: int) -> dict[str, object]:
    """Live viewers of B's cameras watching through B (direct) and through A (relayed), one
    and eight per camera: CPU of both servers' process trees, per viewer beyond what both use
    without viewers (a relay is paid once per stream, so it weighs less the more watch), and
    of each process."""
    with vms_cameras(folder, count) as cameras:
        first, second, owner, ids = _pair_with_cameras(folder, cameras, count)
        try:
            costs = asyncio.run(_viewing_costs(first, second, ids, seconds, rounds))
        finally:
            owner.close()
            first.stop()
            second.stop()
    return {"cameras": count, "stream": "main (1080p25 4 Mbit/s)", **costs}


def _failover(folder: Path, count: int) -> dict[str, object]:
    """SIGKILL of the server recording `count` cameras: the hole in each camera's archive
    (both servers' parts, from the merged timeline) around the kill, at the default time."""
    with vms_cameras(folder, count) as cameras:
        first, second, owner, ids = _pair_with_cameras(folder, cameras, count)
        try:
            first_id = owner.get("/server").json()["id"]
            time.sleep(5)
            killed_ms = int(time.time() * 1000)
            second.kill()

            def taken() -> bool:
                found = owner.get("/cameras").json()["cameras"]
                return all(c["acting_server_id"] == first_id for c in found)

            _wait(taken, "A to take every camera over")
            time.sleep(15)  # recordings on A past the first files
            second.start(timeout_s=120)

            def back() -> bool:
                found = owner.get("/cameras").json()["cameras"]
                return all(c["acting_server_id"] is None for c in found)

            _wait(back, "every camera back on B")
            time.sleep(5)
            now = int(time.time() * 1000)
            span = {"from_ms": killed_ms - 60_000, "to_ms": now, "cameras": ",".join(ids)}
            timelines = owner.get("/timeline", params=span).json()["cameras"]
        finally:
            owner.close()
            first.stop()
            second.stop()
    gaps = []
    for timeline in timelines:
        spans = [(i["start_ms"], i["end_ms"]) for i in timeline["intervals"]]
        before = [end for start, end in spans if start <= killed_ms]
        after = [start for start, _ in spans if start > killed_ms]
        if before and after:
            gaps.append((after[0] - before[-1]) / 1000)
    return {
        "cameras": count,
        "failover_after_s": 10,
        "gap_s_median": round(statistics.median(gaps), 2) if gaps else None,
        "gap_s_max": round(max(gaps), 2) if gaps else None,
        "gaps_s": [round(g, 2) for g in gaps],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", default="10,25,50", help="system sizes, ascending")
    parser.add_argument("--changes", type=int, default=1000, help="made while one is away")
    parser.add_argument("--sections", default="mesh,relay,failover")
    parser.add_argument("--cameras", type=int, default=4, help="relayed and failed over")
    parser.add_argument("--seconds", type=float, default=15.0, help="of each CPU window")
    parser.add_argument("--relay-rounds", type=int, default=4, help="of the relay's windows")
    args = parser.parse_args()
    sections = args.sections.split(",")
    results: dict[str, object] = {"bench": "system", "rounds": ROUNDS}
    if "relay" in sections:
        with tempfile.TemporaryDirectory() as folder:
            results["relay"] = _relay(Path(folder), args.cameras, args.seconds, args.relay_rounds)
    if "failover" in sections:
        with tempfile.TemporaryDirectory() as folder:
            results["failover"] = _failover(Path(folder), args.cameras)
    if "mesh" in sections:
        results.update(_mesh([int(size) for size in args.servers.split(",")], args.changes))
    print(json.dumps(results, indent=2))


def _mesh(sizes: list[int], changes: int) -> dict[str, object]:
    results: dict[str, object] = {}
    servers: list[ServerProcess] = []
    with tempfile.TemporaryDirectory() as folder:
        try:
            servers.append(_start(Path(folder), 0))
            servers[0].create_system(server_name="S0")
            owner = servers[0].login()
            for size in sizes:
                while len(servers) < size:
                    server = _start(Path(folder), len(servers))
                    joined = server.join(servers[0], f"S{len(servers)}")
                    joined.raise_for_status()
                    servers.append(server)
                _wait(lambda n=size: _all_online(servers[-1], n), f"{size} servers online")
                results[f"servers_{size}"] = {
                    "change_everywhere": _propagation(servers, owner),
                    "idle": _idle(servers),
                }
            results["catch_up"] = _catch_up(servers, owner, changes)
            owner.close()
        finally:
            for server in servers:
                server.stop()
    return results


if __name__ == "__main__":
    main()
