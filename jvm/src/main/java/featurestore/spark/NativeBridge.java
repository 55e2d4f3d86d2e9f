package featurestore.spark;

import java.nio.ByteBuffer;

/**
 * The JNI surface of libfeaturestore_jni, one declaration per {@code Java_featurestore_spark_NativeBridge_*}
 * export in rust/jni/src/exports.rs. Call it through {@link Native}, which loads the library first and drains
 * the native log afterwards.
 *
 * <p>Errors arrive as {@link FeatureStoreValidationException}, {@link FeatureStoreServiceException} or
 * {@link FeatureStoreInternalException} (a caught panic included).
 */
final class NativeBridge {
  private NativeBridge() {}

  /** Called by {@link NativeLibrary} right after loading. */
  static void afterLoad() {
    setLogLevel(NativeLog.levelFor(NativeLog.ROOT));
  }

  /** DescribeFeatureGroup, with the writer config's client settings; the service's JSON verbatim. */
  static native String describeFeatureGroup(String writerConfigJson);

  /**
   * Checks a write's options (a JSON object, option name to the text given) all at once; returns JSON with the
   * typed values, every problem and the options as logs show them.
   */
  static native String checkOptions(String optionsJson);

  /**
   * Checks that the group can take the write (status, target stores) and that a schema-only Arrow IPC stream
   * ({@code length} bytes of a direct buffer) is its input.
   */
  static native void checkWrite(String writerConfigJson, String describeJson, ByteBuffer schemaIpc, int length);

  /**
   * The feature definitions of a schema-only Arrow IPC stream's columns ({@code requestedJson}: the event time
   * column and collection types asked for), as the service's {@code FeatureDefinitions} JSON.
   */
  static native String featureDefinitions(ByteBuffer schemaIpc, int length, String requestedJson);

  /**
   * CreateFeatureGroup from a schema-only Arrow IPC stream's columns ({@code specJson}, see
   * {@code featurestore_core::feature_groups::CreateSpec}) with the writer config's client settings, then waits
   * until the group is Created; its DescribeFeatureGroup JSON.
   */
  static native String createFeatureGroup(String writerConfigJson, String specJson, ByteBuffer schemaIpc, int length);

  /**
   * UpdateFeatureGroup with the schema's columns that are not features of the writer config's group
   * ({@code requestedJson}: the collection types asked for), waiting at most {@code timeoutSeconds}; the group's
   * DescribeFeatureGroup JSON.
   */
  static native String addMissingFeatures(String writerConfigJson, ByteBuffer schemaIpc, int length,
      String requestedJson, long timeoutSeconds);

  /** Opens a writer; the returned handle is owned by one {@link NativeWriter}. */
  static native long openWriter(String writerConfigJson, String describeJson);

  /**
   * One complete Arrow IPC stream ({@code length} bytes at the start of a direct buffer), waiting at most
   * {@code waitMs} (negative: no limit) for room in the writer's queue; whether every row is queued.
   */
  static native boolean write(long handle, ByteBuffer ipcStream, int length, long waitMs);

  /** Queues the rows still waiting for room, waiting at most {@code waitMs}; whether none is left. */
  static native boolean sendPending(long handle, long waitMs);

  /** Waits at most {@code waitMs} for every accepted row to be settled; whether they are. */
  static native boolean flush(long handle, long waitMs);

  static native void abort(long handle);

  /** The writer's counters, in {@code featurestore_core::metrics::METRIC_NAMES} order. */
  static native long[] metrics(long handle);

  /** Failed rows as JSON lines, or null when there are none (or {@code render} is false: dropped unrendered). */
  static native byte[] takeFailed(long handle, boolean render);

  static native void close(long handle);

  /** offlineWrite=direct: the URI the group's offline store files go under (DescribeFeatureGroup's JSON). */
  static native String offlineOutputUri(String writerConfigJson, String describeJson);

  /** offlineWrite=direct: the rows an offline encoder returns, as a schema-only Arrow IPC stream. */
  static native byte[] offlineSchema(String describeJson);

  /** Opens a task's offline encoder; the returned handle is owned by one {@link NativeOfflineEncoder}. */
  static native long openOfflineEncoder(String writerConfigJson, String describeJson);

  /** Validates one Arrow IPC stream; the passing rows' offline rows as an Arrow IPC stream. */
  static native byte[] encodeOffline(long handle, ByteBuffer ipcStream, int length, long nowMillis);

  static native long[] offlineMetrics(long handle);

  static native byte[] takeFailedOffline(long handle, boolean render);

  static native void closeOfflineEncoder(long handle);

  /** This executor's share of a write's records-per-second ceiling; false when no writer of it is open here. */
  static native boolean setWriteRecordsPerSecond(String writeId, double recordsPerSecond);

  static native int openWriterCount();

  static native void startHeapCount();

  static native long[] heapUse();

  static native String[] metricNames();

  /** Up to {@code max} queued native log records, as triples: level ("1" error .. "5" trace), target, message. */
  static native String[] drainLog(int max);

  /** 0 off, 1 error, 2 warn, 3 info, 4 debug, 5 trace. */
  static native void setLogLevel(int level);

  /** Only in the test variant of the library: panics with {@code message}. */
  static native void panicForTest(String message);

  /**
   * Only in the test variant of the library: the next {@code hits} tasks of writers to {@code featureGroup} hit
   * fault point {@code point}: "call-task" and "dispatcher" panic, "call-task-stall" waits until aborted.
   */
  static native void armFaultForTest(String point, String featureGroup, int hits);
}
