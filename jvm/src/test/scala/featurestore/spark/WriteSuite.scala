package featurestore.spark

import java.io.File
import java.nio.file.Files

import scala.collection.JavaConverters._
import scala.io.Source

import org.apache.spark.scheduler.{SparkListener, SparkListenerTaskEnd, SparkListenerTaskStart}
import org.apache.spark.sql.{AnalysisException, DataFrame}
import org.scalatest.funsuite.AnyFunSuite

/**
 * `df.write.format("featurestore")` end to end on a local SparkSession (local[2], session time zone
 * America/New_York) against the real local Feature Store.
 */
class WriteSuite extends AnyFunSuite {
  private lazy val spark = TestEnv.spark
  private lazy val store = TestEnv.store

  /** A feature group with the usual scalar features; returns its name. */
  private def customers(prefix: String): String = {
    val group = TestEnv.newGroupName(prefix)
    store.createFeatureGroup(group, "id", "ts", Seq(
      "id" -> "String", "ts" -> "String", "age" -> "Integral", "score" -> "Fractional", "name" -> "String",
      "balance" -> "Fractional"))
    group
  }

  /** `rows` customers over `partitions` partitions; event times from 2024-01-02T03:04:05.678Z on, 1 ms apart. */
  private def customerRows(rows: Int, partitions: Int = 4): DataFrame =
    spark.range(0, rows, 1, partitions).selectExpr(
      "concat('c', id) AS id",
      "timestamp_millis(1704164645678 + id) AS ts",
      "id * 2 AS age",
      "CAST(id AS DOUBLE) / 4 AS score",
      "concat('name-', id) AS name",
      "CAST(id AS DECIMAL(10, 2)) + 0.3 AS balance")

  private def write(df: DataFrame, options: Map[String, String], mode: String = "append"): Unit =
    df.write.format("featurestore").options(options).mode(mode).save()

  /** Counts tasks started while `body` runs. */
  private def tasksStarted(body: => Unit): Int = {
    val started = new java.util.concurrent.atomic.AtomicInteger()
    val listener = new SparkListener {
      override def onTaskStart(taskStart: SparkListenerTaskStart): Unit = started.incrementAndGet()
    }
    spark.sparkContext.addSparkListener(listener)
    try body
    finally {
      Thread.sleep(500) // listener events are delivered asynchronously
      spark.sparkContext.removeSparkListener(listener)
    }
    started.get()
  }

  for (transport <- Seq("lean", "sdk")) {
    test(s"append writes every row; GetRecord returns exactly the expected strings (transport=$transport)") {
      val group = customers(s"append-$transport")
      val before = store.recordsWritten()
      write(customerRows(500), TestEnv.storeOptions(group) + ("transport" -> transport))
      assert(store.recordsWritten() - before == 500)
      assert(store.getRecord(group, "c3").contains(Map(
        "id" -> "c3", "ts" -> "2024-01-02T03:04:05.681Z", "age" -> "6", "score" -> "0.75", "name" -> "name-3",
        "balance" -> "3.30")))
      assert(store.getRecord(group, "c499").map(_("ts")).contains("2024-01-02T03:04:06.177Z"))
      val summary = WriteSummaries.last(group).get
      assert(summary.written == 500 && summary.failed == 0 && summary.accepted == 500)
      assert(summary.line.startsWith(s"featurestore write to '$group': 500 records written, 0 failed, 0 retried"))
    }
  }

