package featurestore.spark

import scala.collection.JavaConverters._

import com.fasterxml.jackson.databind.JsonNode

/**
 * A write's options, checked on the driver by the engine, which holds every option's name, type, default and
 * rule (rust/core/src/options.rs): every problem is reported at once, before any task runs. Tasks get the text
 * the user gave and the engine reads it again; the JVM keeps the typed values of the options it handles itself.
 */
final case class WriteOptions(
    given: Map[String, String],
    featureGroupName: String,
    delete: Boolean,
    batchRows: Int,
    batchBytes: Long,
    ignoreUnknownColumns: Boolean,
    addMissingFeatures: Boolean,
    dryRun: Boolean,
    failedRecordsPath: Option[String],
    maxFailedRecords: Long,
    maxRecordsPerSecond: Option[Double],
    retryMaxElapsedMs: Long,
    requestTimeoutMs: Long,
    shown: String,
    offlineDirect: Boolean = false) {

  /**
   * How long a task waits for the native writer while no record gets settled before it gives up on it: every
   * record sent is settled within its delivery deadline plus one call's timeout, so a longer stall is a bug,
   * and the task fails instead of holding its slot.
   */
  def stallLimitMs: Long = retryMaxElapsedMs + 2 * requestTimeoutMs + 10000

  /**
   * What the native writer opens with: the options as given, the write's id, this executor's share of the
   * job's `maxRecordsPerSecond` (the ceiling of this write's writers in the executor together) and the task
   * attempt it works for (named in each failed-records line).
   */
  def writerConfigJson(recordsPerSecond: Option[Double], writeId: Option[String] = None,
      attempt: Option[TaskAttempt] = None): String = {
    val envelope = new java.util.LinkedHashMap[String, AnyRef]()
    envelope.put("options", new java.util.TreeMap[String, String](given.asJava))
    writeId.foreach(id => envelope.put("writeId", id))
    recordsPerSecond.foreach(rate => envelope.put("recordsPerSecond", java.lang.Double.valueOf(rate)))
    attempt.foreach(a => envelope.put("attempt", a.asJava))
    Json.mapper.writeValueAsString(envelope)
  }

  /** The options as given, secrets masked: for messages and logs. */
  override def toString: String = shown
}

/** The Spark task attempt a writer works for, as its failed-records lines name it. */
final case class TaskAttempt(application: String, stage: Int, stageAttempt: Int, partition: Int,
    taskAttemptId: Long, attemptNumber: Int, epoch: Option[Long]) {

  def asJava: java.util.Map[String, AnyRef] = {
    val map = new java.util.LinkedHashMap[String, AnyRef]()
    map.put("application", application)
    map.put("stage", Int.box(stage))
    map.put("stageAttempt", Int.box(stageAttempt))
    map.put("partition", Int.box(partition))
    map.put("taskAttemptId", Long.box(taskAttemptId))
    map.put("attemptNumber", Int.box(attemptNumber))
    epoch.foreach(e => map.put("epoch", Long.box(e)))
    map
  }
}

object WriteOptions {

  /** The option naming the feature group, read before the options are checked (a table's name). */
  val FeatureGroupName = "featureGroupName"

  /**
   * Checks `options` (keys in any case, as Spark passes them; session settings `spark.datasource.featurestore.*`
   * already merged in by Spark). Unknown keys, invalid values and contradictions are all reported in one
   * [[FeatureStoreValidationException]].
   */
  def parse(options: Map[String, String]): WriteOptions = {
    val checked = Json.mapper.readTree(Native.checkOptions(Json.mapper.writeValueAsString(options.asJava)))
    val problems = checked.path("problems").elements().asScala.toSeq
      .map(p => s"option ${p.path("option").asText()}: ${p.path("message").asText()}")
    if (problems.nonEmpty) {
      val count = s"${problems.size} problem${if (problems.size > 1) "s" else ""}"
      throw new FeatureStoreValidationException(s"invalid featurestore options ($count): ${problems.mkString("; ")}")
    }
    val values = checked.path("values")
    def optional(name: String): Option[JsonNode] = Option(values.get(name)).filterNot(_.isNull)
    WriteOptions(
      given = options,
      featureGroupName = values.path(FeatureGroupName).asText(),
      delete = values.path("operation").asText() == "delete",
      batchRows = values.path("batchRows").asInt(),
      batchBytes = values.path("batchBytes").asLong(),
      ignoreUnknownColumns = values.path("ignoreUnknownColumns").asBoolean(),
      addMissingFeatures = values.path("addMissingFeatures").asBoolean(),
      dryRun = values.path("dryRun").asBoolean(),
      failedRecordsPath = optional("failedRecordsPath").map(_.asText()),
      maxFailedRecords = values.path("maxFailedRecords").asLong(),
      maxRecordsPerSecond = optional("maxRecordsPerSecond").map(_.asDouble()),
      retryMaxElapsedMs = values.path("retryMaxElapsedMs").asLong(),
      requestTimeoutMs = values.path("requestTimeoutMs").asLong(),
      shown = checked.path("shown").asText(),
      offlineDirect = values.path("offlineWrite").asText() == "direct")
  }
}

/** The JSON mapper of the Jackson that Spark ships (never bundled). */
private[spark] object Json {
  lazy val mapper = new com.fasterxml.jackson.databind.ObjectMapper()
}
