"""Structured Streaming from a real Kafka broker (tests/kafka/kafkabroker.py) into the real local store, through
examples/streaming/kafka_clicks.py run with spark-submit: the pass-through pipeline (each event a record), and
the windowed features stopped mid-stream — by a clean stop, and by kill -9 of the driver — then restarted from
the same checkpoint, with every user's latest window read back with GetRecord and the epochs' counts added up
over both runs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cluster import live_children, spark_home
from localstore import ROOT, LocalStore, spark_env
from readback import get_records, list_record_ids, summary_lines

sys.path.insert(0, str(ROOT / "tests" / "kafka"))
sys.path.insert(0, str(ROOT / "examples"))
import kafkabroker  # noqa: E402
from feature_groups import FEATURE_GROUPS  # noqa: E402

EXAMPLE = ROOT / "examples" / "streaming" / "kafka_clicks.py"
EPOCH = re.compile(r"featurestore epoch (?P<epoch>\d+) of query (?P<query>\S+): write to '(?P<group>[^']+)': "
                   r"(?P<written>\d+) records written, (?P<failed>\d+) failed")
PAGES = ["/", "/search", "/product", "/cart", "/checkout"]
USERS = 5
BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)
STEP = timedelta(seconds=7)  # between two events; 180 events span 21 minutes
WINDOW, SLIDE = timedelta(minutes=10), timedelta(minutes=5)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    broker = kafkabroker.Broker.start(tmp_path_factory.mktemp("kafka"))
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def kafka_store(tmp_path_factory):
    """A store of its own: the example writes to fixed feature group names."""
    local = LocalStore.start(tmp_path_factory.mktemp("kafka-store") / "data")
    try:
        subprocess.run([sys.executable, str(ROOT / "examples" / "feature_groups.py"), "--endpoint", local.endpoint,
                        "clicks"], env={**os.environ, **spark_env(local.endpoint)}, check=True,
                       capture_output=True, timeout=120)
        yield local
    finally:
        local.stop()


def event(n: int) -> dict:
    ts = BASE + n * STEP
    return {"click_id": f"k-{n:06d}", "user_id": f"u-{n % USERS}", "page": PAGES[(n // USERS) % len(PAGES)],
            # Quarter seconds: their sums are exact in binary, whatever order Spark adds them in.
            "dwell_seconds": 0.25 * (n % 40), "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.000Z")}


def produce(broker: kafkabroker.Broker, topic: str, events: list[dict], pause: float = 0.0) -> None:
    producer = broker.producer()
    try:
        for e in events:
            producer.send(topic, json.dumps(e).encode())
            if pause:
                time.sleep(pause)
        producer.flush()
    finally:
        producer.close()


def utc(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def expected_windows(events: list[dict]) -> dict[tuple[str, datetime], dict]:
    """(user, window start) -> the features of that sliding window, as the store must hold them."""
    windows: dict[tuple[str, datetime], dict] = {}
    for e in events:
        ts = datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=timezone.utc)
        last_start = BASE + ((ts - BASE) // SLIDE) * SLIDE
        start = last_start
        while start > ts - WINDOW:
            w = windows.setdefault((e["user_id"], start), {"clicks": 0, "dwell": 0.0, "checkout": 0})
            w["clicks"] += 1
            w["dwell"] += e["dwell_seconds"]
            w["checkout"] += e["page"] == "/checkout"
            start -= SLIDE
    return windows


def latest_per_user(windows: dict[tuple[str, datetime], dict]) -> dict[str, dict[str, str]]:
    """Each user's record online: the window with the latest end (its event time)."""
    latest: dict[str, dict[str, str]] = {}
    for (user, start), w in sorted(windows.items(), key=lambda kv: kv[0][1]):
        latest[user] = {"user_id": user, "window_end": utc(start + WINDOW),
                        "window_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "clicks": str(w["clicks"]),
                        "dwell_seconds_sum": repr(w["dwell"]), "checkout_clicks": str(w["checkout"])}
    return latest