  test("at a group's cap every row lands with its values, none fails, and the summary says the service was the limit") {
    val group = customers("capped")
    store.setFaults(s"""{"max_records_per_second_by_group": {"$group": 1500}}""")
    try write(customerRows(6000), TestEnv.storeOptions(group))
    finally store.setFaults("{}")
    val summary = WriteSummaries.last(group).get
    assert(summary.written == 6000 && summary.failed == 0, summary.line)
    assert(summary.throttled > 0 && summary.adaptiveRate > 0, summary.line)
    assert(summary.line.contains("the service limited the rate: ") && summary.line.contains(" requests throttled"),
      summary.line)
    assert(store.stats().path("by_group").path(group).path("records_written").asLong() == 6000)
    val utcMillis = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
      .withZone(java.time.ZoneOffset.UTC)
    for (i <- Seq(3, 2999, 5999)) {
      assert(store.getRecord(group, s"c$i").contains(Map(
        "id" -> s"c$i", "ts" -> utcMillis.format(java.time.Instant.ofEpochMilli(1704164645678L + i)),
        "age" -> (2 * i).toString, "score" -> (i / 4.0).toString, "name" -> s"name-$i", "balance" -> s"$i.30")),
        s"c$i")
    }
  }

  test("session settings spark.datasource.featurestore.* apply, and write options take precedence") {
    val group = customers("session")
    val options = TestEnv.storeOptions(group)
    options.foreach { case (k, v) => spark.conf.set(s"spark.datasource.featurestore.$k", v) }
    spark.conf.set("spark.datasource.featurestore.featureGroupName", "no-such-group")
    try {
      // Everything but the group comes from the session; the group from the write's own option.
      customerRows(20).write.format("featurestore").option("featureGroupName", group).mode("append").save()
      assert(WriteSummaries.last(group).map(_.written).contains(20))
    } finally options.keys.foreach(k => spark.conf.unset(s"spark.datasource.featurestore.$k"))
  }

  test("every schema problem is reported at once, on the driver, before any task runs") {
    val group = customers("schema")
    val bad = spark.range(3).selectExpr(
      "id AS customer",                 // the record identifier column 'id' is missing
      "array(1.0, 2.0) AS age",         // Integral feature, array column
      "named_struct('a', 1) AS name",   // nested type
      "'x' AS nickname")                // not a feature; event time 'ts' missing too
    var error: Throwable = null
    val tasks = tasksStarted {
      // Thrown as is, on the driver's thread: a task's failure would arrive wrapped in a SparkException.
      error = intercept[FeatureStoreValidationException](write(bad, TestEnv.storeOptions(group)))
    }
    assert(tasks == 0, "the schema check must run before any task")
    val message = error.getMessage
    for (rule <- Seq("missing_record_identifier", "missing_event_time", "unknown_column", "incompatible_type",
        "nested_type_not_supported")) {
      assert(message.contains(rule), message)
    }
    for (column <- Seq("customer", "nickname", "age", "name")) assert(message.contains(s"'$column'"), message)
  }

  test("a target store the group lacks is refused on the driver, before any task runs") {
    val group = customers("no-offline") // an online store only
    var error: Throwable = null
    val tasks = tasksStarted {
      error = intercept[FeatureStoreValidationException](
        write(customerRows(5), TestEnv.storeOptions(group) + ("targetStores" -> "OnlineStore,OfflineStore")))
    }
    assert(tasks == 0, "the group's stores must be checked before any task")
    assert(error.getMessage.contains(s"feature group '$group' cannot take this write: targetStores writes to " +
      "OfflineStore, but it has no offline store"), error.getMessage)
    // The store it has is fine.
    write(customerRows(5), TestEnv.storeOptions(group) + ("targetStores" -> "OnlineStore"))
    assert(store.getRecord(group, "c1").isDefined)
  }

  test("ignoreUnknownColumns lets extra columns through") {
    val group = customers("ignore")
    val df = customerRows(10).selectExpr("*", "'extra' AS nickname")
    intercept[FeatureStoreValidationException](write(df, TestEnv.storeOptions(group)))
    write(df, TestEnv.storeOptions(group) + ("ignoreUnknownColumns" -> "true"))
    assert(store.getRecord(group, "c1").exists(r => !r.contains("nickname") && r("name") == "name-1"))
  }

