package featurestore.spark

import java.util

import scala.collection.JavaConverters._

import org.apache.spark.sql.connector.catalog.{SupportsWrite, Table, TableCapability}
import org.apache.spark.sql.connector.read.streaming.ReportsSinkMetrics
import org.apache.spark.sql.connector.write.{LogicalWriteInfo, SupportsTruncate, Write, WriteBuilder}
import org.apache.spark.sql.types.StructType

/**
 * A feature group seen as a write-only table. A streaming query gets a table of its own each time it starts (Spark
 * asks the provider for one in `start()`), so the table keeps the counts of that run ([[StreamRun]]): what the
 * query's progress reports as the sink's metrics, and what `maxFailedRecords` is checked against, from zero on
 * every restart.
 */
final class FeatureStoreTable(tableSchema: StructType, properties: Map[String, String])
    extends Table with SupportsWrite with ReportsSinkMetrics {
  private val run = new StreamRun
  override def name(): String =
    s"featurestore:${properties.find(_._1.equalsIgnoreCase(WriteOptions.FeatureGroupName)).map(_._2).getOrElse("?")}"

  override def schema(): StructType = tableSchema

  /**
   * ACCEPT_ANY_SCHEMA: the engine checks the schema against the feature group (Spark's by-name check against this
   * table's schema would be meaningless). TRUNCATE is declared only so that `mode("overwrite")` and streaming
   * `complete` mode reach [[FeatureStoreWriteBuilder.truncate]] and get a clear refusal.
   */
  override def capabilities(): util.Set[TableCapability] = Set(
    TableCapability.BATCH_WRITE,
    TableCapability.STREAMING_WRITE,
    TableCapability.ACCEPT_ANY_SCHEMA,
    TableCapability.TRUNCATE).asJava

  override def newWriteBuilder(info: LogicalWriteInfo): WriteBuilder =
    new FeatureStoreWriteBuilder(info, run)

  /** The run's totals so far, for `StreamingQueryProgress.sink.metrics` (empty before the first epoch). */
  override def metrics(): util.Map[String, String] = run.metrics.asJava
}

final class FeatureStoreWriteBuilder(info: LogicalWriteInfo, run: StreamRun) extends WriteBuilder with SupportsTruncate {
  // Copied into a plain map: Spark's CaseInsensitiveStringMap is not serializable (docs/ARCHITECTURE.md §7).
  private val options = WriteOptions.parse(info.options().asCaseSensitiveMap().asScala.toMap)

  override def build(): Write = new FeatureStoreWrite(options, info.schema(), info.queryId(), run)

  override def truncate(): WriteBuilder =
    throw new FeatureStoreValidationException(
      "featurestore supports only mode(\"append\") (and the append output mode for streams): a feature group " +
        "cannot be truncated or overwritten. Write with .mode(\"append\"); records with the same identifier " +
        "replace older ones in the online store when their event time is newer.")
}
