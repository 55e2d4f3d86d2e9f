package featurestore.spark

import java.net.{HttpURLConnection, URL, URLEncoder}
import java.nio.charset.StandardCharsets

import scala.collection.JavaConverters._

import com.fasterxml.jackson.databind.JsonNode

/**
 * The real local Feature Store the suites write to, started by scripts/test/30-jvm.sh with the launcher every
 * harness uses (tests/local/fslocal.py) and named by the `featurestore.local.endpoint` system property. Feature
 * groups are created and records read back with plain HTTP calls speaking the service's wire protocols (the Java
 * SDK is not on the classpath; the local store does not check signatures).
 */
final class LocalStore private (val endpoint: String) {

  /** CreateFeatureGroup with an online store; `features` are (name, type[, collection]) in order. */
  def createFeatureGroup(
      name: String,
      recordIdentifier: String,
      eventTime: String,
      features: Seq[(String, String)],
      collections: Map[String, String] = Map.empty,
      storageType: String = "Standard",
      offlineS3Uri: Option[String] = None): Unit = {
    val definitions = features.map { case (feature, featureType) =>
      val collection = collections.get(feature).map {
        case c if c.startsWith("Vector") =>
          s""","CollectionType":"Vector","CollectionConfig":{"VectorConfig":{"Dimension":${c.stripPrefix("Vector")}}}"""
        case c => s""","CollectionType":"$c""""
      }.getOrElse("")
      s"""{"FeatureName":"$feature","FeatureType":"$featureType"$collection}"""
    }
    val body =
      s"""{"FeatureGroupName":"$name","RecordIdentifierFeatureName":"$recordIdentifier",""" +
        s""""EventTimeFeatureName":"$eventTime","FeatureDefinitions":[${definitions.mkString(",")}],""" +
        s""""OnlineStoreConfig":{"EnableOnlineStore":true,"StorageType":"$storageType"}""" +
        offlineS3Uri.map(uri => s""","OfflineStoreConfig":{"S3StorageConfig":{"S3Uri":"$uri"}}""").getOrElse("") +
        "}"
    val (status, response) = call("POST", "/", body,
      Map("X-Amz-Target" -> "SageMaker.CreateFeatureGroup", "Content-Type" -> "application/x-amz-json-1.1"))
    require(status == 200, s"CreateFeatureGroup $name failed: $status $response")
  }

  /** DeleteFeatureGroup. */
  def deleteFeatureGroup(name: String): Unit = {
    val (status, response) = call("POST", "/", s"""{"FeatureGroupName":"$name"}""",
      Map("X-Amz-Target" -> "SageMaker.DeleteFeatureGroup", "Content-Type" -> "application/x-amz-json-1.1"))
    require(status == 200, s"DeleteFeatureGroup $name failed: $status $response")
  }

  /** GetRecord: feature name -> value (a list as a Seq), or None when the record is not there. */
  def getRecord(group: String, recordIdentifier: String): Option[Map[String, Any]] = {
    val query = "RecordIdentifierValueAsString=" + URLEncoder.encode(recordIdentifier, "UTF-8")
    val (status, response) = call("GET", s"/FeatureGroup/${URLEncoder.encode(group, "UTF-8")}?$query", "",
      Map.empty)
    require(status == 200, s"GetRecord failed: $status $response")
    val record = Json.mapper.readTree(response).path("Record")
    if (record.isMissingNode || record.size() == 0) None
    else Some(record.elements().asScala.map { f =>
      val value: Any =
        if (f.has("ValueAsStringList")) f.get("ValueAsStringList").elements().asScala.map(_.asText()).toList
        else f.get("ValueAsString").asText()
      f.get("FeatureName").asText() -> value
    }.toMap)
  }

  /**
   * BatchGetRecord of `recordIdentifiers` (one call, at most 100): the identifiers it returned a record for. An
   * error entry fails the test.
   */
  def batchGetRecord(group: String, recordIdentifiers: Seq[String]): Set[String] = {
    val ids = recordIdentifiers.map(id => Json.mapper.writeValueAsString(id)).mkString(",")
    val body = s"""{"Identifiers":[{"FeatureGroupName":"$group","RecordIdentifiersValueAsString":[$ids]}]}"""
    val (status, response) = call("POST", "/BatchGetRecord", body, Map("Content-Type" -> "application/json"))
    require(status == 200, s"BatchGetRecord failed: $status $response")
    val answer = Json.mapper.readTree(response)
    require(answer.path("Errors").size() == 0, s"BatchGetRecord errors: $response")
    answer.path("Records").elements().asScala.map(_.path("RecordIdentifierValueAsString").asText()).toSet
  }

