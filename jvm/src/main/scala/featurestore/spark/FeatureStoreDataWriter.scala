package featurestore.spark

import org.apache.arrow.memory.BufferAllocator
import org.apache.arrow.vector.VectorSchemaRoot
import org.apache.spark.{SparkEnv, TaskContext, TaskKilledException}
import org.apache.spark.sql.catalyst.{InternalRow, ProjectingInternalRow}
import org.apache.spark.sql.connector.metric.CustomTaskMetric
import org.apache.spark.sql.connector.write.{DataWriter, DataWriterFactory, WriterCommitMessage}
import org.apache.spark.sql.connector.write.streaming.StreamingDataWriterFactory
import org.apache.spark.sql.featurestore.{ArrowShim, OutputMetricsShim}
import org.apache.spark.sql.types.StructType
import org.slf4j.LoggerFactory

/**
 * Everything a task needs, resolved once on the driver (no control-plane call on executors). With a ceiling, the
 * writer config is completed on the executor with its share of it. `schema` is what the task hands the engine;
 * with `projection` (a delete), those columns of each row, by position.
 */
final case class TaskSpec(
    writerOptions: WriteOptions,
    ceiling: Option[WriteCeiling],
    describeJson: String,
    schema: StructType,
    timeZoneId: String,
    failedRecords: Option[FailedRecordsTarget],
    projection: Option[IndexedSeq[Int]] = None) {

  /** The native writer's config; `share`: this executor's share of the write's ceiling. */
  def writerConfigJson(share: Option[Double], attempt: Option[TaskAttempt]): String =
    writerOptions.writerConfigJson(share, ceiling.map(_.writeId), attempt)
}

/** What a task reports at commit: its native counters (in [[Metrics.NativeNames]] order) and its failed-records file. */
final case class TaskCommit(
    partitionId: Int,
    taskId: Long,
    epochId: Option[Long],
    counters: Array[Long],
    failedRecordsFile: Option[String],
    // offlineWrite=direct: the task's committed files, for the job's commit (Spark's TaskCommitMessage).
    offlineFiles: Option[AnyRef] = None)
    extends WriterCommitMessage

/** The one writer factory, serializable, shared by batch and streaming writes. */
final class FeatureStoreWriterFactory(spec: TaskSpec) extends DataWriterFactory with StreamingDataWriterFactory {
  override def createWriter(partitionId: Int, taskId: Long): DataWriter[InternalRow] =
    new FeatureStoreDataWriter(spec, partitionId, taskId, None)

  override def createWriter(partitionId: Int, taskId: Long, epochId: Long): DataWriter[InternalRow] =
    new FeatureStoreDataWriter(spec, partitionId, taskId, Some(epochId))
}

/**
 * Writes one partition: rows go through [[RowsToArrow]] into a reused VectorSchemaRoot; a batch is cut
 * at `batchRows` rows or `batchBytes` bytes, written as one Arrow IPC stream into a reused direct buffer, and
 * handed to the native writer in one JNI call. `commit()` drains the native writer and reports its counts;
 * `abort()` stops it. The native writer, the Arrow memory and the failed-records file are released by `close()`,
 * which Spark calls, and which a task-completion listener calls again in case Spark did not (idempotent).
 */
