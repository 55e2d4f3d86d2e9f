"""The data every client writes: N rows x 20 features (an id, an event time, 9 Integral, 9 Fractional).

Row i's values depend only on i, so the first N rows are the same whatever N a run uses, and a sample of the
store's records can be checked against `expected_row(i)`. Written once per N as Parquet under the work dir;
each client reads it and caches it (Spark) or loads it (pandas) before timing.
"""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

RECORD_ID = "id"
EVENT_TIME = "event_time"
INTEGRAL = [f"i{k}" for k in range(1, 10)]
FRACTIONAL = [f"f{k}" for k in range(1, 10)]
COLUMNS = [RECORD_ID, EVENT_TIME, *INTEGRAL, *FRACTIONAL]

_EPOCH = np.datetime64("2026-01-01T00:00:00", "s")
# Per-feature multipliers and offsets: distinct, odd, and small enough that i * m stays far below 2**63.
_INT_MUL = [1_000_003, 999_983, 7_919, 104_729, 1_299_709, 15_485_863, 32_452_843, 49_979_687, 67_867_967]
_FRAC_MUL = [2_654_435, 40_503, 2_246_822, 3_266_489, 668_265, 374_761, 1_103_515, 12_345, 214_013]


def feature_definitions() -> list[dict]:
    """The feature group's definitions, as CreateFeatureGroup takes them."""
    return (
        [{"FeatureName": RECORD_ID, "FeatureType": "Integral"}, {"FeatureName": EVENT_TIME, "FeatureType": "String"}]
        + [{"FeatureName": name, "FeatureType": "Integral"} for name in INTEGRAL]
        + [{"FeatureName": name, "FeatureType": "Fractional"} for name in FRACTIONAL]
    )


def _columns(ids: np.ndarray) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {RECORD_ID: ids}
    # ISO 8601 in UTC with a Z: a String event time format the service accepts, passed as is by every client.
    cols[EVENT_TIME] = np.char.add(np.datetime_as_string(_EPOCH + (ids % 86_400), unit="s"), "Z")
    for k, name in enumerate(INTEGRAL):
        cols[name] = (ids * _INT_MUL[k] + k) % 1_000_000_007
    for k, name in enumerate(FRACTIONAL):
        # Thousandths in [1, 1001): plain decimal text in Python, Java (Double.toString) and Rust alike, never
        # the exponent form Java uses below 1e-3.
        cols[name] = ((ids * _FRAC_MUL[k] + k) % 1_000_000) / 1000.0 + 1.0
    return cols


def expected_row(i: int) -> dict[str, object]:
    """Row i's values (record identifier i)."""
    cols = _columns(np.array([i], dtype=np.int64))
    return {name: values[0].item() for name, values in cols.items()}


def parquet_path(data_dir: Path, rows: int) -> Path:
    """The Parquet file holding the first `rows` rows, written on first use."""
    path = data_dir / f"rows-{rows}.parquet"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        cols = _columns(np.arange(rows, dtype=np.int64))
        table = pa.table({name: cols[name] for name in COLUMNS})
        partial = path.with_suffix(".partial")
        pq.write_table(table, partial)
        partial.rename(path)
    return path


def spark_rows(spark, rows_per_partition: int, partitions: int):
    """The first `rows_per_partition * partitions` rows as a DataFrame generated row by row (nothing cached or
    read from disk): `_columns` in Spark SQL expressions, for runs too large to keep in memory."""
    from pyspark.sql import functions as F

    ids = F.col("id")
    epoch = int(_EPOCH.astype("datetime64[s]").astype(np.int64))
    columns = [
        ids.alias(RECORD_ID),
        F.concat(F.date_format(F.timestamp_seconds(F.lit(epoch) + ids % 86_400), "yyyy-MM-dd'T'HH:mm:ss"),
                 F.lit("Z")).alias(EVENT_TIME),  # fmt: skip
        *[((ids * _INT_MUL[k] + k) % 1_000_000_007).alias(name) for k, name in enumerate(INTEGRAL)],
        *[(((ids * _FRAC_MUL[k] + k) % 1_000_000) / 1000.0 + 1.0).alias(name) for k, name in enumerate(FRACTIONAL)],
    ]
    return spark.range(0, rows_per_partition * partitions, numPartitions=partitions).select(*columns)
