"""One run of the limit benchmark: a fresh store with the latency set, one Spark-based client in its own process
(`limit_worker`) with `tasks` task slots, warmed on an uncapped group of its own, then a timed write into the
measured group under the store's records-per-second cap (which halves and comes back in the step scenario),
with the store's counters polled every 200 ms; afterwards the records present in the online store are counted.
Returns what was measured as a JSON-ready dict.
"""

import http.client
import json
import math
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import clients, dataset, limit_metrics
from .limit_metrics import Sample
from .runner import ClientProcess, Setup, measure_added_latency
from .store import LocalStore, write_counters

PASS_S = 5.0
FIRST_PASS_SHARE = 20  # the first warm-up pass writes 1/20 of the warm-up rows: short even for the slowest client
MIN_PASSES = 3  # the cold first pass, and two to see whether the client's speed still rises
STILL_RISING = 0.10
READY_TIMEOUT_S = 900  # the JVM's start and the caching of up to a few million rows on a busy CPU
WRITE_MARGIN_S = 600  # beyond the write's expected length before the run is given up
POLL_S = 0.2
# A write is sized for a client faster than its warm-up said (a JVM client may still be compiling its code, and
# other load on the machine varies), so that it is not cut short: at min(cap, SPEED_MARGIN x its own speed); the
# step run's for more again, so that its last phase is observed in full rather than cut by the write's end. A
# client far below the cap then writes for up to 1.5 (2.2) times the planned duration.
SPEED_MARGIN = 1.5
STEP_SPEED_MARGIN = 2.0
STEP_ROWS_MARGIN = 1.1
# Warm-up rows cached per client: a PASS_S pass at the client's fastest (0 ms, 8 tasks) takes at most these.
WARMUP_ROWS = {"ours-batch": 1_200_000, "ours-fixed": 1_200_000, "aws-batch": 100_000, "aws-put": 20_000}
SMOKE_WARMUP_ROWS = {"ours-batch": 100_000, "ours-fixed": 100_000, "aws-batch": 20_000, "aws-put": 5_000}


@dataclass(frozen=True)
class Setting:
    """Where a run writes: the store's cap (records/s), its added latency, Spark's task slots; `step` halves
    the cap for the middle third of the run."""

    cap: int
    latency_ms: int
    tasks: int
    step: bool = False

    def tag(self) -> str:
        return f"{self.cap}rps-{self.latency_ms}ms-{self.tasks}t" + ("-step" if self.step else "")

    def phases(self, duration_s: float) -> list[tuple[float, float]]:
        """(start in s, cap) of each phase of the timed write."""
        if not self.step:
            return [(0.0, float(self.cap))]
        third = duration_s / 3
        return [(0.0, float(self.cap)), (third, self.cap / 2), (2 * third, float(self.cap))]


@dataclass(frozen=True)
class Timing:
    duration_s: float  # how long a timed write should last
    step_duration_s: float  # the same for the step scenario's write (three phases)
    warmup_s: float  # the client's own work before timing, on an uncapped group, at least
    max_warmup_s: float  # and at most, when its speed keeps rising
    steady_after_s: float  # the ramp-up left out of the steady part
    smoke: bool

    def duration_for(self, setting: Setting) -> float:
        return self.step_duration_s if setting.step else self.duration_s


def planned_rows(setting: Setting, timing: Timing, own_speed: float) -> int:
    """Rows for a write lasting about its duration at min(cap, the client's own speed with a margin) in each
    phase (and 10% more for the step run); rounded up to two significant digits so that runs share their data
    sets."""
    duration = timing.duration_for(setting)
    speed = own_speed * (STEP_SPEED_MARGIN if setting.step else SPEED_MARGIN)
    phases = setting.phases(duration)
    bounds = [start for start, _ in phases] + [duration]
    rows = sum((end - start) * min(cap, speed) for (start, cap), end in zip(phases, bounds[1:]))
    if setting.step:
        rows *= STEP_ROWS_MARGIN
    unit = 10 ** max(0, int(math.log10(max(rows, 1))) - 1)
    return max(1_000, math.ceil(rows / unit) * unit)


def pass_seconds(timing: Timing) -> float:
    """A warm-up pass's length once the client's rate is known: long enough that a write's fixed cost (job
    planning, DescribeFeatureGroup) weighs little, short enough for several passes in the warm-up."""
    return min(PASS_S, max(2.0, timing.warmup_s / 4))


@dataclass(frozen=True)
class WarmPass:
    rows: int
    seconds: float  # the write's wall time
    busy_rate: float | None  # records/s in its busy seconds, from the store's counters (limit_metrics.busy_rate)


