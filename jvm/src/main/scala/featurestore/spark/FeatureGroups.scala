package featurestore.spark

import scala.collection.JavaConverters._
import scala.concurrent.duration._

import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.types.StructType

/** One feature definition as the service takes it: `collectionType` List, Set or Vector (with its dimension). */
final case class FeatureDefinition(
    name: String,
    featureType: String,
    collectionType: Option[String] = None,
    vectorDimension: Option[Int] = None)

/**
 * A feature group to create from a DataFrame's columns. `collectionTypes` asks, per array column, for `Set`,
 * `Vector` or `Vector(n)` instead of `List`; `onlineStore` false with `offlineStoreS3Uri` gives an offline store
 * only. The group's features are every column of the DataFrame, mapped as the README's table says.
 */
final case class FeatureGroupSpec(
    name: String,
    recordIdentifier: String,
    eventTime: String,
    onlineStore: Boolean = true,
    storageType: Option[String] = None,
    ttlDuration: Option[String] = None,
    offlineStoreS3Uri: Option[String] = None,
    tableFormat: Option[String] = None,
    roleArn: Option[String] = None,
    description: Option[String] = None,
    tags: Map[String, String] = Map.empty,
    collectionTypes: Map[String, String] = Map.empty,
    timeout: FiniteDuration = 10.minutes) {

  /** The JSON the engine reads (`featurestore_core::feature_groups::CreateSpec`). */
  private[spark] def json: String = {
    val spec = new java.util.LinkedHashMap[String, AnyRef]()
    spec.put("featureGroupName", name)
    spec.put("recordIdentifier", recordIdentifier)
    spec.put("eventTime", eventTime)
    spec.put("onlineStore", java.lang.Boolean.valueOf(onlineStore))
    storageType.foreach(spec.put("storageType", _))
    ttlDuration.foreach(spec.put("ttlDuration", _))
    offlineStoreS3Uri.foreach(spec.put("offlineStoreS3Uri", _))
    tableFormat.foreach(spec.put("tableFormat", _))
    roleArn.foreach(spec.put("roleArn", _))
    description.foreach(spec.put("description", _))
    spec.put("tags", tags.asJava)
    spec.put("collectionTypes", collectionTypes.asJava)
    spec.put("timeoutSeconds", java.lang.Long.valueOf(math.max(1L, timeout.toSeconds)))
    Json.mapper.writeValueAsString(spec)
  }
}

/**
 * Feature groups from a DataFrame: the feature definitions its columns map to, and CreateFeatureGroup with them
 * (waiting until the group is `Created`). The mapping is the engine's (rust/core/src/schema/definitions.rs, next
 * to the check every write makes), over the Arrow schema Spark gives the DataFrame, so a group created here takes
 * the DataFrame it was created from. The calls go through the native control client with the connector's own
 * options (`region`, `controlEndpoint`, credentials; `spark.datasource.featurestore.*` too), as a write's
 * DescribeFeatureGroup does. [[addMissingFeatures]] adds a DataFrame's new columns to an existing group (the
 * `addMissingFeatures` write option does it before a write).
 */
object FeatureGroups {

  /** The feature definitions of `schema`'s columns; every column that has none is named in one exception. */
  def featureDefinitions(schema: StructType, eventTime: Option[String] = None,
      collectionTypes: Map[String, String] = Map.empty): Seq[FeatureDefinition] = {
    val definitions = Json.mapper.readTree(featureDefinitionsJson(schema, eventTime, collectionTypes))
    definitions.elements().asScala.map { d =>
      FeatureDefinition(d.path("FeatureName").asText(), d.path("FeatureType").asText(),
        Option(d.get("CollectionType")).map(_.asText()),
        Option(d.path("CollectionConfig").path("VectorConfig").get("Dimension")).map(_.asInt()))
    }.toList
  }

  def featureDefinitions(df: DataFrame): Seq[FeatureDefinition] = featureDefinitions(df.schema)

  /** As [[featureDefinitions]], in the service's `FeatureDefinitions` JSON (what the Python API returns). */
  def featureDefinitionsJson(schema: StructType, eventTime: Option[String],
      collectionTypes: Map[String, String]): String = {
    val requested = new java.util.LinkedHashMap[String, AnyRef]()
    eventTime.foreach(requested.put("eventTime", _))
    requested.put("collectionTypes", collectionTypes.asJava)
    SchemaIpc.withSchema(schema, timeZoneId) { (bytes, length) =>
      Native.featureDefinitions(bytes, length, Json.mapper.writeValueAsString(requested))
    }
  }

