package featurestore.spark

import org.apache.spark.sql.connector.metric.{CustomAvgMetric, CustomMetric, CustomSumMetric, CustomTaskMetric}

/**
 * The native writer's counters and the custom metrics the Spark UI shows for a write.
 *
 * The native side returns its counters as one `long[]` in the order of `featurestore_core::metrics::METRIC_NAMES`;
 * [[Metrics.NativeNames]] repeats that order and a test checks it equals the native constant. The UI metrics are
 * derived from those counters; a test checks that the names a write declares
 * ([[Metrics.supportedCustomMetrics]]) equal the names its tasks report ([[Metrics.taskMetrics]]).
 */
object Metrics {

  /** `featurestore_core::metrics::METRIC_NAMES`, in order. */
  val NativeNames: IndexedSeq[String] = IndexedSeq(
    "rowsAccepted",
    "rowsAcknowledged",
    "rowsFailed",
    "rowsRetried",
    "requestsThrottled",
    "requests",
    "bytesSent",
    "rowsDryRun",
    "requestLatencyTotalMs",
    "requestLatencyMaxMs",
    "requestLatencyP50Ms",
    "requestLatencyP99Ms",
    "adaptiveRate",
    "rowsDeleted")

  private def at(name: String): Int = NativeNames.indexOf(name)
  val RowsAccepted: Int = at("rowsAccepted")
  val RowsAcknowledged: Int = at("rowsAcknowledged")
  val RowsFailed: Int = at("rowsFailed")
  val RowsRetried: Int = at("rowsRetried")
  val RequestsThrottled: Int = at("requestsThrottled")
  val Requests: Int = at("requests")
  val BytesSent: Int = at("bytesSent")
  val RowsDryRun: Int = at("rowsDryRun")
  val LatencyTotalMs: Int = at("requestLatencyTotalMs")
  val LatencyMaxMs: Int = at("requestLatencyMaxMs")
  val LatencyP50Ms: Int = at("requestLatencyP50Ms")
  val LatencyP99Ms: Int = at("requestLatencyP99Ms")
  val AdaptiveRate: Int = at("adaptiveRate")
  val RowsDeleted: Int = at("rowsDeleted")

  /** Counters that are a level, not a count: a job's value is the highest of its tasks', not their sum. */
  val Levels: Set[Int] = Set(LatencyMaxMs, LatencyP50Ms, LatencyP99Ms, AdaptiveRate)

  /**
   * Records the service acknowledged as written (in a dry run, none: rows that encode are counted as validated;
   * in a delete, none: the records it deleted count as acknowledged too, and as [[deleted]]).
   */
  def written(counters: Array[Long]): Long = counters(RowsAcknowledged) - counters(RowsDryRun) - counters(RowsDeleted)

  /** Records the service deleted (`operation=delete`). */
  def deleted(counters: Array[Long]): Long = counters(RowsDeleted)

  /** The UI metrics of a write, by name; each class is public, top-level and no-arg, as Spark requires. */
  def supportedCustomMetrics: Array[CustomMetric] = Array(
    new RecordsWrittenMetric,
    new RecordsDeletedMetric,
    new RecordsFailedMetric,
    new RecordsRetriedMetric,
    new RequestsThrottledMetric,
    new ThrottledShareMetric,
    new AdaptiveRateMetric,
    new RequestLatencyAvgMetric,
    new RequestLatencyP99Metric)

  /** A task's values of the UI metrics, from its native counters. */
  def taskMetrics(counters: Array[Long]): Array[CustomTaskMetric] = {
    val requests = counters(Requests)
    val averageLatency = if (requests == 0) 0L else counters(LatencyTotalMs) / requests
    Array(
      TaskMetric(RecordsWrittenMetric.Name, written(counters)),
      TaskMetric(RecordsDeletedMetric.Name, deleted(counters)),
      TaskMetric(RecordsFailedMetric.Name, counters(RowsFailed)),
      TaskMetric(RecordsRetriedMetric.Name, counters(RowsRetried)),
      TaskMetric(RequestsThrottledMetric.Name, counters(RequestsThrottled)),
      TaskMetric(ThrottledShareMetric.Name, ThrottledShareMetric.pack(counters(Requests), counters(RequestsThrottled))),
      TaskMetric(AdaptiveRateMetric.Name, counters(AdaptiveRate)),
      TaskMetric(RequestLatencyAvgMetric.Name, averageLatency),
      TaskMetric(RequestLatencyP99Metric.Name, counters(LatencyP99Ms)))
  }