  /** ListRecords, every page: the record identifiers of the online store, soft-deleted ones when asked for. */
  def listRecords(group: String, includeSoftDeleted: Boolean): Seq[String] = {
    val found = Seq.newBuilder[String]
    var token: Option[String] = None
    do {
      val next = token.map(t => s""","NextToken":${Json.mapper.writeValueAsString(t)}""").getOrElse("")
      val (status, response) = call("POST", s"/FeatureGroup/${URLEncoder.encode(group, "UTF-8")}/ListRecords",
        s"""{"IncludeSoftDeletedRecords":$includeSoftDeleted$next}""", Map("Content-Type" -> "application/json"))
      require(status == 200, s"ListRecords failed: $status $response")
      val page = Json.mapper.readTree(response)
      found ++= page.path("RecordIdentifiers").elements().asScala.map(_.asText())
      token = Option(page.get("NextToken")).map(_.asText())
    } while (token.isDefined)
    found.result()
  }

  /** Writes the online and offline buffers out now (`POST /_local/flush`). */
  def flush(): Unit = {
    val (status, response) = call("POST", "/_local/flush", "", Map.empty)
    require(status == 200, s"flush failed: $status $response")
  }

  /**
   * The directory of `group`'s offline store: its Parquet files in the service's S3 layout, under the store's
   * data directory (`featurestore.local.dataDir`, set by the Maven build from FEATURESTORE_LOCAL_DATA_DIR).
   */
  def offlineDir(group: String): java.io.File = {
    val dataDir = sys.props.get("featurestore.local.dataDir").filterNot(d => d.isEmpty || d.startsWith("${"))
      .getOrElse(sys.error("featurestore.local.dataDir is not set: export FEATURESTORE_LOCAL_DATA_DIR, the data " +
        "directory of the store at featurestore.local.endpoint (scripts/test/30-jvm.sh does)"))
    val (status, response) = call("POST", "/", s"""{"FeatureGroupName":"$group"}""",
      Map("X-Amz-Target" -> "SageMaker.DescribeFeatureGroup", "Content-Type" -> "application/x-amz-json-1.1"))
    require(status == 200, s"DescribeFeatureGroup $group failed: $status $response")
    val resolved = Json.mapper.readTree(response).path("OfflineStoreConfig").path("S3StorageConfig")
      .path("ResolvedOutputS3Uri").asText()
    require(resolved.startsWith("s3://"), s"no offline store for $group: $response")
    new java.io.File(new java.io.File(dataDir, "s3"), resolved.stripPrefix("s3://"))
  }

  def stats(): JsonNode = {
    val (status, response) = call("GET", "/_local/stats", "", Map.empty)
    require(status == 200, s"stats failed: $status $response")
    Json.mapper.readTree(response)
  }

  /** Records accepted by the store since it started, over both write APIs. */
  def recordsWritten(): Long = stats().path("records_written").elements().asScala.map(_.asLong()).sum

  def requestsOf(operation: String): Long = stats().path("requests_by_operation").path(operation).asLong(0)

  /** Replaces the fault settings (`{}` clears them). */
  def setFaults(json: String): Unit = {
    val (status, response) = call("PUT", "/_local/faults", json, Map("Content-Type" -> "application/json"))
    require(status == 200, s"setting faults failed: $status $response")
  }

  private def call(method: String, path: String, body: String, headers: Map[String, String]): (Int, String) = {
    val connection = new URL(endpoint + path).openConnection().asInstanceOf[HttpURLConnection]
    connection.setRequestMethod(method)
    headers.foreach { case (k, v) => connection.setRequestProperty(k, v) }
    if (body.nonEmpty) {
      connection.setDoOutput(true)
      val out = connection.getOutputStream
      out.write(body.getBytes(StandardCharsets.UTF_8))
      out.close()
    }
    val status = connection.getResponseCode
    val stream = if (status >= 400) connection.getErrorStream else connection.getInputStream
    val text = if (stream == null) "" else new String(readAll(stream), StandardCharsets.UTF_8)
    connection.disconnect()
    (status, text)
  }

  private def readAll(in: java.io.InputStream): Array[Byte] = {
    val out = new java.io.ByteArrayOutputStream()
    val buffer = new Array[Byte](8192)
    var n = in.read(buffer)
    while (n >= 0) {
      out.write(buffer, 0, n)
      n = in.read(buffer)
    }
    in.close()
    out.toByteArray
  }
}

object LocalStore {

  /** The store at `featurestore.local.endpoint` (set by the Maven build from FEATURESTORE_LOCAL_ENDPOINT). */
  def connect(): LocalStore = {
    val endpoint = sys.props.get("featurestore.local.endpoint").filter(_.startsWith("http://")).getOrElse(
      sys.error("featurestore.local.endpoint is not set: run the suites through scripts/test/30-jvm.sh, or start " +
        "a store with `python tests/local/fslocal.py serve --data-dir DIR` and export FEATURESTORE_LOCAL_ENDPOINT"))
    new LocalStore(endpoint)
  }
}
