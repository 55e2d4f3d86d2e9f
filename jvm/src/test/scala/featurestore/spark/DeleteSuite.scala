package featurestore.spark

import java.io.File
import java.nio.file.Files

import scala.io.Source

import org.apache.spark.sql.DataFrame
import org.scalatest.funsuite.AnyFunSuite

/**
 * `df.write.format("featurestore").option("operation", "delete")` end to end on the local SparkSession against the
 * real local Feature Store: what the online store still returns (GetRecord, BatchGetRecord, ListRecords), the
 * offline store's `is_deleted` markers, the failed rows, the summary and the options refused.
 */
class DeleteSuite extends AnyFunSuite {
  private lazy val spark = TestEnv.spark
  private lazy val store = TestEnv.store

  /** Event times of the records written: 2024-01-02T03:04:05.678Z plus the row number in ms. */
  private val WrittenAtMs = 1704164645678L
  /** 2025-01-01T00:00:00Z: later than every record written. */
  private val LaterMs = 1735689600000L
  /** 2023-01-01T00:00:00Z: earlier than every record written. */
  private val EarlierMs = 1672531200000L

  /** A group with an online and an offline store; returns its name. */
  private def group(prefix: String): String = {
    val name = TestEnv.newGroupName(prefix)
    store.createFeatureGroup(name, "id", "ts", Seq("id" -> "String", "ts" -> "String", "age" -> "Integral",
      "name" -> "String"), offlineS3Uri = Some(s"s3://deletes-suite/$name"))
    name
  }

  private def records(rows: Int): DataFrame =
    spark.range(0, rows, 1, 2).selectExpr("concat('c', id) AS id", s"timestamp_millis($WrittenAtMs + id) AS ts",
      "id * 2 AS age", "concat('name-', id) AS name")

  /**
   * Rows naming the records `ids` to delete at `eventTimeMs`, with columns a write would refuse (a map, a column
   * that is not a feature, a string for the Integral feature): a delete reads only `id` and `ts`.
   */
  private def deletes(ids: Range, eventTimeMs: Long): DataFrame =
    spark.range(ids.start, ids.end, 1, 2).selectExpr("map('k', id) AS extra", s"timestamp_millis($eventTimeMs) AS ts",
      "'not a number' AS age", "concat('c', id) AS id")

  private def save(df: DataFrame, options: Map[String, String]): Unit =
    df.write.format("featurestore").options(options).mode("append").save()

  private def delete(df: DataFrame, group: String, options: (String, String)*): Summary = {
    save(df, TestEnv.storeOptions(group) ++ options + ("operation" -> "delete"))
    WriteSummaries.last(group).get
  }

  private def failedLines(dir: File): Seq[String] =
    Option(dir.listFiles()).toSeq.flatten.filter(_.getName.endsWith(".jsonl")).flatMap { f =>
      val source = Source.fromFile(f, "UTF-8")
      try source.getLines().toList finally source.close()
    }