  test("invalid and unknown options are all reported at once, with the option names users wrote") {
    val group = customers("options")
    val options = TestEnv.storeOptions(group) ++ Map(
      "maxInFlight" -> "0", "api" -> "Fastest", "batchRow" -> "10", "dryRun" -> "maybe",
      "accessKeyId" -> "only-the-key") - "secretAccessKey"
    val error = intercept[FeatureStoreValidationException](write(customerRows(5), options))
    val message = error.getMessage
    assert(message.contains("option maxInFlight: must be integer 1..2147483647 (given '0')"), message)
    assert(message.contains("option api: must be one of auto, BatchWriteRecord, PutRecord"), message)
    assert(message.contains("option batchRow: unknown option (did you mean 'batchRows'?)"), message)
    assert(message.contains("option dryRun: must be true or false"), message)
    // A combination, named by the option it concerns.
    assert(message.contains("option secretAccessKey: is required with accessKeyId"), message)
    assert(!message.contains("only-the-key"), "secrets never appear in messages")
  }

  test("dryRun validates every row, writes nothing, and reports the rows that would fail") {
    val group = customers("dryrun")
    val before = store.recordsWritten()
    val df = customerRows(100).selectExpr("CASE WHEN age = 10 THEN NULL ELSE id END AS id", "ts", "age", "score",
      "name", "balance")
    val dir = Files.createTempDirectory("featurestore-failed-").toFile
    write(df, TestEnv.storeOptions(group) ++ Map("dryRun" -> "true", "failedRecordsPath" -> dir.getPath,
      "maxFailedRecords" -> "5"))
    assert(store.recordsWritten() == before)
    val summary = WriteSummaries.last(group).get
    assert(summary.counters(Metrics.RowsDryRun) == 99 && summary.written == 0 && summary.failed == 1, summary.line)
    assert(summary.line.contains("dry run") && summary.line.contains("99 records validated, nothing written"))
    assert(failedLines(dir).size == 1)
  }

  private def failedLines(dir: File): Seq[String] =
    Option(dir.listFiles()).toSeq.flatten.filter(_.getName.endsWith(".jsonl")).sortBy(_.getName).flatMap { f =>
      val source = Source.fromFile(f, "UTF-8")
      try source.getLines().toList finally source.close()
    }

  test("failed rows go to failedRecordsPath with their values and reason; the rest is written") {
    val group = customers("failed")
    val dir = Files.createTempDirectory("featurestore-failed-").toFile
    // Rows 7 and 8: null record identifier; row 9: NaN for a Fractional feature.
    val df = customerRows(50).selectExpr(
      "CASE WHEN age IN (14, 16) THEN NULL ELSE id END AS id", "ts", "age",
      "CASE WHEN age = 18 THEN CAST('NaN' AS DOUBLE) ELSE score END AS score", "name", "balance")
    write(df, TestEnv.storeOptions(group) ++ Map("failedRecordsPath" -> dir.getPath, "maxFailedRecords" -> "3"))
    val summary = WriteSummaries.last(group).get
    assert(summary.written == 47 && summary.failed == 3 && summary.accepted == 50, summary.line)
    assert(summary.line.contains(s"failed records: ${dir.getPath}") || summary.line.contains("failed records: file:"),
      summary.line)
    val lines = failedLines(dir)
    assert(lines.size == 3, lines)
    val parsed = lines.map(Json.mapper.readTree)
    val codes = parsed.map(_.path("reason").path("code").asText()).sorted
    assert(codes == Seq("non_finite_fractional", "null_record_identifier", "null_record_identifier"), lines)
    val nan = parsed.find(_.path("reason").path("code").asText() == "non_finite_fractional").get
    assert(nan.path("recordIdentifier").asText() == "c9")
    assert(nan.path("reason").path("column").asText() == "score")
    assert(nan.path("values").path("name").asText() == "name-9", lines)
    // Each line names the task attempt that failed it.
    val attempt = nan.path("attempt")
    assert(attempt.path("application").asText() == spark.sparkContext.applicationId, lines)
    assert(attempt.path("partition").asInt() == 0 && attempt.path("attemptNumber").asInt() == 0, lines)
    assert(attempt.path("taskAttemptId").isIntegralNumber && attempt.path("stage").isIntegralNumber, lines)
    assert(!attempt.has("epoch"), lines)
    assert(store.getRecord(group, "c9").isEmpty && store.getRecord(group, "c10").isDefined)
  }

