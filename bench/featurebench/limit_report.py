"""From the limit benchmark's runs (JSON lines) to its two Markdown tables (the matrix; the step scenario), the
chart of the step scenario's time series, and the results block of BENCHMARKS.md."""

import statistics
from pathlib import Path

from . import clients, limit_metrics
from .limit_metrics import Sample
from .report import _gib, replace_block

DOC_BEGIN = "<!-- limit-results:begin (written by bench/limit.sh from its last run) -->"
DOC_END = "<!-- limit-results:end -->"
COLORS = {"ours-batch": "#1b7837", "ours-fixed": "#7fbf7b", "aws-batch": "#2166ac", "aws-put": "#92c5de"}


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _pct(share: float | None, digits: int = 1) -> str:
    return "–" if share is None else f"{share * 100:.{digits}f}%"


def _steady(run: dict, key: str) -> float | None:
    return (run.get("steady") or {}).get(key)


def _binds_note(runs: list[dict]) -> str:
    """Says so when the cap does not bind the client (limit_metrics.binds, worked out again from the stored
    figures so that the table follows the definition): its own speed, from its warm-up."""
    if any(limit_metrics.binds(r["own_records_per_s"], r["cap"], r["steady"]) for r in runs):
        return ""
    return f" · *cap does not bind: own {_median([r['own_records_per_s'] for r in runs]):,.0f}/s*"


def matrix_cell(runs: list[dict]) -> str:
    """`97.8% (95.1%) · 0 failed · 1.2% (3.0%) thr`: steady part (whole run), medians over the rounds."""
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return "**failed**" if runs else ""
    steady_share, whole_share = _median([_steady(r, "cap_share") for r in ok]), _median([r["cap_share"] for r in ok])
    steady_thr = _median([_steady(r, "throttled_share") for r in ok])
    whole_thr = _median([r["throttled_share"] for r in ok])
    failed = _median([r["records_failed"] for r in ok])
    rounds = f" ({len(ok)}/{len(runs)} runs ok)" if len(ok) < len(runs) else ""
    return (f"{_pct(steady_share)} ({_pct(whole_share)}) · {failed:,.0f} failed · {_pct(steady_thr)} "
            f"({_pct(whole_thr)}) thr{_binds_note(ok)}{rounds}")  # fmt: skip


def _client_names(runs: list[dict]) -> list[str]:
    order = list(clients.LIMIT_BY_NAME)
    return sorted({r["client"] for r in runs}, key=order.index)


