package featurestore.spark;

/**
 * The service or the network refused (a terminal error for a whole call, credentials, timeouts after the
 * retries allowed). The message carries the service's error code.
 *
 * <p>Thrown by the native library (rust/jni maps featurestore-core's error kind to this class) and by the
 * connector.
 */
public class FeatureStoreServiceException extends FeatureStoreException {
  private static final long serialVersionUID = 1L;

  public FeatureStoreServiceException(String message) {
    super(message);
  }

  public FeatureStoreServiceException(String message, Throwable cause) {
    super(message, cause);
  }
}
