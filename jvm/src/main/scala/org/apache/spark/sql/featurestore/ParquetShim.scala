package org.apache.spark.sql.featurestore

import java.text.SimpleDateFormat
import java.util.{Date, Locale, UUID}

import org.apache.hadoop.fs.Path
import org.apache.hadoop.mapreduce.{Job, JobID, TaskAttemptID, TaskID, TaskType}
import org.apache.hadoop.mapreduce.lib.output.FileOutputFormat
import org.apache.hadoop.mapreduce.task.{JobContextImpl, TaskAttemptContextImpl}
import org.apache.spark.internal.io.{FileCommitProtocol, FileNameSpec, HadoopMapReduceCommitProtocol}
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.execution.datasources.{OutputWriter, OutputWriterFactory}
import org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat
import org.apache.spark.sql.types.StructType
import org.apache.spark.sql.util.ArrowUtils
import org.apache.spark.util.SerializableConfiguration

/**
 * Spark's own Parquet writer and file commit protocol, as Spark's file sources use them (hence this package:
 * both are Spark-internal). The signatures used (`ParquetFileFormat.prepareWrite`, `OutputWriterFactory
 * .newInstance`, `HadoopMapReduceCommitProtocol`, `FileCommitProtocol.newTaskTempFile(ctx, dir, FileNameSpec)`: Spark 4
 * no longer routes the older `ext` form to it) are the same on Spark 3.5 and 4.2 (checked with javap on each line's
 * jars, and run by the JVM suites on both).
 *
 * Hadoop's FileOutputCommitter (algorithm 1) makes a task's files visible only when the job commits: a task
 * writes under `_temporary/`, its committed attempt's files move to the job's directory, and the job's commit
 * moves them into place; a failed, retried or losing speculative attempt leaves nothing in the output.
 */
final class ParquetJob private (
    committer: FileCommitProtocol,
    writerFactory: OutputWriterFactory,
    conf: SerializableConfiguration,
    jobTrackerId: String,
    val schema: StructType)
    extends Serializable {

  private def jobContext = new JobContextImpl(conf.value, new JobID(jobTrackerId, 0))

  def setupJob(): Unit = committer.setupJob(jobContext)

  /** Makes every committed task's files visible. */
  def commitJob(taskCommits: Seq[AnyRef]): Unit =
    committer.commitJob(jobContext, taskCommits.map(_.asInstanceOf[FileCommitProtocol.TaskCommitMessage]).toList)

  def abortJob(): Unit = committer.abortJob(jobContext)

  /** A task attempt's writer: one Parquet file per partition directory at a time. */
  def newTask(partitionId: Int, attemptNumber: Int, maxOpenFiles: Int): ParquetTask = {
    val jobId = new JobID(jobTrackerId, 0)
    val attemptId = new TaskAttemptID(new TaskID(jobId, TaskType.MAP, partitionId), attemptNumber)
    val hadoopConf = new org.apache.hadoop.conf.Configuration(conf.value)
    hadoopConf.set("mapreduce.job.id", jobId.toString)
    hadoopConf.set("mapreduce.task.id", attemptId.getTaskID.toString)
    hadoopConf.set("mapreduce.task.attempt.id", attemptId.toString)
    hadoopConf.setBoolean("mapreduce.task.ismap", true)
    hadoopConf.setInt("mapreduce.task.partition", 0)
    val context = new TaskAttemptContextImpl(hadoopConf, attemptId)
    committer.setupTask(context)
    new ParquetTask(committer, writerFactory, context, schema, maxOpenFiles)
  }
}

object ParquetJob {
  /** A job writing `schema` as snappy Parquet under `outputUri` (a Hadoop URI), its timestamps in milliseconds. */
  def create(session: SparkSession, outputUri: String, schema: StructType): ParquetJob = {
    val job = Job.getInstance(session.sparkContext.hadoopConfiguration)
    job.setOutputKeyClass(classOf[Void])
    job.setOutputValueClass(classOf[InternalRow])
    FileOutputFormat.setOutputPath(job, new Path(outputUri))
    val conf = job.getConfiguration
    // Algorithm 1: nothing a task writes is visible before the job commits (2 publishes at task commit).
    conf.setInt("mapreduce.fileoutputcommitter.algorithm.version", 1)
    // The offline store's layout has no _SUCCESS marker.
    conf.setBoolean("mapreduce.fileoutputcommitter.marksuccessfuljobs", false)
    val writerFactory = new ParquetFileFormat().prepareWrite(session, job, Map("compression" -> "snappy"), schema)
    // As the service and featurestore-local write them (prepareWrite copied the session's choice, INT96 by default).
    conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MILLIS")
    // Plain pages, as featurestore-local writes them: dictionary encoding cost a third of a direct write's CPU
    // (bench/offline-direct.sh) for files that snappy already compresses.
    conf.setBoolean("parquet.enable.dictionary", false)
    val jobTrackerId = new SimpleDateFormat("yyyyMMddHHmmss", Locale.US).format(new Date)
    val committer = new HadoopMapReduceCommitProtocol(UUID.randomUUID().toString, outputUri)
    new ParquetJob(committer, writerFactory, new SerializableConfiguration(conf), jobTrackerId, schema)
  }

  /** Spark's own Arrow -> StructType mapping. */
  def fromArrowSchema(schema: org.apache.arrow.vector.types.pojo.Schema): StructType = ArrowUtils.fromArrowSchema(schema)
}

/**
 * One task attempt's files: a Parquet writer per partition directory, at most `maxOpenFiles` open at once (the
 * least recently written is closed, and a later row of its partition starts another file).
 */
final class ParquetTask private[featurestore] (
    committer: FileCommitProtocol,
    writerFactory: OutputWriterFactory,
    context: TaskAttemptContextImpl,
    schema: StructType,
    maxOpenFiles: Int) {

  private val open = new java.util.LinkedHashMap[String, OutputWriter](16, 0.75f, true)
  private var files = 0

  /** Writes `row` (of `schema`) into partition directory `partition` (`year=.../hour=...`). */
  def write(partition: String, row: InternalRow): Unit = {
    var writer = open.get(partition)
    if (writer == null) {
      if (open.size() >= maxOpenFiles) {
        val eldest = open.entrySet().iterator().next()
        open.remove(eldest.getKey)
        eldest.getValue.close()
      }
      val path = committer.newTaskTempFile(context, Some(partition), FileNameSpec("", f"-c$files%03d.snappy.parquet"))
      files += 1
      writer = writerFactory.newInstance(path, schema, context)
      open.put(partition, writer)
    }
    writer.write(row)
  }

  /** Files this attempt wrote (temporary paths). */
  def fileCount: Int = files

  /** Closes the files and commits the attempt; the message goes to [[ParquetJob.commitJob]]. */
  def commit(): AnyRef = {
    closeAll()
    committer.commitTask(context)
  }

  /** Drops the attempt's files. */
  def abort(): Unit =
    try closeAll()
    finally committer.abortTask(context)

  private def closeAll(): Unit = {
    val writers = open.values().toArray(new Array[OutputWriter](0))
    open.clear()
    var failure: Throwable = null
    writers.foreach { w =>
      try w.close()
      catch { case e: Throwable => if (failure == null) failure = e }
    }
    if (failure != null) throw failure
  }
}
