package featurestore.spark

import org.scalatest.funsuite.AnyFunSuite

/**
 * The options as the JVM sees them: checked by the engine on the driver (the rules themselves are tested in
 * rust/core/src/options.rs), the JVM's own values typed, the text shipped to the tasks unchanged.
 */
class OptionsSuite extends AnyFunSuite {
  private val base = Map("featureGroupName" -> "customers")

  test("the JVM's options come back typed; tasks get the text as given, with the write's id and share") {
    val given = base ++ Map(
      "BATCHROWS" -> "100", "batchBytes" -> "65536", "ignoreUnknownColumns" -> "TRUE", "dryRun" -> "false",
      "failedRecordsPath" -> " /tmp/failed ", "maxFailedRecords" -> "12", "maxRecordsPerSecond" -> "2500.5",
      "accessKeyId" -> "AKID", "secretAccessKey" -> "SECRET", "recordsPerRequest" -> "10")
    val options = WriteOptions.parse(given)
    assert(options.featureGroupName == "customers")
    assert(options.batchRows == 100 && options.batchBytes == 65536 && options.ignoreUnknownColumns && !options.dryRun)
    assert(options.failedRecordsPath.contains("/tmp/failed") && options.maxFailedRecords == 12)
    assert(options.maxRecordsPerSecond.contains(2500.5))
    val json = Json.mapper.readTree(options.writerConfigJson(Some(625.125), Some("write-1")))
    assert(json.path("options").path("BATCHROWS").asText() == "100")
    assert(json.path("options").path("recordsPerRequest").asText() == "10")
    assert(json.path("recordsPerSecond").asDouble() == 625.125 && json.path("writeId").asText() == "write-1")
  }

  test("defaults come from the engine when nothing is given") {
    val options = WriteOptions.parse(base)
    assert(options.batchRows == 4096 && options.batchBytes == (8L << 20) && options.maxFailedRecords == 0)
    assert(options.failedRecordsPath.isEmpty && options.maxRecordsPerSecond.isEmpty && !options.dryRun)
    assert(options.writerConfigJson(None) == """{"options":{"featureGroupName":"customers"}}""")
  }

  test("featureGroupName is required; Spark's own keys are accepted") {
    val error = intercept[FeatureStoreValidationException](WriteOptions.parse(Map("path" -> "x")))
    assert(error.getMessage == "invalid featurestore options (1 problem): option featureGroupName: is required " +
      "(the name or ARN of the feature group)")
    WriteOptions.parse(base ++ Map("path" -> "ignored", "checkpointLocation" -> "/chk"))
  }

  test("every problem is reported at once, named by option, and secrets are never echoed") {
    val error = intercept[FeatureStoreValidationException](WriteOptions.parse(base ++ Map(
      "batchRows" -> "many", "targetStores" -> "Online", "secretAccessKey" -> "  ", "accessKeyId" -> "AKID",
      "retryBaseDelayMs" -> "500", "retryMaxDelayMs" -> "100", "maxFaildRecords" -> "1")))
    val m = error.getMessage
    assert(m.startsWith("invalid featurestore options (5 problems): "), m)
    assert(m.contains("option batchRows: must be an integer (given 'many')"), m)
    assert(m.contains("option targetStores: unknown store Online"), m)
    assert(m.contains("option secretAccessKey: must not be empty") && !m.contains("given '  '"), m)
    assert(m.contains("option maxFaildRecords: unknown option (did you mean 'maxFailedRecords'?)"), m)
    assert(m.contains("option retryMaxDelayMs: must not be less than retryBaseDelayMs"), m)
    assert(!m.contains("AKID"), m)
  }

  test("a region other than the feature group ARN's is refused on the driver") {
    val arn = "arn:aws:sagemaker:eu-west-1:123456789012:feature-group/customers"
    val error = intercept[FeatureStoreValidationException](
      WriteOptions.parse(Map("featureGroupName" -> arn, "region" -> "us-east-1")))
    assert(error.getMessage == "invalid featurestore options (1 problem): option region: is us-east-1, but " +
      "featureGroupName is an ARN in eu-west-1: give one region, or none", error.getMessage)
    WriteOptions.parse(Map("featureGroupName" -> arn, "region" -> "eu-west-1"))
    WriteOptions.parse(Map("featureGroupName" -> arn))
  }

  test("the options as logged mask secrets") {
    val shown = WriteOptions.parse(base ++ Map("accessKeyId" -> "AKID", "secretAccessKey" -> "SECRET")).toString
    assert(shown == "featureGroupName=customers, accessKeyId=***, secretAccessKey=***", shown)
  }
}
