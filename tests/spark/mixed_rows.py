"""The mixed-type rows of the end-to-end ingestions, and the strings the store must hold for each of them.

Row `i` is a pure function of `i`. Spark builds the rows from `spark.range` (so a million of them cost nothing to
ship); the expected strings are computed here again, independently, in plain Python: integers with `str`,
doubles with `repr` (Python's shortest round-trip text; every double here lies in [1e-3, 1e6), where that text
has no exponent), decimals digit by digit, and timestamps as UTC text built from epoch microseconds with
`datetime` — whatever the Spark session's time zone is.

Types covered: long -> Integral, double -> Fractional, decimal(12,2) -> Fractional, string -> String (non-ASCII,
quotes, backslashes), timestamp -> String event time (milliseconds) and -> String (microseconds, some before
1970), array<double> -> a List feature (which needs an InMemory online store); nulls -> features left out.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

RECORD_IDENTIFIER = "rid"
EVENT_TIME = "event_time"

# Feature definitions as CreateFeatureGroup takes them (the List feature needs StorageType InMemory).
FEATURE_DEFINITIONS = [
    {"FeatureName": "rid", "FeatureType": "String"},
    {"FeatureName": "n_long", "FeatureType": "Integral"},
    {"FeatureName": "score", "FeatureType": "Fractional"},
    {"FeatureName": "amount", "FeatureType": "Fractional"},
    {"FeatureName": "name", "FeatureType": "String"},
    {"FeatureName": "event_time", "FeatureType": "String"},
    {"FeatureName": "seen_at", "FeatureType": "String"},
    {"FeatureName": "embedding", "FeatureType": "Fractional", "CollectionType": "List"},
]
STORAGE_TYPE = "InMemory"

EVENT_TIME_BASE_US = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z
EVENT_TIME_STEP_US = 1_234_567  # sub-millisecond digits that the event time must truncate
SEEN_AT_BASE_US = -100_000_000_000_000  # 1966-10-31: the first rows lie before the epoch
SEEN_AT_STEP_US = 987_654_321
NAME_PREFIX = 'ñame "'
NAME_MIDDLE = '" \\ 日本 '
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def record_id(i: int) -> str:
    return f"r-{i}"


def record_index(record_identifier: str) -> int:
    return int(record_identifier.removeprefix("r-"))


def n_long(i: int) -> int | None:
    return None if i % 10 == 3 else i * 7919 - 3_000_000_000


def score(i: int) -> float:
    return (i - 500_000) / 7


def amount_unscaled(i: int) -> int:
    """The decimal(12,2) amount times 100."""
    return (i * 37) % 10_000_000 - 5_000_000


def name(i: int) -> str:
    return f"{NAME_PREFIX}{i}{NAME_MIDDLE}" + "x" * (i % 7)


def event_time_us(i: int) -> int:
    return EVENT_TIME_BASE_US + i * EVENT_TIME_STEP_US


def seen_at_us(i: int) -> int | None:
    return None if i % 10 == 7 else SEEN_AT_BASE_US + i * SEEN_AT_STEP_US


def embedding(i: int) -> list[float]:
    return [i / 4, (500 - i % 1000) / 8, i * 0.001 + 0.5][: 1 + i % 3]


# --- the expected text ------------------------------------------------------------------------------------


def decimal_text(unscaled: int, scale: int) -> str:
    sign = "-" if unscaled < 0 else ""
    digits = str(abs(unscaled)).rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


def iso_utc(micros: int, fraction_digits: int) -> str:
    """`yyyy-MM-ddTHH:mm:ss.f…Z` in UTC, the fraction truncated (floored) to `fraction_digits`."""
    instant = EPOCH + timedelta(microseconds=micros)
    fraction = f"{instant.microsecond:06d}"[:fraction_digits]
    return instant.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction}Z"


def fractional_text(value: float) -> str:
    assert 1e-3 <= abs(value) < 1e6 or value == 0.0, value  # where repr has no exponent
    return repr(value)


def expected_record(i: int) -> dict[str, str | list[str]]:
    """Feature name -> the string (or list of strings) the online store must return for row `i`."""
    record: dict[str, str | list[str]] = {
        "rid": record_id(i),
        "score": fractional_text(score(i)),
        "amount": decimal_text(amount_unscaled(i), 2),
        "name": name(i),
        "event_time": iso_utc(event_time_us(i), 3),
        "embedding": [fractional_text(v) for v in embedding(i)],
    }
    long_value = n_long(i)
    if long_value is not None:
        record["n_long"] = str(long_value)
    seen = seen_at_us(i)
    if seen is not None:
        record["seen_at"] = iso_utc(seen, 6)
    return record


# --- the Spark side ----------------------------------------------------------------------------------------


def mixed_dataframe(spark, rows: int, partitions: int, start: int = 0):
    """Rows `start .. start+rows-1` as a DataFrame with the feature group's columns, built on the executors."""
    from pyspark.sql import functions as F

    i = F.col("id")
    as_double = i.cast("double")
    return spark.range(start, start + rows, 1, partitions).select(
        F.concat(F.lit("r-"), i.cast("string")).alias("rid"),
        F.when(i % 10 == 3, F.lit(None)).otherwise(i * 7919 - 3_000_000_000).cast("long").alias("n_long"),
        ((as_double - F.lit(500_000.0)) / F.lit(7.0)).alias("score"),
        # unscaled * 0.01 as a decimal product is exact; the literal is decimal(2,2), not a double.
        (((i * 37) % 10_000_000 - 5_000_000).cast("decimal(14,0)") * F.expr("0.01BD"))
        .cast("decimal(12,2)")
        .alias("amount"),
        F.concat(F.lit(NAME_PREFIX), i.cast("string"), F.lit(NAME_MIDDLE), F.expr("repeat('x', cast(id % 7 as int))"))
        .alias("name"),
        F.expr(f"timestamp_micros({EVENT_TIME_BASE_US} + id * {EVENT_TIME_STEP_US})").alias("event_time"),
        F.when(i % 10 == 7, F.lit(None))
        .otherwise(F.expr(f"timestamp_micros({SEEN_AT_BASE_US} + id * {SEEN_AT_STEP_US})"))
        .alias("seen_at"),
        F.expr("slice(array(cast(id as double) / 4.0D, cast(500 - id % 1000 as double) / 8.0D, "
               "cast(id as double) * 0.001D + 0.5D), 1, cast(1 + id % 3 as int))").alias("embedding"),
    )
