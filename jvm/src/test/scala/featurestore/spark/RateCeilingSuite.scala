package featurestore.spark

import java.io.File
import java.lang.management.ManagementFactory
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Paths}
import java.util.concurrent.{Callable, Executors, TimeUnit}
import java.util.concurrent.atomic.AtomicInteger

import scala.collection.JavaConverters._
import scala.io.Source

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions.{col, udf}
import org.apache.spark.sql.types.{LongType, StructField, StructType}
import org.scalatest.concurrent.Eventually._
import org.scalatest.funsuite.AnyFunSuite
import org.scalatest.time.{Millis, Seconds, Span}

/**
 * `maxRecordsPerSecond` as a ceiling for the whole write, shared out by the driver while the tasks run, against
 * the local store. Durations are only checked from below: a ceiling can only make a write slower, and this
 * machine may be slower still. A pacer lets one request of 25 records through at once, so each bound allows a
 * burst of [[Burst]] records.
 */
class RateCeilingSuite extends AnyFunSuite {
  private lazy val spark = TestEnv.spark
  private lazy val store = TestEnv.store
  private val Burst = 100

  private def group(prefix: String): String = {
    val name = TestEnv.newGroupName(prefix)
    store.createFeatureGroup(name, "id", "ts", Seq("id" -> "String", "ts" -> "String", "n" -> "Integral"))
    name
  }

  private def rows(count: Int, partitions: Int): DataFrame =
    spark.range(0, count, 1, partitions)
      .selectExpr("concat('c', id) AS id", "timestamp_millis(1704164645678 + id) AS ts", "id AS n")

  private def write(df: DataFrame, group: String, recordsPerSecond: Int, more: Map[String, String] = Map.empty)
      : Double = {
    val started = System.nanoTime()
    df.write.format("featurestore")
      .options(TestEnv.storeOptions(group) ++ more + ("maxRecordsPerSecond" -> recordsPerSecond.toString))
      .mode("append").save()
    (System.nanoTime() - started) / 1e9
  }

  /** Every record `c0` .. `c<count - 1>` is in the group's online store. */
  private def assertAllLanded(group: String, count: Int): Unit = {
    val missing = (0 until count).filter(i => store.getRecord(group, s"c$i").isEmpty)
    assert(missing.isEmpty, s"${missing.size} records missing from $group, e.g. ${missing.take(5)}")
  }

  test("the ceiling holds when more tasks run at once than planning assumed (local[4], default parallelism 1)") {
    // Planned for one task at a time, 4 run at once: split at planning, each got the whole ceiling (4x over it).
    // A second SparkContext in the same JVM then gets an endpoint of its own.
    val first = group("ceiling-wide")
    val second = group("ceiling-again")
    val before = store.recordsWritten()
    val results = runChild(Seq("local[4]", first, "2000", "4", "400", "local[4]", second, "400", "4", "400"))
    assert(results.size == 2, results)
    val (wide, again) = (results.head, results(1))
    assert(wide("written") == "2000" && again("written") == "400", results)
    assert(wide("seconds").toDouble >= (2000 - Burst) / 400.0, s"2000 records at 400/s: $wide")
    assert(again("seconds").toDouble >= (400 - Burst) / 400.0, s"400 records at 400/s: $again")
    assert(wide("warnings") == "0" && again("warnings") == "0", s"the driver answered every ask: $results")
    assert(results.forall(r => r("openWrites") == "0" && r("registeredWrites") == "0"), results)
    assert(store.recordsWritten() - before == 2 * 2400, "each write went twice, the first without a ceiling")
    assertAllLanded(first, 2000)
    assertAllLanded(second, 400)
  }

