package featurestore.spark

import java.util.Locale

import scala.util.Try

/** How an option's text becomes a value; `doc` is what the README's table shows as the option's type. */
sealed abstract class OptionType(val doc: String) {

  /** The value, or a problem (without the option's name, which the caller adds). */
  def parse(text: String): Either[String, Any]
}

object OptionType {
  case object Text extends OptionType("string") {
    def parse(text: String): Either[String, Any] =
      if (text.trim.isEmpty) Left("must not be empty") else Right(text.trim)
  }

  case object Bool extends OptionType("boolean") {
    def parse(text: String): Either[String, Any] = text.trim.toLowerCase(Locale.ROOT) match {
      case "true" => Right(true)
      case "false" => Right(false)
      case _ => Left(s"must be true or false, not '$text'")
    }
  }

  /** A whole number in `[min, max]`. */
  final case class Whole(min: Long, max: Long = Long.MaxValue)
      extends OptionType(if (max == Long.MaxValue) s"integer >= $min" else s"integer $min..$max") {
    def parse(text: String): Either[String, Any] =
      Try(text.trim.toLong).toOption match {
        case Some(n) if n >= min && n <= max => Right(n)
        case Some(_) => Left(s"must be $doc, not $text")
        case None => Left(s"must be an integer, not '$text'")
      }
  }

  case object PositiveNumber extends OptionType("number > 0") {
    def parse(text: String): Either[String, Any] =
      Try(text.trim.toDouble).toOption match {
        case Some(d) if d > 0 && !d.isInfinite && !d.isNaN => Right(d)
        case _ => Left(s"must be a number > 0, not '$text'")
      }
  }

  /** One of `values`, matched without regard to case; the value is the canonical spelling. */
  final case class OneOf(values: String*) extends OptionType(values.mkString(" \\| ")) {
    def parse(text: String): Either[String, Any] =
      values.find(_.equalsIgnoreCase(text.trim)).toRight(s"must be one of ${values.mkString(", ")}, not '$text'")
  }

  /** `OnlineStore`, `OfflineStore` or both, comma-separated. */
  case object Stores extends OptionType("OnlineStore,OfflineStore") {
    private val known = Seq("OnlineStore", "OfflineStore")
    def parse(text: String): Either[String, Any] = {
      val items = text.split(",").map(_.trim).filter(_.nonEmpty).toSeq
      val canonical = items.map(i => known.find(_.equalsIgnoreCase(i)).toRight(i))
      val unknown = canonical.collect { case Left(i) => i }
      if (items.isEmpty) Left("must list OnlineStore and/or OfflineStore")
      else if (unknown.nonEmpty) Left(s"unknown store ${unknown.mkString(", ")} (OnlineStore, OfflineStore)")
      else if (items.map(_.toLowerCase(Locale.ROOT)).distinct.size != items.size) Left("lists a store twice")
      else Right(canonical.collect { case Right(s) => s })
    }
  }

  /** `<value> <unit>`, e.g. `7 Days`: the service's TtlDuration. */
  case object Ttl extends OptionType("<n> Seconds\\|Minutes\\|Hours\\|Days\\|Weeks") {
    private val units = Seq("Seconds", "Minutes", "Hours", "Days", "Weeks")
    def parse(text: String): Either[String, Any] = text.trim.split("\\s+") match {
      case Array(value, unit) =>
        (Try(value.toInt).toOption.filter(_ >= 1), units.find(_.equalsIgnoreCase(unit))) match {
          case (Some(v), Some(u)) => Right(TtlDuration(u, v))
          case _ => Left(s"must be a positive whole number and a unit (${units.mkString(", ")}), e.g. '7 Days'")
        }
      case _ => Left(s"must look like '7 Days', not '$text'")
    }
  }
}

final case class TtlDuration(unit: String, value: Int)

