package featurestore.spark

import java.util.Locale

/** A write's totals over its tasks, and the one line the driver prints at the end. */
final case class Summary(
    featureGroup: String,
    counters: Array[Long],
    durationNanos: Long,
    dryRun: Boolean,
    failedRecordsPath: Option[String],
    failedRecordsFiles: Seq[String],
    deleting: Boolean = false) {

  def written: Long = Metrics.written(counters)
  def deleted: Long = Metrics.deleted(counters)
  def failed: Long = counters(Metrics.RowsFailed)
  def accepted: Long = counters(Metrics.RowsAccepted)
  def requests: Long = counters(Metrics.Requests)
  def throttled: Long = counters(Metrics.RequestsThrottled)
  /** The adaptive rate at the end of the write, records/s per executor (0 when the service never limited it). */
  def adaptiveRate: Long = counters(Metrics.AdaptiveRate)

  def line: String = {
    val seconds = durationNanos / 1e9
    val rate = if (seconds > 0) (accepted - failed) / seconds else 0.0
    val where = failedRecordsPath match {
      case Some(path) if failed > 0 => s"failed records: $path (${failedRecordsFiles.size} files)"
      case Some(path) => s"failed records: none (would go to $path)"
      case None if failed > 0 => "failed records: not kept (set failedRecordsPath to keep them)"
      case None => "failed records: none"
    }
    val head = (dryRun, deleting) match {
      case (true, false) =>
        s"featurestore dry run of '$featureGroup': ${counters(Metrics.RowsDryRun)} records validated, nothing written"
      case (true, true) =>
        s"featurestore dry run of a delete from '$featureGroup': ${counters(Metrics.RowsDryRun)} records validated, nothing deleted"
      case (false, false) => s"featurestore write to '$featureGroup': $written records written"
      case (false, true) => s"featurestore delete from '$featureGroup': $deleted records deleted"
    }
    String.format(Locale.ROOT, "%s, %d failed, %d retried, %d throttled in %.1f s (%.0f records/s)%s; %s",
      head, Long.box(failed), Long.box(counters(Metrics.RowsRetried)), Long.box(throttled),
      Double.box(seconds), Double.box(rate), limit, where)
  }

  /** Says when the service was the limit, so that a slow write explains itself. */
  private def limit: String =
    if (throttled == 0) ""
    else {
      val share = ThrottledShareMetric.describe(requests, throttled)
      val settled = if (adaptiveRate > 0) s", adaptive rate at the end $adaptiveRate records/s per executor" else ""
      s"; the service limited the rate: $share requests throttled$settled"
    }
}

object Summary {
  /** Tasks' counters summed, and their levels ([[Metrics.Levels]]) at the highest. */
  def total(commits: Seq[TaskCommit]): Array[Long] = {
    val sum = new Array[Long](Metrics.NativeNames.size)
    for (c <- commits; i <- sum.indices if i < c.counters.length) {
      sum(i) = if (Metrics.Levels(i)) math.max(sum(i), c.counters(i)) else sum(i) + c.counters(i)
    }
    sum
  }

  /**
   * A stream's counters after one more epoch: counts added, latency levels at their highest, and the adaptive
   * rate as the latest epoch left it.
   */
  def accumulate(sofar: Array[Long], epoch: Array[Long]): Array[Long] =
    Array.tabulate(Metrics.NativeNames.size) { i =>
      val (a, b) = (sofar.lift(i).getOrElse(0L), epoch.lift(i).getOrElse(0L))
      if (i == Metrics.AdaptiveRate) b else if (Metrics.Levels(i)) math.max(a, b) else a + b
    }

  /** One task's counts, for its log line. */
  def counts(counters: Array[Long]): String = {
    // Only a delete's tasks delete: a write's line keeps the shape log readers parse.
    val deleted = Metrics.deleted(counters)
    s"${counters(Metrics.RowsAccepted)} rows accepted, ${Metrics.written(counters)} written, " +
      (if (deleted > 0) s"$deleted deleted, " else "") +
      s"${counters(Metrics.RowsFailed)} failed, ${counters(Metrics.RowsRetried)} retried, " +
      s"${counters(Metrics.RequestsThrottled)} throttled, ${counters(Metrics.Requests)} requests"
  }
}

/**
 * The summaries of the latest writes in this driver JVM, by feature group: what the summary line printed, for
 * programs and notebooks that want the numbers (and for the tests).
 */
object WriteSummaries {
  private val MaxKept = 64
  private val latest = new java.util.LinkedHashMap[String, Summary]()

  def record(summary: Summary): Unit = latest.synchronized {
    latest.remove(summary.featureGroup)
    latest.put(summary.featureGroup, summary)
    if (latest.size() > MaxKept) latest.remove(latest.keySet().iterator().next())
  }

  /** The summary of the latest write (or streaming epoch) to `featureGroup` in this JVM. */
  def last(featureGroup: String): Option[Summary] = latest.synchronized(Option(latest.get(featureGroup)))
}