def warmed(passes: list[WarmPass], timing: Timing, pass_s: float, all_rows: bool) -> bool:
    """Whether the warm-up is over: MIN_PASSES, and either `max_warmup_s` of the client's own work or at least
    `warmup_s` of it with the last pass a full one (or of all the rows there are) and the client's speed no
    longer rising (the last pass at most 10% faster than the one before: a JVM client keeps compiling its code
    for a while)."""
    elapsed = sum(p.seconds for p in passes)
    if len(passes) < MIN_PASSES:
        return False
    if elapsed >= timing.max_warmup_s:
        return True
    if elapsed < timing.warmup_s:
        return False
    if passes[-1].seconds < pass_s and not all_rows:
        return False
    before, last = passes[-2].busy_rate, passes[-1].busy_rate
    return before is None or last is None or last <= before * (1 + STILL_RISING)


def next_pass_rows(rows: int, seconds: float, pass_s: float, all_rows: int) -> int:
    """Grows a pass quickly while passes are short (a write's fixed cost hides the rate), shrinks one that ran
    long."""
    factor = min(4.0, max(2.0, pass_s / seconds)) if seconds < pass_s else min(1.0, 2 * pass_s / seconds)
    return min(all_rows, max(1_000, round(rows * factor)))


def own_speed(passes: list[WarmPass]) -> float:
    """The client's uncapped records/s: the busy rate of the last pass that had one after the first (the cold
    one); failing that, the best rate of those passes' wall times, fixed costs included."""
    warm = passes[1:] or passes
    for warm_pass in reversed(warm):
        if warm_pass.busy_rate is not None:
            return warm_pass.busy_rate
    return max(p.rows / p.seconds for p in warm)


class Poller(threading.Thread):
    """Samples the store's counters (the group's, or the store's with `group` None) every POLL_S, on a clock
    that starts when the poller is made (just before the write or the warm-up starts), and applies each later
    phase's cap at its time, noting when the store took it."""

    def __init__(self, store: LocalStore, group: str | None, latency_ms: int, phases: list[tuple[float, float]]):
        super().__init__(name="stats-poller", daemon=True)
        self._store, self._group, self._latency_ms = store, group, latency_ms
        self._pending = list(phases[1:])
        self._stop_event = threading.Event()
        self.samples: list[Sample] = []
        self.steps_applied: list[tuple[float, float]] = []  # (time, cap)
        self.error: str | None = None
        self._t0 = time.perf_counter()

    def now(self) -> float:
        """Seconds since the poller was made, on the clock of its samples."""
        return time.perf_counter() - self._t0

    def _sample(self) -> None:
        before = self.now()
        records, requests, throttled = write_counters(self._store.stats(), self._group)
        # The store counted at some point during the call: its midpoint is the best guess.
        self.samples.append(Sample(round((before + self.now()) / 2, 4), records, requests, throttled))

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                if self._pending and self.now() >= self._pending[0][0]:
                    _, cap = self._pending.pop(0)
                    self._store.set_faults(self._latency_ms, cap)
                    self.steps_applied.append((round(self.now(), 4), cap))
                self._sample()
                self._stop_event.wait(POLL_S - (self.now() % POLL_S))
        except Exception as e:  # the admin API failing ends the series; the run reports it
            self.error = f"polling the store: {e!r}"

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self._sample()  # the counters once the write has returned


def count_present(endpoint: str, group: str, rows: int) -> int:
    """Distinct record identifiers 0..rows-1 in the group's online store, through ListRecords' pages (100 per
    call, the most it takes); plain HTTP on one kept-alive connection, as boto3 would spend more CPU than the
    store on a few million identifiers."""
    host = urllib.parse.urlsplit(endpoint)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    path = f"/FeatureGroup/{urllib.parse.quote(group)}/ListRecords"
    present, token = 0, None
    try:
        while True:
            body = {"MaxResults": 100, **({"NextToken": token} if token else {})}
            connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            response = connection.getresponse()
            page = json.loads(response.read())
            if response.status != 200:
                raise RuntimeError(f"ListRecords answered {response.status}: {page}")
            # Identifiers are listed once each; only the write's own (0..rows-1) count.
            present += sum(1 for record_id in page["RecordIdentifiers"] if _in_range(record_id, rows))
            token = page.get("NextToken")
            if not token:
                return present
    finally:
        connection.close()


def _in_range(record_id: str, rows: int) -> bool:
    return record_id.isdigit() and int(record_id) < rows