  test("more failures than maxFailedRecords fail the job at commit, after every other row was attempted") {
    val group = customers("threshold")
    val dir = Files.createTempDirectory("featurestore-failed-").toFile
    val df = customerRows(40).selectExpr("CASE WHEN age < 6 THEN NULL ELSE id END AS id", "ts", "age", "score",
      "name", "balance")
    val error = intercept[Exception] {
      write(df, TestEnv.storeOptions(group) ++ Map("failedRecordsPath" -> dir.getPath, "maxFailedRecords" -> "2"))
    }
    val cause = Iterator.iterate(error: Throwable)(_.getCause).takeWhile(_ != null)
      .collectFirst { case f: FeatureStoreFailedRecordsException => f }
      .getOrElse(fail(s"not a failed-records error: $error"))
    assert(cause.recordsFailed == 3 && cause.recordsWritten == 37)
    assert(cause.getMessage.contains("3 of 40 records failed") && cause.getMessage.contains("maxFailedRecords = 2"))
    assert(cause.getMessage.contains(dir.getName), cause.getMessage)
    assert(store.getRecord(group, "c39").isDefined, "every other row was attempted and written")
    assert(failedLines(dir).size == 3)
  }

  test("failed-records files of two writes to one path never overwrite each other, and name the application") {
    val group = customers("failed-twice")
    val dir = Files.createTempDirectory("featurestore-failed-").toFile
    val df = customerRows(10, partitions = 1).selectExpr("CASE WHEN age = 0 THEN NULL ELSE id END AS id", "ts",
      "age", "score", "name", "balance")
    val options = TestEnv.storeOptions(group) ++ Map("failedRecordsPath" -> dir.getPath, "maxFailedRecords" -> "5")
    write(df, options)
    write(df, options)
    val files = dir.listFiles().toSeq.map(_.getName).filter(_.endsWith(".jsonl"))
    assert(files.size == 2 && failedLines(dir).size == 2, files)
    assert(files.forall(_.startsWith(s"failed-${spark.sparkContext.applicationId}-")), files)
    assert(WriteSummaries.last(group).get.failedRecordsFiles.size == 1)
  }

  test("without failedRecordsPath the default maxFailedRecords = 0 fails the job and says how to keep them") {
    val group = customers("nopath")
    val df = customerRows(10).selectExpr("CASE WHEN age = 0 THEN NULL ELSE id END AS id", "ts", "age", "score",
      "name", "balance")
    val error = intercept[Exception](write(df, TestEnv.storeOptions(group)))
    val text = Iterator.iterate(error: Throwable)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString(" | ")
    assert(text.contains("1 of 10 records failed") && text.contains("set the failedRecordsPath option"), text)
  }

  test("a loop of small writes describes the group once; a group changed meanwhile is described again") {
    val group = customers("loop")
    val before = store.requestsOf("DescribeFeatureGroup")
    for (_ <- 1 to 5) write(customerRows(10, partitions = 1), TestEnv.storeOptions(group))
    assert(store.requestsOf("DescribeFeatureGroup") == before + 1)
    // The group recreated with one more feature: the kept answer lacks it, so the write describes again.
    store.deleteFeatureGroup(group)
    store.createFeatureGroup(group, "id", "ts", Seq("id" -> "String", "ts" -> "String", "age" -> "Integral",
      "score" -> "Fractional", "name" -> "String", "balance" -> "Fractional", "tier" -> "String"))
    write(customerRows(10, partitions = 1).selectExpr("*", "'gold' AS tier"), TestEnv.storeOptions(group))
    assert(store.requestsOf("DescribeFeatureGroup") == before + 2)
    assert(store.getRecord(group, "c3").exists(_.get("tier").contains("gold")))
  }

