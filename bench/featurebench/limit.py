"""At the service's limit: ours and AWS's connector side by side under the store's records-per-second cap.

The matrix is caps x added latencies x task counts x clients, one fresh store and one client process per run,
plus the step scenario (the cap halves for the middle third of the write, then comes back) for each client at
one setting. Each run warms the client on an uncapped group for --warmup seconds of its own work or more, until
its speed stops rising (which also measures its own speed there), then times one write sized to last about
--duration seconds at min(cap, that speed), polling the store's counters every 200 ms. Writes results.jsonl
(one line per run, as it goes, with the time series), results.md (the tables), step.png and machine.json to
--out.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from . import clients, limit_report
from .limit_run import Setting, Timing, run_limit
from .matrix import _loadavg, _machine
from .runner import Setup

DEFAULTS = {
    "caps": "2000,20000,100000", "latencies": "0,5", "tasks": "2,8", "clients": "ours-batch,aws-batch,aws-put",
    "step": "20000,0,8", "step_clients": None, "duration": 40.0, "step_duration": None, "warmup": 20.0,
    "max_warmup": 90.0, "steady_after": 5.0,
}  # fmt: skip
# --smoke: one tiny setting through the same code (scripts/test/60-bench-smoke.sh); a flag given wins. Ours runs
# only the step scenario there (a plain run of ours adds no code path to it, and ~30 s to the test stage).
SMOKE = {
    "caps": "2000", "latencies": "0", "tasks": "2", "clients": "aws-batch", "step": "2000,0,2",
    "step_clients": "ours-batch", "duration": 5.0, "step_duration": 9.0, "warmup": 2.0, "max_warmup": 6.0,
    "steady_after": 1.0,
}  # fmt: skip


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def _names(text: str, parser: argparse.ArgumentParser) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = {c.name for c in clients.LIMIT_BY_NAME.values() if c.kind == "spark" and c.sends}
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"unknown clients {unknown}; known: {sorted(known)}")
    return names


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="where results, tables and chart go")
    parser.add_argument("--work", type=Path, help="scratch: data sets, store dirs, logs")
    parser.add_argument("--store-binary", type=Path)
    parser.add_argument("--jar", type=Path, help="our connector's jar")
    parser.add_argument("--built-from", help="the commit the store binary and the jar were built from, when not "
                                             "this repository's HEAD (they were built elsewhere)")  # fmt: skip
    parser.add_argument("--from-results", type=Path, help="run nothing: write the tables, chart and --doc block "
                                                          "again from this directory's results.jsonl and "
                                                          "machine.json")  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help=f"one tiny setting: {SMOKE}")
    parser.add_argument("--caps", help=f"records/s, comma-separated (default {DEFAULTS['caps']})")
    parser.add_argument("--latencies", help=f"added store latencies in ms (default {DEFAULTS['latencies']})")
    parser.add_argument("--tasks", help=f"Spark task slots and partitions, local[N] (default {DEFAULTS['tasks']})")
    parser.add_argument("--clients", help=f"default {DEFAULTS['clients']}; ours-fixed (ours with adaptiveRate=false) "
                                          "on request, with a jar that has the option")  # fmt: skip
    parser.add_argument("--step", help=f"the step scenario's CAP,LATENCY_MS,TASKS, or 'none' (default "
                                       f"{DEFAULTS['step']})")  # fmt: skip
    parser.add_argument("--step-clients", help="clients of the step scenario (default: --clients)")
    parser.add_argument("--only-step", action="store_true", help="the step scenario alone, no matrix")
    parser.add_argument("--duration", type=float, help=f"seconds a timed write should last (default "
                                                       f"{DEFAULTS['duration']:.0f})")  # fmt: skip
    parser.add_argument("--step-duration", type=float, help="seconds the step scenario's write should last, "
                                                            "a third per phase (default: --duration)")  # fmt: skip
    parser.add_argument("--warmup", type=float, help=f"seconds of the client's own work before timing, on an "
                                                     f"uncapped group (default {DEFAULTS['warmup']:.0f})")  # fmt: skip
    parser.add_argument("--max-warmup", type=float,
                        help=f"seconds the warm-up may go on while the client's speed still rises (default "
                             f"{DEFAULTS['max_warmup']:.0f})")  # fmt: skip
    parser.add_argument("--steady-after", type=float, help=f"seconds of ramp-up left out of the steady part "
                                                           f"(default {DEFAULTS['steady_after']:.0f})")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1, help="each setting's runs this many times (medians)")
    parser.add_argument("--doc", type=Path, help="a Markdown file whose limit-results block gets this run's tables")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the store and the client to one CPU each")
    args = parser.parse_args()
    if not args.from_results and not (args.work and args.store_binary and args.jar):
        parser.error("--work, --store-binary and --jar are needed to run (all but --from-results)")
    for key, default in (SMOKE if args.smoke else DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, default)
    args.step_duration = args.step_duration or args.duration
    args.clients = _names(args.clients, parser)
    args.step_clients = _names(args.step_clients, parser) if args.step_clients else args.clients
    return args


def settings(args: argparse.Namespace) -> list[Setting]:
    """Every setting of the matrix, then the step scenario's."""
    plain = [] if args.only_step else [
        Setting(cap, latency, tasks) for cap in _ints(args.caps) for latency in _ints(args.latencies)
        for tasks in _ints(args.tasks)
    ]  # fmt: skip
    if args.step != "none":
        cap, latency, tasks = _ints(args.step)
        plain.append(Setting(cap, latency, tasks, step=True))
    return plain


