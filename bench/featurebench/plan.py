"""How many rows each client writes at each latency: one write of them takes about 10-25 s on a 2-core machine
with the store and the client pinned to one CPU each, warm (a run repeats it until at least 30 s have passed;
the results flag runs outside `report.WINDOW_S`), or a few seconds at smoke sizes. The references that send
nothing write as many rows as ours, which is what their cached data allows in the driver's memory."""

# (client, added latency in ms) -> rows
FULL = {
    ("ours-batch", 0): 2_000_000,
    ("ours-batch", 5): 1_500_000,
    ("ours-put", 0): 400_000,
    ("ours-put", 5): 400_000,
    ("aws-batch", 0): 500_000,
    ("aws-batch", 5): 100_000,
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


def warmup_rows(rows: int) -> int:
    """Rows of each untimed warm-up write (featurebench.warmup repeats it for as long as its rule says): a
    twentieth of the timed write, so that one takes about a second and a slice holds several."""
    return max(1, rows // 20)
