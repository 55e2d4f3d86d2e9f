"""How many rows each client writes at each latency, so that a run takes 10-60 s (full) or a few seconds
(smoke). Sized from measured rates on a 2-core machine with the store and the client pinned to one CPU each;
the results flag runs outside the window (`report.WINDOW_S`)."""

# (client, added latency in ms) -> rows
FULL = {
    ("ours-batch", 0): 2_000_000,
    ("ours-batch", 5): 1_500_000,
    ("ours-put", 0): 400_000,
    ("ours-put", 5): 400_000,
    ("aws-batch", 0): 150_000,
    ("aws-batch", 5): 50_000,
    ("aws-put", 0): 25_000,
    ("aws-put", 5): 4_000,
    ("sdk", 0): 10_000,
    ("sdk", 5): 12_000,
    ("spark-noop", 0): 2_000_000,
    ("ours-dryrun", 0): 2_000_000,
}

SMOKE = {
    ("ours-batch", 0): 20_000,
    ("ours-batch", 5): 20_000,
    ("ours-put", 0): 5_000,
    ("ours-put", 5): 5_000,
    ("aws-batch", 0): 5_000,
    ("aws-batch", 5): 2_000,
    ("aws-put", 0): 1_000,
    ("aws-put", 5): 300,
    ("sdk", 0): 500,
    ("sdk", 5): 500,
    ("spark-noop", 0): 20_000,
    ("ours-dryrun", 0): 20_000,
}


def rows_for(plan: dict[tuple[str, int], int], client: str, latency_ms: int, scale: float) -> int:
    """Rows for `client` at `latency_ms`; a latency the plan does not name takes the nearest one's size."""
    known = sorted({lat for name, lat in plan if name == client}, key=lambda lat: abs(lat - latency_ms))
    return max(1, round(plan[(client, known[0])] * scale))


def warmup_rows(rows: int, smoke: bool) -> int:
    """Rows of the untimed warm-up write before the timed one: a tenth of the run, and at least 2,000 (a JVM
    client's per-record code is compiled by then) but never more than the run itself; in a smoke run only the
    tenth (the warm-up is exercised, not needed)."""
    tenth = max(1, rows // 10)
    return tenth if smoke else max(tenth, min(rows, 2_000))