  test("the ceiling holds across executors in JVMs of their own, which share it over Spark's RPC") {
    // Two executors of 2 cores (local-cluster): each gets half; without the driver's answers each would take the
    // planned share, the whole ceiling, and the job would go at twice it.
    val g = group("ceiling-cluster")
    val before = store.recordsWritten()
    val results = runChild(Seq("local-cluster[2,2,1024]", g, "1600", "8", "200"))
    assert(results.size == 1, results)
    val cluster = results.head
    assert(cluster("executors") == "2" && cluster("written") == "1600", cluster)
    assert(cluster("seconds").toDouble >= (1600 - 2 * Burst) / 200.0, s"1600 records at 200/s: $cluster")
    assert(cluster("registeredWrites") == "0", cluster)
    assert(store.recordsWritten() - before == 2 * 1600, "the write went twice, the first without a ceiling")
    assertAllLanded(g, 1600)
  }

  test("two concurrent writes of one application each keep their own ceiling, and all their records land") {
    val slow = group("ceiling-slow")
    val fast = group("ceiling-fast")
    val before = store.recordsWritten()
    val pool = Executors.newFixedThreadPool(2)
    try {
      def start(g: String, count: Int, partitions: Int, recordsPerSecond: Int) =
        pool.submit(new Callable[Double] {
          def call(): Double = write(rows(count, partitions), g, recordsPerSecond)
        })
      // One partition each: local[2] runs both at once.
      val slowWrite = start(slow, 450, 1, 150)
      val fastWrite = start(fast, 750, 1, 250)
      val slowSeconds = slowWrite.get(300, TimeUnit.SECONDS)
      val fastSeconds = fastWrite.get(300, TimeUnit.SECONDS)
      assert(slowSeconds >= (450 - Burst) / 150.0, s"450 records at 150/s took $slowSeconds s")
      assert(fastSeconds >= (750 - Burst) / 250.0, s"750 records at 250/s took $fastSeconds s")
    } finally pool.shutdownNow()
    assert(WriteSummaries.last(slow).map(_.written).contains(450L))
    assert(WriteSummaries.last(fast).map(_.written).contains(750L))
    assert(store.recordsWritten() - before == 1200)
    assertAllLanded(slow, 450)
    assertAllLanded(fast, 750)
  }

  test("the counts go back to zero after a commit, an abort and a failed task; every writer is closed") {
    val g = group("ceiling-counts")
    val writersBefore = Native.openWriterCount()
    val registeredBefore = RateCeilingDriver.registeredWrites
    // What a task sees of this executor's registry while it writes (rows are read after the writer opened).
    RateCeilingSuite.seen.set(0)
    val probe = udf { (n: Long) =>
      RateCeilingSuite.seen.accumulateAndGet(RateCeilingExecutor.openWrites, (a, b) => math.max(a, b))
      n
    }
    // A failed job returns as soon as one task fails; its other tasks end (killed, aborted, closed) a moment
    // later, so the counts are given a few seconds to get back.
    def settled(): Unit = eventually(timeout(Span(10, Seconds)), interval(Span(50, Millis))) {
      assert(RateCeilingExecutor.openWrites == 0, "no write has tasks open in this executor")
      assert(RateCeilingDriver.registeredWrites == registeredBefore, "every write ended at the driver")
      assert(Native.openWriterCount() == writersBefore)
    }

    write(rows(200, 2).withColumn("n", probe(col("n"))), g, 1000)
    assert(RateCeilingSuite.seen.get() >= 1, "the tasks were counted while they wrote")
    settled()

    // An abort: more failed records than allowed fails the job at commit, and Spark aborts the write.
    val nullIds = rows(50, 2).selectExpr("CASE WHEN n < 3 THEN NULL ELSE id END AS id", "ts", "n")
    intercept[Exception](write(nullIds, g, 1000))
    settled()

    // A task that fails while writing: its writer is aborted and closed, the job aborted.
    val failing = udf { (n: Long) =>
      if (n == 42) throw new IllegalStateException("a row that fails its task")
      n
    }
    val error = intercept[Exception](write(rows(100, 2).withColumn("n", failing(col("n"))), g, 1000))
    assert(Iterator.iterate(error: Throwable)(_.getCause).takeWhile(_ != null)
      .exists(_.getMessage.contains("a row that fails its task")), error)
    settled()
  }

