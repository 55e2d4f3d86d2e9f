package featurestore.spark

import java.lang.management.ManagementFactory

import org.apache.spark.sql.SparkSession

/**
 * A bench command (not a test): writes N rows of 20 features with local[2] into a new feature group of a local
 * store and prints wall time, records/s and the JVM's CPU time (driver + executors: the client side; the store
 * is another process). Run from the repository root after a build, with a store started by
 * `.venv/bin/python tests/local/fslocal.py serve --data-dir .work/bench-store &` (it prints its endpoint):
 *
 * {{{
 * mvn -q -f jvm/pom.xml -Dnative.skip=true test-compile exec:exec -Dexec.classpathScope=test \
 *   -Dexec.executable=java -Dexec.args="--add-opens=java.base/java.nio=ALL-UNNAMED \
 *   --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
 *   --add-opens=java.base/java.util=ALL-UNNAMED -Dfeaturestore.local.endpoint=<endpoint> \
 *   -Djava.library.path=jvm/target/scala-2.12/native-test -cp %classpath featurestore.spark.WriteBench 1000000 4"
 * }}}
 */
object WriteBench {
  def main(args: Array[String]): Unit = {
    val rows = args.headOption.map(_.toLong).getOrElse(1000000L)
    val partitions = args.lift(1).map(_.toInt).getOrElse(4)
    val spark = SparkSession.builder().master("local[2]").appName("featurestore write bench")
      .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "America/New_York")
      .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    val store = LocalStore.connect()
    try {
      val group = TestEnv.newGroupName("bench")
      val integral = (1 to 8).map(i => s"i$i" -> "Integral")
      val fractional = (1 to 8).map(i => s"f$i" -> "Fractional")
      store.createFeatureGroup(group, "id", "ts",
        Seq("id" -> "String", "ts" -> "String") ++ integral ++ fractional ++ Seq("s1" -> "String", "s2" -> "String"))
      val columns = Seq("concat('r', id) AS id", "timestamp_millis(1704164645000 + id) AS ts") ++
        (1 to 8).map(i => s"id * $i AS i$i") ++ (1 to 8).map(i => s"CAST(id AS DOUBLE) / ${i + 1} AS f$i") ++
        Seq("concat('name-', id) AS s1", "CAST(id % 97 AS STRING) AS s2")
      val df = spark.range(0, rows, 1, partitions).selectExpr(columns: _*)
      val os = ManagementFactory.getOperatingSystemMXBean.asInstanceOf[com.sun.management.OperatingSystemMXBean]
      // Warm-up on a small slice: JIT and the native library's first load are not what we measure.
      df.limit(20000).write.format("featurestore").options(TestEnv.storeOptionsFor(store, group)).mode("append").save()
      val cpu0 = os.getProcessCpuTime
      val t0 = System.nanoTime()
      df.write.format("featurestore").options(TestEnv.storeOptionsFor(store, group)).mode("append").save()
      val seconds = (System.nanoTime() - t0) / 1e9
      val cpuSeconds = (os.getProcessCpuTime - cpu0) / 1e9
      val summary = WriteSummaries.last(group).get
      println(f"rows=$rows partitions=$partitions written=${summary.written} failed=${summary.failed} " +
        f"seconds=$seconds%.2f records_per_s=${rows / seconds}%.0f client_cpu_s=$cpuSeconds%.2f " +
        f"client_cpu_us_per_record=${cpuSeconds * 1e6 / rows}%.2f")
    } finally spark.stop()
  }
}