  private final case class TaskMetric(name: String, value: Long) extends CustomTaskMetric
}

class RecordsWrittenMetric extends CustomSumMetric {
  override def name(): String = RecordsWrittenMetric.Name
  override def description(): String = "records written"
}
object RecordsWrittenMetric { val Name = "recordsWritten" }

class RecordsDeletedMetric extends CustomSumMetric {
  override def name(): String = RecordsDeletedMetric.Name
  override def description(): String = "records deleted"
}
object RecordsDeletedMetric { val Name = "recordsDeleted" }

class RecordsFailedMetric extends CustomSumMetric {
  override def name(): String = RecordsFailedMetric.Name
  override def description(): String = "records failed"
}
object RecordsFailedMetric { val Name = "recordsFailed" }

class RecordsRetriedMetric extends CustomSumMetric {
  override def name(): String = RecordsRetriedMetric.Name
  override def description(): String = "record retries"
}
object RecordsRetriedMetric { val Name = "recordsRetried" }

class RequestsThrottledMetric extends CustomSumMetric {
  override def name(): String = RequestsThrottledMetric.Name
  override def description(): String = "requests throttled"
}
object RequestsThrottledMetric { val Name = "requestsThrottled" }

/**
 * The share of requests throttled over the write: Spark aggregates one value per task, so each task's value
 * carries both of its counts (requests in the high 32 bits, throttled in the low), and the aggregate divides the
 * sums.
 */
class ThrottledShareMetric extends CustomMetric {
  override def name(): String = ThrottledShareMetric.Name
  override def description(): String = "share of requests throttled"
  override def aggregateTaskMetrics(taskMetrics: Array[Long]): String = {
    val requests = taskMetrics.map(_ >>> 32).sum
    val throttled = taskMetrics.map(_ & 0xFFFFFFFFL).sum
    ThrottledShareMetric.describe(requests, throttled)
  }
}
object ThrottledShareMetric {
  val Name = "throttledShare"

  def pack(requests: Long, throttled: Long): Long =
    (math.min(requests, Int.MaxValue.toLong) << 32) | math.min(throttled, 0xFFFFFFFFL)

  def describe(requests: Long, throttled: Long): String =
    if (requests == 0) "no requests"
    else String.format(java.util.Locale.ROOT, "%.1f%% of %d", Double.box(100.0 * throttled / requests), Long.box(requests))
}

/** The adaptive rate the service's throttling left each executor at, in records/s; the highest over tasks. */
class AdaptiveRateMetric extends CustomMetric {
  override def name(): String = AdaptiveRateMetric.Name
  override def description(): String = "adaptive rate per executor (records/s; 0: the service never limited it)"
  override def aggregateTaskMetrics(taskMetrics: Array[Long]): String =
    if (taskMetrics.isEmpty) "0" else taskMetrics.max.toString
}
object AdaptiveRateMetric { val Name = "adaptiveRate" }

/** The mean over tasks of each task's mean request latency. */
class RequestLatencyAvgMetric extends CustomAvgMetric {
  override def name(): String = RequestLatencyAvgMetric.Name
  override def description(): String = "request latency, mean (ms)"
}
object RequestLatencyAvgMetric { val Name = "requestLatencyAvgMs" }

/** The highest 99th percentile of request latency over tasks. */
class RequestLatencyP99Metric extends CustomMetric {
  override def name(): String = RequestLatencyP99Metric.Name
  override def description(): String = "request latency, p99 of the slowest task (ms)"
  override def aggregateTaskMetrics(taskMetrics: Array[Long]): String =
    if (taskMetrics.isEmpty) "0" else taskMetrics.max.toString
}
object RequestLatencyP99Metric { val Name = "requestLatencyP99Ms" }
