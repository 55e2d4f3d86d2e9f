package featurestore.spark

import java.io.File

import scala.io.Source

import org.scalatest.funsuite.AnyFunSuite

/** Option parsing and the writer config it produces (checked by the engine's own strict parser). */
class OptionsSuite extends AnyFunSuite {
  private val base = Map("featureGroupName" -> "customers")

  test("every option parses from text, any case, and lands in the config the engine accepts") {
    val all = Map(
      "FEATUREGROUPNAME" -> "arn:aws:sagemaker:us-east-1:123456789012:feature-group/customers",
      "region" -> "eu-west-1", "runtimeEndpoint" -> "http://127.0.0.1:1", "controlEndpoint" -> "http://127.0.0.1:2",
      "assumeRoleArn" -> "arn:aws:iam::123456789012:role/ingest", "assumeRoleSessionName" -> "job",
      "accessKeyId" -> "AKID", "secretAccessKey" -> "SECRET", "sessionToken" -> "TOKEN",
      "connectTimeoutMs" -> "1000", "requestTimeoutMs" -> "5000", "maxConnections" -> "8",
      "api" -> "batchwriterecord", "recordsPerRequest" -> "10", "targetStores" -> "onlinestore, OfflineStore",
      "ttlDuration" -> "3 hours", "maxInFlight" -> "16", "adaptiveRate" -> "False", "maxRecordsPerSecond" -> "2500.5",
      "maxQueuedRecords" -> "1000", "maxQueuedBytes" -> "1048576", "retryMaxAttempts" -> "4",
      "retryMaxElapsedMs" -> "60000", "retryBaseDelayMs" -> "10", "retryMaxDelayMs" -> "1000",
      "batchRows" -> "100", "batchBytes" -> "65536", "ignoreUnknownColumns" -> "TRUE", "dryRun" -> "false",
      "failedRecordsPath" -> "/tmp/failed", "maxFailedRecords" -> "12")
    // profile cannot be combined with static keys (the engine says so): checked separately below.
    assert(all.size == OptionDefs.all.size - 1)
    val options = WriteOptions.parse(all)
    assert(options.batchRows == 100 && options.batchBytes == 65536 && options.ignoreUnknownColumns)
    assert(options.failedRecordsPath.contains("/tmp/failed") && options.maxFailedRecords == 12)
    val json = Json.mapper.readTree(options.writerConfigJson(Some(625.125), Some("write-1")))
    assert(json.path("featureGroup").asText().endsWith("feature-group/customers"))
    assert(json.path("client").path("region").asText() == "eu-west-1")
    assert(json.path("client").path("maxConnections").asLong() == 8)
    assert(json.path("api").asText() == "BatchWriteRecord")
    assert(json.path("batchSize").asLong() == 10)
    assert(json.path("targetStores").toString == """["OnlineStore","OfflineStore"]""")
    assert(json.path("ttlDuration").toString == """{"unit":"Hours","value":3}""")
    assert(json.path("maxRecordsPerSecond").asDouble() == 625.125 && json.path("writeId").asText() == "write-1")
    assert(!json.path("adaptiveRate").asBoolean(true) && json.path("retry").path("maxAttempts").asLong() == 4)
    assert(json.path("retry").path("maxDelayMs").asLong() == 1000)
    assert(json.path("ignoreUnknownColumns").asBoolean())
    assert(!json.has("batchRows") && !json.has("failedRecordsPath"), "JVM-only options stay out of the engine config")
    Native.validateWriterConfig(options.writerConfigJson(Some(1.0)))
    assert(!options.toString.contains("SECRET") && !options.toString.contains("AKID") && options.toString.contains("***"))

    WriteOptions.parse(base + ("profile" -> "analytics"))
  }

  test("unset options are left to the engine's defaults") {
    assert(WriteOptions.parse(base).writerConfigJson(None) == """{"featureGroup":"customers"}""")
  }

  test("featureGroupName is required; Spark's own keys are accepted") {
    val error = intercept[FeatureStoreValidationException](WriteOptions.parse(Map("path" -> "x")))
    assert(error.getMessage == "invalid featurestore options (1 problem): option featureGroupName is required " +
      "(the name or ARN of the feature group)")
    WriteOptions.parse(base ++ Map("path" -> "ignored", "checkpointLocation" -> "/chk"))
  }

  test("each kind of invalid value is reported with the option's name, and secrets are never echoed") {
    val error = intercept[FeatureStoreValidationException](WriteOptions.parse(base ++ Map(
      "batchRows" -> "many", "batchBytes" -> "12", "maxRecordsPerSecond" -> "-1", "targetStores" -> "Online",
      "ttlDuration" -> "7", "ignoreUnknownColumns" -> "yes", "region" -> " ", "secretAccessKey" -> "  ",
      "retryBaseDelayMs" -> "500", "retryMaxDelayMs" -> "100", "maxFaildRecords" -> "1")))
    val m = error.getMessage
    assert(m.startsWith("invalid featurestore options (10 problems): "), m)
    assert(m.contains("option batchRows: must be an integer, not the value (given 'many')"), m)
    assert(m.contains("option batchBytes: must be integer 1024..1073741824, not 12"), m)
    assert(m.contains("option maxRecordsPerSecond: must be a number > 0"), m)
    assert(m.contains("option targetStores: unknown store Online"), m)
    assert(m.contains("option ttlDuration: must look like '7 Days'"), m)
    assert(m.contains("option ignoreUnknownColumns: must be true or false"), m)
    assert(m.contains("option region: must not be empty"), m)
    assert(m.contains("option secretAccessKey: must not be empty") && !m.contains("given '  '"), m)
    assert(m.contains("unknown option 'maxFaildRecords' (did you mean 'maxFailedRecords'?)"), m)
    // Only the engine knows this one; named with the option names.
    assert(m.contains("option retryMaxDelayMs: must not be less than retryBaseDelayMs"), m)
  }

  test("README.md's options table is the one generated from the option definitions") {
    val readme = new File(sys.props("featurestore.repo.root"), "README.md")
    val source = Source.fromFile(readme, "UTF-8")
    val text = try source.mkString finally source.close()
    val start = text.indexOf(OptionsDoc.Begin)
    val end = text.indexOf(OptionsDoc.End)
    assert(start >= 0 && end > start, s"README.md has no generated options table; insert:\n${OptionsDoc.table}")
    val current = text.substring(start, end + OptionsDoc.End.length)
    assert(current == OptionsDoc.table, s"README.md's options table is stale; replace it with:\n${OptionsDoc.table}")
  }
}
