package featurestore.spark

import scala.concurrent.duration._

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.connector.metric.CustomMetric
import org.apache.spark.sql.connector.distributions.{Distribution, Distributions}
import org.apache.spark.sql.connector.expressions.{Expressions, SortDirection, SortOrder}
import org.apache.spark.sql.connector.write.{BatchWrite, DataWriterFactory, PhysicalWriteInfo, RequiresDistributionAndOrdering, Write, WriterCommitMessage}
import org.apache.spark.sql.connector.write.streaming.{StreamingDataWriterFactory, StreamingWrite}
import org.apache.spark.sql.types.StructType
import org.slf4j.LoggerFactory

/**
 * A write to one feature group, resolved on the driver before any task runs: options already parsed, then
 * one DescribeFeatureGroup through the native library (with the job's credentials and endpoint), then the
 * DataFrame's schema checked against the definitions by the engine's own check. A bad job fails here, in
 * seconds, with every problem named.
 */
final class FeatureStoreWrite(options: WriteOptions, schema: StructType, queryId: String, run: StreamRun)
    extends Write with RequiresDistributionAndOrdering {
  import FeatureStoreWrite._

  private val started = System.nanoTime()
  // The ids of the writes registered with the driver's rate ceiling and not ended yet.
  private val ceilings = new java.util.concurrent.ConcurrentLinkedQueue[String]()
  private val session = SparkSession.active
  private val timeZoneId = session.sessionState.conf.sessionLocalTimeZone
  private val describeJson = {
    val config = options.writerConfigJson(None)
    // The group first gets the columns it lacks; the answer after the update is the one kept.
    if (options.addMissingFeatures && !options.delete)
      DescribeCache.refresh(config)(FeatureGroups.addMissingColumns(schema, config, Map.empty[String, String], 10.minutes))
    val kept = DescribeCache.get(config)(Native.describeFeatureGroup(config))
    try {
      checkWrite(config, kept.describeJson)
      kept.describeJson
    } catch {
      // The group may have changed since the kept answer (created since, a feature added): a mismatch is judged
      // on a fresh one.
      case e: FeatureStoreValidationException if kept.cached =>
        val fresh = DescribeCache.refresh(config)(Native.describeFeatureGroup(config))
        checkWrite(config, fresh)
        fresh
    }
  }

  /**
   * The columns the tasks hand to the engine, and where they are in the DataFrame's rows (`None`: all, as they
   * are). A delete reads only the record identifier and event time columns: the others are neither checked nor
   * converted to Arrow, so a delete works on the DataFrame a write took, whatever else it holds.
   */
  private def input(describeJson: String): (StructType, Option[IndexedSeq[Int]]) =
    if (!options.delete) (schema, None)
    else {
      val columns = deleteColumns(schema, describeJson)
      (StructType(columns.map(schema(_))), Some(columns))
    }

  /** The group can take this write now (status, stores) and the DataFrame's columns are its input. */
  private def checkWrite(writerConfigJson: String, describeJson: String): Unit =
    SchemaIpc.withSchema(input(describeJson)._1, timeZoneId) { (bytes, length) =>
      Native.checkWrite(writerConfigJson, describeJson, bytes, length)
    }

  override def description(): String = s"featurestore[${options.featureGroupName}]"

  override def requiredDistribution(): Distribution = Distributions.unspecified()

  /**
   * A direct write has each task's rows sorted by event time, so that the rows of one hour come together and a
   * task writes one file per hour directory, one at a time (unsorted, a backfill spread over many hours would open
   * a file per hour at once, or cut many small ones). Writes through the API need no order.
   */
  override def requiredOrdering(): Array[SortOrder] =
    if (!options.offlineDirect) Array.empty
    else {
      val eventTime = Json.mapper.readTree(describeJson).path("EventTimeFeatureName").asText()
      Array(Expressions.sort(Expressions.column(eventTime), SortDirection.ASCENDING))
    }

  override def supportedCustomMetrics(): Array[CustomMetric] = Metrics.supportedCustomMetrics

  override def toBatch: BatchWrite =
    if (options.offlineDirect) OfflineDirectBatchWrite(this, session, describeJson)
    else new FeatureStoreBatchWrite(this)

  override def toStreaming: StreamingWrite =
    if (options.offlineDirect) {
      throw new FeatureStoreValidationException("offlineWrite=direct is for batch writes (backfills); a stream " +
        "writes through the API (leave offlineWrite unset)")
    } else new FeatureStoreStreamingWrite(this, queryId, run)

  /**
   * The factory for `numPartitions` tasks. With `maxRecordsPerSecond`, each call registers a new write with the
   * driver's [[RateCeilingDriver]] (a batch job, or one micro-batch of a stream), which shares the ceiling among
   * the tasks while they run; [[endCeilings]] ends it.
   */
  private[spark] def writerFactory(numPartitions: Int): FeatureStoreWriterFactory = {
    val ceiling = options.maxRecordsPerSecond.map { recordsPerSecond =>
      val planned = math.max(1, math.min(numPartitions, session.sparkContext.defaultParallelism))
      val registered = RateCeilingDriver.register(recordsPerSecond, fallbackShare = recordsPerSecond / planned)
      ceilings.add(registered.writeId)
      registered
    }
    new FeatureStoreWriterFactory(taskSpec(ceiling))
  }

  /** What every task gets; `ceiling`: the write's share of `maxRecordsPerSecond`, if any. */
  private[spark] def taskSpec(ceiling: Option[WriteCeiling]): TaskSpec = {
    val (taskSchema, projection) = input(describeJson)
    TaskSpec(
      writerOptions = options,
      ceiling = ceiling,
      describeJson = describeJson,
      schema = taskSchema,
      projection = projection,
      timeZoneId = timeZoneId,
      // The Hadoop configuration travels only where a failed-records file needs it.
      failedRecords = options.failedRecordsPath.map(path => FailedRecordsTarget(path,
        new SerializableHadoopConf(session.sparkContext.hadoopConfiguration),
        s"failed-${session.sparkContext.applicationId}-$queryId")))
  }

  /** Ends this write's ceilings at the driver (at commit and abort): nothing runs under them any more. */
  private[spark] def endCeilings(): Unit = {
    var writeId = ceilings.poll()
    while (writeId != null) {
      RateCeilingDriver.unregister(writeId)
      writeId = ceilings.poll()
    }
  }

  /** Sums the tasks' counts. */
  private[spark] def summarize(commits: Seq[TaskCommit]): Summary = {
    val counters = Summary.total(commits)
    Summary(options.featureGroupName, counters, System.nanoTime() - started, options.dryRun,
      options.failedRecordsPath, commits.flatMap(_.failedRecordsFile), deleting = options.delete)
  }

  /** Fails when more records failed than `maxFailedRecords` allows. */
  private[spark] def enforceFailureLimit(summary: Summary): Unit = {
    if (summary.failed > options.maxFailedRecords) {
      val where = options.failedRecordsPath match {
        case Some(path) => s"the failed records are in $path"
        case None => "set the failedRecordsPath option to keep the failed records and their reasons"
      }
      val (verb, done) = if (options.delete) ("deleted from", summary.deleted) else ("written to", summary.written)
      throw new FeatureStoreFailedRecordsException(
        s"${summary.failed} of ${summary.accepted} records failed to be $verb feature group " +
          s"'${options.featureGroupName}', more than maxFailedRecords = ${options.maxFailedRecords}; " +
          s"$done records were ${verb.split(' ').head}; $where",
        done, summary.failed)
    }
  }
}

