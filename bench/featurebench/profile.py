"""Where a Spark client's CPU goes, stage by stage (BENCHMARKS.md, "Where the CPU goes"): one client of the
matrix run as the matrix runs it (its own process on CPU 1, the store on CPU 0, the same warm-up rule, its write
repeated for --seconds), while `perf` samples the client's JVM: every thread (Spark's tasks, our native I/O
threads, GC and JIT), Java's compiled code named through the perf map the JVM writes at exit, our native library
through its symbols (loaded from the build directory rather than extracted from the jar). Each sample's function
is put in the stage it belongs to (STAGES, first match), and each stage's share of the samples, times the CPU the
process tree used, is given per row written.

    bench/profile.sh [--client ours-dryrun] [--rows 2000000] [--seconds 30] [--out DIR]
"""

import argparse
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

from . import cli, clients, dataset, procfs
from .runner import READY_TIMEOUT_S, WRITE_TIMEOUT_S, MatrixWorker, Setup
from .store import LocalStore

# (stage, patterns), first match wins: a pattern searches the function's name (Java names dotted, as the JVM's
# perf map gives them), or with "dso:" the name of the file it lives in.
STAGES = [
    ("Spark: the cached rows read back (columnar cache to rows)",
     [r"org\.apache\.spark\.sql\.execution\.columnar", r"SpecificColumnarIterator", r"GeneratedClass"]),
    ("rows to Arrow vectors (Spark's ArrowWriter, the task's row loop)",
     [r"org\.apache\.spark\.sql\.execution\.arrow", r"org\.apache\.arrow\.vector\.(?!ipc)",
      r"org\.apache\.arrow\.memory", r"io\.netty", r"org\.apache\.spark\.unsafe", r"WritingSparkTask",
      r"featurestore\.spark\.FeatureStoreDataWriter"]),
    ("Arrow IPC stream (JVM writes, native reads) and JNI",
     [r"org\.apache\.arrow\.vector\.ipc", r"org\.apache\.arrow\.flatbuf", r"com\.google\.flatbuffers",
      r"featurestore\.spark", r"java\.nio", r"^jni_", r"arrow_ipc", r"arrow_buffer", r"arrow_array", r"arrow_data",
      r"arrow_schema", r"flatbuffers::", r"featurestore_jni::"]),
    ("validation and encoding (native)",
     [r"featurestore_core::encode", r"featurestore_core::record", r"featurestore_core::schema", r"zmij", r"ryu::",
      r"itoa::"]),
    ("sending (native: engine, signing, HTTP; the kernel's sockets)",
     [r"featurestore_core::", r"tokio::", r"hyper", r"h2::", r"http::", r"httparse", r"ring::", r"sha2::",
      r"hmac::", r"mio::", r"bytes::", r"futures", r"aws_", r"tcp|sock|net_|ip_|skb|epoll|sendto|recvfrom|loopback"]),
    ("memory (malloc, free, copies, zeroing)",
     [r"malloc|free|memcpy|memmove|memset|_int_|^alloc::", r"Copy::fill_to_memory"]),
    ("JVM: GC, JIT compiler, interpreter, runtime", [r"dso:libjvm\.so", r"Interpreter|StubRoutines|vtable chunks"]),
    ("kernel: scheduling, page faults, other", [r"dso:\[kernel"]),
    ("native: other (generic helpers of our library)", [r"dso:libfeaturestore_jni"]),
]
OTHER = "other"


def stage_of(dso: str, symbol: str) -> str:
    for stage, patterns in STAGES:
        for pattern in patterns:
            subject, pattern = (dso, pattern[4:]) if pattern.startswith("dso:") else (symbol, pattern)
            if re.search(pattern, subject):
                return stage
    return OTHER


