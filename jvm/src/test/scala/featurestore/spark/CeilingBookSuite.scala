package featurestore.spark

import java.io.{ByteArrayInputStream, ByteArrayOutputStream, ObjectInputStream, ObjectOutputStream}

import org.scalatest.funsuite.AnyFunSuite

/** The driver's arithmetic of a write's ceiling: who gets what share as executors report, join, leave and go quiet. */
class CeilingBookSuite extends AnyFunSuite {
  private val expiry = RateCeiling.ExpiryNanos

  private def book(recordsPerSecond: Double = 1000.0): CeilingBook = {
    val b = new CeilingBook(expiry)
    b.register("w", recordsPerSecond)
    b
  }

  /** A report at `atNanos`, each with a new sequence number. */
  private val sequences = new java.util.concurrent.atomic.AtomicLong()
  private def report(b: CeilingBook, executor: String, tasks: Int, atNanos: Long = 0L): Double =
    b.report("w", executor, tasks, sequences.incrementAndGet(), atNanos).get

  test("one task on one executor gets the whole ceiling") {
    assert(report(book(), "1", 1) == 1000.0)
  }

  test("executors share the ceiling by their open tasks, as they join and leave") {
    val b = book()
    assert(report(b, "1", 2) == 1000.0)
    assert(report(b, "2", 2) == 500.0, "a second executor with as many tasks gets half")
    assert(report(b, "1", 2) == 500.0)
    assert(report(b, "3", 4) == 500.0, "4 of 8 open tasks")
    assert(report(b, "1", 1) == 1000.0 / 7, "one of executor 1's tasks ended")
    assert(report(b, "2", 0) == 0.0, "an executor with no open task gets nothing")
    assert(report(b, "1", 1) == 200.0, "and its tasks no longer count: 1 of 5")
    assert(report(b, "3", 0) == 0.0)
    assert(report(b, "1", 1) == 1000.0, "the last executor writing gets all of it")
  }

  test("an executor not heard from for three poll intervals is dropped; one that reports again is back") {
    val b = book()
    val interval = RateCeiling.PollIntervalMs * 1000 * 1000
    assert(report(b, "1", 1, atNanos = 0) == 1000.0)
    assert(report(b, "2", 1, atNanos = interval) == 500.0)
    assert(report(b, "2", 1, atNanos = 3 * interval) == 500.0, "executor 1 was heard 3 intervals ago: kept")
    assert(report(b, "2", 1, atNanos = 3 * interval + 1) == 1000.0, "now it is gone: died, or finished quietly")
    assert(report(b, "1", 1, atNanos = 4 * interval) == 500.0)
    assert(expiry == 3 * interval)
  }

  test("shares are not rounded: they add up to the ceiling, small ceilings included") {
    for (ceiling <- Seq(1000.0, 1.0, 0.5, 7.0)) {
      val b = book(ceiling)
      (1 to 3).foreach(e => report(b, e.toString, 1))
      val shares = (1 to 3).map(e => report(b, e.toString, 1))
      shares.foreach(s => assert(s > 0 && s == ceiling / 3, s"ceiling $ceiling: $shares"))
      assert(math.abs(shares.sum - ceiling) <= ceiling * 1e-12, s"ceiling $ceiling: $shares")
    }
    val b = book(10.0)
    report(b, "1", 1)
    report(b, "2", 2)
    assert(report(b, "1", 1) == 10.0 / 3 && report(b, "2", 2) == 20.0 / 3)
  }

  test("a report that arrives after a later one of the same executor is not recorded") {
    val b = book()
    assert(b.report("w", "1", 1, sequence = 10, nowNanos = 0).contains(1000.0))
    assert(b.report("w", "2", 1, sequence = 1, nowNanos = 0).contains(500.0))
    // Executor 2's last task ended (sequence 3), and an ask sent before that (sequence 2) arrives late.
    assert(b.report("w", "2", 0, sequence = 3, nowNanos = 0).contains(0.0))
    assert(b.report("w", "2", 1, sequence = 2, nowNanos = 0).contains(0.0), "the stale report is ignored")
    assert(b.report("w", "1", 1, sequence = 11, nowNanos = 0).contains(1000.0))
  }

  test("writes are kept apart; an unknown or ended write gets no share") {
    val b = book(100.0)
    b.register("v", 40.0)
    assert(b.registered == 2)
    assert(report(b, "1", 1) == 100.0)
    assert(b.report("v", "1", 3, sequences.incrementAndGet(), 0).contains(40.0))
    assert(b.report("x", "1", 1, sequences.incrementAndGet(), 0).isEmpty)
    b.unregister("w")
    assert(b.report("w", "1", 1, sequences.incrementAndGet(), 0).isEmpty)
    assert(b.registered == 1)
    b.register("v", 999.0)
    assert(b.report("v", "1", 3, sequences.incrementAndGet(), 0).contains(40.0), "registering again changes nothing")
  }

  test("the report message is made of JDK and Scala library types only, and survives Java serialization") {
    val message = RateCeiling.report("w-1", "7", 3, 42L)
    // Loaded by the JVM's bootstrap loader, which every class loader of an executor sees.
    message.asInstanceOf[Product].productIterator.foreach(part => assert(part.getClass.getClassLoader == null, part))
    val bytes = new ByteArrayOutputStream()
    val out = new ObjectOutputStream(bytes)
    out.writeObject(message)
    out.close()
    val back = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray)).readObject()
    assert(RateCeiling.Report.unapply(back).contains(("w-1", "7", 3, 42L)))
    assert(RateCeiling.Report.unapply(("other", "w-1", "7", 3, 42L)).isEmpty)
  }
}