object FeatureStoreWrite {
  private[spark] val log = LoggerFactory.getLogger(classOf[FeatureStoreWrite])

  private[spark] def commits(messages: Array[WriterCommitMessage]): Seq[TaskCommit] =
    messages.toSeq.collect { case c: TaskCommit => c }

  /**
   * The columns of `schema` a delete reads: those named for the feature group's record identifier and event time
   * features (DescribeFeatureGroup's answer, `describeJson`), in input order; a name given twice is kept twice,
   * so that the engine's check names it.
   */
  private[spark] def deleteColumns(schema: StructType, describeJson: String): IndexedSeq[Int] = {
    val group = Json.mapper.readTree(describeJson)
    val names = Set(group.path("RecordIdentifierFeatureName").asText(), group.path("EventTimeFeatureName").asText())
    schema.fieldNames.indices.filter(i => names(schema.fieldNames(i))).toIndexedSeq
  }
}

/** A batch write: tasks write their partitions; the driver sums their counts, prints the summary, checks the limit. */
final class FeatureStoreBatchWrite(write: FeatureStoreWrite) extends BatchWrite {
  import FeatureStoreWrite._

  override def createBatchWriterFactory(info: PhysicalWriteInfo): DataWriterFactory =
    write.writerFactory(info.numPartitions())

  override def commit(messages: Array[WriterCommitMessage]): Unit = {
    write.endCeilings()
    val summary = write.summarize(commits(messages))
    WriteSummaries.record(summary)
    log.info(summary.line)
    println(summary.line)
    write.enforceFailureLimit(summary)
  }

  override def abort(messages: Array[WriterCommitMessage]): Unit = {
    write.endCeilings()
    // Records already acknowledged stay written (the store has no transactions): say how many.
    val summary = write.summarize(commits(messages))
    log.warn(s"featurestore write aborted; committed tasks so far: ${summary.line}")
  }
}

/**
 * A streaming write (append): each epoch is one set of tasks. Spark plans a new write for every micro-batch, so
 * the counts and the failure limit are kept by the run of the query ([[StreamRun]], held by its table) and are
 * cumulative over that run. Each epoch prints one line of its own counts. Delivery is at least once: a replayed
 * epoch writes its records again, which the online store absorbs (the latest event time wins).
 */