/**
 * One option of the connector: its name (matched without regard to case, as Spark does), type, default as
 * shown to users, and what it does. `engine` names the key of the native writer config it feeds (a dotted
 * path), or is empty for options the JVM side handles itself. The README's options table is generated from
 * these definitions ([[OptionsDoc]]) and a test keeps it equal.
 */
final case class OptionDef(
    name: String,
    optionType: OptionType,
    default: String,
    doc: String,
    engine: String = "",
    secret: Boolean = false) {
  def key: String = name.toLowerCase(Locale.ROOT)
}

/** Every option, in the order the README lists them. */
object OptionDefs {
  import OptionType._

  val FeatureGroupName = OptionDef("featureGroupName", Text, "(required)",
    "Name or ARN of the feature group to write to.", engine = "featureGroup")

  val Region = OptionDef("region", Text, "the AWS default chain",
    "AWS region (default: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile, instance metadata).",
    engine = "client.region")
  val RuntimeEndpoint = OptionDef("runtimeEndpoint", Text, "the regional endpoint",
    "Feature Store runtime endpoint URL (PutRecord, BatchWriteRecord); default " +
      "`AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME`, `AWS_ENDPOINT_URL`, then the region's endpoint.",
    engine = "client.runtimeEndpoint")
  val ControlEndpoint = OptionDef("controlEndpoint", Text, "the regional endpoint",
    "SageMaker endpoint URL for DescribeFeatureGroup; default `AWS_ENDPOINT_URL_SAGEMAKER`, " +
      "`AWS_ENDPOINT_URL`, then the region's endpoint.",
    engine = "client.controlEndpoint")
  val Profile = OptionDef("profile", Text, "the default chain",
    "Named profile of the shared AWS config and credentials files.", engine = "client.profile")
  val AssumeRoleArn = OptionDef("assumeRoleArn", Text, "none",
    "IAM role to assume (STS AssumeRole) with the credentials found otherwise.", engine = "client.assumeRoleArn")
  val AssumeRoleSessionName = OptionDef("assumeRoleSessionName", Text, "featurestore-spark",
    "Session name for `assumeRoleArn`.", engine = "client.assumeRoleSessionName")
  val AccessKeyId = OptionDef("accessKeyId", Text, "none",
    "Static access key id (with `secretAccessKey`); prefer a profile or the default chain.",
    engine = "client.accessKeyId", secret = true)
  val SecretAccessKey = OptionDef("secretAccessKey", Text, "none",
    "Static secret access key (with `accessKeyId`).", engine = "client.secretAccessKey", secret = true)
  val SessionToken = OptionDef("sessionToken", Text, "none",
    "Session token for temporary static credentials.", engine = "client.sessionToken", secret = true)
  val ConnectTimeoutMs = OptionDef("connectTimeoutMs", Whole(1), "3000",
    "TCP and TLS connect timeout, in milliseconds.", engine = "client.connectTimeoutMs")
  val RequestTimeoutMs = OptionDef("requestTimeoutMs", Whole(1), "30000",
    "Timeout of one call, from sending to the whole response, in milliseconds.",
    engine = "client.requestTimeoutMs")
  val MaxConnections = OptionDef("maxConnections", Whole(1, Int.MaxValue), "256",
    "Connections kept open per endpoint, per executor.", engine = "client.maxConnections")

