package featurestore.spark

import java.util.concurrent.atomic.AtomicInteger

import org.apache.spark.sql.SparkSession

/**
 * One local store and one SparkSession (local[2], stopped when the JVM exits) for every suite of the run.
 * The session's time zone is not UTC on purpose: the engine must write event times in UTC regardless.
 */
object TestEnv {
  lazy val store: LocalStore = LocalStore.connect()

  lazy val spark: SparkSession = {
    val session = SparkSession.builder()
      .master("local[2]")
      .appName("featurestore-spark tests")
      .config("spark.ui.enabled", "false")
      .config("spark.sql.shuffle.partitions", "2")
      .config("spark.sql.session.timeZone", "America/New_York")
      .config("spark.driver.bindAddress", "127.0.0.1")
      .config("spark.driver.host", "127.0.0.1")
      .getOrCreate()
    sys.addShutdownHook(session.stop())
    session
  }

  private val groups = new AtomicInteger()

  /** A fresh feature group name per test, so tests never see each other's records. */
  def newGroupName(prefix: String): String = s"$prefix-${groups.incrementAndGet()}-${System.nanoTime() % 100000}"

  /** The options every write to the local store needs. */
  def storeOptions(group: String): Map[String, String] = storeOptionsFor(store, group)

  def storeOptionsFor(store: LocalStore, group: String): Map[String, String] = Map(
    "featureGroupName" -> group,
    "runtimeEndpoint" -> store.endpoint,
    "controlEndpoint" -> store.endpoint,
    "region" -> "us-east-1",
    "accessKeyId" -> "featurestore-test",
    "secretAccessKey" -> "featurestore-test-secret")
}