def _setup(args: argparse.Namespace) -> Setup:
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2
    if pin:
        # The harness mostly waits (and polls every 200 ms); it shares the store's CPU.
        os.sched_setaffinity(0, {0})
    return Setup(store_binary=args.store_binary.resolve(), jar=args.jar.resolve(), work=args.work.resolve(),
                 run_dir=args.work.resolve() / "runs" / time.strftime("limit-%Y%m%d-%H%M%S"),
                 store_cpus={0} if pin else None, client_cpus={1} if pin else None,
                 sdk_processes=0, sdk_workers=0)  # fmt: skip


def _uncommitted_build(setup: Setup) -> bool:
    """Whether the jar or the store binary was built in this repository with uncommitted changes to what they
    are built from: the figures are then not those of the commit the results name."""
    root = Path(__file__).resolve().parents[2]
    if not any(root in path.parents for path in (setup.jar, setup.store_binary)):
        return False
    status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "jvm", "rust", "Cargo.lock"],
                            capture_output=True, text=True, check=False).stdout  # fmt: skip
    return bool(status.strip())


def missing_figures(result: dict) -> list[str]:
    """The figures a counted run must have (the smoke test fails on any missing)."""
    wanted = ["own_records_per_s", "records_failed", "throttled_share", "cap_share", "steady"]
    missing = [key for key in wanted if result.get(key) is None]
    if result["step"]:
        phases = result.get("phases") or []
        if len(phases) != 3 or any("settle_s" not in phase for phase in phases[1:]):
            missing.append("phases")
    return missing


def _say(result: dict) -> str:
    if result["status"] != "ok":
        return f"    FAILED: {result.get('error', '')}\n    log: {result['log']}"
    steady = result["steady"] or {}
    line = (f"    own {result['own_records_per_s']:,.0f}/s; {result['rows']:,} rows in {result['seconds']:.1f} s: "
            f"{result['cap_share'] * 100:.1f}% of the cap (steady {steady.get('cap_share', 0) * 100:.1f}%), "
            f"{result['records_failed']:,} failed, {(result['throttled_share'] or 0) * 100:.1f}% of requests "
            "throttled")  # fmt: skip
    for phase in (result.get("phases") or [])[1:]:
        settle = phase["settle_s"]
        line += f"\n    step to {phase['cap']:,.0f}/s: settled " + ("never" if settle is None else f"in {settle:.1f} s")
    return line


def run_all(args: argparse.Namespace) -> tuple[list[dict], dict]:
    """Every run of the matrix and the step scenario, each written to results.jsonl as it ends; the runs and
    the machine's description."""
    setup = _setup(args)
    timing = Timing(args.duration, args.step_duration, args.warmup, args.max_warmup, args.steady_after, args.smoke)
    results_path = args.out / "results.jsonl"
    results_path.write_text("")
    machine = _machine(setup, SimpleNamespace(rounds=args.rounds, smoke=args.smoke, warmup=True))
    machine.update({"store_binary": str(setup.store_binary), "uncommitted": _uncommitted_build(setup),
                    "duration_s": args.duration, "step_duration_s": args.step_duration, "warmup_s": args.warmup,
                    "max_warmup_s": args.max_warmup, "steady_after_s": args.steady_after,
                    "loadavg_start": _loadavg()})  # fmt: skip
    started, runs = time.time(), []
    for round_no in range(1, args.rounds + 1):
        for setting in settings(args):
            names = args.step_clients if setting.step else args.clients
            shift = (round_no - 1) % len(names)  # the order of the clients rotates from round to round
            for name in names[shift:] + names[:shift]:
                print(f"[round {round_no}] {name} at {setting.tag()} ...", file=sys.stderr, flush=True)
                result = run_limit(setup, clients.LIMIT_BY_NAME[name], setting, timing, round_no)
                if result["status"] == "ok" and (missing := missing_figures(result)):
                    result.update(status="failed", error=f"figures missing: {missing}")
                result["loadavg"] = _loadavg()
                runs.append(result)
                with results_path.open("a") as f:
                    f.write(json.dumps(result) + "\n")
                print(_say(result), file=sys.stderr, flush=True)
    machine.update({"loadavg_end": _loadavg(), "minutes": round((time.time() - started) / 60, 1)})
    return runs, machine


def write_outputs(args: argparse.Namespace, runs: list[dict], machine: dict) -> str:
    """machine.json, results.md, step.png and the --doc block; the tables."""
    (args.out / "machine.json").write_text(json.dumps(machine, indent=2) + "\n")
    table = limit_report.markdown(runs)
    (args.out / "results.md").write_text(table)
    title = "Step scenario: the cap halves, then comes back" + (" (smoke sizes)" if machine["smoke"] else "")
    chart = args.out / "step.png"
    drawn = limit_report.step_chart(runs, chart, title)
    if args.doc:
        link = os.path.relpath(chart, args.doc.resolve().parent) if drawn else None
        limit_report.update_doc(args.doc, machine, table, link)
    return table


def main() -> int:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.from_results:
        runs = [json.loads(line) for line in (args.from_results / "results.jsonl").read_text().splitlines() if line]
        machine = json.loads((args.from_results / "machine.json").read_text())
    else:
        runs, machine = run_all(args)
    if args.built_from:
        machine.update(git_commit=args.built_from, uncommitted=False)
    table = write_outputs(args, runs, machine)
    failures = sum(run["status"] != "ok" for run in runs)
    print(table, file=sys.stderr)
    print(f"{failures} of the runs did not count; results in {args.out}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
