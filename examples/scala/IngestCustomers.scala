// Run: spark-shell --master 'local[*]' --jars featurestore-spark_2.12-0.1.0.jar --conf spark.datasource.featurestore.runtimeEndpoint=http://127.0.0.1:8642 --conf spark.datasource.featurestore.controlEndpoint=http://127.0.0.1:8642 --conf spark.example.rows=100000 -i examples/scala/IngestCustomers.scala < /dev/null
//
// A Scala batch job that writes customer features to the `customers` feature group (examples/feature_groups.py
// creates it). It reads Parquet from `spark.example.input`, or makes up `spark.example.rows` customers.
//
// Run through spark-shell as above (no build), or paste the object into a Maven/sbt project with spark-sql as a
// provided dependency and spark-submit it with `--class IngestCustomers --jars featurestore-spark_2.12-0.1.0.jar`.
// The endpoints above are session options (`spark.datasource.featurestore.<option>`): every featurestore write
// of the session gets them; without them the connector uses the AWS default chain and the region's endpoints.

import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.functions._

object IngestCustomers {

  /** `rows` made-up customers, a pure function of their number. */
  def syntheticCustomers(spark: SparkSession, rows: Long): DataFrame = {
    val n = col("id")
    spark.range(0, rows, 1, spark.sparkContext.defaultParallelism).select(
      format_string("c-%07d", n).as("customer_id"),
      timestamp_seconds(lit(1767225600L) + n % 86400).as("event_time"),
      (lit(18) + n % 60).cast("int").as("age"),
      ((n * 7919) % 500000 / lit(100.0)).as("lifetime_value"),
      element_at(array(lit("new"), lit("regular"), lit("vip")), (n % 3 + 1).cast("int")).as("segment"),
      date_add(lit("2020-01-01").cast("date"), (n % 1500).cast("int")).as("signup_date"),
      (n % 4 =!= 0).as("is_active"))
  }

  def run(spark: SparkSession): Unit = {
    val conf = spark.conf
    val group = conf.get("spark.example.featureGroup", "customers")
    val customers = conf.getOption("spark.example.input") match {
      case Some(path) => spark.read.parquet(path)
      case None => syntheticCustomers(spark, conf.get("spark.example.rows", "1000").toLong)
    }
    customers.write
      .format("featurestore")
      .option("featureGroupName", group)
      .mode("append")
      .save() // prints the connector's summary line; fails if any record failed (maxFailedRecords = 0)

    val summary = featurestore.spark.WriteSummaries.last(group).get
    println(s"IngestCustomers: ${summary.written} of ${summary.accepted} customers written to $group")
  }

  def main(args: Array[String]): Unit = {
    val spark = SparkSession.builder().appName("ingest-customers").getOrCreate()
    try run(spark) finally spark.stop()
  }
}

// spark-shell -i runs what follows; a failure must end the shell with a non-zero exit code.
try {
  IngestCustomers.run(spark)
  System.exit(0)
} catch {
  case e: Throwable =>
    e.printStackTrace()
    System.exit(1)
}
