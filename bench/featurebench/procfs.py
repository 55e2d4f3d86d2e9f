"""CPU time and resident memory of a process tree, from /proc (Linux).

CPU of a tree = for every live process in it, its own user+system time plus that of its children it already
reaped (cutime, cstime). A process that starts and ends inside the measured interval is counted through the
parent that reaped it, so snapshot(after) - snapshot(before) is the CPU the tree used in between.
"""

import os
import threading
from dataclasses import dataclass, field

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> tuple[str, list[str]] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
    except OSError:
        return None
    # comm is in parentheses and may contain spaces or parentheses itself: split at the last ')'.
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    return comm, raw[raw.rindex(")") + 2 :].split()


def tree(root: int) -> list[int]:
    """`root` and every descendant alive now."""
    parent_of: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields:
                parent_of[int(entry)] = int(fields[1][1])
    members, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, ppid in parent_of.items() if ppid in frontier]
        members.extend(frontier)
    return members


@dataclass
class CpuSnapshot:
    """CPU seconds per process (own + reaped children), keyed by pid, with the process's name."""

    seconds: dict[int, float] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def total(self) -> float:
        return sum(self.seconds.values())


def cpu_snapshot(root: int) -> CpuSnapshot:
    snapshot = CpuSnapshot()
    for pid in tree(root):
        fields = _stat_fields(pid)
        if fields is None:
            continue
        comm, rest = fields
        utime, stime, cutime, cstime = (int(v) for v in rest[11:15])
        snapshot.seconds[pid] = (utime + stime + cutime + cstime) / _TICKS
        snapshot.names[pid] = comm
    return snapshot


def cpu_used(before: CpuSnapshot, after: CpuSnapshot) -> tuple[float, dict[str, float]]:
    """CPU seconds the tree used between two snapshots, and the same split by process name.

    A process in `before` that is gone from `after` was reaped by a parent still in the tree, whose cutime now
    holds its time: subtracting its `before` value avoids counting its earlier CPU twice.
    """
    by_name: dict[str, float] = {}
    for pid, seconds in after.seconds.items():
        name = after.names[pid]
        by_name[name] = by_name.get(name, 0.0) + seconds - before.seconds.get(pid, 0.0)
    for pid, seconds in before.seconds.items():
        if pid not in after.seconds:
            name = before.names[pid]
            by_name[name] = by_name.get(name, 0.0) - seconds
    return sum(by_name.values()), by_name


def memory_bytes(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process; PSS splits each shared page among the processes that map it."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith(b"Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


class MemorySampler:
    """Samples the resident memory of a process tree every `interval` seconds, keeping the peaks of its sums.

    `peak_rss_bytes` counts a page shared by several processes (a fork's copy-on-write pages) once per process;
    `peak_pss_bytes` counts it once in all.
    """

    def __init__(self, root: int, interval: float = 0.25):
        self._root, self._interval = root, interval
        self._stop = threading.Event()
        self.peak_rss_bytes = 0
        self.peak_pss_bytes = 0
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        sizes = [memory_bytes(pid) for pid in tree(self._root)]
        self.peak_rss_bytes = max(self.peak_rss_bytes, sum(rss for rss, _ in sizes))
        self.peak_pss_bytes = max(self.peak_pss_bytes, sum(pss for _, pss in sizes))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval)
