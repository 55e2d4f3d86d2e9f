"""A local Spark standalone cluster from the pyspark distribution: one master and N workers, each its own JVM
started with `spark-class`, bound to 127.0.0.1, with work and log directories under one temp directory.
Executors are JVMs the workers launch for an application; their logs land in `<work>/<app id>/<executor id>/`.

`stop()` ends every process group it started (workers take their executors with them), also after a failure.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

MASTER_URL = re.compile(r"Starting Spark master at (spark://127\.0\.0\.1:\d+)")
WORKER_REGISTERED = "Successfully registered with master"


def spark_home() -> Path:
    """The Spark inside the installed pyspark package."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def wait_for_log(path: Path, pattern: re.Pattern | str, process: subprocess.Popen, timeout: float) -> re.Match | str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        found = pattern.search(text) if isinstance(pattern, re.Pattern) else (pattern if pattern in text else None)
        if found:
            return found
        if process.poll() is not None:
            raise RuntimeError(f"{path.name}: the process exited with {process.returncode}:\n{text[-3000:]}")
        time.sleep(0.2)
    raise RuntimeError(f"{path.name}: nothing matched {pattern} within {timeout} s")


def live_children(pid: int) -> list[int]:
    """Child processes of `pid` that are not zombies. (spark-class leaves one zombie shell under each daemon it
    exec'ed: the process substitution that built the command, which the JVM never reaps.)"""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue  # the process ended meanwhile
        if int(ppid) == pid and state != "Z":
            children.append(int(stat.parent.name))
    return children


class StandaloneCluster:
    def __init__(self, base_dir: Path, env: dict[str, str], workers: int = 2, cores_per_worker: int = 1,
                 memory_per_worker: str = "1g", worker_hosts: list[str] | None = None):
        """`worker_hosts`: the host name each worker (and its executors) goes by, all loopback; by default
        127.0.0.1. Spark runs a speculative copy only on another host than the original's: naming the workers
        "127.0.0.1" and "localhost" gives it two."""
        self.base_dir = base_dir
        self.work_dir = base_dir / "work"
        self.log_dir = base_dir / "logs"
        self.conf_dir = base_dir / "conf"  # empty: Spark's defaults (INFO logs to the executors' stderr)
        self.workers = workers
        self.cores_per_worker = cores_per_worker
        self.memory_per_worker = memory_per_worker
        self.worker_hosts = worker_hosts or ["127.0.0.1"] * workers
        self.home = spark_home()
        self.env = {
            **os.environ,
            **env,
            "SPARK_HOME": str(self.home),
            "SPARK_CONF_DIR": str(self.conf_dir),
            "SPARK_LOG_DIR": str(self.log_dir),
            "SPARK_WORKER_DIR": str(self.work_dir),
            "SPARK_LOCAL_DIRS": str(base_dir / "local"),
            "SPARK_LOCAL_IP": "127.0.0.1",
        }
        self.processes: list[subprocess.Popen] = []
        self.worker_processes: list[subprocess.Popen] = []
        self.master_url = ""

    def _spark_class(self, name: str, log: Path, *args: str) -> subprocess.Popen:
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(self.home / "bin" / "spark-class"), *args], env=self.env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)  # its own process group, to stop it whole
        self.processes.append(process)
        return process

    def start(self) -> "StandaloneCluster":
        for directory in (self.work_dir, self.log_dir, self.conf_dir, self.base_dir / "local"):
            directory.mkdir(parents=True, exist_ok=True)
        try:
            master_log = self.log_dir / "master.log"
            master = self._spark_class("master", master_log, "org.apache.spark.deploy.master.Master",
                                       "--host", "127.0.0.1", "--port", "0", "--webui-port", "0")
            self.master_url = wait_for_log(master_log, MASTER_URL, master, timeout=60).group(1)
            for n in range(self.workers):
                log = self.log_dir / f"worker-{n}.log"
                worker = self._spark_class(
                    f"worker-{n}", log, "org.apache.spark.deploy.worker.Worker",
                    "--host", self.worker_hosts[n], "--port", "0", "--webui-port", "0",
                    "--cores", str(self.cores_per_worker), "--memory", self.memory_per_worker,
                    "--work-dir", str(self.work_dir), self.master_url)
                self.worker_processes.append(worker)
            for n, worker in enumerate(self.worker_processes):
                wait_for_log(self.log_dir / f"worker-{n}.log", WORKER_REGISTERED, worker, timeout=60)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM to each process group (workers first: their executors are in their groups), then SIGKILL."""
        for process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 20
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)  # whatever is left in the group (an executor)
            except ProcessLookupError:
                pass
            if process.poll() is None:
                process.wait()

    def wait_for_executors_to_exit(self, timeout: float = 60) -> None:
        """Waits until no worker has a live child process left: the application's executors ended, were reaped
        (their CPU time is now in the worker's children's time) and their logs were copied out whole."""
        deadline = time.monotonic() + timeout
        while any(live_children(w.pid) for w in self.worker_processes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"executors still running {timeout} s after their application ended")
            time.sleep(0.2)

    def executor_pids(self) -> list[int]:
        """The executor JVMs running now (each a child of its worker)."""
        return [pid for worker in self.worker_processes for pid in live_children(worker.pid)]

    def executor_logs(self) -> dict[str, str]:
        """`<app id>/<executor id>` -> the executor's stderr, for every executor the workers launched."""
        return {f"{path.parent.parent.name}/{path.parent.name}": path.read_text(errors="replace")
                for path in sorted(self.work_dir.glob("app-*/*/stderr"))}

    def spark_submit(self, jar: Path, script: str, *args: str, conf: tuple[str, ...] = ()) -> list[str]:
        """The spark-submit command that runs `script` with `args` on this cluster, our `jar` passed with --jars
        only, the driver on 127.0.0.1 without its UI, and more `conf` settings ("key=value")."""
        return [
            str(self.home / "bin" / "spark-submit"), *self.submit_args(),
            "--jars", str(jar),
            "--conf", "spark.driver.host=127.0.0.1",
            "--conf", "spark.driver.bindAddress=127.0.0.1",
            "--conf", "spark.ui.enabled=false",
            *[arg for c in conf for arg in ("--conf", c)],
            script, *args,
        ]  # fmt: skip

    def submit_env(self, env: dict[str, str]) -> dict[str, str]:
        """This process's environment with `env` and this cluster's Spark home: what spark-submit runs with."""
        return {**os.environ, **env, "SPARK_HOME": str(self.home)}

    def submit_args(self) -> list[str]:
        """spark-submit arguments that run an application on this cluster with every executor registered."""
        cores = self.workers * self.cores_per_worker
        return [
            "--master", self.master_url,
            "--conf", f"spark.cores.max={cores}",
            "--conf", "spark.executor.cores=1",
            "--conf", "spark.executor.memory=768m",
            # Start only once every executor has registered, so that each one gets tasks.
            "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
            "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=120s",
        ]
