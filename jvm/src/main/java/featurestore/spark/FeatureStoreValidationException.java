package featurestore.spark;

/**
 * The job must be fixed: an option, the DataFrame's schema, or the input is invalid. Thrown on the driver
 * before any task runs whenever possible; the message lists every problem found.
 *
 * <p>Thrown by the native library (rust/jni maps featurestore-core's error kind to this class) and by the
 * connector.
 */
public class FeatureStoreValidationException extends FeatureStoreException {
  private static final long serialVersionUID = 1L;

  public FeatureStoreValidationException(String message) {
    super(message);
  }

  public FeatureStoreValidationException(String message, Throwable cause) {
    super(message, cause);
  }
}