def matrix_table(runs: list[dict]) -> str:
    """Rows: cap x latency x tasks; columns: clients."""
    plain = [r for r in runs if not r["step"]]
    if not plain:
        return ""
    names = _client_names(plain)
    labels = [clients.LIMIT_BY_NAME[name].label for name in names]
    out = ["| Cap (records/s) | Added latency | Tasks | " + " | ".join(labels) + " |",
           "| ---: | ---: | ---: |" + " --- |" * len(names)]  # fmt: skip
    for setting in sorted({(r["cap"], r["latency_ms"], r["tasks"]) for r in plain}):
        mine = [r for r in plain if (r["cap"], r["latency_ms"], r["tasks"]) == setting]
        cells = [matrix_cell([r for r in mine if r["client"] == name]) for name in names]
        out.append(f"| {setting[0]:,} | {setting[1]} ms | {setting[2]} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def _phase_cell(phases: list[dict], k: int) -> str:
    steady = phases[k]["steady"] if k < len(phases) else None
    if not steady:
        return "–"
    return f"{_pct(steady['cap_share'])} · {_pct(steady['throttled_share'])} thr"


def _settle_cell(run: dict, k: int) -> str:
    phases = run.get("phases") or []
    if k >= len(phases):
        return "–"
    phase = phases[k]
    if not limit_metrics.binds(run["own_records_per_s"], phase["cap"], phase["steady"]):
        return "*cap does not bind*"
    settle = phase.get("settle_s")
    return "**not settled**" if settle is None else f"{settle:.1f} s"


def step_table(runs: list[dict]) -> str:
    """One row per step run: each phase's steady share of its cap and throttled share, the seconds to settle
    after each step, the records failed."""
    steps = [r for r in runs if r["step"]]
    if not steps:
        return ""
    out = ["| Client | Setting | Own speed (records/s) | Cap C: share · thr | Settle after C → C/2 "
           "| C/2: share · thr | Settle after C/2 → C | C again: share · thr | Failed |",
           "| --- | --- | ---: | --- | ---: | --- | ---: | --- | ---: |"]  # fmt: skip
    for run in sorted(steps, key=lambda r: (list(clients.LIMIT_BY_NAME).index(r["client"]), r["round"])):
        setting = f"C = {run['cap']:,}/s, {run['latency_ms']} ms, {run['tasks']} tasks"
        if run["status"] != "ok":
            out.append(f"| {run['label']} | {setting} | | **failed** | | | | | |")
            continue
        phases = run["phases"]
        out.append(
            f"| {run['label']} | {setting} | {run['own_records_per_s']:,.0f} | {_phase_cell(phases, 0)} "
            f"| {_settle_cell(run, 1)} | {_phase_cell(phases, 1)} | {_settle_cell(run, 2)} | {_phase_cell(phases, 2)} "
            f"| {run['records_failed']:,} |"
        )
    return "\n".join(out) + "\n"


def samples(run: dict) -> list[Sample]:
    series = run["series"]
    return [Sample(*values) for values in zip(series["t"], series["records"], series["requests"], series["throttled"])]


def step_chart(runs: list[dict], path: Path, title: str) -> bool:
    """Records/s (1-s rolling) and the share of requests throttled over time, per client, with the cap as a
    line; False when there is no step run to draw."""
    steps = [r for r in runs if r["step"] and r["status"] == "ok"]
    if not steps:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (rate_ax, thr_ax) = plt.subplots(2, 1, figsize=(10, 7), dpi=120, sharex=True,
                                          gridspec_kw={"height_ratios": [3, 1]})  # fmt: skip
    for run in steps:
        points = samples(run)
        found = limit_metrics.windows(points, 0.0, float("inf"))
        ends = [start + window.seconds for start, window in found]
        color = COLORS.get(run["client"])
        rate_ax.plot(ends, [w.records_per_s for _, w in found], label=run["label"], color=color, linewidth=1.2)
        thr_ax.plot(ends, [(w.throttled_share or 0) * 100 for _, w in found], color=color, linewidth=1.0)
    cap_t, cap_v = _cap_line(steps[0], max(run["seconds"] for run in steps))
    rate_ax.step(cap_t, cap_v, where="post", color="black", linestyle="--", linewidth=1, label="the store's cap")
    rate_ax.set_ylabel("records/s (trailing 1-s windows)")
    rate_ax.set_ylim(bottom=0)
    rate_ax.set_title(title)
    rate_ax.grid(alpha=0.3)
    rate_ax.legend(fontsize=8, loc="lower right")
    thr_ax.axhline(limit_metrics.MAX_THROTTLED_SHARE * 100, color="black", linestyle=":", linewidth=1)
    thr_ax.set_ylabel("requests\nthrottled (%)")
    thr_ax.set_xlabel("seconds since the write started")
    thr_ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def _cap_line(run: dict, until: float) -> tuple[list[float], list[float]]:
    """The cap over time as one step run's store took it, drawn until `until` seconds."""
    times = [0.0] + [t for t, _ in run["steps_applied"]]
    caps = [float(run["cap"])] + [cap for _, cap in run["steps_applied"]]
    return times + [until], caps + [caps[-1]]


def machine_lines(machine: dict) -> str:
    pinning = (f"store on CPU {machine['store_cpus']}, client on CPU {machine['client_cpus']}"
               if machine["client_cpus"] != "any" else "none")  # fmt: skip
    return "\n".join([
        f"- CPU: {machine['cpu']}, {machine['cpus']} CPUs; memory {_gib(machine['memory'])}; Linux {machine['kernel']}",
        f"- {machine['java']}; Python {machine['python']}; pyspark {machine['pyspark']}; "
        f"sagemaker-feature-store-pyspark {machine['sagemaker-feature-store-pyspark']}",
        f"- Pinning: {pinning}; timed writes of ~{machine['duration_s']:.0f} s after a warm-up of "
        f"{machine['warmup_s']:.0f}-{machine.get('max_warmup_s', machine['warmup_s']):.0f} s of the client's own "
        f"work; steady part from {machine['steady_after_s']:.0f} s",
        f"- Commit {machine['git_commit']}{_build_note(machine)}; "
        f"{machine['rounds']} round(s) in {machine['minutes']} min; load average {machine['loadavg_start'][0]:.2f} "
        f"at the start, {machine['loadavg_end'][0]:.2f} at the end (1-minute)",
    ])  # fmt: skip


def _build_note(machine: dict) -> str:
    notes = []
    if machine.get("uncommitted"):
        notes.append("jar or store built with uncommitted changes")
    if machine["smoke"]:
        notes.append("smoke sizes: the figures mean little")
    return f" ({'; '.join(notes)})" if notes else ""


def markdown(runs: list[dict]) -> str:
    parts = []
    if table := matrix_table(runs):
        parts += [table, "Each cell: records/s as a share of the cap over the steady part (over the whole run) · "
                         "records failed · share of write requests throttled, steady part (whole run).\n"]  # fmt: skip
    if table := step_table(runs):
        parts += [table]
    return "\n".join(parts)


def update_doc(doc: Path, machine: dict, table: str, chart_link: str | None) -> None:
    body = f"{machine_lines(machine)}\n\n{table}\n"
    if chart_link:
        body += f"![the step scenario: records/s and requests throttled over time]({chart_link})\n"
    replace_block(doc, DOC_BEGIN, DOC_END, body)
