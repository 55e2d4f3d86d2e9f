"""The cost of one write, small and large (BENCHMARKS.md, "The cost of a write"): for each client, a process of
its own with one warm Spark session (featurebench.write_cost_worker) writes 1, 1,000, 10,000, 100,000 and
1,000,000 rows, each size several times, into a group of one featurestore-local; the store on CPU 0, the client on
CPU 1 (its two task slots share it), as in the main matrix. Reports the median wall time and CPU per write, the
cost per row, and the fixed part (what a write costs beyond its rows: the 1-row write).

    bench/write-cost.sh [--clients ours-batch,aws-batch,spark-noop,ours-dryrun] [--sizes ...] [--writes ...] [--out DIR] [--smoke]
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from . import cli, clients, dataset
from .runner import ClientProcess, Setup
from .store import LocalStore
from .write_cost_worker import WARM_ROWS

SIZES = "1,1000,10000,100000,1000000"
WRITES = "30,30,10,5,3"
TIMEOUT_S = 3600


def run_client(setup: Setup, client: str, sizes: str, writes: str, store: LocalStore, parquet: Path,
               warm: list[str]) -> dict:  # fmt: skip
    group = f"cost-{client}"
    arn = store.create_group(group)
    args = ["--client", client, "--parquet", str(parquet), "--group", group, "--arn", arn, "--jar", str(setup.jar),
            "--sizes", sizes, "--writes", writes, *warm]  # fmt: skip
    worker = ClientProcess("featurebench.write_cost_worker", args, setup, store.endpoint,
                           setup.run_dir / f"{client}.log")  # fmt: skip
    result: dict = {"client": client, "writes": []}
    try:
        for message in worker.events(TIMEOUT_S):
            if message["event"] == "warm":
                result["warm"] = message
            elif message["event"] == "write":
                result["writes"].append(message)
            else:
                raise RuntimeError(f"{client}: {message.get('error', message)}")
        return result
    finally:
        worker.close()


def summarize(result: dict) -> dict[int, dict]:
    """Rows per write -> median wall and CPU per write (seconds) and the number of writes."""
    by_size: dict[int, list[dict]] = {}
    for write in result["writes"]:
        by_size.setdefault(write["rows"], []).append(write)
    return {
        rows: {"wall_s": statistics.median(w["wall_s"] for w in ws), "cpu_s": statistics.median(w["cpu_s"] for w in ws),
               "writes": len(ws)}  # fmt: skip
        for rows, ws in sorted(by_size.items())
    }


def table(results: list[dict]) -> str:
    summaries = {r["client"]: summarize(r) for r in results}
    names = [r["client"] for r in results]
    label = {c.name: c.label for c in clients.CLIENTS}
    head = "| Rows per write | " + " | ".join(
        f"{label[n]}: wall ms | CPU ms | CPU µs/row" for n in names) + " |"
    if len(names) == 2:
        head += f" Wall, {names[1]} / {names[0]} |"
    lines = [head, "|" + " ---: |" * (1 + 3 * len(names) + (len(names) == 2))]
    sizes = sorted(set.intersection(*(set(s) for s in summaries.values())))
    for rows in sizes:
        cells = [f"{rows:,}"]
        for n in names:
            s = summaries[n][rows]
            cells += [f"{s['wall_s'] * 1000:,.1f}", f"{s['cpu_s'] * 1000:,.1f}", f"{s['cpu_s'] / rows * 1e6:,.2f}"]
        if len(names) == 2:
            cells.append(f"{summaries[names[1]][rows]['wall_s'] / summaries[names[0]][rows]['wall_s']:.1f}x")
        lines.append("| " + " | ".join(cells) + " |")
    notes = []
    for n in names:
        s = summaries[n]
        warm = next(r["warm"] for r in results if r["client"] == n)
        note = (f"- {label[n]}: warmed {warm['seconds']:.0f} s ({warm['slices']} slices of {dataset_rows_note()}; "
                f"CPU per write of the last two: {warm['cpu_ms_per_write'][-2:]} ms, "
                f"{'stable' if warm['stable'] else 'NOT stable'})")  # fmt: skip
        if 1 in s:
            note += f"; fixed part (a 1-row write): {s[1]['wall_s'] * 1000:.1f} ms wall, {s[1]['cpu_s'] * 1000:.1f} ms CPU"
        large = max(s)
        if 100_000 in s and large > 100_000:
            extra = (s[100_000]["wall_s"] / 100_000) / (s[large]["wall_s"] / large) - 1
            note += f"; a 100,000-row write costs {extra * 100:+.0f}% wall per row against a {large:,}-row one"
        notes.append(note)
    return "\n".join(lines + [""] + notes) + "\n"


def dataset_rows_note() -> str:
    return f"{WARM_ROWS:,}-row writes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_setup_arguments(parser)
    parser.add_argument("--clients", default="ours-batch,aws-batch,spark-noop,ours-dryrun")
    parser.add_argument("--sizes", default=SIZES)
    parser.add_argument("--writes", default=WRITES)
    parser.add_argument("--smoke", action="store_true",
                        help="a check that the benchmark runs: 1- and 1,000-row writes, twice each, a short warm-up")
    args = parser.parse_args()
    warm: list[str] = []
    if args.smoke:
        args.sizes, args.writes, warm = "1,1000", "2,2", ["--smoke-warmup"]
    sizes = [int(s) for s in args.sizes.split(",")]
    if len(sizes) != len(args.writes.split(",")):
        parser.error("--sizes and --writes must have as many entries")
    pin = (os.cpu_count() or 1) >= 2
    run_dir = args.work / f"write-cost-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    setup = Setup(args.store_binary, args.jar, args.work, run_dir, {0} if pin else None, {1} if pin else None, 1, 1)
    parquet = dataset.parquet_path(args.work / "data", max(sizes + [WARM_ROWS]))
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    with LocalStore(setup.store_binary, run_dir / "store", run_dir / "store.log", setup.store_cpus) as store:
        for client in args.clients.split(","):
            print(f"write cost: {client} ...", flush=True)
            results.append(run_client(setup, client, args.sizes, args.writes, store, parquet, warm))
    with open(args.out / "write-cost.jsonl", "w") as f:
        for result in results:
            f.write(json.dumps(result) + "\n")
    text = table(results)
    (args.out / "write-cost.md").write_text(text)
    print(text, flush=True)


if __name__ == "__main__":
    main()