  test("SoftDelete and HardDelete from a DataFrame: gone from GetRecord and BatchGetRecord, soft-deleted ones " +
      "listed when asked, is_deleted markers offline, late HardDeletes failed with the service's reason") {
    val g = group("deletes")
    save(records(100), TestEnv.storeOptions(g))

    val soft = delete(deletes(0 until 30, LaterMs), g)
    assert(soft.deleted == 30 && soft.failed == 0 && soft.accepted == 30 && soft.written == 0, soft.line)
    assert(soft.line.startsWith(s"featurestore delete from '$g': 30 records deleted, 0 failed, 0 retried"), soft.line)

    val hard = delete(deletes(30 until 50, LaterMs), g, "deletionMode" -> "HardDelete")
    assert(hard.deleted == 20 && hard.failed == 0, hard.line)

    // A HardDelete whose event time is not later than the stored record's is refused by the service, per row.
    val dir = Files.createTempDirectory("featurestore-failed-deletes-").toFile
    val late = delete(deletes(50 until 55, EarlierMs), g, "deletionMode" -> "HardDelete",
      "failedRecordsPath" -> dir.getPath, "maxFailedRecords" -> "5")
    assert(late.deleted == 0 && late.failed == 5 && late.accepted == 5, late.line)
    val reasons = failedLines(dir).map(Json.mapper.readTree)
    assert(reasons.map(_.path("recordIdentifier").asText()).sorted == (50 until 55).map(i => s"c$i"), reasons)
    for (line <- reasons) {
      val reason = line.path("reason")
      assert(reason.path("origin").asText() == "Service" && reason.path("code").asText() == "ValidationError", line)
      assert(reason.path("message").asText().contains("EventTime"), line)
    }

    // The online store: 0..49 gone from GetRecord and BatchGetRecord; the late HardDeletes left theirs in place.
    for (i <- Seq(0, 29, 30, 49)) assert(store.getRecord(g, s"c$i").isEmpty, s"c$i")
    assert(store.getRecord(g, "c50").exists(_("name") == "name-50"))
    val all = (0 until 100).map(i => s"c$i")
    assert(store.batchGetRecord(g, all) == (50 until 100).map(i => s"c$i").toSet)
    // ListRecords: soft-deleted identifiers only when asked for; hard-deleted ones never.
    assert(store.listRecords(g, includeSoftDeleted = false).toSet == (50 until 100).map(i => s"c$i").toSet)
    assert(store.listRecords(g, includeSoftDeleted = true).toSet ==
      ((0 until 30) ++ (50 until 100)).map(i => s"c$i").toSet)

    // The offline store: one is_deleted marker per applied delete (a refused HardDelete writes none), with the
    // delete's event time and no feature values.
    store.flush()
    val offline = spark.read.parquet(store.offlineDir(g).getPath)
    val markers = offline.where("is_deleted").select("id", "ts", "age", "name").collect()
    assert(markers.map(_.getString(0)).toSet == (0 until 50).map(i => s"c$i").toSet, markers.toSeq)
    assert(markers.length == 50, markers.toSeq)
    assert(markers.forall(m => m.getString(1) == "2025-01-01T00:00:00.000Z" && m.isNullAt(2) && m.isNullAt(3)),
      markers.toSeq)
    assert(offline.where("NOT is_deleted").count() == 100)
  }

  test("deletes ride out throttling; the summary says how many were retried and throttled") {
    val g = group("throttled-deletes")
    save(records(300), TestEnv.storeOptions(g))
    store.setFaults("""{"throttle_probability": 0.3, "operations": ["DeleteRecord"]}""")
    val summary =
      try delete(deletes(0 until 300, LaterMs), g, "retryBaseDelayMs" -> "1", "retryMaxDelayMs" -> "20")
      finally store.setFaults("{}")
    assert(summary.deleted == 300 && summary.failed == 0, summary.line)
    assert(summary.throttled > 0 && summary.counters(Metrics.RowsRetried) > 0, summary.line)
    assert(store.listRecords(g, includeSoftDeleted = false).isEmpty)
  }

  test("a delete's contradictions and input are refused on the driver, with the other problems") {
    val g = group("delete-options")
    val options = TestEnv.storeOptions(g) + ("operation" -> "delete")
    val contradictions = intercept[FeatureStoreValidationException](
      save(deletes(0 until 3, LaterMs), options ++ Map("ttlDuration" -> "1 Days", "api" -> "BatchWriteRecord",
        "batchRows" -> "x")))
    val message = contradictions.getMessage
    assert(message.contains("option ttlDuration: cannot be combined with operation=delete"), message)
    assert(message.contains("option api: is BatchWriteRecord, but operation=delete sends DeleteRecord calls"), message)
    assert(message.contains("option batchRows: must be an integer"), message)
    val mode = intercept[FeatureStoreValidationException](
      save(records(3), TestEnv.storeOptions(g) + ("deletionMode" -> "HardDelete")))
    assert(mode.getMessage.contains("option deletionMode: applies only with operation=delete"), mode.getMessage)
    // The two columns a delete reads are checked like a write's: here the event time is missing.
    val input = intercept[FeatureStoreValidationException](save(deletes(0 until 3, LaterMs).drop("ts"), options))
    assert(input.getMessage.contains("missing_event_time") && !input.getMessage.contains("'extra'"), input.getMessage)
  }
}
