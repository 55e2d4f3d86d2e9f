package featurestore.spark

import java.util

import scala.collection.JavaConverters._

import org.apache.spark.sql.connector.catalog.{SupportsWrite, Table, TableCapability}
import org.apache.spark.sql.connector.write.{LogicalWriteInfo, SupportsTruncate, Write, WriteBuilder}
import org.apache.spark.sql.types.StructType

/** A feature group seen as a write-only table. */
final class FeatureStoreTable(tableSchema: StructType, properties: Map[String, String]) extends Table with SupportsWrite {
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
    new FeatureStoreWriteBuilder(info)
}

final class FeatureStoreWriteBuilder(info: LogicalWriteInfo) extends WriteBuilder with SupportsTruncate {
  // Copied into a plain map: Spark's CaseInsensitiveStringMap is not serializable (docs/ARCHITECTURE.md §7).
  private val options = WriteOptions.parse(info.options().asCaseSensitiveMap().asScala.toMap)

  override def build(): Write = new FeatureStoreWrite(options, info.schema(), info.queryId())

  override def truncate(): WriteBuilder =
    throw new FeatureStoreValidationException(
      "featurestore supports only mode(\"append\") (and the append output mode for streams): a feature group " +
        "cannot be truncated or overwritten. Write with .mode(\"append\"); records with the same identifier " +
        "replace older ones in the online store when their event time is newer.")
}
