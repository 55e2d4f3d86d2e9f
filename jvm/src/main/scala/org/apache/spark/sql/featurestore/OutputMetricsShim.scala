package org.apache.spark.sql.featurestore

import org.apache.spark.TaskContext

/**
 * Spark's standard output metrics of the running task (records and bytes written: the Stages tab's Output
 * column), whose setters are package-private to Spark, hence this package. Spark sets them from a data writer's
 * metrics only before `commit()`; a write's records are mostly acknowledged inside it.
 */
object OutputMetricsShim {

  /** Sets the task's records and bytes written; nothing outside a task. */
  def set(records: Long, bytes: Long): Unit =
    Option(TaskContext.get()).foreach { context =>
      val output = context.taskMetrics().outputMetrics
      output.setRecordsWritten(records)
      output.setBytesWritten(bytes)
    }
}
