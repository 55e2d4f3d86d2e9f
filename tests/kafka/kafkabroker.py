"""Apache Kafka for the streaming tests, the Kafka example's test and the freshness benchmark: the real broker
(`kafka_2.13` from Maven Central) in KRaft mode, one node that is both broker and controller, on free ports of
127.0.0.1, its storage formatted before it starts; waited for until it answers, stopped afterwards. Also the jars
that give Spark 3.5 its Kafka source. Both classpaths are resolved by Maven into ~/.m2 (downloaded on a fresh
machine), from the two poms beside this file.

    python tests/kafka/kafkabroker.py serve --data-dir DIR    prints the bootstrap servers once ready, stops on SIGTERM
    python tests/kafka/kafkabroker.py spark-jars              prints the Spark Kafka source's jars, comma-separated

Named kafkabroker, not kafka, so that it does not hide kafka-python's package `kafka`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = Path(os.environ.get("WORK", ROOT / ".work"))
BROKER_POM = HERE / "broker-pom.xml"
SPARK_KAFKA_POM = HERE / "spark-kafka-pom.xml"


def java() -> str:
    home = os.environ.get("JAVA_HOME")
    return str(Path(home) / "bin" / "java") if home else "java"


def classpath(pom: Path) -> list[str]:
    """The runtime classpath of `pom`'s dependencies, resolved by Maven once per version of the pom."""
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    out = WORK / "kafka" / f"{pom.stem}-{digest}.classpath"
    if not out.is_file() or not all(Path(p).is_file() for p in out.read_text().split(os.pathsep)):
        out.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mvn", "-B", "-q", "-f", str(pom), "dependency:build-classpath",
                               f"-Dmdep.outputFile={out}"], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=900)
        if done.returncode != 0:
            raise RuntimeError(f"could not resolve {pom.name} with Maven:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return [p for p in out.read_text().strip().split(os.pathsep) if p]


def spark_kafka_jars() -> list[str]:
    """The jars Spark 3.5's `kafka` source needs beyond pyspark's own (spark.jars / --jars)."""
    return classpath(SPARK_KAFKA_POM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, as Kafka's Uuid prints them."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Broker:
    """A running one-node Kafka (KRaft) on 127.0.0.1."""

    process: subprocess.Popen
    bootstrap: str
    data_dir: Path
    log_path: Path

    @classmethod
    def start(cls, data_dir: Path, timeout: float = 120.0) -> "Broker":
        """Formats a new log directory under `data_dir` (what an earlier broker left there is removed) and starts
        the broker; returns once it serves metadata."""
        cp = os.pathsep.join(classpath(BROKER_POM))
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(data_dir / "logs", ignore_errors=True)
        broker_port, controller_port = free_port(), free_port()
        config = data_dir / "server.properties"
        config.write_text("\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{broker_port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={data_dir / 'logs'}",
            "num.partitions=1",
            # One node: every internal topic with one replica, and no wait for members before a group starts.
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
        ]) + "\n")
        log_path = data_dir / "broker.log"
        jvm = [java(), "-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-cp", cp]
        with open(log_path, "ab") as log:
            subprocess.run([*jvm, "kafka.tools.StorageTool", "format", "-t", cluster_id(), "-c", str(config)],
                           stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=True, timeout=120)
            process = subprocess.Popen([*jvm, "kafka.Kafka", str(config)], stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=log, start_new_session=True)
        broker = cls(process, f"127.0.0.1:{broker_port}", data_dir, log_path)
        try:
            broker._wait_ready(broker_port, timeout)
        except BaseException:
            broker.stop()
            raise
        return broker

    def _wait_ready(self, port: int, timeout: float) -> None:
        from kafka import KafkaAdminClient

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Kafka broker exited with {self.process.returncode}; see {self.log_path}")
            if accepts_connections(port):
                try:
                    # Accepting connections is not serving: the metadata of a live broker is.
                    admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
                    try:
                        if admin.describe_cluster()["brokers"]:
                            return
                    finally:
                        admin.close()
                except Exception:  # noqa: BLE001 - not ready yet: any error, until the deadline
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Kafka broker was not ready after {timeout:.0f} s; see {self.log_path}")
            time.sleep(0.5)

    def create_topic(self, name: str, partitions: int = 1) -> None:
        from kafka import KafkaAdminClient
        from kafka.admin import NewTopic

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        finally:
            admin.close()

    def producer(self, **config):
        """A kafka-python producer on this broker: every send acknowledged by the leader, sent at once."""
        from kafka import KafkaProducer

        return KafkaProducer(bootstrap_servers=self.bootstrap, acks=1, linger_ms=0, **config)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def main(argv: list[str]) -> int:
    if argv[:1] == ["spark-jars"]:
        print(",".join(spark_kafka_jars()))
        return 0
    if argv[:1] != ["serve"] or len(argv) != 3 or argv[1] != "--data-dir":
        print(__doc__, file=sys.stderr)
        return 2
    broker = Broker.start(Path(argv[2]))
    # The handler only leaves the wait below; stopping inside it would wait on the process again while the
    # interrupted wait holds Popen's lock: a deadlock, the broker a zombie and this script never ending.
    leave = lambda *_: sys.exit(0)  # noqa: E731
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    try:
        print(broker.bootstrap, flush=True)
        broker.process.wait()
        return 1
    finally:
        broker.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