  test("only mode append is accepted; the others get a clear message") {
    val group = customers("modes")
    val overwrite = intercept[FeatureStoreValidationException](
      write(customerRows(3), TestEnv.storeOptions(group), "overwrite"))
    assert(overwrite.getMessage.contains("featurestore supports only mode(\"append\")"), overwrite.getMessage)
    for (mode <- Seq("errorifexists", "ignore")) {
      val error = intercept[AnalysisException](write(customerRows(3), TestEnv.storeOptions(group), mode))
      assert(error.getMessage.toLowerCase.contains(mode.replace("errorifexists", "errorifexists")), error.getMessage)
    }
    assert(store.getRecord(group, "c0").isEmpty)
  }

  test("api=PutRecord and recordsPerRequest shape the calls; targetStores and ttlDuration are accepted") {
    val group = customers("api")
    val puts = store.requestsOf("PutRecord")
    write(customerRows(30), TestEnv.storeOptions(group) ++ Map("api" -> "putrecord", "targetStores" -> "OnlineStore",
      "ttlDuration" -> "7 days"))
    assert(store.requestsOf("PutRecord") - puts == 30)
    val batches = store.requestsOf("BatchWriteRecord")
    write(customerRows(30), TestEnv.storeOptions(group) ++ Map("api" -> "BatchWriteRecord",
      "recordsPerRequest" -> "10", "batchRows" -> "30"))
    assert(store.requestsOf("BatchWriteRecord") - batches >= 3)
    assert(store.getRecord(group, "c29").isDefined)
  }

  test("small batchRows and batchBytes cut many batches and lose nothing") {
    val group = customers("batches")
    write(customerRows(1000, partitions = 2), TestEnv.storeOptions(group) ++ Map("batchRows" -> "7",
      "batchBytes" -> "2048"))
    val summary = WriteSummaries.last(group).get
    assert(summary.written == 1000 && summary.accepted == 1000)
  }

  test("the accounting invariant: rows accepted = written + failed, summed over every task") {
    val group = customers("invariant")
    val dir = Files.createTempDirectory("featurestore-failed-").toFile
    val df = customerRows(2000, partitions = 8).selectExpr(
      "CASE WHEN age % 14 = 0 THEN NULL ELSE id END AS id", "ts", "age", "score", "name", "balance")
    write(df, TestEnv.storeOptions(group) ++ Map("failedRecordsPath" -> dir.getPath, "maxFailedRecords" -> "1000",
      "batchRows" -> "100"))
    val summary = WriteSummaries.last(group).get
    assert(summary.accepted == 2000)
    assert(summary.written + summary.failed == summary.accepted, summary.line)
    assert(summary.failed == (0 until 2000).count(i => (i * 2) % 14 == 0))
    assert(failedLines(dir).size == summary.failed)
  }

  test("retry limits: throttled calls are retried, then fail the records once the attempts run out") {
    val group = customers("retry")
    val dir = Files.createTempDirectory("featurestore-failed-").toFile
    store.setFaults("""{"throttle_probability": 1.0, "operations": ["BatchWriteRecord", "PutRecord"]}""")
    try {
      write(customerRows(20, partitions = 1), TestEnv.storeOptions(group) ++ Map("retryMaxAttempts" -> "3",
        "retryBaseDelayMs" -> "1", "retryMaxDelayMs" -> "5", "failedRecordsPath" -> dir.getPath,
        "maxFailedRecords" -> "100"))
    } finally store.setFaults("{}")
    val summary = WriteSummaries.last(group).get
    assert(summary.failed == 20 && summary.written == 0, summary.line)
    assert(summary.counters(Metrics.RowsRetried) >= 40 && summary.counters(Metrics.RequestsThrottled) > 0,
      summary.line)
    val origins = failedLines(dir).map(l => Json.mapper.readTree(l).path("reason").path("origin").asText()).distinct
    assert(origins == Seq("RetriesExhausted"), origins)
  }

