package featurestore.spark

import java.lang.ref.WeakReference
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.{AtomicBoolean, AtomicLong}

import scala.collection.JavaConverters._
import scala.collection.mutable
import scala.util.control.NonFatal

import org.apache.spark.sql.featurestore.RpcShim
import org.slf4j.LoggerFactory

/**
 * `maxRecordsPerSecond` is a ceiling for a whole write (a Spark job, or one micro-batch of a stream). How many
 * tasks write at once is only known while the job runs: executors come and go (dynamic allocation), concurrent
 * jobs of one application share the slots, the last wave and skewed partitions leave slots idle. So the driver
 * keeps the book: each executor reports how many tasks of the write it has open, on every task start and every
 * [[RateCeiling.PollIntervalMs]] while it has any, and gets back its share, the ceiling times its tasks over all
 * open tasks of the write. The tasks of one write in an executor share one native pacer at that rate
 * (rust/core/src/sink/ceiling.rs).
 *
 * An executor that joins gets its share at once, while the others keep their larger old shares until their next
 * poll: the write can go over its ceiling for up to one poll interval. Everything else (a task ending, an
 * executor leaving or dying) only leaves the others below their fair share until they poll again.
 */
private[spark] object RateCeiling {
  val PollIntervalMs = 500L
  val AskTimeoutMs = 2000L

  /** An executor not heard from for this long is dropped from a write's book: it died, or its tasks ended. */
  val ExpiryNanos: Long = 3 * PollIntervalMs * 1000 * 1000

  /**
   * The one message, executor to driver: a tuple of strings and numbers, never a class of ours (and the answer an
   * `Option[Double]`). Spark deserializes RPC messages with the class loader its RPC environment was created
   * with, which on an executor does not see the jars added to the application.
   */
  private val ReportTag = "featurestore.rateCeiling.report"

  def report(writeId: String, executorId: String, openTasks: Int, sequence: Long): Any =
    (ReportTag, writeId, executorId, openTasks, sequence)

  object Report {
    def unapply(message: Any): Option[(String, String, Int, Long)] = message match {
      case (ReportTag, writeId: String, executorId: String, openTasks: Int, sequence: Long) =>
        Some((writeId, executorId, openTasks, sequence))
      case _ => None
    }
  }
}

/**
 * What a task needs to take part in its write's ceiling, shipped with the task: the write's id, the driver
 * endpoint that shares the ceiling out, the ceiling itself, and the share a task takes when the driver cannot be
 * reached before it has answered once (the split planning assumed: the ceiling over the tasks that could run at
 * once when the job was planned).
 */
final case class WriteCeiling(writeId: String, endpointName: String, recordsPerSecond: Double, fallbackShare: Double)

/**
 * The driver's book of the writes with a ceiling: for each, the executors that reported open tasks of it. Pure
 * bookkeeping (time is passed in), thread-safe.
 */
private[spark] final class CeilingBook(expiryNanos: Long) {
  import CeilingBook._

  private val writes = mutable.HashMap.empty[String, Write]

  def register(writeId: String, recordsPerSecond: Double): Unit = synchronized {
    writes.getOrElseUpdate(writeId, new Write(recordsPerSecond))
  }

  def unregister(writeId: String): Unit = synchronized(writes.remove(writeId))

  def registered: Int = synchronized(writes.size)

  /**
   * Records that `executorId` has `openTasks` tasks of `writeId` open and returns its share of the write's
   * ceiling; None when the write is not registered (ended, or never was). Reports of one executor carry
   * increasing `sequence` numbers: one that arrives after a later one (asks travel on several threads) is not
   * recorded. An executor with no open task gets 0.
   */
  def report(writeId: String, executorId: String, openTasks: Int, sequence: Long, nowNanos: Long): Option[Double] =
    synchronized {
      writes.get(writeId).map { write =>
        val executors = write.executors
        if (executors.get(executorId).forall(_.sequence < sequence)) {
          executors(executorId) = Heard(math.max(0, openTasks), sequence, nowNanos)
        }
        executors --= executors.collect { case (id, heard) if nowNanos - heard.atNanos > expiryNanos => id }
        val mine = executors.get(executorId).map(_.openTasks).getOrElse(0)
        val all = executors.valuesIterator.map(_.openTasks).sum
        if (mine == 0) 0.0 else write.recordsPerSecond * mine / all
      }
    }
}

