package featurestore.spark

import java.io.{ObjectInputStream, ObjectOutputStream, OutputStream}

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.Path

/**
 * Where one task attempt's failed records go: `<failedRecordsPath>/failed-<partition>-<task attempt>[-<epoch>].jsonl`
 * on any Hadoop file system, each line one record's values and the reason (JSON written by the native side).
 * The file is created on the first failed record only, so a clean run leaves nothing behind.
 */
final class FailedRecordsSink(directory: Option[String], hadoopConf: SerializableHadoopConf, fileName: String)
    extends AutoCloseable {
  private var out: OutputStream = _
  private var file: Option[Path] = None

  /** The file written to, once a failed record arrived (with a directory configured). */
  def path: Option[String] = file.map(_.toString)

  /** Appends JSON lines (from [[NativeWriter.takeFailed]]); drops them when no directory is configured. */
  def append(jsonLines: Array[Byte]): Unit = {
    if (jsonLines == null || jsonLines.isEmpty) return
    directory.foreach { dir =>
      if (out == null) {
        val target = new Path(dir, fileName)
        out = target.getFileSystem(hadoopConf.value).create(target, true)
        file = Some(target)
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
