package featurestore.spark

import org.apache.logging.log4j.Level
import org.apache.spark.sql.SparkSession

/**
 * A driver of its own, started by [[RateCeilingSuite]] in a child JVM: the suites' shared SparkSession cannot
 * change its master, and one JVM holds one SparkContext at a time. Each write gets a new SparkContext, with its
 * own master and `spark.default.parallelism=1`:
 *   - `local[4]`: 4 tasks run at once where planning assumes 1;
 *   - `local-cluster[2,2,1024]`: a standalone master and two workers in this JVM, and two executors of 2 cores
 *     in JVMs of their own, which reach the driver's endpoint over the network (127.0.0.1).
 * Each write goes twice, without and then with the ceiling (a JVM's first job spends seconds loading and
 * compiling, which would hide the rate of the one timed); one [[RateCeilingChild.Marker]] line per write tells
 * about the second.
 *
 * Arguments: the store's endpoint, then for each write: master, group, rows, partitions, maxRecordsPerSecond.
 */
object RateCeilingChild {
  val Marker = "rate-ceiling-child:"

  def main(args: Array[String]): Unit = {
    val endpoint = args(0)
    args.drop(1).grouped(5).foreach { case Array(master, group, rows, partitions, ceiling) =>
      val spark = session(master)
      try {
        val df = spark.range(0, rows.toLong, 1, partitions.toInt)
          .selectExpr("concat('c', id) AS id", "timestamp_millis(1704164645678 + id) AS ts", "id AS n")
        val options = Map(
          "featureGroupName" -> group, "runtimeEndpoint" -> endpoint, "controlEndpoint" -> endpoint,
          "region" -> "us-east-1", "accessKeyId" -> "featurestore-test",
          "secretAccessKey" -> "featurestore-test-secret")
        df.write.format("featurestore").options(options).mode("append").save()
        val started = System.nanoTime()
        val (_, lines) = LogCapture.during("featurestore.spark.RateCeiling") {
          df.write.format("featurestore").options(options + ("maxRecordsPerSecond" -> ceiling)).mode("append").save()
        }
        val seconds = (System.nanoTime() - started) / 1e9
        val written = WriteSummaries.last(group).map(_.written).getOrElse(-1L)
        val warnings = lines.count(_.level.isMoreSpecificThan(Level.WARN))
        println(s"$Marker group=$group seconds=$seconds written=$written warnings=$warnings " +
          s"executors=${spark.sparkContext.statusTracker.getExecutorInfos.length - 1} " +
          s"openWrites=${RateCeilingExecutor.openWrites} registeredWrites=${RateCeilingDriver.registeredWrites}")
      } finally spark.stop()
    }
  }

  private def session(master: String): SparkSession = {
    val builder = SparkSession.builder()
      .master(master)
      .appName(s"featurestore-spark rate ceiling, $master")
      .config("spark.default.parallelism", "1")
      .config("spark.ui.enabled", "false")
      .config("spark.driver.bindAddress", "127.0.0.1")
      .config("spark.driver.host", "127.0.0.1")
    if (master.startsWith("local-cluster")) {
      // Executors get this JVM's class path under spark.testing (Spark's own way for local-cluster tests).
      sys.props("spark.testing") = "true"
      sys.props("spark.test.home") = sys.env("SPARK_HOME")
      val log = sys.props("featurestore.test.log").stripSuffix(".log") + "-executors.log"
      builder
        .config("spark.executor.extraJavaOptions",
          s"-Djava.library.path=${sys.props("java.library.path")} -Dfeaturestore.test.log=$log")
        .config("spark.executor.cores", "2")
        .config("spark.executor.memory", "512m")
    }
    val spark = builder.getOrCreate()
    if (master.startsWith("local-cluster")) awaitExecutors(spark, 2)
    spark
  }

  /** Executors start in the background: the timed write must find both. */
  private def awaitExecutors(spark: SparkSession, count: Int): Unit = {
    val deadline = System.nanoTime() + 300L * 1000 * 1000 * 1000
    def registered = spark.sparkContext.statusTracker.getExecutorInfos.length - 1 // less the driver
    while (registered < count && System.nanoTime() < deadline) Thread.sleep(200)
    require(registered >= count, s"$registered of $count executors registered")
  }
}