  test("maxRecordsPerSecond caps the job's rate") {
    val group = customers("rate")
    val started = System.nanoTime()
    write(customerRows(300, partitions = 2), TestEnv.storeOptions(group) ++ Map("maxRecordsPerSecond" -> "200"))
    val seconds = (System.nanoTime() - started) / 1e9
    // 300 records at 200/s (both tasks run in this one executor, which the driver gives all of it) take about
    // 1.5 s: a lower bound only.
    assert(seconds >= 1.0, s"took $seconds s")
    assert(WriteSummaries.last(group).map(_.written).contains(300))
  }

  test("the custom metrics a write declares are the ones its tasks report") {
    val declared = Metrics.supportedCustomMetrics.map(_.name()).toSeq
    val reported = Metrics.taskMetrics(new Array[Long](Metrics.NativeNames.size)).map(_.name()).toSeq
    assert(declared == reported)
    assert(declared.toSet == Set("recordsWritten", "recordsDeleted", "recordsFailed", "recordsRetried", "requestsThrottled",
      "throttledShare", "adaptiveRate", "requestLatencyAvgMs", "requestLatencyP99Ms"))
    // And the write node of a real query carries them, with the records counted.
    val group = customers("metrics")
    val names = new java.util.concurrent.ConcurrentLinkedQueue[String]()
    val listener = new org.apache.spark.sql.util.QueryExecutionListener {
      override def onSuccess(funcName: String, qe: org.apache.spark.sql.execution.QueryExecution, d: Long): Unit =
        qe.executedPlan.foreach(node => node.metrics.keys.foreach(names.add))
      override def onFailure(f: String, qe: org.apache.spark.sql.execution.QueryExecution, e: Exception): Unit = ()
    }
    spark.listenerManager.register(listener)
    try {
      write(customerRows(300), TestEnv.storeOptions(group))
      val deadline = System.nanoTime() + 10000000000L // listener events are delivered asynchronously
      while (!declared.forall(names.asScala.toSet.contains) && System.nanoTime() < deadline) Thread.sleep(50)
    } finally spark.listenerManager.unregister(listener)
    assert(declared.forall(names.asScala.toSet.contains), names)
  }

  test("Spark's standard output metrics are the records written and the bytes sent") {
    val group = customers("output-metrics")
    val records = new java.util.concurrent.atomic.AtomicLong()
    val bytes = new java.util.concurrent.atomic.AtomicLong()
    val listener = new SparkListener {
      override def onTaskEnd(taskEnd: SparkListenerTaskEnd): Unit = Option(taskEnd.taskMetrics).foreach { m =>
        records.addAndGet(m.outputMetrics.recordsWritten)
        bytes.addAndGet(m.outputMetrics.bytesWritten)
      }
    }
    spark.sparkContext.addSparkListener(listener)
    try {
      write(customerRows(3000), TestEnv.storeOptions(group))
      val deadline = System.nanoTime() + 10000000000L // listener events are delivered asynchronously
      while (records.get() < 3000 && System.nanoTime() < deadline) Thread.sleep(50)
    } finally spark.sparkContext.removeSparkListener(listener)
    val summary = WriteSummaries.last(group).get
    assert(records.get() == 3000 && summary.written == 3000, summary.line)
    assert(bytes.get() == summary.counters(Metrics.BytesSent) && bytes.get() > 3000 * 100, bytes.get())
  }