class _LimitWorker(ClientProcess):
    """The client's process (featurebench.limit_worker)."""

    def __init__(self, setup: Setup, client: clients.Client, setting: Setting, warmup: tuple[Path, int, str],
                 arn: str, endpoint: str, log_path: Path):  # fmt: skip
        parquet, rows, warmup_arn = warmup
        args = [
            "--client", client.name, "--tasks", str(setting.tasks), "--jar", str(setup.jar),
            "--warmup-parquet", str(parquet), "--warmup-rows", str(rows), "--warmup-arn", warmup_arn, "--arn", arn,
        ]  # fmt: skip
        super().__init__("featurebench.limit_worker", args, setup, endpoint, log_path)

    def ask(self, event: str, answer: str, timeout_s: float, **fields) -> dict:
        """Sends a command and waits for its answer; a `failed` answer or another one raises."""
        if event:
            self.send(event, **fields)
        message = self.receive(timeout_s)
        if message["event"] != answer:
            raise RuntimeError(message.get("error") or f"expected '{answer}', got {message}")
        return message


def run_limit(setup: Setup, client: clients.Client, setting: Setting, timing: Timing, round_no: int) -> dict:
    """Runs `client` once at `setting`; the result as a JSON-ready dict (status "ok" when every figure was
    measured: records failing is a figure, not a failure of the run)."""
    started = time.perf_counter()
    tag = f"r{round_no}-{client.name}-{setting.tag()}"
    logs = setup.run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "round": round_no, "client": client.name, "label": client.label, "peer": client.peer,
        "cap": setting.cap, "latency_ms": setting.latency_ms, "tasks": setting.tasks, "step": setting.step,
        "duration_s": timing.duration_for(setting), "status": "failed", "log": str(logs / f"{tag}.log"),
    }  # fmt: skip
    try:
        with LocalStore(setup.store_binary, setup.run_dir / "store" / tag, logs / f"{tag}.store.log",
                        setup.store_cpus) as store:  # fmt: skip
            _run(setup, client, setting, timing, store, tag, logs, result)
    except (TimeoutError, RuntimeError, OSError) as e:
        result["error"] = str(e)
    finally:
        result["run_seconds"] = round(time.perf_counter() - started, 1)
    return result


def _run(setup: Setup, client: clients.Client, setting: Setting, timing: Timing, store: LocalStore, tag: str,
         logs: Path, result: dict) -> None:  # fmt: skip
    # measure_added_latency leaves the latency set and no cap: the warm-up is not throttled.
    result["added_latency_ms"] = round(measure_added_latency(store, setting.latency_ms), 3)
    group = f"limit-{uuid.uuid4().hex[:8]}"
    arn = store.create_group(group)
    warmup_arn = store.create_group(f"{group}-warmup")
    warmup_rows = (SMOKE_WARMUP_ROWS if timing.smoke else WARMUP_ROWS)[client.name]
    warmup = (dataset.parquet_path(setup.work / "data", warmup_rows), warmup_rows, warmup_arn)
    worker = _LimitWorker(setup, client, setting, warmup, arn, store.endpoint, logs / f"{tag}.log")
    # Where a run's time goes (the matrix's length is mostly these), in seconds.
    stages = result["stage_seconds"] = {}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        stages[name] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()

    try:
        worker.ask("", "ready", READY_TIMEOUT_S)
        stage("start")
        passes = _warm_up(worker, store, timing, warmup_rows)
        stage("warmup")
        speed = own_speed(passes)
        rows = planned_rows(setting, timing, speed)
        result.update({"warmup_passes": [[p.rows, round(p.seconds, 2), p.busy_rate and round(p.busy_rate)]
                                         for p in passes],
                       "warmup_s": round(sum(p.seconds for p in passes), 1),
                       "own_records_per_s": round(speed, 1), "rows": rows})  # fmt: skip
        # The worker takes the timed rows from its warm-up rows when there are enough (no file needed then).
        parquet = dataset.parquet_path(setup.work / "data", rows) if rows > warmup_rows else None
        worker.ask("prepare", "ready", READY_TIMEOUT_S, rows=rows, parquet=str(parquet))
        stage("prepare")
        phases = setting.phases(timing.duration_for(setting))
        store.set_faults(setting.latency_ms, phases[0][1])
        store.reset_stats()
        poller = Poller(store, group, setting.latency_ms, phases)
        poller.start()
        try:
            done = worker.ask("go", "done", rows / min(speed, setting.cap / 2) + WRITE_MARGIN_S)
        finally:
            poller.stop()
        stage("write")
    finally:
        worker.close()
    stage("close")
    # Counting through ListRecords must not meet the cap or the latency.
    store.set_faults(0)
    present = count_present(store.endpoint, group, rows)
    stage("count")
    result.update(_figures(setting, timing, rows, speed, present, done, poller, phases))
    result["status"] = "ok" if poller.error is None and _error_is_records_failed(done) else "failed"
    if poller.error or not _error_is_records_failed(done):
        result["error"] = poller.error or done["error"]


