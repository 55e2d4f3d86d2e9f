"""The figures of one run at the service's limit, from the store's counters polled during the timed write:
records/s as a share of the cap, the share of write requests throttled, and the seconds to settle after a step
of the cap. Pure functions over the samples, so that the definitions can be read (and checked) in one place.

Definitions (BENCHMARKS.md, "At the service's limit", says the same):
- a *span*'s rate is the records written between its first and last sample divided by the time between them;
  its throttled share is the requests throttled divided by the write requests in the same span;
- the *steady part* of a run (or of a phase of the step run) starts `steady_after` seconds after its start and
  ends 1 s before the write returned (or at the next step), leaving out the ramp-up and the last tasks' tail;
- *settled* `s` seconds after a step to cap `c`: every 2-s window that starts `s` or more seconds after the step
  and ends by the next step (or by the end of the steady part) has a rate within 95%-105% of `c` and at most 5%
  of its requests throttled. A window starts at a sample and ends at the first sample >= 2 s later. (2 s, not 1:
  with the counters polled every 200 ms, the 1-s windows of a stream held exactly at its cap spread over
  +-6% of it, so a 1-s band of +-5% measures the polling, not the client.)
"""

from dataclasses import dataclass

WINDOW_S = 1.0
SETTLE_WINDOW_S = 2.0
RATE_BAND = (0.95, 1.05)
MAX_THROTTLED_SHARE = 0.05
TAIL_S = 1.0  # left out at the end of the steady part: the last tasks finishing, the job's commit


@dataclass(frozen=True)
class Sample:
    """The store's cumulative counters at `t` seconds after the timed write started."""

    t: float
    records: int
    requests: int
    throttled: int


@dataclass(frozen=True)
class Span:
    seconds: float
    records_per_s: float
    throttled_share: float | None  # None when no request was made in the span


def span(samples: list[Sample], start: float, end: float) -> Span | None:
    """The span from the first sample at or after `start` to the last at or before `end`; None if shorter
    than a window."""
    inside = [s for s in samples if start <= s.t <= end]
    if len(inside) < 2 or inside[-1].t - inside[0].t < WINDOW_S:
        return None
    return _between(inside[0], inside[-1])


def _between(a: Sample, b: Sample) -> Span:
    seconds = b.t - a.t
    requests = b.requests - a.requests
    share = (b.throttled - a.throttled) / requests if requests > 0 else None
    return Span(seconds, (b.records - a.records) / seconds, share)


def _window_ends(inside: list[Sample], length: float = WINDOW_S) -> list[tuple[int, int]]:
    """(first, last) indices of every window: from each sample to the first one >= `length` s later."""
    out = []
    j = 0
    for i, first in enumerate(inside):
        j = max(j, i + 1)
        while j < len(inside) and inside[j].t - first.t < length:
            j += 1
        if j == len(inside):
            break
        out.append((i, j))
    return out


def windows(samples: list[Sample], start: float, end: float, length: float = WINDOW_S) -> list[tuple[float, Span]]:
    """Every window of `length` seconds inside [start, end], as (its start, its span)."""
    inside = [s for s in samples if start <= s.t <= end]
    return [(inside[i].t, _between(inside[i], inside[j])) for i, j in _window_ends(inside, length)]


def busy_rate(samples: list[Sample], start: float, end: float) -> float | None:
    """The client's own speed while it writes: the median rate of the 1-s windows inside [start, end] in which
    every poll interval saw records written (which leaves out each write's fixed costs: job planning,
    describing the group, the last tasks' tail); None when no window was busy throughout."""
    inside = [s for s in samples if start <= s.t <= end]
    rates = sorted(
        _between(inside[i], inside[j]).records_per_s
        for i, j in _window_ends(inside)
        if all(inside[k + 1].records > inside[k].records for k in range(i, j))
    )
    return rates[len(rates) // 2] if rates else None


def on_target(window: Span, cap: float) -> bool:
    """Within 95%-105% of the cap with at most 5% of its requests throttled."""
    low, high = RATE_BAND
    throttled = window.throttled_share or 0.0
    return low * cap <= window.records_per_s <= high * cap and throttled <= MAX_THROTTLED_SHARE


def settle_seconds(samples: list[Sample], step_t: float, end: float, cap: float) -> float | None:
    """Seconds from a step (to `cap`, at `step_t`) until every later 2-s window up to `end` is on target;
    None when the last window is not (it never settled) or there is no window."""
    found = windows(samples, step_t, end, SETTLE_WINDOW_S)
    settled_at = None
    for start, window in found:
        if not on_target(window, cap):
            settled_at = None
        elif settled_at is None:
            settled_at = start
    return None if settled_at is None else max(0.0, settled_at - step_t)


def binds(own: float, cap: float, steady: dict | None) -> bool:
    """Whether the cap binds the client: its own speed (from its warm-up) is at least the cap, or in the steady
    part it reached 95% of the cap or had requests throttled (it asked for more than the cap: its warm-up
    underrated it). `steady` is a span's figures as results.jsonl keeps them (records_per_s, throttled_share)."""
    if own >= cap:
        return True
    if not steady:
        return False
    return steady["records_per_s"] >= RATE_BAND[0] * cap or bool(steady["throttled_share"])
