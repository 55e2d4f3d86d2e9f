package featurestore.spark

import org.apache.logging.log4j.Level
import org.scalatest.funsuite.AnyFunSuite

/** The JNI bridge itself, on a real JVM (with -Xcheck:jni): constants, error mapping, panics, handles, logs. */
class NativeBridgeSuite extends AnyFunSuite {

  test("the Scala metric names equal featurestore_core::metrics::METRIC_NAMES, in order") {
    assert(Native.metricNames().toSeq == Metrics.NativeNames)
  }

  test("a native panic becomes a FeatureStoreInternalException with its location; the JVM carries on") {
    val (error, logs) = LogCapture.during("featurestore.native") {
      intercept[FeatureStoreInternalException](Native.panicForTest("boom 42"))
    }
    assert(error.getMessage.startsWith("panic in native code: boom 42 (at rust/jni/src/exports.rs:"), error.getMessage)
    // The panic is also in the log4j log (the native log bridge), not on stderr.
    assert(logs.exists(l => l.level == Level.ERROR && l.message.contains("panic: boom 42")), logs)
    // The library still works after the panic.
    assert(Native.metricNames().length == Metrics.NativeNames.size)
    intercept[FeatureStoreInternalException](Native.panicForTest("again"))
  }

  test("an invalid writer config is a FeatureStoreValidationException listing every problem") {
    val error = intercept[FeatureStoreValidationException] {
      Native.describeFeatureGroup(
        """{"options":{"featureGroupName":"g","maxInFlight":"0","retryMaxAttempts":"0","connectTimeoutMs":"x",""" +
          """"bogus":"1","api":"Fast"}}""")
    }
    for (problem <- Seq("maxInFlight: must be", "retryMaxAttempts: must be", "connectTimeoutMs: must be an integer",
        "bogus: unknown option", "api: must be one of")) {
      assert(error.getMessage.contains(problem), error.getMessage)
    }
  }

  test("an unknown feature group is a FeatureStoreServiceException carrying the service's error code") {
    val store = TestEnv.store
    val config = WriteOptions.parse(TestEnv.storeOptions("no-such-group")).writerConfigJson(None)
    val error = intercept[FeatureStoreServiceException](Native.describeFeatureGroup(config))
    assert(error.getMessage.contains("ResourceNotFound"), error.getMessage)
    assert(error.getMessage.contains("DescribeFeatureGroup"), error.getMessage)
  }

  test("the native heap is counted once asked (the memory benchmark's figure): an open writer shows in its peak") {
    val (config, describe) = newWriterSetup("heap")
    Native.startHeapCount()
    Native.heapUse() // the peak starts again here
    val writer = Native.openWriter(config, describe)
    try {
      val Array(counting, inUse, peak) = Native.heapUse()
      assert(counting == 1)
      assert(peak > 0 && peak >= inUse, s"in use $inUse, peak $peak")
    } finally writer.close()
  }

  test("a closed writer refuses calls; close is idempotent; the native handle table forgets it") {
    val (config, describe) = newWriterSetup("bridge")
    val before = Native.openWriterCount()
    val writer = Native.openWriter(config, describe)
    assert(Native.openWriterCount() == before + 1)
    writer.close()
    writer.close()
    assert(Native.openWriterCount() == before)
    val error = intercept[FeatureStoreInternalException](writer.flush(0))
    assert(error.getMessage.contains("closed"))
  }

  test("a stale handle is refused by the native side, not dereferenced") {
    val error = intercept[FeatureStoreInternalException](NativeBridge.flush(Long.MaxValue, 0))
    assert(error.getMessage.contains("writer handle 9223372036854775807 is closed or unknown"), error.getMessage)
  }

  test("a buffer shorter than the length given is refused, never read past its end") {
    val buffer = java.nio.ByteBuffer.allocateDirect(16)
    val error = intercept[FeatureStoreInternalException](NativeBridge.write(Long.MaxValue, buffer, 17, 0))
    assert(error.getMessage == "native bridge misuse: length 17 exceeds the direct buffer's capacity 16",
      error.getMessage)
    val heap = intercept[FeatureStoreException](NativeBridge.write(Long.MaxValue, java.nio.ByteBuffer.allocate(16), 1, 0))
    assert(heap.getMessage.nonEmpty) // a heap buffer has no address: refused as well
  }

  /** A new two-feature group in the test store: a writer's config and the group's DescribeFeatureGroup answer. */
  private def newWriterSetup(prefix: String): (String, String) = {
    val group = TestEnv.newGroupName(prefix)
    TestEnv.store.createFeatureGroup(group, "id", "ts", Seq("id" -> "String", "ts" -> "String"))
    val config = WriteOptions.parse(TestEnv.storeOptions(group)).writerConfigJson(None)
    (config, Native.describeFeatureGroup(config))
  }
}