def _warm_up(worker: _LimitWorker, store: LocalStore, timing: Timing, rows: int) -> list[WarmPass]:
    """The client's warm-up on its uncapped group, pass by pass (see `warmed`), with the store's counters
    polled to measure each pass's busy rate."""
    pass_s = pass_seconds(timing)
    poller = Poller(store, None, 0, [])
    poller.start()
    passes: list[WarmPass] = []
    size = max(1, rows // FIRST_PASS_SHARE)
    try:
        while True:
            start = poller.now()
            seconds = worker.ask("pass", "passed", READY_TIMEOUT_S, rows=size)["seconds"]
            passes.append(WarmPass(size, seconds, limit_metrics.busy_rate(poller.samples, start, poller.now())))
            if warmed(passes, timing, pass_s, size == rows):
                return passes
            size = next_pass_rows(size, seconds, pass_s, rows)
    finally:
        poller.stop()


def _error_is_records_failed(done: dict) -> bool:
    """No error, or only the one each connector raises when it finished with records failed."""
    return done["error"] is None or done["client_failed"] is not None


def _figures(setting: Setting, timing: Timing, rows: int, own: float, present: int, done: dict, poller: Poller,
             phases: list[tuple[float, float]]) -> dict:  # fmt: skip
    """Every figure of the run: whole run, steady part, per phase and settling for the step run."""
    samples, seconds = poller.samples, done["seconds"]
    final = samples[-1]
    failed = rows - present
    figures: dict = {
        "seconds": round(seconds, 3),
        "records_failed": failed,
        "client_failed": done["client_failed"],
        "client_summary": done["summary"],
        "client_error": _error_line(done["error"]),
        "records_written": final.records,
        "write_requests": final.requests,
        "throttled": final.throttled,
        "throttled_share": final.throttled / final.requests if final.requests else None,
        "records_per_s": (rows - failed) / seconds,
        "cap_share": (rows - failed) / seconds / setting.cap,
        "steps_applied": poller.steps_applied,
        "series": {
            "t": [s.t for s in samples],
            "records": [s.records for s in samples],
            "requests": [s.requests for s in samples],
            "throttled": [s.throttled for s in samples],
        },
    }
    end = seconds - limit_metrics.TAIL_S
    steady = limit_metrics.span(samples, timing.steady_after_s, end if not setting.step else phases[1][0])
    figures["steady"] = _span_dict(steady, setting.cap)
    figures["binds"] = limit_metrics.binds(own, setting.cap, figures["steady"])
    if setting.step:
        figures["phases"] = _phases(samples, timing, own, phases, poller.steps_applied,
                                    min(end, timing.step_duration_s))  # fmt: skip
    return figures


def _error_line(error: str | None) -> str | None:
    """The telling line of a client's traceback: the one saying records failed, else the last Java or Python
    exception line, else its last line."""
    if not error:
        return None
    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    for wanted in ("records failed", "Exception", "Error"):
        found = [line for line in lines if wanted in line and not line.startswith("at ")]
        if found:
            return found[0 if wanted == "records failed" else -1][:500]
    return lines[-1][:500]


def _span_dict(span: limit_metrics.Span | None, cap: float) -> dict | None:
    if span is None:
        return None
    return {"seconds": round(span.seconds, 2), "records_per_s": round(span.records_per_s, 1),
            "cap_share": span.records_per_s / cap, "throttled_share": span.throttled_share}  # fmt: skip


def _phases(samples: list[Sample], timing: Timing, own: float, phases: list[tuple[float, float]],
            applied: list[tuple[float, float]], end: float) -> list[dict]:  # fmt: skip
    """Per phase: its cap, its steady part's figures and, after a step, the seconds to settle."""
    starts = [0.0] + [t for t, _ in applied]  # when the store took each cap, not when it was planned
    out = []
    for k, (_, cap) in enumerate(phases[: len(starts)]):
        start, stop = starts[k], starts[k + 1] if k + 1 < len(starts) else end
        steady = limit_metrics.span(samples, start + timing.steady_after_s, stop)
        phase = {"cap": cap, "start_s": start, "end_s": round(stop, 3), "steady": _span_dict(steady, cap)}
        phase["binds"] = limit_metrics.binds(own, cap, phase["steady"])
        if k > 0:
            phase["settle_s"] = limit_metrics.settle_seconds(samples, start, stop, cap)
        out.append(phase)
    return out
