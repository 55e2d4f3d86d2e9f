"""The memory benchmark's client process (started by featurebench.memory, pinned, with the client environment):
one Spark session whose heap is fixed and resident from the start (-Xms = -Xmx, AlwaysPreTouch), so that what
the JVM process gains in resident memory during a write is off the heap: the native library, Arrow's buffers,
code. Writes rows generated row by row (featurebench.dataset.spark_rows, nothing cached) in SPARK_CORES
partitions, once per size, and reports each write as a JSON line on --ctl-out:

- the native library's heap: its peak during the write and what it still holds after (counted by the library
  itself once `Native.startHeapCount` was called, before any writer opened; ours only);
- the JVM side's Arrow memory: the peak of Spark's Arrow allocator since the session started, and the direct
  buffers in use after the write (the Arrow IPC buffers live there);
- the process's resident memory (RSS of the JVM, sampled every 100 ms): before, at its peak, after.
"""

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

from . import clients, dataset, procfs

HEAP = "2g"
WARM_ROWS_PER_PARTITION = 200_000
SAMPLE_S = 0.1


def _send(out, message: dict) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def vm_rss_bytes(pid: int) -> int:
    rss, _ = procfs.memory_bytes(pid)
    if rss == 0:
        raise RuntimeError(f"no resident memory read for process {pid}")
    return rss


class JvmMemory:
    """What the benchmark reads from the session's JVM through py4j."""

    def __init__(self, spark, ours: bool):
        jvm = spark._jvm
        self._jvm, self.ours = jvm, ours
        self.pid = int(jvm.java.lang.ProcessHandle.current().pid())
        if ours:
            jvm.featurestore.spark.Native.startHeapCount()

    def native_heap(self) -> tuple[int, int]:
        """(bytes in use, peak since the last read); (0, 0) for a client that does not load our library."""
        if not self.ours:
            return 0, 0
        counting, in_use, peak = list(self._jvm.featurestore.spark.Native.heapUse())
        if not counting:
            raise RuntimeError("the native heap is not being counted")
        return int(in_use), int(peak)

    def arrow_peak(self) -> int:
        return int(self._jvm.org.apache.spark.sql.util.ArrowUtils.rootAllocator().getPeakMemoryAllocation())

    def direct_buffers(self) -> int:
        pool_class = self._jvm.java.lang.Class.forName("java.lang.management.BufferPoolMXBean")
        for pool in self._jvm.java.lang.management.ManagementFactory.getPlatformMXBeans(pool_class):
            if pool.getName() == "direct":
                return int(pool.getMemoryUsed())
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", required=True, choices=["ours-batch", "spark-noop"])
    parser.add_argument("--group", required=True)
    parser.add_argument("--arn", required=True)
    parser.add_argument("--jar", required=True, type=Path)
    parser.add_argument("--sizes", required=True, help="rows per partition of each write, e.g. 1000000,10000000")
    parser.add_argument("--warm-rows", type=int, default=WARM_ROWS_PER_PARTITION, help="rows per partition")
    parser.add_argument("--ctl-in", required=True, type=int)
    parser.add_argument("--ctl-out", required=True, type=int)
    args = parser.parse_args()
    out = os.fdopen(args.ctl_out, "w")
    client = clients.BY_NAME[args.client]
    target = clients.Target(args.group, args.arn, 1, 1)
    spark = None
    try:
        spark = clients.spark_session([args.jar], memory=HEAP,
                                      java_options=f"-Xms{HEAP} -XX:+AlwaysPreTouch")  # fmt: skip
        memory = JvmMemory(spark, ours=not client.peer and client.sends)
        write = clients.writer(client)
        write(dataset.spark_rows(spark, args.warm_rows, clients.SPARK_CORES), target)
        _send(out, {"event": "warm", "rows_per_partition": args.warm_rows})
        for rows in (int(s) for s in args.sizes.split(",")):
            df = dataset.spark_rows(spark, rows, clients.SPARK_CORES)
            memory.native_heap()  # the peak starts again here
            rss_before = vm_rss_bytes(memory.pid)
            start = time.perf_counter()
            with procfs.MemorySampler(memory.pid, SAMPLE_S) as rss:
                write(df, target)
            wall = time.perf_counter() - start
            native_in_use, native_peak = memory.native_heap()
            _send(out, {"event": "write", "rows_per_partition": rows, "partitions": clients.SPARK_CORES,
                        "wall_s": wall, "native_peak_bytes": native_peak, "native_after_bytes": native_in_use,
                        "arrow_peak_bytes": memory.arrow_peak(), "direct_bytes": memory.direct_buffers(),
                        "rss_before_bytes": rss_before, "rss_peak_bytes": rss.peak_rss_bytes,
                        "rss_after_bytes": vm_rss_bytes(memory.pid)})  # fmt: skip
        _send(out, {"event": "done"})
    except Exception:
        _send(out, {"event": "failed", "error": traceback.format_exc()})
        sys.exit(1)
    finally:
        if spark is not None:
            spark.stop()


if __name__ == "__main__":
    main()
