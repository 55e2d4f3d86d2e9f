"""One run: a fresh store with the latency set, a fresh feature group, one client in its own process; returns
what was measured, or why the run does not count."""

import json
import math
import os
import select
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

from . import clients, dataset, procfs
from .env import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, client_env
from .store import LocalStore, records_received

READY_TIMEOUT_S = 600
WRITE_TIMEOUT_S = 1800
EXIT_TIMEOUT_S = 120
PROBE_CALLS = 100  # per setting
PROBE_BLOCK = 10


@dataclass(frozen=True)
class Setup:
    """What every run of a matrix shares."""

    store_binary: Path
    jar: Path
    work: Path  # scratch shared by invocations: the data sets
    run_dir: Path  # this invocation's logs and store data dirs
    store_cpus: set[int] | None
    client_cpus: set[int] | None
    sdk_processes: int
    sdk_workers: int
    smoke: bool = False  # warmup.SMOKE, one write per run
    min_run_s: float = 30.0  # the timed write is repeated until this long


def _runtime_client(endpoint: str):
    return boto3.client(
        "sagemaker-featurestore-runtime",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(retries={"max_attempts": 1}, proxies={}),
    )


def measure_added_latency(store: LocalStore, latency_ms: int) -> float:
    """What `latency_ms` really adds to a PutRecord round trip, in ms: the median of sequential calls with the
    latency set minus the median without (timer granularity makes it more than asked). The two settings take
    turns in blocks of 10 calls, so that other load on the machine weighs on both alike; the latency is left set.
    """
    if latency_ms == 0:
        store.set_latency(0)
        return 0.0  # nothing is added: no sleep at all
    group = f"probe-{uuid.uuid4().hex[:8]}"
    store.create_group(group)
    runtime = _runtime_client(store.endpoint)
    row = dataset.expected_row(0)
    record = [{"FeatureName": k, "ValueAsString": str(v)} for k, v in row.items()]
    times: dict[int, list[float]] = {0: [], latency_ms: []}
    for _ in range(PROBE_CALLS // PROBE_BLOCK):
        for setting in (0, latency_ms):
            store.set_latency(setting)
            for _ in range(PROBE_BLOCK):
                start = time.perf_counter()
                runtime.put_record(FeatureGroupName=group, Record=record)
                times[setting].append((time.perf_counter() - start) * 1000)
    store.set_latency(latency_ms)
    return statistics.median(times[latency_ms]) - statistics.median(times[0])


def check_sample(store: LocalStore, group: str, rows: int) -> str | None:
    """Reads a few records back and compares them with the data set; None when they match."""
    runtime = _runtime_client(store.endpoint)
    for i in sorted({0, 1, rows // 3, rows // 2, rows - 1}):
        got = runtime.get_record(FeatureGroupName=group, RecordIdentifierValueAsString=str(i)).get("Record")
        if not got:
            return f"record {i} is missing"
        values = {f["FeatureName"]: f["ValueAsString"] for f in got}
        for name, want in dataset.expected_row(i).items():
            text = values.get(name)
            if text is None:
                return f"record {i}: feature {name} is missing"
            if isinstance(want, float):
                ok = math.isclose(float(text), want, rel_tol=1e-12)
            elif isinstance(want, int):
                ok = int(text) == want
            else:
                ok = text == want
            if not ok:
                return f"record {i}: {name} is {text!r}, expected {want!r}"
    return None


class ClientProcess:
    """A client in a process of its own (`python -m <module> <args>`, pinned, with the client environment and
    its own process group) and the two pipes to talk to it in JSON lines (--ctl-in, --ctl-out are appended)."""

    def __init__(self, module: str, args: list[str], setup: Setup, endpoint: str, log_path: Path,
                 extra_env: dict[str, str] | None = None):  # fmt: skip
        runner_in, worker_out = os.pipe()
        worker_in, runner_out = os.pipe()
        self._log = open(log_path, "ab")
        command = [sys.executable, "-m", module, *args, "--ctl-in", str(worker_in), "--ctl-out", str(worker_out)]
        cpus = setup.client_cpus
        env = client_env(endpoint, setup.run_dir / "client")
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
        env.update(extra_env or {})
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            env=env,
            pass_fds=(worker_in, worker_out),
            # Its own process group: a client that hangs is killed with everything it started (JVM, SDK workers).
            start_new_session=True,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
        )
        os.close(worker_in)
        os.close(worker_out)
        self._in = os.fdopen(runner_in, "r")
        self._out = os.fdopen(runner_out, "w")

    def receive(self, timeout_s: float) -> dict:
        ready, _, _ = select.select([self._in], [], [], timeout_s)
        if not ready:
            raise TimeoutError(f"no word from the client in {timeout_s} s")
        line = self._in.readline()
        if not line:
            raise RuntimeError(f"the client exited with {self.process.wait()}")
        return json.loads(line)

    def events(self, timeout_s: float):
        """The client's messages until it says "done" (not yielded); a message of any event the caller does not
        expect ("failed" and its traceback, say) is for the caller to raise on."""
        while True:
            message = self.receive(timeout_s)
            if message["event"] == "done":
                return
            yield message

    def send(self, event: str, **fields) -> None:
        self._out.write(json.dumps({"event": event, **fields}) + "\n")
        self._out.flush()

    def close(self) -> None:
        try:
            self.send("exit")
        except OSError:
            pass
        try:
            self.process.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._in.close()
        try:
            self._out.close()
        except OSError:
            pass
        self._log.close()


class MatrixWorker(ClientProcess):
    """The client process of one run of the matrix (featurebench.worker)."""

    def __init__(self, setup: Setup, client: clients.Client, parquet: Path, rows: int, group: str, arn: str,
                 warmup: tuple[int, str, str], endpoint: str, log_path: Path,
                 extra_env: dict[str, str] | None = None):  # fmt: skip
        args = [
            "--client", client.name, "--parquet", str(parquet), "--rows", str(rows),
            "--group", group, "--arn", arn, "--jar", str(setup.jar),
            "--warmup-rows", str(warmup[0]), "--warmup-group", warmup[1], "--warmup-arn", warmup[2],
            "--sdk-processes", str(setup.sdk_processes), "--sdk-workers", str(setup.sdk_workers),
            "--min-seconds", str(0 if setup.smoke else setup.min_run_s), *(["--smoke"] if setup.smoke else []),
        ]  # fmt: skip
        super().__init__("featurebench.worker", args, setup, endpoint, log_path, extra_env)


def run_once(setup: Setup, client: clients.Client, latency_ms: int, rows: int, warmup_rows: int,
             round_no: int) -> dict:  # fmt: skip
    """Runs `client` once at `latency_ms`: its write of `rows` rows, repeated until `setup.min_run_s`, after the
    untimed warm-up (writes of its first `warmup_rows` rows to another group); the result as a JSON-ready dict."""
    started = time.perf_counter()
    parquet = dataset.parquet_path(setup.work / "data", rows)
    tag = f"r{round_no}-{client.name}-{latency_ms}ms"
    logs = setup.run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "round": round_no, "client": client.name, "label": client.label, "peer": client.peer,
        "api": client.api, "latency_ms": latency_ms, "rows": rows, "warmup_rows": warmup_rows, "status": "failed",
        "log": str(logs / f"{tag}.log"),
    }  # fmt: skip
    try:
        return _run(setup, client, latency_ms, rows, warmup_rows, parquet, tag, logs, result)
    finally:
        # The whole run: store start, client start, data caching, warm-up, the timed call, shutdown.
        result["run_seconds"] = round(time.perf_counter() - started, 1)


def _run(setup: Setup, client: clients.Client, latency_ms: int, rows: int, warmup_rows: int, parquet: Path,
         tag: str, logs: Path, result: dict) -> dict:  # fmt: skip
    with LocalStore(setup.store_binary, setup.run_dir / "store" / tag, logs / f"{tag}.store.log",
                    setup.store_cpus, check_signatures=setup.smoke) as store:  # fmt: skip
        result["added_latency_ms"] = round(measure_added_latency(store, latency_ms), 3)
        group = f"bench-{tag}-{uuid.uuid4().hex[:6]}"
        arn = store.create_group(group)
        warmup_arn = store.create_group(f"{group}-warmup")
        worker = MatrixWorker(setup, client, parquet, rows, group, arn, (warmup_rows, f"{group}-warmup", warmup_arn),
                         store.endpoint, logs / f"{tag}.log")  # fmt: skip
        try:
            message = worker.receive(READY_TIMEOUT_S)
            if message["event"] != "ready":
                result["error"] = message.get("error", str(message))
                return result
            result["warmup"] = message.get("warmup")
            store.reset_stats()
            store_before = procfs.cpu_snapshot(store.process.pid)
            before = procfs.cpu_snapshot(worker.process.pid)
            with procfs.MemorySampler(worker.process.pid) as memory:
                worker.send("go")
                message = worker.receive(WRITE_TIMEOUT_S)
                after = procfs.cpu_snapshot(worker.process.pid)
            store_after = procfs.cpu_snapshot(store.process.pid)
            stats = store.stats()
        except (TimeoutError, RuntimeError) as e:
            result["error"] = str(e)
            return result
        finally:
            worker.close()

        cpu, cpu_by_process = procfs.cpu_used(before, after)
        seconds = message["seconds"]
        writes = message.get("writes", 1)
        result["writes"] = writes
        result["rows_written"] = written = rows * writes
        received = records_received(stats)
        cores = clients.executor_cores(client, clients.Target(group, arn, setup.sdk_processes, setup.sdk_workers))
        result.update(
            {
                "seconds": round(seconds, 3),
                "executor_cores": cores,
                "records_received": received,
                "records_rejected": stats.get("records_rejected", 0),
                "records_unprocessed": stats.get("records_unprocessed", 0),
                "requests": stats.get("requests_by_operation", {}),
                "throttled": stats.get("throttled", 0),
                "store_errors": stats.get("errors_by_code", {}),
                "client_cpu_s": round(cpu, 3),
                "client_cpu_by_process_s": {k: round(v, 3) for k, v in cpu_by_process.items()},
                "store_cpu_s": round(procfs.cpu_used(store_before, store_after)[0], 3),
                "peak_rss_mb": round(memory.peak_rss_bytes / 2**20, 1),
                "peak_pss_mb": round(memory.peak_pss_bytes / 2**20, 1),
            }
        )
        expected = written if client.sends else 0
        if message.get("error"):
            result["error"] = message["error"]
        elif received < expected:
            result["status"] = "lost"
        elif received > expected:
            result["status"] = "duplicated"
        elif client.sends and (mismatch := check_sample(store, group, rows)):
            result["status"] = "wrong"
            result["error"] = mismatch
        else:
            result["status"] = "ok"
            result["records_per_s"] = round(written / seconds, 1)
            result["records_per_s_per_core"] = round(written / seconds / cores, 1)
            result["client_cpus"] = client_cpus = len(setup.client_cpus) if setup.client_cpus else os.cpu_count()
            result["records_per_s_per_cpu"] = round(written / seconds / client_cpus, 1)
            result["cpu_us_per_record"] = round(cpu / written * 1e6, 2)
    return result
