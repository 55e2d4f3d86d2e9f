package featurestore.spark;

import java.nio.ByteBuffer;

/**
 * The connector's only way into the native library: loads it on first use (re-throwing a load failure with
 * context every time), makes the call, and drains the native log into slf4j afterwards.
 */
public final class Native {
  private Native() {}

  public static String describeFeatureGroup(String writerConfigJson) {
    NativeLibrary.load();
    try {
      return NativeBridge.describeFeatureGroup(writerConfigJson);
    } finally {
      NativeLog.drain();
    }
  }

  /** The engine's check of a write's options (a JSON object of texts): typed values, problems, shown text. */
  public static String checkOptions(String optionsJson) {
    NativeLibrary.load();
    try {
      return NativeBridge.checkOptions(optionsJson);
    } finally {
      NativeLog.drain();
    }
  }

  /**
   * Checks that the feature group can take the write {@code writerConfigJson} describes (its status, the stores
   * it targets) and that a DataFrame's schema is that write's input.
   */
  public static void checkWrite(String writerConfigJson, String describeJson, ByteBuffer schemaIpc, int length) {
    NativeLibrary.load();
    try {
      NativeBridge.checkWrite(writerConfigJson, describeJson, schemaIpc, length);
    } finally {
      NativeLog.drain();
    }
  }

  /** The feature definitions of a schema's columns, as the service's {@code FeatureDefinitions} JSON. */
  public static String featureDefinitions(ByteBuffer schemaIpc, int length, String requestedJson) {
    NativeLibrary.load();
    try {
      return NativeBridge.featureDefinitions(schemaIpc, length, requestedJson);
    } finally {
      NativeLog.drain();
    }
  }

  /** Creates a feature group from a schema's columns and waits until it is Created; its DescribeFeatureGroup JSON. */
  public static String createFeatureGroup(String writerConfigJson, String specJson, ByteBuffer schemaIpc, int length) {
    NativeLibrary.load();
    try {
      return NativeBridge.createFeatureGroup(writerConfigJson, specJson, schemaIpc, length);
    } finally {
      NativeLog.drain();
    }
  }

  /** Adds the schema's columns the writer config's group lacks as features; its DescribeFeatureGroup JSON. */
  public static String addMissingFeatures(String writerConfigJson, ByteBuffer schemaIpc, int length,
      String requestedJson, long timeoutSeconds) {
    NativeLibrary.load();
    try {
      return NativeBridge.addMissingFeatures(writerConfigJson, schemaIpc, length, requestedJson, timeoutSeconds);
    } finally {
      NativeLog.drain();
    }
  }

  /** Opens a writer; the caller owns the returned {@link NativeWriter} and must close it. */
  public static NativeWriter openWriter(String writerConfigJson, String describeJson) {
    NativeLibrary.load();
    try {
      return new NativeWriter(NativeBridge.openWriter(writerConfigJson, describeJson));
    } finally {
      NativeLog.drain();
    }
  }

  /** offlineWrite=direct: the Hadoop URI the group's offline store files go under; a validation error when they cannot. */
  public static String offlineOutputUri(String writerConfigJson, String describeJson) {
    NativeLibrary.load();
    try {
      return NativeBridge.offlineOutputUri(writerConfigJson, describeJson);
    } finally {
      NativeLog.drain();
    }
  }

  /** offlineWrite=direct: the schema (Arrow IPC) of the rows {@link NativeOfflineEncoder#encode} returns. */
  public static byte[] offlineSchema(String describeJson) {
    NativeLibrary.load();
    try {
      return NativeBridge.offlineSchema(describeJson);
    } finally {
      NativeLog.drain();
    }
  }

  /** Opens a task's offline encoder; the caller owns it and must close it. */
  public static NativeOfflineEncoder openOfflineEncoder(String writerConfigJson, String describeJson) {
    NativeLibrary.load();
    try {
      return new NativeOfflineEncoder(NativeBridge.openOfflineEncoder(writerConfigJson, describeJson));
    } finally {
      NativeLog.drain();
    }
  }

  /** {@code featurestore_core::metrics::METRIC_NAMES}. */
  public static String[] metricNames() {
    NativeLibrary.load();
    return NativeBridge.metricNames();
  }

  /** Sets this executor's share of write {@code writeId}'s ceiling; false when no writer of it is open here. */
  public static boolean setWriteRecordsPerSecond(String writeId, double recordsPerSecond) {
    NativeLibrary.load();
    try {
      return NativeBridge.setWriteRecordsPerSecond(writeId, recordsPerSecond);
    } finally {
      NativeLog.drain();
    }
  }

  /** Writers opened and not yet closed in this JVM. */
  public static int openWriterCount() {
    NativeLibrary.load();
    return NativeBridge.openWriterCount();
  }

  /**
   * Starts counting the native library's heap (for the memory benchmark; off by default, as counting costs
   * every allocation an atomic update). Call it before the first writer opens.
   */
  public static void startHeapCount() {
    NativeLibrary.load();
    NativeBridge.startHeapCount();
  }

  /**
   * The native heap since {@link #startHeapCount}: {@code {counting (0 or 1), bytes in use, peak bytes}}; the peak
   * starts again from the bytes in use now.
   */
  public static long[] heapUse() {
    NativeLibrary.load();
    return NativeBridge.heapUse();
  }

  /** Test variant of the library only: a native panic, to check it becomes an exception. */
  public static void panicForTest(String message) {
    NativeLibrary.load();
    try {
      NativeBridge.panicForTest(message);
    } finally {
      NativeLog.drain();
    }
  }

  /** Test variant of the library only: faults in the engine's I/O tasks of writers to {@code featureGroup}. */
  public static void armFaultForTest(String point, String featureGroup, int hits) {
    NativeLibrary.load();
    NativeBridge.armFaultForTest(point, featureGroup, hits);
  }
}
