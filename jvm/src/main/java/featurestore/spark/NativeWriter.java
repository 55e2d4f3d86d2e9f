package featurestore.spark;

import java.nio.ByteBuffer;

/**
 * Owns one native writer (a handle into rust/jni's handle table). Not thread-safe: one Spark task thread uses
 * it; {@link #close()} is idempotent and may also come from the task-completion listener. After close every
 * call fails with {@link FeatureStoreInternalException} instead of touching freed native state.
 */
public final class NativeWriter implements AutoCloseable {
  private long handle;

  NativeWriter(long handle) {
    this.handle = handle;
  }

  private long open() {
    if (handle == 0) {
      throw new FeatureStoreInternalException("the native writer is already closed");
    }
    return handle;
  }

  /**
   * One complete Arrow IPC stream: {@code length} bytes at the start of the direct buffer {@code ipcStream}.
   * Waits at most {@code waitMs} (negative: no limit) for room in the queue; false when rows still wait for it
   * ({@link #sendPending} goes on).
   */
  public boolean write(ByteBuffer ipcStream, int length, long waitMs) {
    try {
      return NativeBridge.write(open(), ipcStream, length, waitMs);
    } finally {
      NativeLog.drain();
    }
  }

  /** Queues the rows still waiting for room, waiting at most {@code waitMs}; false when some still wait. */
  public boolean sendPending(long waitMs) {
    try {
      return NativeBridge.sendPending(open(), waitMs);
    } finally {
      NativeLog.drain();
    }
  }

  /** Waits at most {@code waitMs} (negative: no limit); true when every accepted row is acknowledged or failed. */
  public boolean flush(long waitMs) {
    try {
      return NativeBridge.flush(open(), waitMs);
    } finally {
      NativeLog.drain();
    }
  }

  /** Stops promptly; rows not acknowledged yet become failed rows. */
  public void abort() {
    try {
      NativeBridge.abort(open());
    } finally {
      NativeLog.drain();
    }
  }

  /** The counters, in {@link Metrics}'s native order. */
  public long[] metrics() {
    return NativeBridge.metrics(open());
  }

  /**
   * Failed rows since the last call, as JSON lines; null when none. With {@code render} false they are dropped
   * unrendered (no failed-records file to write them to) and null is returned.
   */
  public byte[] takeFailed(boolean render) {
    return NativeBridge.takeFailed(open(), render);
  }

  public boolean isClosed() {
    return handle == 0;
  }

  @Override
  public void close() {
    if (handle != 0) {
      long h = handle;
      handle = 0;
      try {
        NativeBridge.close(h);
      } finally {
        NativeLog.drain();
      }
    }
  }
}