  val Api = OptionDef("api", OneOf("auto", "BatchWriteRecord", "PutRecord"), "auto",
    "Write API: `auto` uses BatchWriteRecord and falls back to PutRecord when BatchWriteRecord is not " +
      "permitted.", engine = "api")
  val RecordsPerRequest = OptionDef("recordsPerRequest", Whole(1, 25), "25",
    "Records per BatchWriteRecord call.", engine = "batchSize")
  val TargetStores = OptionDef("targetStores", Stores, "every store of the group",
    "Stores to write to (`TargetStores` of each record).", engine = "targetStores")
  val TtlDurationOption = OptionDef("ttlDuration", Ttl, "the group's TTL",
    "Time to live of online records, e.g. `7 Days` (`TtlDuration` of each record).", engine = "ttlDuration")
  val MaxInFlight = OptionDef("maxInFlight", Whole(1, Int.MaxValue), "64",
    "Requests in flight per task, at most.", engine = "maxInFlight")
  val AdaptiveRate = OptionDef("adaptiveRate", Bool, "true",
    "Adapt the send rate to the service's throttling: one controller per executor for each endpoint and feature " +
      "group, shared by every task writing there, settles just below the rate the service grants and probes " +
      "upward again (`false`: send as fast as `maxInFlight` allows, and only back off each throttled request).",
    engine = "adaptiveRate")
  val MaxRecordsPerSecond = OptionDef("maxRecordsPerSecond", PositiveNumber, "no limit",
    "Ceiling for the whole job (for a stream, each micro-batch), in records per second: the driver shares it " +
      "among the executors by the tasks each is writing at the moment, and moves the shares as tasks start and " +
      "end and executors come and go. Each executor asks for its share every 0.5 s, so when one joins, the job " +
      "can go over the ceiling for up to that long.")
  val MaxQueuedRecords = OptionDef("maxQueuedRecords", Whole(1, Int.MaxValue), "16384",
    "Records queued or in flight per task before the task waits (backpressure).", engine = "maxQueuedRecords")
  val MaxQueuedBytes = OptionDef("maxQueuedBytes", Whole(1024), "67108864",
    "Encoded bytes queued or in flight per task before the task waits.", engine = "maxQueuedBytes")
  val RetryMaxAttempts = OptionDef("retryMaxAttempts", Whole(1, Int.MaxValue), "no limit",
    "Attempts per record, the first included (1 = never retry); by default only `retryMaxElapsedMs` bounds " +
      "retries.", engine = "retry.maxAttempts")
  val RetryMaxElapsedMs = OptionDef("retryMaxElapsedMs", Whole(0), "600000",
    "A record's delivery deadline: throttled, 5xx, timed-out and unanswered attempts are retried until this " +
      "long after its first attempt (ms); the default rides out an endpoint outage of a few minutes.",
    engine = "retry.maxElapsedMs")
  val RetryBaseDelayMs = OptionDef("retryBaseDelayMs", Whole(0), "50",
    "Backoff before retry n is uniform in [0, min(retryMaxDelayMs, retryBaseDelayMs * 2^(n-1))] (ms); with " +
      "`adaptiveRate`, a throttled call waits at most `retryBaseDelayMs`, as the rate has slowed down already.",
    engine = "retry.baseDelayMs")
  val RetryMaxDelayMs = OptionDef("retryMaxDelayMs", Whole(0), "20000",
    "Longest backoff between two attempts (ms).", engine = "retry.maxDelayMs")

  val BatchRows = OptionDef("batchRows", Whole(1, Int.MaxValue), "4096",
    "Rows per Arrow batch handed from the JVM to the native writer.")
  val BatchBytes = OptionDef("batchBytes", Whole(1024, 1L << 30), "8388608",
    "Bytes per Arrow batch (checked every 64 rows; at most 1 GiB, as string columns use 32-bit offsets).")
  val IgnoreUnknownColumns = OptionDef("ignoreUnknownColumns", Bool, "false",
    "Columns that are not features are ignored instead of failing the job before it starts.",
    engine = "ignoreUnknownColumns")
  val DryRun = OptionDef("dryRun", Bool, "false",
    "Validate and encode every row but write nothing; rows that would fail are reported as failed.",
    engine = "dryRun")
  val FailedRecordsPath = OptionDef("failedRecordsPath", Text, "none",
    "Directory (any Hadoop file system) for failed records: one JSON-lines file per task attempt, each line " +
      "the record's values and the reason.")
  val MaxFailedRecords = OptionDef("maxFailedRecords", Whole(0), "0",
    "The job fails at commit, after every row was attempted, when more records than this failed.")

