"""From the runs (JSON lines) to the Markdown table and the PNG chart: medians over rounds, and the ratios of
ours to each peer computed round by round (the same round ran every client at a latency back to back) before
taking their median."""

import json
import statistics
from pathlib import Path

from . import clients, warmup

WINDOW_S = (30.0, 90.0)  # how long a full run should take: at least 30 s, a few of the plan's writes
# The ratios the closing note asks for (ours in its default mode, BatchWriteRecord, against each peer), then
# like for like.
RATIOS = [
    ("ours-batch", "aws-batch"),
    ("ours-batch", "aws-put"),
    ("ours-batch", "sdk"),
    ("ours-put", "aws-put"),
    ("ours-put", "sdk"),
]


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(runs: list[dict]) -> dict:
    """Per (latency, client): medians of the successful runs; per (latency, pair): the median ratio."""
    latencies = sorted({r["latency_ms"] for r in runs})
    rows = []
    for latency in latencies:
        for client in clients.CLIENTS:
            mine = [r for r in runs if r["latency_ms"] == latency and r["client"] == client.name]
            if not mine:
                continue
            ok = [r for r in mine if r["status"] == "ok"]
            rows.append(
                {
                    "latency_ms": latency,
                    "client": client.name,
                    "label": client.label,
                    "runs": len(mine),
                    "ok": len(ok),
                    "not_ok": sorted({r["status"] for r in mine if r["status"] != "ok"}),
                    "rows": _median([r["rows"] for r in mine]),
                    "writes": _median([r.get("writes", 1) for r in ok]),
                    "warmup_s": _median([r["warmup"]["seconds"] for r in ok if r.get("warmup")]),
                    "warmup_unstable": sum(1 for r in ok if r.get("warmup") and not r["warmup"]["stable"]),
                    "seconds": _median([r["seconds"] for r in ok]),
                    "records_per_s": _median([r["records_per_s"] for r in ok]),
                    "records_per_s_per_core": _median([r["records_per_s_per_core"] for r in ok]),
                    "records_per_s_per_cpu": _median([r["records_per_s_per_cpu"] for r in ok
                                                      if "records_per_s_per_cpu" in r]),
                    "cpu_us_per_record": _median([r["cpu_us_per_record"] for r in ok]),
                    "store_cpu_us_per_record": _median(
                        [r["store_cpu_s"] / r.get("rows_written", r["rows"]) * 1e6 for r in ok]),
                    "peak_rss_mb": _median([r["peak_rss_mb"] for r in ok]),
                    "peak_pss_mb": _median([r["peak_pss_mb"] for r in ok if "peak_pss_mb" in r]),
                    "executor_cores": _median([r["executor_cores"] for r in ok]),
                    "outside_window": sum(
                        1 for r in ok if client.sends and not WINDOW_S[0] <= r["seconds"] <= WINDOW_S[1]
                    ),
                }
            )
    ratios = []
    for latency in latencies:
        for ours, peer in RATIOS:
            per_round = []
            for round_no in sorted({r["round"] for r in runs}):
                pair = {
                    r["client"]: r
                    for r in runs
                    if r["round"] == round_no and r["latency_ms"] == latency and r["status"] == "ok"
                }
                if ours in pair and peer in pair:
                    per_round.append(pair[ours]["records_per_s_per_core"] / pair[peer]["records_per_s_per_core"])
            if per_round:
                ratios.append(
                    {"latency_ms": latency, "ours": ours, "peer": peer, "median": _median(per_round),
                     "per_round": per_round}  # fmt: skip
                )
    added = {
        latency: _median([r["added_latency_ms"] for r in runs if r["latency_ms"] == latency and "added_latency_ms" in r])
        for latency in latencies
    }
    return {"rows": rows, "ratios": ratios, "added_latency_ms": added}


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def markdown(summary: dict) -> str:
    added = summary["added_latency_ms"]
    out = [
        "| Store latency (set / measured added) | Client | Runs ok | Warm-up (s) | Rows × writes | Time (s) "
        "| Records/s | Records/s per core | Records/s per CPU | Client CPU µs/record | Store CPU µs/record "
        "| Peak RSS / PSS (MB) |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary["rows"]:
        latency = f"{row['latency_ms']} ms / {_num(added[row['latency_ms']], 2)} ms"
        runs = f"{row['ok']}/{row['runs']}" + (f" ({', '.join(row['not_ok'])})" if row["not_ok"] else "")
        seconds = _num(row["seconds"], 1) + (" ⚠" if row["outside_window"] else "")
        warm = _num(row["warmup_s"]) + (" ⚠" if row["warmup_unstable"] else "")
        out.append(
            f"| {latency} | {row['label']} | {runs} | {warm} | {_num(row['rows'])} × {_num(row['writes'])} "
            f"| {seconds} | {_num(row['records_per_s'])} | {_num(row['records_per_s_per_core'])} "
            f"| {_num(row['records_per_s_per_cpu'])} "
            f"| {_num(row['cpu_us_per_record'], 1)} | {_num(row['store_cpu_us_per_record'], 1)} "
            f"| {_num(row['peak_rss_mb'])} / {_num(row['peak_pss_mb'])} |"
        )
    if any(row["outside_window"] for row in summary["rows"]):
        out += ["", f"⚠ at least one run outside {WINDOW_S[0]:.0f}-{WINDOW_S[1]:.0f} s (plan.py sizes them)."]
    if any(row["warmup_unstable"] for row in summary["rows"]):
        out += ["", "⚠ at least one warm-up ended at its time limit before two slices agreed (warmup.py)."]
    out += ["", "| Store latency | Ratio (records/s per core) | Median | Per round |", "| --- | --- | ---: | --- |"]
    for ratio in summary["ratios"]:
        name = f"{clients.BY_NAME[ratio['ours']].label} ÷ {clients.BY_NAME[ratio['peer']].label}"
        rounds = ", ".join(f"{v:,.1f}" for v in ratio["per_round"])
        out.append(f"| {ratio['latency_ms']} ms | {name} | **{ratio['median']:,.1f}×** | {rounds} |")
    return "\n".join(out) + "\n"


def chart(summary: dict, path: Path, title: str) -> None:
    """Records/s per core, log scale, one group of bars per latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latencies = sorted({row["latency_ms"] for row in summary["rows"]})
    names = [
        c.name for c in clients.CLIENTS if c.sends and any(row["client"] == c.name for row in summary["rows"])
    ]
    width = 0.8 / max(1, len(names))
    colors = {"ours-batch": "#1b7837", "ours-put": "#7fbf7b", "aws-batch": "#2166ac", "aws-put": "#92c5de",
              "sdk": "#d6604d"}  # fmt: skip
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=120)
    for k, name in enumerate(names):
        xs, ys = [], []
        for g, latency in enumerate(latencies):
            row = next((r for r in summary["rows"] if r["client"] == name and r["latency_ms"] == latency), None)
            if row and row["records_per_s_per_core"]:
                xs.append(g + (k - (len(names) - 1) / 2) * width)
                ys.append(row["records_per_s_per_core"])
        bars = ax.bar(xs, ys, width * 0.95, label=clients.BY_NAME[name].label, color=colors.get(name))
        for bar, y in zip(bars, ys):
            ax.annotate(f"{y:,.0f}", (bar.get_x() + bar.get_width() / 2, y), ha="center", va="bottom",
                        fontsize=8, xytext=(0, 2), textcoords="offset points")  # fmt: skip
    added = summary["added_latency_ms"]
    ax.set_xticks(range(len(latencies)))
    ax.set_xticklabels([f"store latency {lat} ms\n(measured added: {_num(added[lat], 2)} ms)" for lat in latencies])
    ax.set_yscale("log")
    ax.set_ylabel("records/s per executor core (log scale)")
    ax.set_title(title)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


DOC_BEGIN = "<!-- bench-results:begin (written by bench/run.sh from its last full run) -->"
DOC_END = "<!-- bench-results:end -->"


def _gib(meminfo_total: str) -> str:
    """'24684092 kB' -> '23.5 GiB'."""
    number, _, unit = meminfo_total.partition(" ")
    return f"{int(number) / 2**20:.1f} GiB" if unit == "kB" and number.isdigit() else meminfo_total


def machine_markdown(machine: dict) -> str:
    pinning = (
        f"store on CPU {machine['store_cpus']}, client on CPU {machine['client_cpus']}"
        if machine["client_cpus"] != "any"
        else "none"
    )
    return "\n".join(
        [
            f"- CPU: {machine['cpu']}, {machine['cpus']} CPUs; memory {_gib(machine['memory'])}; "
            f"Linux {machine['kernel']}",
            f"- {machine['java']}; Python {machine['python']}; pyspark {machine['pyspark']}; "
            f"sagemaker-feature-store-pyspark {machine['sagemaker-feature-store-pyspark']}; "
            f"sagemaker {machine['sagemaker']}",
            f"- Pinning: {pinning}; SDK: max_processes={machine['sdk_processes']}, "
            f"max_workers={machine['sdk_workers']}",
            f"- Each client warmed by the same rule before timing (bench/featurebench/warmup.py: its own write "
            f"repeated for at least {warmup.FULL.min_s:.0f} s, until two {warmup.FULL.slice_s:.0f}-s slices agree "
            f"within {warmup.AGREE:.0%} on CPU per write); each timed run repeats its write for at least "
            f"{machine.get('min_run_s', 0):.0f} s",
            f"- Commit {machine['git_commit']}; {machine['rounds']} rounds in {machine['minutes']} min; load average "
            f"{machine['loadavg_start'][0]:.2f} at the start, {machine['loadavg_end'][0]:.2f} at the end "
            f"(1-minute; every run's is in results.jsonl)",
        ]
    )


def update_doc(doc: Path, machine: dict, table: str, chart_link: str) -> None:
    """Replaces the results block of `doc` (between DOC_BEGIN and DOC_END) with this run's."""
    body = f"{machine_markdown(machine)}\n\n{table}\n![records/s per core]({chart_link})\n"
    replace_block(doc, DOC_BEGIN, DOC_END, body)


def replace_block(doc: Path, begin_marker: str, end_marker: str, body: str) -> None:
    """Replaces what lies between `begin_marker`'s line and `end_marker` in `doc` with `body`."""
    text = doc.read_text()
    begin, end = text.find(begin_marker), text.find(end_marker)
    if begin < 0 or end < begin:
        raise ValueError(f"{doc} has no results block ({begin_marker} ... {end_marker})")
    doc.write_text(text[:begin] + f"{begin_marker}\n{body}" + text[end:])
