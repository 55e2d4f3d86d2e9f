"""The whole matrix: rounds x latencies x clients, one fresh store and one client process per run; writes
results.jsonl (one line per run, as it goes), results.md (the table), chart.png and machine.json to --out.

Within a round each latency runs every client back to back (in an order that rotates from round to round),
so the ratio of ours to a peer is taken between runs minutes apart, then its median over rounds.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from . import cli, clients, plan, report
from .runner import Setup, run_once


def _machine(setup: Setup, args) -> dict:
    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    def command(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return "?"

    from importlib.metadata import version

    return {
        "cpu": first("/proc/cpuinfo", "model name"),
        "cpus": os.cpu_count(),
        "memory": first("/proc/meminfo", "MemTotal"),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "java": _java_version(),
        "pyspark": version("pyspark"),
        "sagemaker": version("sagemaker"),
        "sagemaker-feature-store-pyspark": version("sagemaker-feature-store-pyspark"),
        "git_commit": command("git", "-C", str(Path(__file__).resolve().parents[2]), "rev-parse", "--short", "HEAD"),
        "jar": str(setup.jar),
        "store_cpus": sorted(setup.store_cpus) if setup.store_cpus else "any",
        "client_cpus": sorted(setup.client_cpus) if setup.client_cpus else "any",
        "sdk_processes": setup.sdk_processes,
        "sdk_workers": setup.sdk_workers,
        "rounds": args.rounds,
        "smoke": args.smoke,
        "warmup": args.warmup,
        "min_run_s": 0 if args.smoke else args.min_seconds,
    }


def _java_version() -> str:
    try:
        lines = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr
    except OSError:
        return "?"
    return lines.splitlines()[0] if lines else "?"


def _loadavg() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_setup_arguments(parser)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (plan.SMOKE), for the test command")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latencies", default="0,5", help="added store latencies in ms, comma-separated")
    parser.add_argument("--clients", default=",".join(c.name for c in clients.CLIENTS))
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every size of the plan")
    # The SDK's two knobs: one process per executor core, as many as Spark's task slots; enough threads in each
    # that its own CPU, not its concurrency, limits it at 5 ms (each thread has one PutRecord in flight).
    parser.add_argument("--sdk-processes", type=int, default=2, help="FeatureGroup.ingest(max_processes=)")
    parser.add_argument("--sdk-workers", type=int, default=8, help="FeatureGroup.ingest(max_workers=)")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="time each client's first write in its process (cold JVM, cold caches)")  # fmt: skip
    parser.add_argument("--min-seconds", type=float, default=30.0,
                        help="each run repeats its write until this long (not in --smoke: one write)")  # fmt: skip
    parser.add_argument("--doc", type=Path, help="a Markdown file whose results block gets this run's table")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the store and the client to one CPU each")
    args = parser.parse_args()

    # Logs and store data dirs of this invocation; the data sets (immutable per size) are shared.
    run_dir = args.work.resolve() / "runs" / time.strftime("%Y%m%d-%H%M%S")
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2
    setup = Setup(
        store_binary=args.store_binary.resolve(),
        jar=args.jar.resolve(),
        work=args.work.resolve(),
        run_dir=run_dir,
        store_cpus={0} if pin else None,
        client_cpus={1} if pin else None,
        sdk_processes=args.sdk_processes,
        sdk_workers=args.sdk_workers,
        smoke=args.smoke,
        min_run_s=args.min_seconds,
    )
    if pin:
        # The runner itself mostly waits; it shares the store's CPU so the client's stays the client's.
        os.sched_setaffinity(0, {0})
    names = [name.strip() for name in args.clients.split(",") if name.strip()]
    unknown = [name for name in names if name not in clients.BY_NAME]
    if unknown:
        parser.error(f"unknown clients {unknown}; known: {sorted(clients.BY_NAME)}")
    latencies = [int(v) for v in args.latencies.split(",")]
    sizes = plan.SMOKE if args.smoke else plan.FULL

    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.jsonl"
    results_path.write_text("")
    machine = _machine(setup, args)
    machine["loadavg_start"] = _loadavg()
    started = time.time()
    failures = 0
    for round_no in range(1, args.rounds + 1):
        for latency in latencies:
            shift = (round_no - 1) % len(names)
            for name in names[shift:] + names[:shift]:
                if not clients.BY_NAME[name].sends and latency != latencies[0]:
                    continue  # a reference sends nothing: the store's latency cannot change it
                rows = plan.rows_for(sizes, name, latency, args.scale)
                warmup = plan.warmup_rows(rows) if args.warmup else 0
                print(f"[round {round_no}] {name} at {latency} ms: writes of {rows} rows for at least "
                      f"{0 if args.smoke else setup.min_run_s:.0f} s, after warm-up writes of {warmup} ...",
                      file=sys.stderr, flush=True)  # fmt: skip
                result = run_once(setup, clients.BY_NAME[name], latency, rows, warmup, round_no)
                result["loadavg"] = _loadavg()
                with results_path.open("a") as f:
                    f.write(json.dumps(result) + "\n")
                if result["status"] == "ok":
                    print(
                        f"    warm-up {(result.get('warmup') or {}).get('seconds', 0):.0f} s; "
                        f"{result['writes']} writes in {result['seconds']:.1f} s, {result['records_per_s']:,.0f} records/s, "
                        f"{result['cpu_us_per_record']:.1f} µs CPU/record, added latency "
                        f"{result['added_latency_ms']:.2f} ms, peak RSS {result['peak_rss_mb']:,.0f} MB",
                        file=sys.stderr,
                        flush=True,
                    )
                else:
                    failures += 1
                    print(f"    {result['status'].upper()}: {result.get('error', '')}\n    log: {result['log']}",
                          file=sys.stderr, flush=True)  # fmt: skip
    machine["loadavg_end"] = _loadavg()
    machine["minutes"] = round((time.time() - started) / 60, 1)
    (args.out / "machine.json").write_text(json.dumps(machine, indent=2) + "\n")

    summary = report.summarize(report.load(results_path))
    table = report.markdown(summary)
    (args.out / "results.md").write_text(table)
    title = "Ingestion into featurestore-local" + (" (smoke sizes)" if args.smoke else "")
    report.chart(summary, args.out / "chart.png", title)
    if args.doc:
        chart_link = os.path.relpath(args.out / "chart.png", args.doc.resolve().parent)
        report.update_doc(args.doc, machine, table, chart_link)
    print(table, file=sys.stderr)
    print(f"{failures} of the runs did not count; results in {args.out}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