private object CeilingBook {
  private final case class Heard(openTasks: Int, sequence: Long, atNanos: Long)
  private final class Write(val recordsPerSecond: Double) {
    val executors = mutable.HashMap.empty[String, Heard]
  }
}

/**
 * Driver side: registers writes in the book and serves the executors' reports through one RPC endpoint per
 * SparkContext, set up by the first write with a ceiling (a new SparkContext in this JVM gets its own).
 */
private[spark] object RateCeilingDriver {
  // Unique per copy of this class: a second copy of the connector loaded in the same driver (another class
  // loader) gets an endpoint and a book of its own instead of a name clash.
  private val endpointName = s"featurestore-rate-ceiling-${UUID.randomUUID()}"
  private val book = new CeilingBook(RateCeiling.ExpiryNanos)
  private var endpointOn = new WeakReference[AnyRef](null) // guarded by this

  /** Registers a new write with a ceiling of `recordsPerSecond`; its tasks report under the returned id. */
  def register(recordsPerSecond: Double, fallbackShare: Double): WriteCeiling = {
    ensureEndpoint()
    val writeId = UUID.randomUUID().toString
    book.register(writeId, recordsPerSecond)
    WriteCeiling(writeId, endpointName, recordsPerSecond, fallbackShare)
  }

  /** The write ended (committed or aborted): executors still asking about it keep the share they have. */
  def unregister(writeId: String): Unit = book.unregister(writeId)

  /** Writes registered and not ended: for tests. */
  def registeredWrites: Int = book.registered

  private def ensureEndpoint(): Unit = synchronized {
    val env = RpcShim.rpcEnvToken
    if (env == null) {
      throw new FeatureStoreInternalException("maxRecordsPerSecond needs a running SparkContext on the driver")
    }
    if (endpointOn.get() ne env) {
      RpcShim.setupEndpoint(endpointName, answer)
      endpointOn = new WeakReference(env)
    }
  }

  private def answer(message: Any): Any = message match {
    case RateCeiling.Report(writeId, executorId, openTasks, sequence) =>
      book.report(writeId, executorId, openTasks, sequence, System.nanoTime())
    case other =>
      throw new FeatureStoreInternalException(s"unexpected message to the rate ceiling endpoint: $other")
  }
}

/**
 * Executor side, one per JVM: the writes with tasks open here and this executor's share of each. A task joins
 * before its native writer opens (one synchronous ask, so its first rows already go at the new share) and leaves
 * when the writer is closed. While any task is open, a daemon thread asks the driver every poll interval and sets
 * the share on the native pacer. When the driver does not answer, the last share stays.
 */
