package featurestore.spark;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves native log records into slf4j (log4j on Spark executors), under loggers named
 * {@code featurestore.native.<rust module path>}. The native side only queues records (its I/O threads may not
 * call into the JVM); {@link #drain()} runs after every native call.
 */
final class NativeLog {
  static final Logger ROOT = LoggerFactory.getLogger("featurestore.native");
  private static final int DRAIN_MAX = 10_000;

  private NativeLog() {}

  /** The most verbose level {@code logger} lets through, as the native side numbers levels. */
  static int levelFor(Logger logger) {
    if (logger.isTraceEnabled()) {
      return 5;
    }
    if (logger.isDebugEnabled()) {
      return 4;
    }
    if (logger.isInfoEnabled()) {
      return 3;
    }
    if (logger.isWarnEnabled()) {
      return 2;
    }
    return logger.isErrorEnabled() ? 1 : 0;
  }

  /** Hands every queued native record to slf4j. Never throws: logging must not fail a write. */
  static void drain() {
    String[] triples;
    try {
      triples = NativeBridge.drainLog(DRAIN_MAX);
    } catch (RuntimeException e) {
      ROOT.warn("could not drain the native log", e);
      return;
    }
    for (int i = 0; i + 2 < triples.length; i += 3) {
      Logger logger = LoggerFactory.getLogger("featurestore.native." + triples[i + 1].replace("::", "."));
      String message = triples[i + 2];
      switch (triples[i]) {
        case "1":
          logger.error(message);
          break;
        case "2":
          logger.warn(message);
          break;
        case "3":
          logger.info(message);
          break;
        case "4":
          logger.debug(message);
          break;
        default:
          logger.trace(message);
      }
    }
  }
}
