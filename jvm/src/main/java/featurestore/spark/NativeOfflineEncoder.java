package featurestore.spark;

import java.nio.ByteBuffer;

/**
 * Owns one task's native offline encoder (offlineWrite=direct): the API path's validation, rows out as the
 * offline store holds them. Used by one task thread; {@link #close()} is idempotent.
 */
public final class NativeOfflineEncoder implements AutoCloseable {
  private long handle;

  NativeOfflineEncoder(long handle) {
    this.handle = handle;
  }

  private long open() {
    if (handle == 0) {
      throw new FeatureStoreInternalException("the native offline encoder is already closed");
    }
    return handle;
  }

  /** Validates one Arrow IPC stream; returns the passing rows' offline rows as an Arrow IPC stream. */
  public byte[] encode(ByteBuffer ipcStream, int length, long nowMillis) {
    try {
      return NativeBridge.encodeOffline(open(), ipcStream, length, nowMillis);
    } finally {
      NativeLog.drain();
    }
  }

  /** Counters in {@code METRIC_NAMES} order. */
  public long[] metrics() {
    try {
      return NativeBridge.offlineMetrics(open());
    } finally {
      NativeLog.drain();
    }
  }

  /** Failed rows as JSON lines, or null when there are none (or {@code render} is false). */
  public byte[] takeFailed(boolean render) {
    try {
      return NativeBridge.takeFailedOffline(open(), render);
    } finally {
      NativeLog.drain();
    }
  }

  public boolean isClosed() {
    return handle == 0;
  }

  @Override
  public void close() {
    if (handle != 0) {
      long h = handle;
      handle = 0;
      NativeBridge.closeOfflineEncoder(h);
    }
  }
}
