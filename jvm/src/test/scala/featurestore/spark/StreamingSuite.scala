package featurestore.spark

import java.io.File
import java.nio.file.Files

import org.apache.spark.sql.types.{LongType, StructField, StructType}
import org.scalatest.funsuite.AnyFunSuite

/**
 * `writeStream.format("featurestore")`: append output mode, one commit per epoch, cumulative counts. The input is
 * a file stream (its API is the same on Spark 3.5 and 4.x, unlike MemoryStream's package).
 */
class StreamingSuite extends AnyFunSuite {
  private lazy val spark = TestEnv.spark
  private lazy val store = TestEnv.store
  private val inputSchema = StructType(Seq(StructField("value", LongType)))

  /** Adds one JSON file with `values` to the stream's input directory. */
  private def addFile(dir: File, values: Seq[Long]): Unit = {
    val staging = Files.createTempDirectory("featurestore-staging-").toFile
    val name = s"part-${System.nanoTime()}.json"
    val file = new File(staging, name)
    Files.write(file.toPath, values.map(v => s"""{"value":$v}""").mkString("", "\n", "\n").getBytes("UTF-8"))
    // Moved in whole, so the stream never sees a half-written file.
    Files.move(file.toPath, new File(dir, name).toPath)
  }

  test("a stream's epochs are written as they come, the counts add up over the query, and it describes its group once") {
    val group = TestEnv.newGroupName("stream")
    store.createFeatureGroup(group, "id", "ts", Seq("id" -> "String", "ts" -> "String", "clicks" -> "Integral"))
    val input = Files.createTempDirectory("featurestore-stream-in-").toFile
    val events = spark.readStream.schema(inputSchema).option("maxFilesPerTrigger", "1").json(input.getPath)
      .selectExpr("concat('u', value) AS id", "timestamp_millis(1704164645000 + value) AS ts", "value * 10 AS clicks")
    val checkpoint = Files.createTempDirectory("featurestore-checkpoint-").toFile
    val describedAtStart = store.requestsOf("DescribeFeatureGroup")
    val query = events.writeStream.format("featurestore").options(TestEnv.storeOptions(group))
      .option("checkpointLocation", checkpoint.getPath)
      .outputMode("append")
      .start()
    try {
      addFile(input, 0L until 50L)
      query.processAllAvailable()
      assert(store.getRecord(group, "u49").contains(Map("id" -> "u49", "ts" -> "2024-01-02T03:04:05.049Z",
        "clicks" -> "490")))
      val describedBefore = store.requestsOf("DescribeFeatureGroup")
      assert(describedBefore > describedAtStart)
      addFile(input, 50L until 80L)
      query.processAllAvailable()
      assert(store.getRecord(group, "u79").isDefined)
      // The second micro-batch is planned with the query's DescribeFeatureGroup answer, not a new call.
      assert(store.requestsOf("DescribeFeatureGroup") == describedBefore)
      val summary = WriteSummaries.last(group).get
      assert(summary.written == 80 && summary.failed == 0, summary.line)
    } finally query.stop()
    assert(query.exception.isEmpty, query.exception)
  }

  test("complete output mode is refused with the append-only message") {
    val group = TestEnv.newGroupName("stream-complete")
    store.createFeatureGroup(group, "id", "ts", Seq("id" -> "String", "ts" -> "String", "n" -> "Integral"))
    val input = Files.createTempDirectory("featurestore-stream-in-").toFile
    addFile(input, Seq(1L, 2L, 2L))
    val counts = spark.readStream.schema(inputSchema).json(input.getPath).groupBy("value").count()
      .selectExpr("CAST(value AS STRING) AS id", "current_timestamp() AS ts", "count AS n")
    val error = intercept[Exception] {
      val query = counts.writeStream.format("featurestore").options(TestEnv.storeOptions(group))
        .option("checkpointLocation", Files.createTempDirectory("featurestore-checkpoint-").toFile.getPath)
        .outputMode("complete").start()
      try query.processAllAvailable()
      finally query.stop()
    }
    val text = Iterator.iterate(error: Throwable)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString(" | ")
    assert(text.contains("featurestore supports only mode(\"append\")"), text)
  }
}
