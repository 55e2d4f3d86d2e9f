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

  test("each epoch prints its own line and the progress carries the run's counts; a restart counts failures from zero") {
    val group = TestEnv.newGroupName("stream-limit")
    store.createFeatureGroup(group, "id", "ts", Seq("id" -> "String", "ts" -> "String", "clicks" -> "Integral"))
    val input = Files.createTempDirectory("featurestore-stream-in-").toFile
    val failedDir = Files.createTempDirectory("featurestore-stream-failed-").toFile
    // Every tenth value has no record identifier, so its row fails.
    val events = spark.readStream.schema(inputSchema).option("maxFilesPerTrigger", "1").json(input.getPath)
      .selectExpr("CASE WHEN value % 10 = 0 THEN NULL ELSE concat('u', value) END AS id",
        "timestamp_millis(1704164645000 + value) AS ts", "value AS clicks")
    val checkpoint = Files.createTempDirectory("featurestore-checkpoint-").toFile
    def start() = events.writeStream.format("featurestore").options(TestEnv.storeOptions(group))
      .option("maxFailedRecords", "3").option("failedRecordsPath", failedDir.getPath)
      .option("checkpointLocation", checkpoint.getPath)
      .start()
    def sinkMetrics(query: org.apache.spark.sql.streaming.StreamingQuery): Map[String, String] = {
      import scala.collection.JavaConverters._
      query.lastProgress.sink.metrics.asScala.toMap
    }

    val first = start()
    val (_, lines) = LogCapture.during("featurestore.spark.FeatureStoreWrite") {
      try {
        addFile(input, 0L until 10L) // epoch 0: 1 failed
        first.processAllAvailable()
        addFile(input, 10L until 30L) // epoch 1: 2 failed, 3 in the run: not more than 3
        first.processAllAvailable()
        val metrics = sinkMetrics(first)
        assert(metrics("recordsWritten") == "27" && metrics("recordsFailed") == "3", metrics)
        assert(metrics("lastEpoch") == "1" && metrics("lastEpochRecordsWritten") == "18" &&
          metrics("epochsCommitted") == "2", metrics)
        addFile(input, 30L until 40L) // epoch 2: 1 failed, 4 in the run
        intercept[Exception](first.processAllAvailable())
      } finally first.stop()
    }
    val epochLines = lines.map(_.message).filter(_.startsWith("featurestore epoch ")).filter(_.contains(" of query "))
    assert(epochLines.size == 3, epochLines)
    assert(epochLines.head.matches(
      s"featurestore epoch 0 of query ${first.id}: write to '$group': 9 records written, 1 failed, 0 retried, " +
        "0 throttled in [0-9.]+ s \\([0-9]+ records/s\\); failed records: .*"), epochLines.head)
    assert(epochLines(1).contains(": write to '" + group + "': 18 records written, 2 failed"), epochLines(1))
    val error = Iterator.iterate(first.exception.get: Throwable)(_.getCause).takeWhile(_ != null).map(_.getMessage)
      .mkString(" | ")
    assert(error.contains("4 of 40 records failed") && error.contains("more than maxFailedRecords = 3"), error)

    // The same checkpoint: epoch 2 is written again, and its one failure is the new run's first.
    val second = start()
    try {
      second.processAllAvailable()
      addFile(input, 40L until 50L)
      second.processAllAvailable()
      val metrics = sinkMetrics(second)
      assert(metrics("recordsFailed") == "2" && metrics("recordsWritten") == "18" && metrics("lastEpoch") == "3",
        metrics)
    } finally second.stop()
    assert(second.exception.isEmpty, second.exception)
    assert(store.getRecord(group, "u49").contains(Map("id" -> "u49", "ts" -> "2024-01-02T03:04:05.049Z",
      "clicks" -> "49")))
    // One file per task attempt that failed a record, each of its epoch and run: none overwrote another.
    val files = Option(failedDir.listFiles()).getOrElse(Array.empty[File]).filter(_.getName.endsWith(".jsonl"))
    val failedLines = files.toSeq.flatMap(f => scala.io.Source.fromFile(f, "UTF-8").getLines().toList)
    assert(failedLines.size == 6, files.map(_.getName).mkString(", "))
    assert(files.map(_.getName).map(_.split('-').last).groupBy(identity).map { case (e, fs) => e -> fs.length } ==
      Map("0.jsonl" -> 1, "1.jsonl" -> 1, "2.jsonl" -> 2, "3.jsonl" -> 1), files.map(_.getName).mkString(", "))
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
