package featurestore.spark

import java.io.{File, IOException}
import java.nio.charset.StandardCharsets
import java.nio.file.Files

import org.apache.hadoop.conf.Configuration
import org.scalatest.funsuite.AnyFunSuite

/** A task attempt's failed-records file on a real Hadoop file system (the local one). */
class FailedRecordsSinkSuite extends AnyFunSuite {
  private def target(dir: File): Option[FailedRecordsTarget] =
    Some(FailedRecordsTarget(dir.getPath, new SerializableHadoopConf(new Configuration()), "failed-app-1-write-2"))

  private def names(dir: File): Seq[String] = dir.list().toSeq.filterNot(_.startsWith(".")).sorted

  private val line = "{\"row\":1}\n".getBytes(StandardCharsets.UTF_8)

  test("a file is in progress until its attempt commits or aborts, and is never created over another") {
    val dir = Files.createTempDirectory("featurestore-failed-sink-").toFile

    val committed = new FailedRecordsSink(target(dir), 0, 11, None)
    committed.append(line)
    assert(names(dir) == Seq("failed-app-1-write-2-0-11.jsonl.inprogress"))
    committed.commit()
    committed.close()
    assert(committed.path.exists(_.endsWith("/failed-app-1-write-2-0-11.jsonl")), committed.path)

    val aborted = new FailedRecordsSink(target(dir), 1, 12, Some(7L))
    aborted.append(line)
    aborted.abort()
    val killed = new FailedRecordsSink(target(dir), 2, 13, None)
    killed.append(line)
    killed.close()
    val clean = new FailedRecordsSink(target(dir), 3, 14, None)
    clean.commit()
    assert(clean.path.isEmpty)
    assert(names(dir) == Seq("failed-app-1-write-2-0-11.jsonl", "failed-app-1-write-2-1-12-7.jsonl.aborted",
      "failed-app-1-write-2-2-13.jsonl.inprogress"))

    val again = new FailedRecordsSink(target(dir), 2, 13, None)
    intercept[IOException](again.append(line))
  }

  test("without failedRecordsPath nothing is kept or created") {
    val sink = new FailedRecordsSink(None, 0, 1, None)
    assert(!sink.keeps)
    sink.append(line)
    sink.commit()
    assert(sink.path.isEmpty)
  }
}
