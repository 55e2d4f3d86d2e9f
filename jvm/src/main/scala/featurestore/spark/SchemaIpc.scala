package featurestore.spark

import java.nio.ByteBuffer

import org.apache.arrow.vector.VectorSchemaRoot
import org.apache.spark.sql.featurestore.ArrowShim
import org.apache.spark.sql.types.StructType

/**
 * A DataFrame's schema as the engine reads it: Spark's own Arrow mapping, written as a schema-only Arrow IPC
 * stream in a direct buffer. The driver's schema check and the feature definitions of a DataFrame both go
 * through it, so that the engine judges the same Arrow types either way.
 */
private[spark] object SchemaIpc {

  /** Calls `use` with the buffer and the stream's length, while they are valid. */
  def withSchema[A](schema: StructType, timeZoneId: String)(use: (ByteBuffer, Int) => A): A = {
    val allocator = ArrowShim.rootAllocator.newChildAllocator("featurestore-schema", 0, Long.MaxValue)
    try {
      val root = VectorSchemaRoot.create(ArrowShim.toArrowSchema(schema, timeZoneId), allocator)
      try {
        val ipc = new IpcBuffer(64 << 10)
        ipc.writeSchemaOnly(root)
        use(ipc.bytes, ipc.length)
      } finally root.close()
    } catch {
      // Spark's own mapping refuses some types outright (e.g. intervals): name the problem like the engine would.
      case e: UnsupportedOperationException =>
        throw new FeatureStoreValidationException(
          s"a column has a type the connector cannot send (${e.getMessage})", e)
    } finally allocator.close()
  }
}