private[spark] object RateCeilingExecutor {
  private val log = LoggerFactory.getLogger(getClass)

  /** A write with tasks open here. `openTasks` changes, and reports are numbered, only inside `writes.compute`. */
  private final class OpenWrite(val ceiling: WriteCeiling) {
    @volatile var openTasks = 0
    // The share and the number of the report it answered, guarded by this: an answer to an earlier report
    // that arrives after a later one's is dropped.
    var share: Double = ceiling.fallbackShare
    var shareSequence = 0L
    val warned = new AtomicBoolean()
  }

  private val writes = new ConcurrentHashMap[String, OpenWrite]()
  private val sequence = new AtomicLong()
  private val drivers = mutable.HashMap.empty[String, RpcShim.DriverEndpoint] // by endpoint name; guarded by this
  private val pollerStarted = new AtomicBoolean()
  private val idle = new Object

  /** Counts a task of `ceiling`'s write as open here; returns this executor's share of the write's ceiling. */
  def join(ceiling: WriteCeiling): Double = {
    val write = writes.compute(ceiling.writeId, (_, existing) => {
      val write = Option(existing).getOrElse(new OpenWrite(ceiling))
      write.openTasks += 1
      write
    })
    startPoller()
    refresh(write)
    write.synchronized(write.share)
  }

  /** The task's writer is closed. The last task of a write here tells the driver at once, without waiting. */
  def leave(ceiling: WriteCeiling): Unit = {
    var lastReport: Option[Long] = None
    writes.computeIfPresent(ceiling.writeId, (_, write) => {
      write.openTasks -= 1
      if (write.openTasks > 0) write
      else {
        lastReport = Some(sequence.incrementAndGet())
        null
      }
    })
    for (number <- lastReport) {
      try driverEndpoint(ceiling).foreach(_.send(RateCeiling.report(ceiling.writeId, RpcShim.executorId, 0, number)))
      catch { case NonFatal(e) => log.debug(s"could not tell the driver that write ${ceiling.writeId} ended here", e) }
    }
  }

  /** Tasks of `writeId` open in this JVM: for tests. */
  def openTasks(writeId: String): Int = Option(writes.get(writeId)).map(_.openTasks).getOrElse(0)

  /** Writes with tasks open in this JVM: for tests. */
  def openWrites: Int = writes.size()

  /** Reports this executor's open tasks of `write` and takes the share the driver answers. */
  private def refresh(write: OpenWrite): Unit = {
    val ceiling = write.ceiling
    // Read and numbered under the same lock as the count changes: a later number never carries an older count.
    var report: Option[(Int, Long)] = None
    writes.computeIfPresent(ceiling.writeId, (_, current) => {
      if (current eq write) report = Some((write.openTasks, sequence.incrementAndGet()))
      current
    })
    for ((tasks, number) <- report if tasks > 0) {
      val answer =
        try driverEndpoint(ceiling).map(_.ask(
          RateCeiling.report(ceiling.writeId, RpcShim.executorId, tasks, number), RateCeiling.AskTimeoutMs))
        catch {
          case NonFatal(e) =>
            if (write.warned.compareAndSet(false, true)) {
              log.warn(s"the driver did not answer about the records-per-second share of write ${ceiling.writeId}; " +
                s"this executor keeps ${write.synchronized(write.share)} records/s until it does", e)
            }
            None
        }
      answer match {
        case Some(Some(share: Double)) if share > 0 =>
          write.synchronized {
            if (number > write.shareSequence) {
              if (share != write.share) {
                log.debug(s"write ${ceiling.writeId}: $tasks tasks open here, share $share records/s")
              }
              write.shareSequence = number
              write.share = share
              Native.setWriteRecordsPerSecond(ceiling.writeId, share)
            }
          }
        case _ => // not registered (any more): the write ended, or the driver is another one; keep the share
      }
    }
  }

  /** The driver endpoint named by `ceiling`, looked up once per SparkEnv; None outside Spark. */
  private def driverEndpoint(ceiling: WriteCeiling): Option[RpcShim.DriverEndpoint] = synchronized {
    val env = RpcShim.rpcEnvToken
    if (env == null) None
    else {
      // A new SparkContext in this JVM (local masters, tests) has a new environment: earlier references are dead.
      drivers --= drivers.collect { case (name, d) if d.rpcEnvToken ne env => name }
      Some(drivers.getOrElseUpdate(ceiling.endpointName, RpcShim.driverEndpoint(ceiling.endpointName)))
    }
  }

  private def startPoller(): Unit = {
    if (pollerStarted.compareAndSet(false, true)) {
      val thread = new Thread(new Runnable { def run(): Unit = pollForever() }, "featurestore-rate-ceiling")
      thread.setDaemon(true)
      thread.start()
    }
    idle.synchronized(idle.notifyAll())
  }

  /** Every poll interval while a write has tasks open here; blocked, costing nothing, while none has. */
  private def pollForever(): Unit = {
    while (true) {
      try {
        idle.synchronized(while (writes.isEmpty) idle.wait())
        Thread.sleep(RateCeiling.PollIntervalMs)
        writes.values().asScala.foreach(refresh)
      } catch {
        case NonFatal(e) => log.warn("the rate ceiling poller failed; it goes on", e)
      }
    }
  }
}
