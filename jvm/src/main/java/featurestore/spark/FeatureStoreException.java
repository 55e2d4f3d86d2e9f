package featurestore.spark;

/**
 * Everything the connector throws on purpose. The three subclasses tell what to do about it: fix the job
 * ({@link FeatureStoreValidationException}), look at the service or network ({@link FeatureStoreServiceException}),
 * report a bug ({@link FeatureStoreInternalException}). {@link FeatureStoreFailedRecordsException} says that the
 * job ran but more records failed than {@code maxFailedRecords} allows.
 */
public class FeatureStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public FeatureStoreException(String message) {
    super(message);
  }

  public FeatureStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
