"""The warm-up every client gets before anything of it is timed, the same rule for ours and for the peers: the
same write, untimed, in slices of at least `slice_s` seconds, until at least `min_s` seconds of the client's own
work and two slices in a row whose median CPU per write agree within 5% (at most `max_s` seconds). A JVM
client's code is compiled and its caches are filled by then, whatever its speed."""

import os
import statistics
import time
from dataclasses import dataclass
from typing import Callable

from . import procfs

AGREE = 0.05


@dataclass(frozen=True)
class Rule:
    min_s: float = 20.0
    max_s: float = 180.0
    slice_s: float = 4.0


FULL = Rule()
SMOKE = Rule(min_s=1.0, max_s=6.0, slice_s=0.5)  # exercises the code; warms nothing


def timed(write: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process tree: Python, a JVM, their children) of one call."""
    pid = os.getpid()
    before = procfs.cpu_snapshot(pid)
    start = time.perf_counter()
    write()
    wall = time.perf_counter() - start
    return wall, procfs.cpu_used(before, procfs.cpu_snapshot(pid))[0]


def warm(write: Callable[[], None], rule: Rule) -> dict:
    """Repeats `write` by the rule; what it took, as a JSON-ready dict (seconds, writes, each slice's median
    CPU per write in ms, and whether the last two agreed)."""
    started = time.perf_counter()
    slices: list[float] = []
    writes = 0
    while True:
        slice_start = time.perf_counter()
        cpu = []
        while time.perf_counter() - slice_start < rule.slice_s:
            cpu.append(timed(write)[1])
        writes += len(cpu)
        slices.append(statistics.median(cpu))
        elapsed = time.perf_counter() - started
        stable = len(slices) >= 2 and abs(slices[-1] - slices[-2]) <= AGREE * slices[-2]
        if (elapsed >= rule.min_s and stable) or elapsed >= rule.max_s:
            return {"seconds": round(elapsed, 1), "writes": writes, "slices": len(slices),
                    "cpu_ms_per_write": [round(s * 1000, 2) for s in slices], "stable": stable}  # fmt: skip
