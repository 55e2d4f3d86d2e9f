"""Memory per executor as the input grows (BENCHMARKS.md, "Memory"): for ours and, as the reference, Spark's noop
sink, a process of its own (featurebench.memory_worker: `local[2]`, a fixed 2 GiB heap resident from the start)
writes rows generated row by row in two partitions, 1 M, 10 M and 100 M rows per partition by default, into one
featurestore-local (store on CPU 0, client on CPU 1, as in the main matrix; it validates and acknowledges the
records without keeping them), with default options. Reports the
native library's heap (counted by the library), the JVM side's Arrow memory and the process's resident memory
per write.

    bench/memory.sh [--sizes 1000000,10000000,100000000] [--latency-ms 0] [--out DIR] [--smoke]
"""

import argparse
import json
import os
import time

from . import cli, clients
from .runner import ClientProcess, Setup
from .store import LocalStore

SIZES = "1000000,10000000,100000000"
CLIENTS = ["spark-noop", "ours-batch"]
TIMEOUT_S = 7200
MIB = 1 << 20


def run_client(setup: Setup, client: str, sizes: str, store: LocalStore, warm: list[str]) -> dict:
    group = f"memory-{client}"
    arn = store.create_group(group)
    args = ["--client", client, "--group", group, "--arn", arn, "--jar", str(setup.jar), "--sizes", sizes, *warm]
    worker = ClientProcess("featurebench.memory_worker", args, setup, store.endpoint,
                           setup.run_dir / f"{client}.log")  # fmt: skip
    result: dict = {"client": client, "writes": []}
    try:
        for message in worker.events(TIMEOUT_S):
            if message["event"] == "warm":
                result["warm_rows_per_partition"] = message["rows_per_partition"]
            elif message["event"] == "write":
                result["writes"].append(message)
                print(f"  {client}: {message['rows_per_partition']:,} rows per partition in "
                      f"{message['wall_s']:.0f} s", flush=True)  # fmt: skip
            else:
                raise RuntimeError(f"{client}: {message.get('error', message)}")
        return result
    finally:
        worker.close()


def table(results: list[dict], latency_ms: int) -> str:
    label = {c.name: c.label for c in clients.CLIENTS}
    lines = [
        "| Rows per partition (2 partitions) | Client | Wall (s) | Native heap: peak / after (MiB) | "
        "Arrow allocator peak (MiB) | Direct buffers after (MiB) | JVM RSS: before / peak / after (MiB) | "
        "RSS growth at peak (MiB) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    writes = sorted(((w["rows_per_partition"], r["client"], w) for r in results for w in r["writes"]),
                    key=lambda t: (t[0], CLIENTS.index(t[1]) if t[1] in CLIENTS else 99))  # fmt: skip
    for rows, client, w in writes:
        native = (f"{w['native_peak_bytes'] / MIB:.1f} / {w['native_after_bytes'] / MIB:.1f}"
                  if client != "spark-noop" else "—")  # fmt: skip
        lines.append(
            f"| {rows:,} | {label[client]} | {w['wall_s']:.0f} | {native} | {w['arrow_peak_bytes'] / MIB:.1f} | "
            f"{w['direct_bytes'] / MIB:.1f} | {w['rss_before_bytes'] / MIB:.0f} / {w['rss_peak_bytes'] / MIB:.0f} / "
            f"{w['rss_after_bytes'] / MIB:.0f} | {(w['rss_peak_bytes'] - w['rss_before_bytes']) / MIB:+.1f} |"
        )
    warm = ", ".join(f"{label[r['client']]} {r.get('warm_rows_per_partition', 0):,}" for r in results)
    return "\n".join(lines) + (
        f"\n\nStore latency {latency_ms} ms; default options; a warm-up write first (rows per partition: {warm}). "
        "Native heap: the library's own count of its allocations, peak during the write. Arrow allocator peak: "
        "Spark's Arrow root allocator since the session started. JVM RSS: the resident memory of the one JVM (driver and "
        "executor), heap fixed and resident from the start.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_setup_arguments(parser)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--sizes", default=SIZES, help="rows per partition of each write")
    parser.add_argument("--latency-ms", type=int, default=0, help="the store's added latency")
    parser.add_argument("--smoke", action="store_true", help="a check that the benchmark runs: small writes")
    args = parser.parse_args()
    warm: list[str] = []
    if args.smoke:
        args.sizes, warm = "20000,40000", ["--warm-rows", "10000"]
    pin = (os.cpu_count() or 1) >= 2
    run_dir = args.work / f"memory-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    setup = Setup(args.store_binary, args.jar, args.work, run_dir, {0} if pin else None, {1} if pin else None, 1, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    with LocalStore(setup.store_binary, run_dir / "store", run_dir / "store.log", setup.store_cpus) as store:
        # 200 M records would outgrow the store's disk and index: they are validated and acknowledged, not kept.
        store.set_faults(args.latency_ms, discard_writes=True)
        for client in args.clients.split(","):
            print(f"memory: {client} ...", flush=True)
            results.append(run_client(setup, client, args.sizes, store, warm))
    with open(args.out / "memory.jsonl", "w") as f:
        for result in results:
            f.write(json.dumps({**result, "latency_ms": args.latency_ms}) + "\n")
    text = table(results, args.latency_ms)
    (args.out / "memory.md").write_text(text)
    print(text, flush=True)


if __name__ == "__main__":
    main()
