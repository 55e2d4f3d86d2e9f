package featurestore.spark

import java.util

import scala.collection.JavaConverters._

import org.apache.spark.sql.connector.catalog.{SessionConfigSupport, Table, TableProvider}
import org.apache.spark.sql.connector.expressions.Transform
import org.apache.spark.sql.sources.DataSourceRegister
import org.apache.spark.sql.types.StructType
import org.apache.spark.sql.util.CaseInsensitiveStringMap

/**
 * `df.write.format("featurestore")` and `writeStream.format("featurestore")`. Write-only; settings come from the
 * write's options, then from the session's `spark.datasource.featurestore.*` (Spark merges them, write options
 * first).
 */
final class FeatureStoreProvider extends TableProvider with DataSourceRegister with SessionConfigSupport {
  override def shortName(): String = "featurestore"

  override def keyPrefix(): String = "featurestore"

  /** Nothing to infer: the feature group's definitions are checked against the DataFrame when the write starts. */
  override def inferSchema(options: CaseInsensitiveStringMap): StructType = new StructType()

  /** Spark passes the DataFrame's schema: no inference, no catalog. */
  override def supportsExternalMetadata(): Boolean = true

  override def getTable(schema: StructType, partitioning: Array[Transform], properties: util.Map[String, String]): Table =
    new FeatureStoreTable(schema, properties.asScala.toMap)
}
