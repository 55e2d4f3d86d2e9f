package featurestore.spark

import java.nio.ByteBuffer
import java.nio.channels.WritableByteChannel

import org.apache.arrow.vector.VectorSchemaRoot
import org.apache.arrow.vector.ipc.ArrowStreamWriter

/**
 * One reused direct buffer that holds a complete Arrow IPC stream (schema, batches, end-of-stream) for the
 * native side to read in place (`GetDirectBufferAddress`, no copy). Grows by doubling when a batch does not fit;
 * never shrinks during a task. Not thread-safe (one per task).
 */
final class IpcBuffer(initialCapacity: Int) extends WritableByteChannel {
  private var buffer: ByteBuffer = ByteBuffer.allocateDirect(initialCapacity)

  /** The buffer the last stream was written to; its first [[length]] bytes are the stream. */
  def bytes: ByteBuffer = buffer

  def length: Int = buffer.position()

  def capacity: Int = buffer.capacity()

  /** Replaces the content with `root`'s current batch as a whole IPC stream. */
  def writeBatch(root: VectorSchemaRoot): Unit = {
    buffer.clear()
    val writer = new ArrowStreamWriter(root, null, this)
    writer.start()
    writer.writeBatch()
    writer.end()
  }

  /** Replaces the content with a stream that has `root`'s schema and no batch (for the driver's schema check). */
  def writeSchemaOnly(root: VectorSchemaRoot): Unit = {
    buffer.clear()
    val writer = new ArrowStreamWriter(root, null, this)
    writer.start()
    writer.end()
  }

  override def write(src: ByteBuffer): Int = {
    val n = src.remaining()
    if (n > buffer.remaining()) grow(buffer.position().toLong + n)
    buffer.put(src)
    n
  }

  private def grow(needed: Long): Unit = {
    if (needed > Int.MaxValue - 8) {
      throw new FeatureStoreValidationException(
        s"an Arrow batch of $needed bytes does not fit in one buffer; lower the batchRows or batchBytes option")
    }
    var capacity = math.max(buffer.capacity().toLong, 1024L)
    while (capacity < needed) capacity *= 2
    val bigger = ByteBuffer.allocateDirect(math.min(capacity, Int.MaxValue - 8L).toInt)
    buffer.flip()
    bigger.put(buffer)
    buffer = bigger
  }

  override def isOpen: Boolean = true

  /** The stream writer closes its channel at the end of a stream; the buffer lives on for the next one. */
  override def close(): Unit = ()
}