final class FeatureStoreStreamingWrite(write: FeatureStoreWrite, queryId: String, run: StreamRun)
    extends StreamingWrite {
  import FeatureStoreWrite._

  override def createStreamingWriterFactory(info: PhysicalWriteInfo): StreamingDataWriterFactory =
    write.writerFactory(info.numPartitions())

  override def commit(epochId: Long, messages: Array[WriterCommitMessage]): Unit = {
    write.endCeilings()
    val epoch = write.summarize(commits(messages))
    val summary = run.add(epochId, epoch)
    WriteSummaries.record(summary)
    val line = StreamRun.epochLine(queryId, epochId, epoch)
    log.info(line)
    println(line)
    write.enforceFailureLimit(summary)
  }

  override def abort(epochId: Long, messages: Array[WriterCommitMessage]): Unit = {
    write.endCeilings()
    val summary = write.summarize(commits(messages))
    log.warn(s"featurestore epoch $epochId aborted; committed tasks of the epoch: ${summary.line}")
  }
}

/**
 * DescribeFeatureGroup's answers, kept for a minute per writer configuration (group, endpoint, credentials
 * source) in this driver JVM. The service allows few control-plane calls per second, and a loop of small writes,
 * a job of many small writes or a stream's micro-batches would otherwise call it for each; a write whose columns
 * do not match a kept answer is checked again against a fresh one (`refresh`), so a feature added meanwhile is
 * seen at once.
 */
private[spark] object DescribeCache {
  private val MaxEntries = 64
  private val MaxAgeNanos = 60L * 1000 * 1000 * 1000
  private final case class Entry(describeJson: String, fetchedNanos: Long)
  final case class Answer(describeJson: String, cached: Boolean)
  // In memory only: the key holds the options as given, secrets among them.
  private val entries = new java.util.LinkedHashMap[String, Entry]()

  def get(configJson: String)(describe: => String): Answer = {
    val now = System.nanoTime()
    entries.synchronized(Option(entries.get(configJson))).filter(e => now - e.fetchedNanos < MaxAgeNanos) match {
      case Some(entry) => Answer(entry.describeJson, cached = true)
      case None => Answer(refresh(configJson)(describe), cached = false)
    }
  }

  def refresh(configJson: String)(describe: => String): String = {
    val describeJson = describe
    entries.synchronized {
      entries.remove(configJson)
      entries.put(configJson, Entry(describeJson, System.nanoTime()))
      if (entries.size() > MaxEntries) entries.remove(entries.keySet().iterator().next())
    }
    describeJson
  }
}

/**
 * The counts of one run of a streaming query (from `start()` until it stops): the epochs' counters added up, the
 * failed-records files, and the latest epoch's own counts. A restarted query is a new run and starts from zero,
 * so a failure limit it tripped before does not trip it again on records it never failed.
 */
private[spark] final class StreamRun {
  private var startedNanos = 0L
  private var counters = new Array[Long](Metrics.NativeNames.size)
  private var files = Seq.empty[String]
  private var epochs = 0L
  private var last: Option[(Long, Summary)] = None

  /** Adds one epoch's summary; returns the run's summary so far. */
  def add(epochId: Long, epoch: Summary): Summary = synchronized {
    val now = System.nanoTime()
    if (epochs == 0) startedNanos = now - epoch.durationNanos
    counters = Summary.accumulate(counters, epoch.counters)
    files = files ++ epoch.failedRecordsFiles
    epochs += 1
    last = Some(epochId -> epoch)
    epoch.copy(counters = counters.clone(), durationNanos = now - startedNanos, failedRecordsFiles = files)
  }

  /** The run's totals and the latest epoch's counts, as `StreamingQueryProgress.sink.metrics` shows them. */
  def metrics: Map[String, String] = synchronized {
    last match {
      case None => Map.empty
      case Some((epochId, epoch)) =>
        val seconds = epoch.durationNanos / 1e9
        val rate = if (seconds > 0) math.round((epoch.accepted - epoch.failed) / seconds) else 0L
        Map(
          RecordsWrittenMetric.Name -> Metrics.written(counters),
          RecordsDeletedMetric.Name -> Metrics.deleted(counters),
          RecordsFailedMetric.Name -> counters(Metrics.RowsFailed),
          RecordsRetriedMetric.Name -> counters(Metrics.RowsRetried),
          RequestsThrottledMetric.Name -> counters(Metrics.RequestsThrottled),
          "epochsCommitted" -> epochs,
          "lastEpoch" -> epochId,
          "lastEpochRecordsWritten" -> epoch.written,
          "lastEpochRecordsFailed" -> epoch.failed,
          "lastEpochRecordsPerSecond" -> rate).map { case (k, v) => k -> v.toString }
    }
  }
}

private[spark] object StreamRun {
  /** The one line an epoch prints: `featurestore epoch <n> of query <id>: write to '<group>': <counts>`. */
  def epochLine(queryId: String, epochId: Long, epoch: Summary): String =
    s"featurestore epoch $epochId of query $queryId: ${epoch.line.stripPrefix("featurestore ")}"
}