class Driver:
    """One spark-submit of the example (a driver JVM, and the Python process it starts), output in files."""

    def __init__(self, store: LocalStore, jars: str, out: Path, *args: str):
        self.out, self.err = out.with_suffix(".out"), out.with_suffix(".err")
        command = [str(spark_home() / "bin" / "spark-submit"), "--master", "local[2]", "--jars", jars,
                   "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
                   # A stateful query keeps one state store per shuffle partition: 2 on 2 cores, not 200.
                   "--conf", "spark.sql.shuffle.partitions=2",
                   str(EXAMPLE), "--endpoint", store.endpoint, *args]
        with open(self.out, "wb") as stdout, open(self.err, "wb") as stderr:
            self.process = subprocess.Popen(command, env={**os.environ, **spark_env(store.endpoint),
                                                          "SPARK_HOME": str(spark_home())},
                                            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, cwd=ROOT,
                                            start_new_session=True)

    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    def epochs(self) -> list[re.Match]:
        return [m for m in map(EPOCH.search, self.stdout().splitlines()) if m]

    def wait_for(self, condition, what: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"the driver exited with {self.process.returncode} before {what}:\n"
                                     f"{self.stdout()[-3000:]}\n{self.err.read_text(errors='replace')[-6000:]}")
            assert time.monotonic() < deadline, f"no {what} within {timeout} s:\n{self.stdout()[-3000:]}"
            time.sleep(0.5)

    def stop(self) -> None:
        """SIGTERM to the example's Python process: it stops the query and prints the run's totals."""
        [python] = [pid for pid in live_children(self.process.pid)
                    if "kafka_clicks.py" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")]
        os.kill(python, signal.SIGTERM)
        assert self.process.wait(timeout=120) == 0, self.err.read_text(errors="replace")[-6000:]
        assert "kafka_clicks: query" in self.stdout() and "stopped;" in self.stdout(), self.stdout()[-3000:]

    def kill(self) -> None:
        """kill -9 of the driver JVM and its Python process, mid-batch or not."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def test_pass_through_example_writes_each_kafka_event_as_a_record(broker, kafka_store, jar, tmp_path):
    topic = "clicks-events"
    broker.create_topic(topic)
    events = [event(n) for n in range(400)]
    events.append({"click_id": "k-bad", "user_id": "u-0", "page": "/", "dwell_seconds": float("nan"),
                   "ts": events[-1]["ts"]})
    produce(broker, topic, events)
    jars = ",".join([str(jar), *kafkabroker.spark_kafka_jars()])

    def run(name: str) -> Driver:
        driver = Driver(kafka_store, jars, tmp_path / name, "--bootstrap-servers", broker.bootstrap, "--topic", topic,
                        "--checkpoint", str(tmp_path / "checkpoint"), "--features", "events", "--available-now",
                        "--max-offsets-per-trigger", "150", "--failed-records-path", str(tmp_path / "failed"),
                        "--max-failed-records", "1")
        assert driver.process.wait(timeout=300) == 0, driver.err.read_text(errors="replace")[-6000:]
        return driver

    first = run("first")
    # 401 events in micro-batches of at most 150; the NaN dwell time fails its row, as the connector's rules say.
    epochs = first.epochs()
    assert [(m["epoch"], m["written"], m["failed"]) for m in epochs] == [("0", "150", "0"), ("1", "150", "0"),
                                                                         ("2", "100", "1")], first.stdout()
    [line] = summary_lines(first.stdout())
    assert (line["group"], line["written"], line["failed"]) == ("clicks", "400", "1"), first.stdout()

    # Another driver (another application) from the same checkpoint: only the new events, and a failed-records
    # file of its own next to the first run's.
    more = [event(n) for n in range(400, 500)]
    produce(broker, topic, [*more, {"click_id": "k-bad-2", "user_id": "u-1", "page": "/", "dwell_seconds": float("inf"),
                                    "ts": more[-1]["ts"]}])
    second = run("second")
    assert [(m["epoch"], m["written"], m["failed"]) for m in second.epochs()] == [("3", "100", "1")], second.stdout()
    failed = {f.name: f.read_text() for f in (tmp_path / "failed").glob("*.jsonl")}
    assert len(failed) == 2 and sorted('"k-bad"' in t for t in failed.values()) == [False, True], failed
    assert sorted('"k-bad-2"' in t for t in failed.values()) == [False, True], failed
    events = events[:400] + more
    runtime = kafka_store.client("sagemaker-featurestore-runtime")
    assert sorted(list_record_ids(runtime, "clicks")) == sorted(e["click_id"] for e in events)
    sample = events[::37]
    stored = get_records(runtime, "clicks", [e["click_id"] for e in sample])
    for e in sample:
        assert stored[e["click_id"]] == {"click_id": e["click_id"], "event_time": e["ts"], "user_id": e["user_id"],
                                         "page": e["page"], "dwell_seconds": repr(e["dwell_seconds"])}, e


@pytest.mark.parametrize("how", ["stop", "kill -9"])
def test_windowed_features_survive_a_restart_from_the_checkpoint(broker, kafka_store, jar, tmp_path, how):
    topic = group = "click_windows_" + how.replace(" ", "").replace("-", "")
    broker.create_topic(topic)
    # A group of each case's own, defined as the example's click_windows.
    definition = FEATURE_GROUPS["click_windows"]
    kafka_store.create_feature_group(group, definition["RecordIdentifierFeatureName"],
                                     definition["EventTimeFeatureName"], definition["FeatureDefinitions"])
    runtime = kafka_store.client("sagemaker-featurestore-runtime")
    jars = ",".join([str(jar), *kafkabroker.spark_kafka_jars()])
    args = ("--bootstrap-servers", broker.bootstrap, "--topic", topic, "--checkpoint", str(tmp_path / "checkpoint"),
            "--feature-group", group, "--trigger-seconds", "1")
    events = [event(n) for n in range(180)]

    produce(broker, topic, events[:60])
    first = Driver(kafka_store, jars, tmp_path / "first", *args)
    first.wait_for(lambda: any(int(m["written"]) for m in first.epochs()), "epoch with windows written")
    # Mid-stream: events keep coming while the query runs, and it is stopped while they do.
    produce(broker, topic, events[60:120], pause=0.02)
    first.stop() if how == "stop" else first.kill()

    produce(broker, topic, events[120:])
    # One event an hour later moves the watermark past every window of the others, so all of them close.
    produce(broker, topic, [{**event(180), "user_id": "u-late", "ts": utc(BASE + 180 * STEP + timedelta(hours=1))}])
    second = Driver(kafka_store, jars, tmp_path / "second", *args)
    try:
        windows = expected_windows(events)
        expected = latest_per_user(windows)

        def all_online() -> bool:
            return get_records(runtime, group, sorted(expected)) == expected

        second.wait_for(all_online, "latest window of every user online")
        # Each epoch counted once: an epoch the first run did not finish is written again by the second, and its
        # second count is the one that stands. Together they are every window, each written once.
        def epoch_counts() -> dict[int, int]:
            return {int(m["epoch"]): int(m["written"]) for m in first.epochs() + second.epochs()}

        second.wait_for(lambda: sum(epoch_counts().values()) >= len(windows), "epochs adding up to every window")
        assert sum(epoch_counts().values()) == len(windows), (epoch_counts(), len(windows))
        matches = first.epochs() + second.epochs()
        assert {m["query"] for m in matches} == {matches[0]["query"]}, "a restart from a checkpoint is the same query"
        assert all(m["failed"] == "0" and m["group"] == group for m in matches)
        assert second.epochs()[0]["epoch"] != "0", "the second run resumed from the checkpoint"
    finally:
        if second.process.poll() is None:
            second.stop()
