package featurestore.spark;

/**
 * The write ran to the end (every row was attempted) but more records failed than {@code maxFailedRecords}
 * allows. Thrown on the driver at commit; the message has the counts and where the failed records went.
 */
public class FeatureStoreFailedRecordsException extends FeatureStoreException {
  private static final long serialVersionUID = 1L;

  private final long recordsWritten;
  private final long recordsFailed;

  public FeatureStoreFailedRecordsException(String message, long recordsWritten, long recordsFailed) {
    super(message);
    this.recordsWritten = recordsWritten;
    this.recordsFailed = recordsFailed;
  }

  public long recordsWritten() {
    return recordsWritten;
  }

  public long recordsFailed() {
    return recordsFailed;
  }
}
