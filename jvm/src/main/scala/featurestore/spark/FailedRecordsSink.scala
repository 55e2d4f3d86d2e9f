package featurestore.spark

import java.io.{ObjectInputStream, ObjectOutputStream, OutputStream}

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.Path

/** `failedRecordsPath` and the Hadoop configuration to reach it with: shipped to tasks only when set. */
final case class FailedRecordsTarget(directory: String, hadoopConf: SerializableHadoopConf)

/**
 * Where one task attempt's failed records go: `<failedRecordsPath>/failed-<partition>-<task attempt>[-<epoch>].jsonl`
 * on any Hadoop file system, each line one record's values and the reason (JSON written by the native side).
 * The file is created on the first failed record only, so a clean run leaves nothing behind.
 */
final class FailedRecordsSink(target: Option[FailedRecordsTarget], fileName: String) extends AutoCloseable {
  private var out: OutputStream = _
  private var file: Option[Path] = None

  /** Whether failed records are kept (else they are dropped unrendered). */
  def keeps: Boolean = target.isDefined

  /** The file written to, once a failed record arrived (with a directory configured). */
  def path: Option[String] = file.map(_.toString)

  /** Appends JSON lines (from [[NativeWriter.takeFailed]]). */
  def append(jsonLines: Array[Byte]): Unit = {
    if (jsonLines == null || jsonLines.isEmpty) return
    target.foreach { t =>
      if (out == null) {
        val path = new Path(t.directory, fileName)
        out = path.getFileSystem(t.hadoopConf.value).create(path, true)
        file = Some(path)
      }
      out.write(jsonLines)
    }
  }

  override def close(): Unit = {
    if (out != null) {
      val o = out
      out = null
      o.close()
    }
  }
}

object FailedRecordsSink {
  def fileName(partitionId: Int, taskId: Long, epochId: Option[Long]): String =
    s"failed-$partitionId-$taskId${epochId.map(e => s"-$e").getOrElse("")}.jsonl"
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
