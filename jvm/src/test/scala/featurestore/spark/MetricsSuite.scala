package featurestore.spark

import org.scalatest.funsuite.AnyFunSuite

/** How tasks' counters become a write's metrics and its summary line (no Spark, no store). */
class MetricsSuite extends AnyFunSuite {
  private def counters(values: (Int, Long)*): Array[Long] = {
    val c = new Array[Long](Metrics.NativeNames.size)
    values.foreach { case (i, v) => c(i) = v }
    c
  }

  private def commit(c: Array[Long]) = TaskCommit(0, 0L, None, c, None)

  test("the share of requests throttled is the ratio of the sums, not the mean of the tasks' ratios") {
    val tasks = Seq(ThrottledShareMetric.pack(100, 5), ThrottledShareMetric.pack(300, 15), ThrottledShareMetric.pack(0, 0))
    assert(new ThrottledShareMetric().aggregateTaskMetrics(tasks.toArray) == "5.0% of 400")
    assert(new ThrottledShareMetric().aggregateTaskMetrics(Array.empty) == "no requests")
  }

  test("counts add up over tasks; levels (latency maxima and quantiles, the adaptive rate) take the highest") {
    val total = Summary.total(Seq(
      commit(counters(Metrics.RowsAccepted -> 10, Metrics.AdaptiveRate -> 2000, Metrics.LatencyP99Ms -> 7)),
      commit(counters(Metrics.RowsAccepted -> 5, Metrics.AdaptiveRate -> 1900, Metrics.LatencyP99Ms -> 9))))
    assert(total(Metrics.RowsAccepted) == 15 && total(Metrics.AdaptiveRate) == 2000 && total(Metrics.LatencyP99Ms) == 9)
  }

  test("a stream's totals add counts over epochs and keep the adaptive rate the latest epoch left") {
    val sofar = counters(Metrics.RowsAccepted -> 10, Metrics.AdaptiveRate -> 2000, Metrics.LatencyMaxMs -> 40)
    val epoch = counters(Metrics.RowsAccepted -> 5, Metrics.AdaptiveRate -> 1500, Metrics.LatencyMaxMs -> 30)
    val total = Summary.accumulate(sofar, epoch)
    assert(total(Metrics.RowsAccepted) == 15 && total(Metrics.AdaptiveRate) == 1500 && total(Metrics.LatencyMaxMs) == 40)
  }

  test("the summary line says when the service was the limit, and only then") {
    def summary(c: Array[Long]) = Summary("g", c, 2000000000L, dryRun = false, None, Nil)
    val limited = summary(counters(Metrics.RowsAccepted -> 100, Metrics.RowsAcknowledged -> 100,
      Metrics.Requests -> 40, Metrics.RequestsThrottled -> 2, Metrics.AdaptiveRate -> 1980))
    assert(limited.line == "featurestore write to 'g': 100 records written, 0 failed, 0 retried, 2 throttled in " +
      "2.0 s (50 records/s); the service limited the rate: 5.0% of 40 requests throttled, adaptive rate at the " +
      "end 1980 records/s per executor; failed records: none", limited.line)
    val free = summary(counters(Metrics.RowsAccepted -> 100, Metrics.RowsAcknowledged -> 100, Metrics.Requests -> 4))
    assert(!free.line.contains("limited"), free.line)
  }

  test("a delete's summary and metrics say deleted, and its records are not counted as written") {
    val c = counters(Metrics.RowsAccepted -> 10, Metrics.RowsAcknowledged -> 8, Metrics.RowsDeleted -> 8,
      Metrics.RowsFailed -> 2, Metrics.Requests -> 10)
    val summary = Summary("g", c, 1000000000L, dryRun = false, None, Nil, deleting = true)
    assert(summary.deleted == 8 && summary.written == 0)
    assert(summary.line.startsWith("featurestore delete from 'g': 8 records deleted, 2 failed"), summary.line)
    val metrics = Metrics.taskMetrics(c).map(m => m.name() -> m.value()).toMap
    assert(metrics(RecordsDeletedMetric.Name) == 8 && metrics(RecordsWrittenMetric.Name) == 0, metrics)
    val dryRun = Summary("g", counters(Metrics.RowsAccepted -> 3, Metrics.RowsAcknowledged -> 3,
      Metrics.RowsDryRun -> 3), 1000000000L, dryRun = true, None, Nil, deleting = true)
    assert(dryRun.line.contains("3 records validated, nothing deleted"), dryRun.line)
    // A task's log line names deletes only when it deleted: a write's line keeps the shape log readers parse.
    assert(Summary.counts(c).startsWith("10 rows accepted, 0 written, 8 deleted, 2 failed"), Summary.counts(c))
    val written = counters(Metrics.RowsAccepted -> 5, Metrics.RowsAcknowledged -> 5)
    assert(Summary.counts(written).startsWith("5 rows accepted, 5 written, 0 failed"), Summary.counts(written))
  }
}
