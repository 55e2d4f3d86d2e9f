"""Input of the seed pipeline's tests (examples/processing): transaction files, CSV and Parquet, generated from a
seed, sharded as SageMaker's ShardedByS3Key would, and the features each customer must get, computed here in plain
Python from the same rows (not with the pipeline's code)."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

WINDOW_END = datetime(2026, 3, 8, tzinfo=timezone.utc)
WINDOW_DAYS = 7
# Offsets a CSV's txn_time is written with: the pipeline must bring them all to UTC.
OFFSETS = [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)),
           timezone(timedelta(hours=9))]
PREFIX = "transactions"

FEATURE_DEFINITIONS = [
    {"FeatureName": name, "FeatureType": kind} for name, kind in [
        ("customer_id", "String"), ("event_time", "String"), ("first_txn_time", "String"),
        ("txn_count", "Integral"), ("amount_sum", "Fractional"), ("amount_avg", "Fractional"),
        ("fee_ratio", "Fractional"), ("max_amount_band", "String")]
]


@dataclass(frozen=True)
class Txn:
    customer_id: str
    time: datetime  # aware
    amount: float
    fee: float


def generate(root: Path, files: int, seed: int = 14) -> dict[str, list[Txn]]:
    """`files` files under root/transactions/ (every other one Parquet), 3 customers a file, 1-5 transactions
    each over 10 days around the window; a customer's transactions are all in one file. Returns key -> rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    start = WINDOW_END - timedelta(days=WINDOW_DAYS + 2)
    written: dict[str, list[Txn]] = {}
    for k in range(files):
        rows = []
        for c in range(3):
            for _ in range(rng.randint(1, 5)):
                when = start + timedelta(seconds=rng.randrange(10 * 86_400))
                amount = rng.randint(1, 20_000) / 100
                rows.append(Txn(f"cust-{k:05d}-{c}", when, amount, rng.randint(0, 300) / 100))
        parquet = k % 2 == 1
        key = f"{PREFIX}/day={k % 7}/part-{k:05d}.{'parquet' if parquet else 'csv'}"
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        if parquet:
            pq.write_table(pa.table({
                "customer_id": [r.customer_id for r in rows],
                "txn_time": pa.array([r.time for r in rows], pa.timestamp("us", tz="UTC")),
                "amount": [r.amount for r in rows], "fee": [r.fee for r in rows]}), path)
        else:
            with open(path, "w", newline="") as f:
                out = csv.writer(f)
                out.writerow(["customer_id", "txn_time", "amount", "fee"])
                for r in rows:
                    local = r.time.astimezone(rng.choice(OFFSETS)).isoformat()
                    out.writerow([r.customer_id, local, f"{r.amount:.2f}", f"{r.fee:.2f}"])
        written[key] = rows
    return written


def shard_by_s3_key(keys: list[str], instances: int) -> list[list[str]]:
    """ShardedByS3Key: every key to exactly one instance, about 1/n of the keys each (here: the sorted keys dealt
    round-robin; the service does not document its order, only that the shards are disjoint and cover all)."""
    ordered = sorted(keys)
    return [ordered[i::instances] for i in range(instances)]


def utc_text(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected_features(rows: list[Txn]) -> dict[str, dict]:
    """customer_id -> the record the pipeline must write (Fractional values as floats, the rest as the store's
    text), for the customers with a transaction in [WINDOW_END - WINDOW_DAYS days, WINDOW_END)."""
    start = WINDOW_END - timedelta(days=WINDOW_DAYS)
    per_customer: dict[str, list[Txn]] = {}
    for r in rows:
        if start <= r.time < WINDOW_END:
            per_customer.setdefault(r.customer_id, []).append(r)
    out = {}
    for customer, txns in per_customer.items():
        total = sum(t.amount for t in txns)
        largest = max(t.amount for t in txns)
        out[customer] = {
            "customer_id": customer,
            "event_time": utc_text(max(t.time for t in txns)),
            "first_txn_time": utc_text(min(t.time for t in txns)),
            "txn_count": str(len(txns)),
            "amount_sum": total,
            "amount_avg": total / len(txns),
            "fee_ratio": sum(t.fee for t in txns) / total,
            "max_amount_band": "small" if largest < 10 else "medium" if largest < 100 else "large",
        }
    return out