  /**
   * Creates the feature group `spec` describes, with a feature for each of `df`'s columns, and waits until it is
   * `Created` (at most `spec.timeout`); fails with the service's `FailureReason` when creation fails. `options`
   * are the connector's (`region`, `controlEndpoint`, `profile`, credentials...), over the session's
   * `spark.datasource.featurestore.*`. Returns the group's DescribeFeatureGroup answer (JSON).
   */
  def create(df: DataFrame, spec: FeatureGroupSpec, options: Map[String, String]): String =
    create(df.schema, spec, options)

  def create(schema: StructType, spec: FeatureGroupSpec, options: Map[String, String]): String =
    createJson(schema, spec.json, options)

  /** As [[create]], with the spec as the engine's JSON (the Python API's way in). */
  def createJson(schema: StructType, specJson: String, options: Map[String, String]): String = {
    val name = Option(Json.mapper.readTree(specJson).get("featureGroupName")).map(_.asText()).getOrElse("")
    val writeOptions = WriteOptions.parse(sessionOptions ++ options + (WriteOptions.FeatureGroupName -> name))
    SchemaIpc.withSchema(schema, timeZoneId) { (bytes, length) =>
      Native.createFeatureGroup(writeOptions.writerConfigJson(None), specJson, bytes, length)
    }
  }

  /** For py4j: the same with Java maps. */
  def createJson(schema: StructType, specJson: String, options: java.util.Map[String, String]): String =
    createJson(schema, specJson, options.asScala.toMap)

  def featureDefinitionsJson(schema: StructType, eventTime: String,
      collectionTypes: java.util.Map[String, String]): String =
    featureDefinitionsJson(schema, Option(eventTime), collectionTypes.asScala.toMap)

  /**
   * Adds `df`'s columns that are not features of `featureGroupName` (name or ARN) to the group with
   * UpdateFeatureGroup (`collectionTypes` as for [[create]]; arrays are List features otherwise) and waits for the
   * update (at most `timeout`). Returns the group's DescribeFeatureGroup answer (JSON).
   */
  def addMissingFeatures(df: DataFrame, featureGroupName: String, options: Map[String, String],
      collectionTypes: Map[String, String] = Map.empty, timeout: FiniteDuration = 10.minutes): String = {
    val writeOptions = WriteOptions.parse(sessionOptions ++ options + (WriteOptions.FeatureGroupName -> featureGroupName))
    addMissingColumns(df.schema, writeOptions.writerConfigJson(None), collectionTypes, timeout)
  }

  /** For py4j: the same with Java maps. */
  def addMissingFeaturesJava(df: DataFrame, featureGroupName: String, options: java.util.Map[String, String],
      collectionTypes: java.util.Map[String, String], timeoutSeconds: Long): String =
    addMissingFeatures(df, featureGroupName, options.asScala.toMap, collectionTypes.asScala.toMap,
      timeoutSeconds.seconds)

  /** The write option `addMissingFeatures`: the writer's own configuration (`writerConfigJson`). */
  private[spark] def addMissingColumns(schema: StructType, writerConfigJson: String,
      collectionTypes: Map[String, String], timeout: FiniteDuration): String = {
    val requested = new java.util.LinkedHashMap[String, AnyRef]()
    requested.put("collectionTypes", collectionTypes.asJava)
    SchemaIpc.withSchema(schema, timeZoneId) { (bytes, length) =>
      Native.addMissingFeatures(writerConfigJson, bytes, length, Json.mapper.writeValueAsString(requested),
        timeout.toSeconds)
    }
  }

  private val SessionPrefix = "spark.datasource.featurestore."

  /** The session's `spark.datasource.featurestore.*` settings, as a write sees them (its own options win). */
  private def sessionOptions: Map[String, String] =
    SparkSession.getActiveSession.toSeq.flatMap(_.conf.getAll).collect {
      case (key, value) if key.startsWith(SessionPrefix) => key.stripPrefix(SessionPrefix) -> value
    }.toMap

  private def timeZoneId: String =
    SparkSession.getActiveSession.map(_.sessionState.conf.sessionLocalTimeZone).getOrElse("UTC")
}
