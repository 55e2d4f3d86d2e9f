package featurestore.spark

import java.io.ByteArrayInputStream

import org.apache.arrow.memory.BufferAllocator
import org.apache.arrow.vector.VectorSchemaRoot
import org.apache.arrow.vector.ipc.ArrowStreamReader
import org.apache.spark.{SparkEnv, TaskContext}
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.catalyst.{InternalRow, ProjectingInternalRow}
import org.apache.spark.sql.connector.metric.CustomTaskMetric
import org.apache.spark.sql.connector.write.{BatchWrite, DataWriter, DataWriterFactory, PhysicalWriteInfo, WriterCommitMessage}
import org.apache.spark.sql.featurestore.{ArrowShim, OutputMetricsShim, ParquetJob, ParquetTask}
import org.apache.spark.sql.vectorized.{ArrowColumnVector, ColumnVector, ColumnarBatch}
import org.slf4j.LoggerFactory

/**
 * `offlineWrite=direct`: a backfill written straight into the group's offline store as Parquet, no API call.
 * Each task hands its rows to the engine in Arrow batches as the API path does; the engine validates them with
 * the API path's rules and returns the passing rows as the offline store holds them, with each row's
 * `year=/month=/day=/hour=` directory; the task writes them with Spark's own Parquet writer through Spark's file
 * commit protocol ([[ParquetJob]]), so that files appear only when the job commits.
 */
object OfflineDirectBatchWrite {
  def apply(write: FeatureStoreWrite, session: SparkSession, describeJson: String): OfflineDirectBatchWrite = {
    val spec = write.taskSpec(None)
    val outputUri = Native.offlineOutputUri(spec.writerOptions.writerConfigJson(None), describeJson)
    val arrowSchema = {
      val reader = new ArrowStreamReader(new ByteArrayInputStream(Native.offlineSchema(describeJson)),
        ArrowShim.rootAllocator)
      try reader.getVectorSchemaRoot.getSchema
      finally reader.close()
    }
    val rows = ParquetJob.fromArrowSchema(arrowSchema)
    // The last column is each row's partition directory: not written.
    val job = ParquetJob.create(session, outputUri, new org.apache.spark.sql.types.StructType(rows.fields.init))
    job.setupJob()
    FeatureStoreWrite.log.info(s"featurestore direct write to the offline store of " +
      s"'${spec.writerOptions.featureGroupName}' at $outputUri")
    new OfflineDirectBatchWrite(write, spec, job)
  }
}

final class OfflineDirectBatchWrite private (write: FeatureStoreWrite, spec: TaskSpec, job: ParquetJob)
    extends BatchWrite {
  import FeatureStoreWrite._

  override def createBatchWriterFactory(info: PhysicalWriteInfo): DataWriterFactory =
    new OfflineDirectWriterFactory(spec, job)

  // The task's commit goes through Hadoop's committer, which asks Spark's OutputCommitCoordinator itself (as
  // Spark's file sources do): one attempt per partition commits. A second ask from DSv2 would be denied.
  override def useCommitCoordinator(): Boolean = false

  override def commit(messages: Array[WriterCommitMessage]): Unit = {
    val tasks = commits(messages)
    job.commitJob(tasks.flatMap(_.offlineFiles))
    val summary = write.summarize(tasks)
    WriteSummaries.record(summary)
    log.info(summary.line)
    println(summary.line)
    write.enforceFailureLimit(summary)
  }

  override def abort(messages: Array[WriterCommitMessage]): Unit = {
    job.abortJob()
    log.warn("featurestore direct write to the offline store aborted: none of its files is visible")
  }
}

final class OfflineDirectWriterFactory(spec: TaskSpec, job: ParquetJob) extends DataWriterFactory {
  override def createWriter(partitionId: Int, taskId: Long): DataWriter[InternalRow] =
    new OfflineDirectDataWriter(spec, job, partitionId, taskId)
}

/**
 * One task attempt of a direct write: Spark rows -> Arrow batch -> the engine's validation -> offline rows (Arrow,
 * read in place as Spark rows) -> Spark's Parquet writer, one file per hour directory at a time.
 */