  val all: Seq[OptionDef] = Seq(
    FeatureGroupName, Region, RuntimeEndpoint, ControlEndpoint, Profile, AssumeRoleArn, AssumeRoleSessionName,
    AccessKeyId, SecretAccessKey, SessionToken, ConnectTimeoutMs, RequestTimeoutMs, MaxConnections,
    Api, RecordsPerRequest, TargetStores, TtlDurationOption, MaxInFlight, AdaptiveRate, MaxRecordsPerSecond,
    MaxQueuedRecords,
    MaxQueuedBytes, RetryMaxAttempts, RetryMaxElapsedMs, RetryBaseDelayMs, RetryMaxDelayMs,
    BatchRows, BatchBytes, IgnoreUnknownColumns, DryRun, FailedRecordsPath, MaxFailedRecords)

  val byKey: Map[String, OptionDef] = all.map(d => d.key -> d).toMap

  /** Keys Spark itself may put in a write's options; accepted and not ours to check. */
  val sparkKeys: Set[String] = Set("path", "checkpointlocation")
}

/**
 * A write's options, parsed and checked on the driver (every problem reported at once), then shipped to tasks.
 * Values are those the user gave; `None` means the engine's default (documented in [[OptionDefs]]).
 */
final case class WriteOptions(values: Map[String, Any]) {
  import OptionDefs._

  def featureGroupName: String = values(FeatureGroupName.key).asInstanceOf[String]
  def batchRows: Int = get[Long](BatchRows).map(_.toInt).getOrElse(4096)
  def batchBytes: Long = get[Long](BatchBytes).getOrElse(8L << 20)
  def ignoreUnknownColumns: Boolean = get[Boolean](IgnoreUnknownColumns).getOrElse(false)
  def dryRun: Boolean = get[Boolean](DryRun).getOrElse(false)
  def failedRecordsPath: Option[String] = get[String](FailedRecordsPath)
  def maxFailedRecords: Long = get[Long](MaxFailedRecords).getOrElse(0L)
  def maxRecordsPerSecond: Option[Double] = get[Double](MaxRecordsPerSecond)

  def get[T](option: OptionDef): Option[T] = values.get(option.key).map(_.asInstanceOf[T])

  /**
   * The native writer's config (rust/core/src/config.rs, strict camelCase JSON). Unset options are left out so
   * that the engine's defaults apply. `maxRecordsPerSecond` is the ceiling of the writers of write `writeId` in
   * one executor together (its share of the job's ceiling); without `writeId`, of each writer alone.
   */
  def writerConfigJson(recordsPerSecond: Option[Double], writeId: Option[String] = None): String = {
    val root = new java.util.LinkedHashMap[String, AnyRef]()
    def put(path: String, value: AnyRef): Unit = {
      val parts = path.split('.')
      val parent = parts.init.foldLeft(root) { (map, part) =>
        map.computeIfAbsent(part, _ => new java.util.LinkedHashMap[String, AnyRef]())
          .asInstanceOf[java.util.LinkedHashMap[String, AnyRef]]
      }
      parent.put(parts.last, value)
    }
    for (option <- all if option.engine.nonEmpty; value <- values.get(option.key)) {
      put(option.engine, toJson(value))
    }
    recordsPerSecond.foreach(rate => put("maxRecordsPerSecond", java.lang.Double.valueOf(rate)))
    writeId.foreach(id => put("writeId", id))
    Json.mapper.writeValueAsString(root)
  }

  private def toJson(value: Any): AnyRef = value match {
    case s: String => s
    case b: Boolean => java.lang.Boolean.valueOf(b)
    case n: Long => java.lang.Long.valueOf(n)
    case d: Double => java.lang.Double.valueOf(d)
    case TtlDuration(unit, v) =>
      val ttl = new java.util.LinkedHashMap[String, AnyRef]()
      ttl.put("unit", unit)
      ttl.put("value", Integer.valueOf(v))
      ttl
    case items: Seq[_] =>
      val list = new java.util.ArrayList[AnyRef]()
      items.foreach(i => list.add(toJson(i)))
      list
    case other => throw new FeatureStoreInternalException(s"option value of unexpected type: ${other.getClass}")
  }

  /** The options as given, secrets masked: for messages and logs. */
  override def toString: String =
    all.flatMap(o => values.get(o.key).map(v => s"${o.name}=${if (o.secret) "***" else v}")).mkString(", ")
}