  // Handing rows over: a queue of 50 records is full at once, so the task waits in write(); waiting in commit():
  // every row is queued and the task waits for the answers in flush().
  for ((phase, queued) <- Seq("handing rows over" -> "50", "waiting in commit()" -> "16384")) {
    test(s"a cancelled job's tasks end at once while every call takes 20 s ($phase)") {
      val group = customers("cancel")
      val started = new java.util.concurrent.atomic.AtomicInteger()
      val listener = new SparkListener {
        override def onTaskStart(taskStart: SparkListenerTaskStart): Unit = started.incrementAndGet()
      }
      val sc = spark.sparkContext
      def runningTasks: Int = sc.statusTracker.getExecutorInfos.map(_.numRunningTasks).sum
      def await(condition: => Boolean, seconds: Double): Double = {
        val start = System.nanoTime()
        val deadline = start + (seconds * 1e9).toLong
        while (!condition && System.nanoTime() < deadline) Thread.sleep(20)
        (System.nanoTime() - start) / 1e9
      }
      val writersBefore = Native.openWriterCount()
      store.setFaults("""{"latency_ms": 20000, "operations": ["BatchWriteRecord", "PutRecord"]}""")
      sc.addSparkListener(listener)
      val failure = new java.util.concurrent.atomic.AtomicReference[Throwable]()
      val job = new Thread(() => {
        sc.setJobGroup("featurestore-cancel", "a write to cancel", interruptOnCancel = true)
        try write(customerRows(2000, partitions = 2), TestEnv.storeOptions(group) + ("maxQueuedRecords" -> queued))
        catch { case e: Throwable => failure.set(e) }
      })
      try {
        job.start()
        await(started.get() == 2 && runningTasks == 2, 60)
        Thread.sleep(1000) // both tasks are now waiting for the store's answers
        assert(runningTasks == 2)
        sc.cancelJobGroup("featurestore-cancel")
        // As a user sees it: the executor's active tasks (Spark's status API) drop to zero.
        val seconds = await(runningTasks == 0, 30)
        assert(runningTasks == 0 && seconds < 3, s"$runningTasks tasks still running $seconds s after the cancel")
        info(f"the executor's running tasks were 0 after $seconds%.2f s")
        job.join(30000)
        assert(!job.isAlive && failure.get() != null && failure.get().getMessage.contains("cancelled"),
          String.valueOf(failure.get()))
        assert(await(Native.openWriterCount() == writersBefore, 10) < 10, "a native writer was left open")
      } finally {
        sc.removeSparkListener(listener)
        store.setFaults("{}")
      }
    }
  }

  test("a panic in the engine's I/O tasks fails the task with FeatureStoreInternalException; the executor goes on") {
    val group = customers("panic")
    Native.armFaultForTest("call-task", group, 1)
    val error = intercept[Exception](write(customerRows(200, partitions = 1), TestEnv.storeOptions(group)))
    assert(error.getMessage.contains("FeatureStoreInternalException") && error.getMessage.contains("panic"),
      error.getMessage)
    // The same JVM, the same group: the next write is whole.
    write(customerRows(200, partitions = 1), TestEnv.storeOptions(group))
    assert(WriteSummaries.last(group).get.written == 200)
  }

  test("a writer that settles nothing for longer than any delivery deadline is stopped and its task fails") {
    val group = customers("stall")
    Native.armFaultForTest("call-task-stall", group, 1)
    val writersBefore = Native.openWriterCount()
    val started = System.nanoTime()
    // The stall limit is retryMaxElapsedMs + 2 x requestTimeoutMs + 10 s: 13 s here.
    val error = intercept[Exception](write(customerRows(100, partitions = 1),
      TestEnv.storeOptions(group) ++ Map("retryMaxElapsedMs" -> "1000", "requestTimeoutMs" -> "1000")))
    val seconds = (System.nanoTime() - started) / 1e9
    assert(error.getMessage.contains("settled no record for 13 s"), error.getMessage)
    assert(seconds >= 13 && seconds < 40, seconds)
    assert(Native.openWriterCount() == writersBefore)
  }

  test("every writer is closed when the job ends, whether it succeeded or failed") {
    val group = customers("close")
    val before = Native.openWriterCount()
    write(customerRows(100), TestEnv.storeOptions(group))
    val df = customerRows(10).selectExpr("CASE WHEN age = 0 THEN NULL ELSE id END AS id", "ts", "age", "score",
      "name", "balance")
    intercept[Exception](write(df, TestEnv.storeOptions(group)))
    assert(Native.openWriterCount() == before)
  }
}
