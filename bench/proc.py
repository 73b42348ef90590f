"""What /proc says of a process: CPU seconds used, memory now and at its peak."""

import os
from pathlib import Path

from tests.processes import parent_of
from tests.processes import peak_rss_mib as peak_rss_mib  # read as the tests read them
from tests.processes import rss_mib as rss_mib

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def thread_cpu_seconds(pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds of each thread of `pid` (by thread id, with its name), for the busiest
    core: one thread (an event loop) can be full while the process's total looks light."""
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # ended meanwhile
        threads[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return threads


def busiest_thread(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], wall_s: float
) -> dict[str, object]:
    """The thread that used the most CPU between two `thread_cpu_seconds`, in cores."""
    used = {
        tid: (name, cpu - before.get(tid, (name, 0.0))[1]) for tid, (name, cpu) in after.items()
    }
    name, cpu = max(used.values(), key=lambda entry: entry[1], default=("", 0.0))
    return {"name": name, "cores": round(cpu / wall_s, 3)}


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (a server and its media workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = parent_of(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        found = todo.pop()
        tree.append(found)
        todo.extend(children.get(found, []))
    return tree


class TreeCpu:
    """CPU of a process tree over a window, each process and its busiest thread: one core
    can be full (an event loop) while the total looks light."""

    def __init__(self, root: int) -> None:
        self._pids = process_tree(root)
        self._names = {pid: _name(pid) for pid in self._pids}
        self._processes = {pid: cpu_seconds(pid) for pid in self._pids}
        self._threads = {pid: thread_cpu_seconds(pid) for pid in self._pids}

    def measure(self, wall_s: float) -> dict[str, object]:
        per_process = []
        for pid in self._pids:
            try:
                used = cpu_seconds(pid) - self._processes[pid]
                busiest = busiest_thread(self._threads[pid], thread_cpu_seconds(pid), wall_s)
            except FileNotFoundError:
                continue  # ended in the window
            per_process.append(
                {
                    "pid": pid,
                    "name": self._names[pid],
                    "cores": round(used / wall_s, 3),
                    "busiest_thread": busiest,
                    "rss_mib": round(rss_mib(pid), 1),
                }
            )
        total = sum(float(p["cores"]) for p in per_process)  # type: ignore[arg-type]
        return {
            "cores": round(total, 3),
            "busiest_process_cores": max((p["cores"] for p in per_process), default=0.0),
            "processes": per_process,
        }


def _name(pid: int) -> str:
    """A server's process by its role: `server`, or its worker's name (`media-1`)."""
    arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    if b"--name" in arguments:
        return arguments[arguments.index(b"--name") + 1].decode()
    return "server" if b"server" in arguments else arguments[0].decode()