object WriteOptions {

  /**
   * Parses `options` (keys in any case, as Spark passes them; session settings `spark.datasource.featurestore.*`
   * already merged in by Spark). Unknown keys and invalid values are all reported in one
   * [[FeatureStoreValidationException]].
   */
  def parse(options: Map[String, String]): WriteOptions = {
    val problems = Seq.newBuilder[String]
    val values = Map.newBuilder[String, Any]
    for ((key, text) <- options.toSeq.sortBy(_._1.toLowerCase(Locale.ROOT))) {
      val lower = key.toLowerCase(Locale.ROOT)
      OptionDefs.byKey.get(lower) match {
        case Some(option) =>
          option.optionType.parse(text) match {
            case Right(value) => values += option.key -> value
            case Left(problem) =>
              val shown = if (option.secret) "" else s" (given '$text')"
              problems += s"option ${option.name}: ${problem.replace(s"'$text'", "the value")}$shown"
          }
        case None if OptionDefs.sparkKeys.contains(lower) =>
        case None => problems += s"unknown option '$key'${suggestion(lower)}"
      }
    }
    val parsed = values.result()
    if (!parsed.contains(OptionDefs.FeatureGroupName.key)) {
      problems += "option featureGroupName is required (the name or ARN of the feature group)"
    }
    val result = WriteOptions(parsed)
    problems ++= engineProblems(result)
    val all = problems.result()
    if (all.nonEmpty) {
      throw new FeatureStoreValidationException(
        s"invalid featurestore options (${all.size} problem${if (all.size > 1) "s" else ""}): ${all.mkString("; ")}")
    }
    result
  }

  /**
   * The engine's own strict check of the config (combinations and values only it knows, e.g. an access key
   * without its secret, a malformed endpoint), with its config keys renamed to the option names users wrote.
   */
  private def engineProblems(options: WriteOptions): Seq[String] = {
    val json = options.writerConfigJson(options.maxRecordsPerSecond)
    try {
      Native.validateWriterConfig(json)
      Nil
    } catch {
      case e: FeatureStoreValidationException =>
        val text = e.getMessage.stripPrefix("invalid configuration: ")
        val renamed = OptionDefs.all.filter(_.engine.nonEmpty).sortBy(-_.engine.length)
          .foldLeft(text)((t, o) => t.replace(o.engine, o.name))
        // A missing featureGroupName is reported above already.
        renamed.split("; ").toSeq.filterNot(p => p.startsWith("featureGroupName") && !options.values.contains(OptionDefs.FeatureGroupName.key))
          .map(p => s"option $p")
    }
  }

  /** "; did you mean 'x'?" for a near miss (typos, other connectors' spellings). */
  private def suggestion(key: String): String = {
    val (best, distance) = OptionDefs.all.map(o => o -> editDistance(key, o.key)).minBy(_._2)
    if (distance <= math.max(2, key.length / 4)) s" (did you mean '${best.name}'?)" else ""
  }

  private def editDistance(a: String, b: String): Int = {
    val d = Array.tabulate(a.length + 1, b.length + 1)((i, j) => if (i == 0) j else if (j == 0) i else 0)
    for (i <- 1 to a.length; j <- 1 to b.length) {
      val cost = if (a(i - 1) == b(j - 1)) 0 else 1
      d(i)(j) = math.min(math.min(d(i - 1)(j) + 1, d(i)(j - 1) + 1), d(i - 1)(j - 1) + cost)
    }
    d(a.length)(b.length)
  }
}

/** The JSON mapper of the Jackson that Spark ships (never bundled). */
private[spark] object Json {
  lazy val mapper = new com.fasterxml.jackson.databind.ObjectMapper()
}
