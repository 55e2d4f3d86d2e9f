package featurestore.spark

import java.nio.file.Files
import java.util.{Collections, Properties}

import scala.collection.JavaConverters._

import org.apache.kafka.clients.admin.{AdminClient, AdminClientConfig, NewTopic}
import org.apache.kafka.clients.producer.{KafkaProducer, ProducerConfig, ProducerRecord}
import org.apache.kafka.common.serialization.StringSerializer
import org.apache.spark.sql.functions.{col, from_json}
import org.apache.spark.sql.streaming.StreamingQuery
import org.apache.spark.sql.types.{LongType, StringType, StructField, StructType}
import org.scalatest.funsuite.AnyFunSuite

/**
 * Spark's own `kafka` source (spark-sql-kafka-0-10 of the Spark line under test) into
 * `writeStream.format("featurestore")`, from the real broker of tests/kafka/kafkabroker.py that
 * scripts/test/30-jvm.sh starts and gives as FEATURESTORE_KAFKA_BOOTSTRAP: a query stopped and restarted from its
 * checkpoint resumes at the committed offsets, and every event ends up in the store once.
 */
class KafkaStreamingSuite extends AnyFunSuite {
  private lazy val spark = TestEnv.spark
  private lazy val store = TestEnv.store

  /** The broker's bootstrap servers; only ever one on 127.0.0.1 (Maven passes the literal `${env...}` if unset). */
  private lazy val bootstrap: String = sys.props.get("featurestore.kafka.bootstrap").filter(_.startsWith("127.0.0.1:"))
    .getOrElse(sys.error("featurestore.kafka.bootstrap is not set: run the suites through scripts/test/30-jvm.sh, " +
      "or start a broker with `python tests/kafka/kafkabroker.py serve --data-dir DIR` and export " +
      "FEATURESTORE_KAFKA_BOOTSTRAP"))

  private val eventSchema = StructType(Seq(StructField("user", StringType), StructField("ts", LongType),
    StructField("clicks", LongType)))
  private val baseMillis = 1704164645000L // 2024-01-02T03:04:05Z

  /** A new topic with one partition, so that maxOffsetsPerTrigger cuts the same epochs on every run. */
  private def createTopic(name: String): Unit = {
    val props = new Properties()
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap)
    val admin = AdminClient.create(props)
    try admin.createTopics(Collections.singleton(new NewTopic(name, 1, 1.toShort))).all().get()
    finally admin.close()
  }

  /** Sends event i as {"user":"u<i>","ts":base+i,"clicks":10*i} for each i, waiting for every acknowledgement. */
  private def produce(topic: String, values: Seq[Long]): Unit = {
    val props = new Properties()
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap)
    props.put(ProducerConfig.ACKS_CONFIG, "all")
    val producer = new KafkaProducer[String, String](props, new StringSerializer, new StringSerializer)
    try {
      val sent = values.map { v =>
        val json = s"""{"user":"u$v","ts":${baseMillis + v},"clicks":${v * 10}}"""
        producer.send(new ProducerRecord(topic, s"u$v", json))
      }
      sent.foreach(_.get())
    } finally producer.close()
  }

  private def sinkMetrics(query: StreamingQuery): Map[String, String] = query.lastProgress.sink.metrics.asScala.toMap

  test("Kafka events are written as they come, and a restart from the checkpoint resumes at the committed offsets") {
    val group = TestEnv.newGroupName("kafka")
    val topic = s"events-$group"
    store.createFeatureGroup(group, "id", "ts", Seq("id" -> "String", "ts" -> "String", "clicks" -> "Integral"))
    createTopic(topic)
    val events = spark.readStream.format("kafka")
      .option("kafka.bootstrap.servers", bootstrap)
      .option("subscribe", topic)
      .option("startingOffsets", "earliest")
      .option("maxOffsetsPerTrigger", "20")
      .load()
      .select(from_json(col("value").cast("string"), eventSchema).as("e"))
      .selectExpr("e.user AS id", "timestamp_millis(e.ts) AS ts", "e.clicks AS clicks")
    val checkpoint = Files.createTempDirectory("featurestore-kafka-checkpoint-").toFile
    def start() = events.writeStream.format("featurestore").options(TestEnv.storeOptions(group))
      .option("checkpointLocation", checkpoint.getPath)
      .start()

    produce(topic, 0L until 50L)
    val first = start()
    try {
      first.processAllAvailable()
      // 50 offsets at 20 per trigger: epochs 0, 1, 2.
      val metrics = sinkMetrics(first)
      assert(metrics("recordsWritten") == "50" && metrics("recordsFailed") == "0" && metrics("lastEpoch") == "2" &&
        metrics("epochsCommitted") == "3", metrics)
    } finally first.stop()
    assert(first.exception.isEmpty, first.exception)

    // Produced while no query runs: the restart must read these 30 and none of the first 50 again
    // (startingOffsets=earliest applies only to a query without a checkpoint).
    produce(topic, 50L until 80L)
    val second = start()
    try {
      second.processAllAvailable()
      val metrics = sinkMetrics(second)
      assert(metrics("recordsWritten") == "30" && metrics("recordsFailed") == "0" && metrics("lastEpoch") == "4" &&
        metrics("epochsCommitted") == "2", metrics)
    } finally second.stop()
    assert(second.exception.isEmpty, second.exception)

    val missing = (0L until 80L).filterNot { v =>
      val millis = f"${v}%03d"
      store.getRecord(group, s"u$v").contains(Map("id" -> s"u$v", "ts" -> s"2024-01-02T03:04:05.${millis}Z",
        "clicks" -> (v * 10).toString))
    }
    assert(missing.isEmpty, s"records not in the store as produced: ${missing.map("u" + _).mkString(", ")}")
  }
}
