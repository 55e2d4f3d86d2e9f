package featurestore.spark

import java.io.File

import org.apache.spark.TaskContext
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.featurestore.ParquetJob
import org.apache.spark.sql.types.{LongType, StringType, StructType}
import org.apache.spark.unsafe.types.UTF8String
import org.scalatest.funsuite.AnyFunSuite

/**
 * `offlineWrite=direct` on the local SparkSession into the real local store's offline store on disk (its
 * ResolvedOutputS3Uri mapped under the store's data directory with `offlineFileSystem`): the rows Spark reads back,
 * their hour directories in UTC, the rows the API path's rules refuse, and no temporary file left.
 */
class OfflineDirectSuite extends AnyFunSuite {
  private lazy val spark = TestEnv.spark
  private lazy val store = TestEnv.store
  /** 2024-01-01T22:30:00Z. */
  private val StartMs = 1704148200000L

  private def dataDir: String = sys.props.getOrElse("featurestore.local.dataDir", sys.error("no data directory"))

  private def files(dir: File): Seq[File] =
    Option(dir.listFiles()).toSeq.flatten.flatMap(f => if (f.isDirectory) files(f) :+ f else Seq(f))

  test("a direct write lands in the hour directories of its event times, each row once, refused rows counted") {
    val group = TestEnv.newGroupName("direct")
    store.createFeatureGroup(group, "id", "ts", Seq("id" -> "String", "ts" -> "String", "n" -> "Integral",
      "x" -> "Fractional"), offlineS3Uri = Some(s"s3://direct-suite/$group"))
    // 3,000 rows two seconds apart from 22:30 UTC (hours 22 and 23 of Jan 1, hour 0 of Jan 2); the last has no id.
    val rows = spark.range(0, 3000, 1, 2).selectExpr("IF(id = 2999, NULL, concat('r', id)) AS id",
      s"timestamp_millis($StartMs + id * 2000) AS ts", "id AS n", "id / 4.0D AS x")
    rows.write.format("featurestore").options(TestEnv.storeOptions(group)).option("targetStores", "OfflineStore")
      .option("offlineWrite", "direct").option("offlineFileSystem", s"file://$dataDir/s3/")
      .option("maxFailedRecords", "1").mode("append").save()

    val summary = WriteSummaries.last(group).get
    assert(summary.written == 2999 && summary.failed == 1 && summary.accepted == 3000, summary.line)
    assert(summary.line.startsWith(s"featurestore write to '$group': 2999 records written, 1 failed"), summary.line)
    assert(store.getRecord(group, "r0").isEmpty, "nothing went through the API")

    val dir = store.offlineDir(group)
    assert(!files(dir).exists(f => f.getName.startsWith("_")), files(dir))
    val read = spark.read.parquet(dir.getPath)
    assert(read.count() == 2999 && read.select("id").distinct().count() == 2999)
    val byHour = read.groupBy("day", "hour").count().collect().map(r => (r.getInt(0), r.getInt(1)) -> r.getLong(2)).toMap
    assert(byHour == Map((1, 22) -> 900L, (1, 23) -> 1800L, (2, 0) -> 299L), byHour)
    val r1 = read.where("id = 'r1801'").collect().head
    assert(r1.getAs[String]("ts") == "2024-01-01T23:30:02.000Z" && r1.getAs[Long]("n") == 1801L &&
      r1.getAs[Double]("x") == 450.25 && !r1.getAs[Boolean]("is_deleted"), r1)
  }

  test("a direct write to a group without an offline store, or with targetStores unset, is refused on the driver") {
    val group = TestEnv.newGroupName("online-only")
    store.createFeatureGroup(group, "id", "ts", Seq("id" -> "String", "ts" -> "String"))
    val df = spark.range(1).selectExpr("'a' AS id", "'2024-01-01T00:00:00Z' AS ts")
    val unset = intercept[FeatureStoreValidationException] {
      df.write.format("featurestore").options(TestEnv.storeOptions(group)).option("offlineWrite", "direct")
        .mode("append").save()
    }
    assert(unset.getMessage.contains("targetStores: must be OfflineStore with offlineWrite=direct"), unset.getMessage)
    val none = intercept[Exception] {
      df.write.format("featurestore").options(TestEnv.storeOptions(group)).option("offlineWrite", "direct")
        .option("targetStores", "OfflineStore").mode("append").save()
    }
    assert(none.getMessage.contains("it has no offline store"), none.getMessage)
  }

  test("only committed task attempts reach the output: an aborted attempt's files and a lost attempt's are dropped") {
    val out = java.nio.file.Files.createTempDirectory("featurestore-commit-").toFile
    val schema = new StructType().add("id", StringType).add("n", LongType)
    val job = ParquetJob.create(spark, out.toURI.toString, schema)
    job.setupJob()
    val messages = spark.sparkContext.parallelize(0 until 2, 2)
      .mapPartitions(_ => Iterator(OfflineDirectSuite.attempts(job))).collect()
    // Before the job commits nothing is in place.
    assert(!files(out).exists(f => f.getName.endsWith(".parquet") && !f.getPath.contains("_temporary")))
    job.commitJob(messages.toSeq)
    val visible = files(out).filter(f => f.getName.endsWith(".parquet"))
    assert(visible.size == 4 && !files(out).exists(_.getName.startsWith("_")), files(out))
    val read = spark.read.parquet(out.getPath)
    assert(read.count() == 200 && read.select("id").distinct().count() == 200)
    assert(read.where("id LIKE 'lost%' OR id LIKE 'aborted%'").count() == 0)
  }
}

object OfflineDirectSuite {
  /**
   * In a Spark task: an attempt that writes and aborts (a failed attempt), one that writes and is never committed
   * or aborted (an executor lost, a losing speculative copy), then the task's own attempt, which commits 100 rows
   * into two hour directories. Returns that attempt's commit message.
   */
  def attempts(job: ParquetJob): AnyRef = {
    val context = TaskContext.get()
    val partition = context.partitionId()
    def row(prefix: String, i: Int): InternalRow = InternalRow(UTF8String.fromString(s"$prefix-$partition-$i"), i.toLong)
    val aborted = job.newTask(partition, context.attemptNumber() + 10, maxOpenFiles = 4)
    (0 until 50).foreach(i => aborted.write("hour=01", row("aborted", i)))
    aborted.abort()
    val lost = job.newTask(partition, context.attemptNumber() + 20, maxOpenFiles = 4)
    (0 until 50).foreach(i => lost.write("hour=01", row("lost", i)))
    val task = job.newTask(partition, context.attemptNumber(), maxOpenFiles = 4)
    (0 until 100).foreach(i => task.write(if (i < 50) "hour=01" else "hour=02", row("kept", i)))
    task.commit()
  }
}
