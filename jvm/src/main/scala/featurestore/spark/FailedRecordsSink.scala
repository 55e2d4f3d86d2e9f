package featurestore.spark

import java.io.{ObjectInputStream, ObjectOutputStream, OutputStream}

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.Path

/**
 * `failedRecordsPath`, the Hadoop configuration to reach it with (shipped to tasks only when the path is set),
 * and the stem of this write's file names: `failed-<application id>-<write id>`, so that no two writes, not even
 * of different applications (whose task ids both start at 0), share a name.
 */
final case class FailedRecordsTarget(directory: String, hadoopConf: SerializableHadoopConf, stem: String)

/**
 * Where one task attempt's failed records go, on any Hadoop file system, each line one record's values and the
 * reason (JSON written by the native side): `<stem>-<partition>-<task attempt>[-<epoch>].jsonl` once the attempt
 * commits. Until then the file is `<name>.inprogress` (what a killed executor leaves, visibly partial); an
 * attempt that aborts leaves `<name>.aborted` (another attempt may fail the same records again). The file is
 * created on the first failed record only, never over an existing one, so a clean run leaves nothing behind.
 */
final class FailedRecordsSink(target: Option[FailedRecordsTarget], partitionId: Int, taskId: Long,
    epochId: Option[Long]) extends AutoCloseable {
  private val fileName = target.map(t => s"${t.stem}-$partitionId-$taskId${epochId.map(e => s"-$e").getOrElse("")}.jsonl")
  private var out: OutputStream = _
  private var written: Option[Path] = None
  private var finished: Option[Path] = None

  /** Whether failed records are kept (else they are dropped unrendered). */
  def keeps: Boolean = target.isDefined

  /** The file under its final name, once the attempt committed with failed records. */
  def path: Option[String] = finished.map(_.toString)

  /** Appends JSON lines (from [[NativeWriter.takeFailed]]). */
  def append(jsonLines: Array[Byte]): Unit = {
    if (jsonLines == null || jsonLines.isEmpty) return
    for (t <- target; name <- fileName) {
      if (out == null) {
        val path = new Path(t.directory, s"$name.inprogress")
        out = path.getFileSystem(t.hadoopConf.value).create(path, false)
        written = Some(path)
      }
      out.write(jsonLines)
    }
  }

  /** The attempt committed: the file takes its final name. */
  def commit(): Unit = finish("")

  /** The attempt aborted: the file is kept as `<name>.aborted`. */
  def abort(): Unit = finish(".aborted")

  /** Closes the file; without commit or abort it stays `.inprogress`. */
  override def close(): Unit = {
    if (out != null) {
      val o = out
      out = null
      o.close()
    }
  }

  private def finish(suffix: String): Unit = {
    close()
    for (t <- target; name <- fileName; from <- written if finished.isEmpty) {
      val to = new Path(t.directory, name + suffix)
      if (!from.getFileSystem(t.hadoopConf.value).rename(from, to)) {
        throw new java.io.IOException(s"could not rename the failed-records file $from to $to")
      }
      finished = Some(to)
    }
  }
}

/** A Hadoop Configuration that travels to executors (Spark's own wrapper is internal). */
final class SerializableHadoopConf(@transient private var conf: Configuration) extends Serializable {
  def value: Configuration = conf

  private def writeObject(out: ObjectOutputStream): Unit = {
    out.defaultWriteObject()
    conf.write(out)
  }

  private def readObject(in: ObjectInputStream): Unit = {
    in.defaultReadObject()
    conf = new Configuration(false)
    conf.readFields(in)
  }
}