def perf_samples(perf_data: Path) -> dict[tuple[str, str], int]:
    """Samples per (dso, symbol), self time only."""
    report = subprocess.run(
        ["perf", "report", "-i", str(perf_data), "--stdio", "--no-children", "--sort", "dso,symbol",
         "--field-separator", "\t", "--show-nr-samples"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    samples: dict[tuple[str, str], int] = {}
    for line in report.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) < 4 or not fields[1].isdigit():
            continue
        _, count, dso, symbol = fields[:4]
        symbol = re.sub(r"^\[[.k]\]\s*", "", symbol)
        samples[(dso, symbol)] = samples.get((dso, symbol), 0) + int(count)
    return samples


def short_name(symbol: str) -> str:
    """`void a.b.C.m(args)` -> `C.m`; `<a::X<T> as a::Y>::f` -> `X::f`; `a::b::c::f` -> `c::f`."""
    if "(" in symbol and "::" not in symbol:  # a Java method
        qualified = symbol.split("(", 1)[0].split()[-1]
        return ".".join(qualified.split(".")[-2:])
    previous = None
    while previous != symbol:  # type arguments, innermost first
        previous, symbol = symbol, re.sub(r"(?<=\w)<[^<>]*>", "", symbol)
    if symbol.startswith("<") and " as " in symbol:
        return f"{symbol[1:].split(' as ')[0].split('::')[-1]}::{symbol.rsplit('::', 1)[-1]}"
    return "::".join(symbol.split("::")[-2:])


def by_stage(samples: dict[tuple[str, str], int]) -> tuple[dict[str, int], dict[str, list[tuple[str, int]]]]:
    totals: dict[str, int] = {}
    top: dict[str, list[tuple[str, int]]] = {}
    for (dso, symbol), count in samples.items():
        stage = stage_of(dso, symbol)
        totals[stage] = totals.get(stage, 0) + count
        top.setdefault(stage, []).append((short_name(symbol), count))
    for stage in top:
        top[stage].sort(key=lambda item: -item[1])
    return totals, top


def java_pid(root: int) -> int:
    for pid in procfs.tree(root):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "java":
                return pid
        except OSError:
            pass
    raise RuntimeError("the client has no JVM")


def wait_for_exit(pid: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_setup_arguments(parser)
    parser.add_argument("--native-dir", required=True, type=Path, help="where libfeaturestore_jni.so was built")
    parser.add_argument("--client", default="ours-dryrun", choices=[c.name for c in clients.CLIENTS if c.kind == "spark"])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--frequency", type=int, default=499, help="perf samples per second per CPU")
    parser.add_argument("--perf-args", default="", help="more `perf record` arguments, e.g. '--call-graph dwarf'")
    args = parser.parse_args()

    client = clients.BY_NAME[args.client]
    run_dir = args.work / f"profile-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    pin = (os.cpu_count() or 1) >= 2
    setup = Setup(args.store_binary, args.jar, args.work, run_dir, {0} if pin else None, {1} if pin else None, 1, 1,
                  min_run_s=args.seconds)  # fmt: skip
    parquet = dataset.parquet_path(args.work / "data", args.rows)
    # The library from the build directory, so that perf finds its symbols; the JIT's names written at exit.
    java_options = (f"-Djava.library.path={args.native_dir.resolve()} "
                    "-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit")  # fmt: skip
    perf_data = run_dir / "perf.data"
    with LocalStore(setup.store_binary, run_dir / "store", run_dir / "store.log", setup.store_cpus) as store:
        group = f"profile-{uuid.uuid4().hex[:6]}"
        arn = store.create_group(group)
        warm_arn = store.create_group(f"{group}-warmup")
        worker = MatrixWorker(setup, client, parquet, args.rows, group, arn,
                              (max(1, args.rows // 20), f"{group}-warmup", warm_arn), store.endpoint,
                              run_dir / "client.log", {"JAVA_TOOL_OPTIONS": java_options})  # fmt: skip
        try:
            ready = worker.receive(READY_TIMEOUT_S)
            if ready["event"] != "ready":
                raise RuntimeError(ready.get("error", str(ready)))
            jvm = java_pid(worker.process.pid)
            perf = subprocess.Popen(["perf", "record", "-F", str(args.frequency), *args.perf_args.split(), "-p", str(jvm),
                                     "-o", str(perf_data)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    # perf's own work stays off the client's CPU (it shares the store's)
                                    preexec_fn=(lambda: os.sched_setaffinity(0, setup.store_cpus)) if pin else None)  # fmt: skip
            time.sleep(1)  # perf attached
            before = procfs.cpu_snapshot(jvm)
            worker.send("go")
            done = worker.receive(WRITE_TIMEOUT_S)
            cpu = procfs.cpu_used(before, procfs.cpu_snapshot(jvm))[0]
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=120)
            if done.get("error"):
                raise RuntimeError(done["error"])
        finally:
            worker.close()
        wait_for_exit(jvm)  # then its perf map, /tmp/perf-<pid>.map, is written
    rows = args.rows * done["writes"]
    totals, top = by_stage(perf_samples(perf_data))
    all_samples = sum(totals.values())
    lines = [
        f"{client.label}: {done['writes']} writes of {args.rows:,} rows in {done['seconds']:.1f} s, "
        f"warmed {ready['warmup']['seconds']:.0f} s; the JVM's CPU {cpu / rows * 1e6:.2f} µs per row, "
        f"{all_samples:,} samples",
        "",
        "| Stage | Share of samples | CPU µs per row | Top functions |",
        "| --- | ---: | ---: | --- |",
    ]
    for stage in [name for name, _ in STAGES] + [OTHER]:
        count = totals.get(stage, 0)
        share = count / all_samples if all_samples else 0
        names = "; ".join(f"{name} {n / all_samples:.1%}" for name, n in top.get(stage, [])[:3])
        lines.append(f"| {stage} | {share:.1%} | {share * cpu / rows * 1e6:.3f} | {names} |")
    text = "\n".join(lines) + "\n"
    (args.out / f"profile-{client.name}.md").write_text(text)
    print(f"{text}\nperf data: {perf_data} (`perf report -i` it for more)", flush=True)


if __name__ == "__main__":
    main()