  test("a streaming query ends each micro-batch's ceiling at its commit") {
    val g = group("ceiling-stream")
    val registeredBefore = RateCeilingDriver.registeredWrites
    val input = Files.createTempDirectory("featurestore-stream-in-").toFile
    Files.write(new File(input, "part-0.json").toPath,
      (0 until 60).map(v => s"""{"value":$v}""").mkString("", "\n", "\n").getBytes(StandardCharsets.UTF_8))
    val events = spark.readStream.schema(StructType(Seq(StructField("value", LongType)))).json(input.getPath)
      .selectExpr("concat('c', value) AS id", "timestamp_millis(1704164645000 + value) AS ts", "value AS n")
    val query = events.writeStream.format("featurestore").options(TestEnv.storeOptions(g))
      .option("maxRecordsPerSecond", "1000")
      .option("checkpointLocation", Files.createTempDirectory("featurestore-checkpoint-").toFile.getPath)
      .start()
    try query.processAllAvailable()
    finally query.stop()
    assert(query.exception.isEmpty, query.exception)
    assert(WriteSummaries.last(g).map(_.written).contains(60L))
    assert(RateCeilingExecutor.openWrites == 0)
    assert(RateCeilingDriver.registeredWrites == registeredBefore)
  }

  /**
   * Runs [[RateCeilingChild]] with `writeArgs` in a JVM started like this one (same class path, native library
   * path and JVM options); returns its result lines as maps.
   */
  private def runChild(writeArgs: Seq[String]): Seq[Map[String, String]] = {
    val java = Paths.get(sys.props("java.home"), "bin", "java").toString
    val buildDir = sys.props.getOrElse("featurestore.build.dir", sys.props("java.io.tmpdir"))
    val jvmOptions = ManagementFactory.getRuntimeMXBean.getInputArguments.asScala
      .filterNot(o => o.startsWith("-Xmx") || o.startsWith("-agentlib") || o.startsWith("-javaagent") ||
        o.startsWith("-Dfeaturestore.test.log="))
    val command = Seq(java) ++ jvmOptions ++ Seq("-Xmx1g", s"-Dfeaturestore.test.log=$buildDir/test-run-child.log",
      "-cp", sys.props("java.class.path"), RateCeilingChild.getClass.getName.stripSuffix("$"), store.endpoint) ++
      writeArgs
    val output = Files.createTempFile("featurestore-rate-ceiling-child-", ".out").toFile
    val builder = new ProcessBuilder(command: _*).redirectErrorStream(true).redirectOutput(output)
    // What local-cluster needs to start executors from this class path (as Spark's own tests do), on 127.0.0.1.
    val environment = builder.environment()
    environment.put("SPARK_HOME", Files.createTempDirectory("featurestore-spark-home-").toString)
    environment.put("SPARK_TESTING", "1")
    environment.put("SPARK_SCALA_VERSION", scala.util.Properties.versionNumberString.split('.').take(2).mkString("."))
    environment.put("SPARK_LOCAL_IP", "127.0.0.1")
    environment.put("SPARK_LOCAL_HOSTNAME", "127.0.0.1")
    val process = builder.start()
    val finished = process.waitFor(600, TimeUnit.SECONDS)
    if (!finished) process.destroyForcibly()
    val source = Source.fromFile(output, "UTF-8")
    val text = try source.mkString finally source.close()
    assert(finished && process.exitValue() == 0, s"the child driver failed:\n${text.takeRight(8000)}")
    text.linesIterator.filter(_.startsWith(RateCeilingChild.Marker)).map { line =>
      line.stripPrefix(RateCeilingChild.Marker).trim.split(" ").map { pair =>
        val Array(k, v) = pair.split("=", 2)
        k -> v
      }.toMap
    }.toList
  }
}

object RateCeilingSuite {
  // Written by tasks, read by the test: a field of an object, so that the task's closure does not carry a copy.
  val seen = new AtomicInteger()
}