final class OfflineDirectDataWriter(spec: TaskSpec, job: ParquetJob, partitionId: Int, taskId: Long)
    extends DataWriter[InternalRow] {
  import OfflineDirectDataWriter._

  private val allocator: BufferAllocator =
    ArrowShim.rootAllocator.newChildAllocator(s"featurestore-offline-task-$taskId", 0, Long.MaxValue)
  private val root = VectorSchemaRoot.create(ArrowShim.toArrowSchema(spec.schema, spec.timeZoneId), allocator)
  private val arrowWriter = new RowsToArrow(root, spec.schema)
  private val ipc = new IpcBuffer(1 << 20)
  private val failed = new FailedRecordsSink(spec.failedRecords, partitionId, taskId, None)
  private val context = Option(TaskContext.get())
  private val attempt = context.map { c =>
    TaskAttempt(SparkEnv.get.conf.getAppId, c.stageId(), c.stageAttemptNumber(), partitionId, c.taskAttemptId(),
      c.attemptNumber(), None)
  }
  private val native =
    try Native.openOfflineEncoder(spec.writerConfigJson(None, attempt), spec.describeJson)
    catch {
      case e: Throwable =>
        releaseJvmSide()
        throw e
    }
  private val files: ParquetTask =
    try job.newTask(partitionId, context.map(_.attemptNumber()).getOrElse(0), MaxOpenFiles)
    catch {
      case e: Throwable =>
        try native.close()
        finally releaseJvmSide()
        throw e
    }
  private val columns = job.schema.length
  private val written = new ProjectingInternalRow(job.schema, 0 until columns)
  private var rowsInBatch = 0
  private var lastCounters = new Array[Long](Metrics.NativeNames.size)
  private var closed = false

  context.foreach(_.addTaskCompletionListener[Unit](_ => close()))

  override def write(row: InternalRow): Unit = {
    arrowWriter.write(row)
    rowsInBatch += 1
    if (rowsInBatch >= spec.writerOptions.batchRows) sendBatch()
  }

  override def commit(): WriterCommitMessage = {
    if (rowsInBatch > 0) sendBatch()
    val committed = files.commit()
    lastCounters = native.metrics()
    failed.commit()
    OutputMetricsShim.set(Metrics.written(lastCounters), 0L)
    log.info(s"featurestore direct task $taskId (partition $partitionId) committed ${files.fileCount} files: " +
      Summary.counts(lastCounters))
    TaskCommit(partitionId, taskId, None, lastCounters, failed.path, Some(committed))
  }

  override def abort(): Unit = {
    val interrupted = Thread.interrupted()
    try {
      try files.abort()
      finally if (!native.isClosed) lastCounters = native.metrics()
    } finally {
      try failed.abort()
      finally if (interrupted) Thread.currentThread().interrupt()
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
        try failed.close()
        finally releaseJvmSide()
      }
    }
  }

  private def releaseJvmSide(): Unit = {
    root.close()
    allocator.close()
  }

  private def sendBatch(): Unit = {
    arrowWriter.finish()
    ipc.writeBatch(root)
    val rows = native.encode(ipc.bytes, ipc.length, System.currentTimeMillis())
    arrowWriter.reset()
    rowsInBatch = 0
    failed.append(native.takeFailed(failed.keeps))
    writeRows(rows)
  }

  /** Writes the engine's offline rows, read in place from their Arrow IPC stream. */
  private def writeRows(stream: Array[Byte]): Unit = {
    val reader = new ArrowStreamReader(new ByteArrayInputStream(stream), allocator)
    try {
      val rows = reader.getVectorSchemaRoot
      while (reader.loadNextBatch()) {
        val vectors: Array[ColumnVector] = Array.tabulate(rows.getFieldVectors.size()) { i =>
          new ArrowColumnVector(rows.getVector(i))
        }
        val iterator = new ColumnarBatch(vectors, rows.getRowCount).rowIterator()
        while (iterator.hasNext) {
          val row = iterator.next()
          written.project(row)
          files.write(row.getUTF8String(columns).toString, written)
        }
      }
    } finally reader.close()
  }
}

object OfflineDirectDataWriter {
  private val log = LoggerFactory.getLogger(classOf[OfflineDirectDataWriter])
  /** Parquet files a task keeps open at once (each buffers its row group in memory). */
  private val MaxOpenFiles = 32
}
