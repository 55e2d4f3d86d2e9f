package featurestore.spark

import java.nio.file.Files

import org.apache.spark.sql.execution.streaming.MemoryStream
import org.scalatest.funsuite.AnyFunSuite

/** `writeStream.format("featurestore")`: append output mode, one commit per epoch, cumulative counts. */
class StreamingSuite extends AnyFunSuite {
  private lazy val spark = TestEnv.spark
  private lazy val store = TestEnv.store

  test("a stream's epochs are written as they come, and the counts add up over the query") {
    val group = TestEnv.newGroupName("stream")
    store.createFeatureGroup(group, "id", "ts", Seq("id" -> "String", "ts" -> "String", "clicks" -> "Integral"))
    implicit val sqlContext: org.apache.spark.sql.SQLContext = spark.sqlContext
    import spark.implicits._
    val input = MemoryStream[Long]
    val events = input.toDF().selectExpr("concat('u', value) AS id", "timestamp_millis(1704164645000 + value) AS ts",
      "value * 10 AS clicks")
    val checkpoint = Files.createTempDirectory("featurestore-checkpoint-").toFile
    val query = events.writeStream.format("featurestore").options(TestEnv.storeOptions(group))
      .option("checkpointLocation", checkpoint.getPath)
      .outputMode("append")
      .start()
    try {
      input.addData(0L until 50L)
      query.processAllAvailable()
      assert(store.getRecord(group, "u49").contains(Map("id" -> "u49", "ts" -> "2024-01-02T03:04:05.049Z",
        "clicks" -> "490")))
      input.addData(50L until 80L)
      query.processAllAvailable()
      assert(store.getRecord(group, "u79").isDefined)
      val summary = WriteSummaries.last(group).get
      assert(summary.written == 80 && summary.failed == 0, summary.line)
    } finally query.stop()
    assert(query.exception.isEmpty, query.exception)
  }

  test("complete output mode is refused with the append-only message") {
    val group = TestEnv.newGroupName("stream-complete")
    store.createFeatureGroup(group, "id", "ts", Seq("id" -> "String", "ts" -> "String", "n" -> "Integral"))
    implicit val sqlContext: org.apache.spark.sql.SQLContext = spark.sqlContext
    import spark.implicits._
    val input = MemoryStream[Long]
    val counts = input.toDF().groupBy($"value").count()
      .selectExpr("CAST(value AS STRING) AS id", "current_timestamp() AS ts", "count AS n")
    val error = intercept[Exception] {
      val query = counts.writeStream.format("featurestore").options(TestEnv.storeOptions(group))
        .option("checkpointLocation", Files.createTempDirectory("featurestore-checkpoint-").toFile.getPath)
        .outputMode("complete").start()
      try {
        input.addData(1L, 2L)
        query.processAllAvailable()
      } finally query.stop()
    }
    val text = Iterator.iterate(error: Throwable)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString(" | ")
    assert(text.contains("featurestore supports only mode(\"append\")"), text)
  }
}
