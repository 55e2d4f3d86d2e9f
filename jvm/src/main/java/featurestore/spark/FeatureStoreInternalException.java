package featurestore.spark;

/**
 * A bug in the connector or its native library: a broken invariant, a misuse of the native bridge, or a
 * panic caught at the boundary (the message then carries its location and backtrace).
 *
 * <p>Thrown by the native library (rust/jni maps featurestore-core's error kind to this class) and by the
 * connector.
 */
public class FeatureStoreInternalException extends FeatureStoreException {
  private static final long serialVersionUID = 1L;

  public FeatureStoreInternalException(String message) {
    super(message);
  }

  public FeatureStoreInternalException(String message, Throwable cause) {
    super(message, cause);
  }
}