final class FeatureStoreDataWriter(spec: TaskSpec, partitionId: Int, taskId: Long, epochId: Option[Long])
    extends DataWriter[InternalRow] {
  import FeatureStoreDataWriter._

  private val allocator: BufferAllocator =
    ArrowShim.rootAllocator.newChildAllocator(s"featurestore-task-$taskId", 0, Long.MaxValue)
  private val root = VectorSchemaRoot.create(ArrowShim.toArrowSchema(spec.schema, spec.timeZoneId), allocator)
  private val arrowWriter = new RowsToArrow(root, spec.schema)
  // A view of the columns handed over (a delete's two), reused for every row: nothing is copied.
  private val projected = spec.projection.map(columns => new ProjectingInternalRow(spec.schema, columns))
  private val ipc = new IpcBuffer(InitialIpcBytes)
  private val failed = new FailedRecordsSink(spec.failedRecords, partitionId, taskId, epochId)
  private val batchRows = spec.writerOptions.batchRows
  private val batchBytesCut = spec.writerOptions.batchBytes
  private var closed = false
  private var rowsInBatch = 0
  private var lastCounters = new Array[Long](Metrics.NativeNames.size)
  private var inCeiling = false
  private val context = Option(TaskContext.get())
  private val attempt = context.map { c =>
    TaskAttempt(SparkEnv.get.conf.getAppId, c.stageId(), c.stageAttemptNumber(), partitionId, c.taskAttemptId(),
      c.attemptNumber(), epochId)
  }
  private val native: NativeWriter =
    try {
      // Counted in its write's ceiling before the writer opens, so that its first rows go at the share the
      // driver gives this executor with this task in it.
      val share = spec.ceiling.map { ceiling =>
        val share = RateCeilingExecutor.join(ceiling)
        inCeiling = true
        share
      }
      Native.openWriter(spec.writerConfigJson(share, attempt), spec.describeJson)
    } catch {
      case e: Throwable =>
        try leaveCeiling()
        finally releaseJvmSide()
        throw e
    }

  context.foreach(_.addTaskCompletionListener[Unit](_ => close()))

  override def write(row: InternalRow): Unit = {
    projected match {
      case Some(view) =>
        view.project(row)
        arrowWriter.write(view)
      case None => arrowWriter.write(row)
    }
    rowsInBatch += 1
    if (rowsInBatch >= batchRows || ((rowsInBatch & 63) == 0 && batchBytes() >= batchBytesCut)) {
      sendBatch()
    }
  }

  override def commit(): WriterCommitMessage = {
    if (rowsInBatch > 0) sendBatch()
    waitUnlessKilled(native.flush(WaitSliceMs))
    drainFailed()
    lastCounters = native.metrics()
    failed.commit()
    // Spark's output records: what the task's rows did to the store, records written or deleted.
    OutputMetricsShim.set(Metrics.written(lastCounters) + Metrics.deleted(lastCounters),
      lastCounters(Metrics.BytesSent))
    val message = TaskCommit(partitionId, taskId, epochId, lastCounters, failed.path)
    log.info(s"$taskName committed: ${Summary.counts(lastCounters)}")
    message
  }

  override def abort(): Unit = {
    if (!native.isClosed) {
      // A task killed by Spark aborts with its thread's interrupt flag set, and Hadoop's file systems refuse
      // I/O then (InterruptedIOException): the failed rows would not reach their file. The flag is held back
      // while the abort writes them, and set again after.
      val interrupted = Thread.interrupted()
      try {
        native.abort()
        drainFailed()
        lastCounters = native.metrics()
        OutputMetricsShim.set(Metrics.written(lastCounters) + Metrics.deleted(lastCounters),
          lastCounters(Metrics.BytesSent))
        log.warn(s"$taskName aborted: ${Summary.counts(lastCounters)} (rows not acknowledged count as failed)")
      } finally {
        try failed.abort()
        finally if (interrupted) Thread.currentThread().interrupt()
      }
    }
  }

  override def currentMetricsValues(): Array[CustomTaskMetric] = {
    if (!native.isClosed) lastCounters = native.metrics()
    Metrics.taskMetrics(lastCounters)
  }

  override def close(): Unit = {
    if (!closed) {
      closed = true
      try native.close()
      finally {
        try leaveCeiling()
        finally {
          try failed.close()
          finally releaseJvmSide()
        }
      }
    }
  }

  private def taskName: String =
    s"featurestore task $taskId (partition $partitionId${attempt.map(a => s", attempt ${a.attemptNumber}").getOrElse("")}" +
      s"${epochId.map(e => s", epoch $e").getOrElse("")})"

  private def leaveCeiling(): Unit = {
    if (inCeiling) {
      inCeiling = false
      spec.ceiling.foreach(RateCeilingExecutor.leave)
    }
  }

  private def releaseJvmSide(): Unit = {
    root.close()
    allocator.close()
  }

  private def sendBatch(): Unit = {
    arrowWriter.finish()
    ipc.writeBatch(root)
    if (!native.write(ipc.bytes, ipc.length, WaitSliceMs)) waitUnlessKilled(native.sendPending(WaitSliceMs))
    arrowWriter.reset()
    rowsInBatch = 0
    drainFailed()
  }

  /**
   * Repeats a bounded native wait until it is done, checking between two waits whether Spark killed the task
   * (a cancelled job, a lost speculative race): the task then stops at once with TaskKilledException, and
   * Spark's abort() stops the native writer, instead of the slot staying busy until the service answers. A wait
   * in which no record gets settled for `stallLimitMs` (longer than any record's delivery deadline) stops the
   * writer and fails the task.
   */
  private def waitUnlessKilled(done: => Boolean): Unit = {
    var settled = -1L
    var settledAt = System.nanoTime()
    while (!done) {
      if (context.exists(_.isInterrupted())) {
        throw new TaskKilledException("killed while the feature store writer waited (the write is aborted)")
      }
      val counters = native.metrics()
      val now = System.nanoTime()
      if (counters(Metrics.RowsAcknowledged) + counters(Metrics.RowsFailed) != settled) {
        settled = counters(Metrics.RowsAcknowledged) + counters(Metrics.RowsFailed)
        settledAt = now
      } else if (now - settledAt > spec.writerOptions.stallLimitMs * 1000000L) {
        native.abort()
        throw new FeatureStoreInternalException(s"the native writer settled no record for " +
          s"${spec.writerOptions.stallLimitMs / 1000} s, longer than any record's delivery deadline " +
          "(retryMaxElapsedMs + 2 x requestTimeoutMs + 10 s): it was stopped and the task fails")
      }
    }
  }

  private def drainFailed(): Unit = {
    val lines = native.takeFailed(failed.keeps)
    failed.append(lines)
  }

  private def batchBytes(): Long = {
    var total = 0L
    val vectors = root.getFieldVectors
    var i = 0
    while (i < vectors.size()) {
      // getBufferSize would read 0 here: value counts are only set by finish().
      total += vectors.get(i).getBufferSizeFor(rowsInBatch)
      i += 1
    }
    total
  }
}

object FeatureStoreDataWriter {
  private val log = LoggerFactory.getLogger(classOf[FeatureStoreDataWriter])
  private val InitialIpcBytes = 1 << 20
  /** How long one native wait lasts before the task checks whether it was killed. */
  private val WaitSliceMs = 200L
}
