package featurestore.spark

import scala.collection.JavaConverters._

import org.apache.arrow.vector.{BaseFixedWidthVector, BigIntVector, DateDayVector, FieldVector, Float4Vector,
  Float8Vector, IntVector, SmallIntVector, TimeStampMicroTZVector, TimeStampMicroVector, TinyIntVector,
  VarCharVector, VectorSchemaRoot}
import org.apache.spark.sql.catalyst.{InternalRow, ProjectingInternalRow}
import org.apache.spark.sql.catalyst.expressions.SpecializedGetters
import org.apache.spark.sql.execution.arrow.ArrowWriter
import org.apache.spark.sql.types._
import org.apache.spark.unsafe.Platform

/**
 * Spark rows into the vectors of `root`, one batch at a time (`write` each row, `finish`, hand the root over,
 * `reset`). The scalar columns a feature group takes (integers, floating point, strings, dates, timestamps) are
 * written straight into their vectors' buffers: Spark's ArrowWriter checks capacity and bounds for each value
 * through several calls, which profiled at about a tenth of a write's CPU. Every other column (decimal, binary,
 * boolean, arrays, maps, structs) goes through Spark's own ArrowWriter over those vectors. Not thread-safe.
 */
final class RowsToArrow(root: VectorSchemaRoot, schema: StructType) {
  private val vectors = root.getFieldVectors.asScala.toIndexedSeq
  private val direct: IndexedSeq[(Int, ColumnWriter)] =
    schema.fields.indices.flatMap(i => ColumnWriter.direct(schema(i).dataType, vectors(i)).map(i -> _))
  private val directOrdinals = direct.map(_._1).toArray
  private val directWriters = direct.map(_._2).toArray
  private val viaSpark: Option[(ProjectingInternalRow, ArrowWriter)] = {
    val ordinals = schema.fields.indices.filterNot(directOrdinals.contains)
    if (ordinals.isEmpty) None
    else {
      // A root over the same vectors (never closed itself: `root` owns them).
      val sub = new VectorSchemaRoot(ordinals.map(vectors(_): FieldVector).asJava)
      Some((new ProjectingInternalRow(StructType(ordinals.map(schema(_))), ordinals), ArrowWriter.create(sub)))
    }
  }
  private var count = 0

  def write(row: InternalRow): Unit = {
    var i = 0
    while (i < directWriters.length) {
      directWriters(i).write(row, directOrdinals(i), count)
      i += 1
    }
    viaSpark.foreach { case (view, writer) =>
      view.project(row)
      writer.write(view)
    }
    count += 1
  }

  /** Sets the row count of the vectors and of `root`: the batch is ready to be read. */
  def finish(): Unit = {
    directWriters.foreach(_.finish(count))
    viaSpark.foreach(_._2.finish())
    root.setRowCount(count)
  }

  /** Empties the vectors for the next batch, keeping their buffers. */
  def reset(): Unit = {
    directWriters.foreach(_.reset())
    viaSpark.foreach(_._2.reset())
    root.setRowCount(0)
    count = 0
  }
}

/** Writes one column's values into its vector's buffers, by address; a buffer too small is grown first. */
private[spark] sealed abstract class ColumnWriter {
  def write(row: SpecializedGetters, ordinal: Int, index: Int): Unit
  def finish(count: Int): Unit
  def reset(): Unit
}

private[spark] object ColumnWriter {

  /** The direct writer for a column of `dataType` held in `vector`, if there is one. */
  def direct(dataType: DataType, vector: FieldVector): Option[ColumnWriter] = (dataType, vector) match {
    case (LongType, v: BigIntVector) => Some(new LongColumn(v))
    case (TimestampType, v: TimeStampMicroTZVector) => Some(new LongColumn(v))
    case (TimestampNTZType, v: TimeStampMicroVector) => Some(new LongColumn(v))
    case (DoubleType, v: Float8Vector) => Some(new DoubleColumn(v))
    case (IntegerType, v: IntVector) => Some(new IntColumn(v))
    case (DateType, v: DateDayVector) => Some(new IntColumn(v))
    case (FloatType, v: Float4Vector) => Some(new FloatColumn(v))
    case (ShortType, v: SmallIntVector) => Some(new ShortColumn(v))
    case (ByteType, v: TinyIntVector) => Some(new ByteColumn(v))
    case (_: StringType, v: VarCharVector) => Some(new StringColumn(v))
    case _ => None
  }

  private[spark] def setValid(validity: Long, index: Int): Unit = {
    val address = validity + (index >> 3)
    Platform.putByte(null, address, (Platform.getByte(null, address) | (1 << (index & 7))).toByte)
  }
}

/** Fixed-width values: a null leaves its validity bit clear (buffers are zeroed at allocation and reset). */
private abstract class FixedWidthColumn(vector: BaseFixedWidthVector) extends ColumnWriter {
  protected var values = 0L
  protected var validity = 0L
  private var capacity = 0
  vector.allocateNew()
  addresses()

  private def addresses(): Unit = {
    values = vector.getDataBufferAddress
    validity = vector.getValidityBufferAddress
    capacity = vector.getValueCapacity
  }

  /** The value's address, the vector grown first if `index` is past its capacity; `-1` for a null. */
  protected final def slot(row: SpecializedGetters, ordinal: Int, index: Int, width: Int): Long = {
    while (index >= capacity) {
      vector.reAlloc()
      addresses()
    }
    if (row.isNullAt(ordinal)) -1L
    else {
      ColumnWriter.setValid(validity, index)
      values + index.toLong * width
    }
  }

  override def finish(count: Int): Unit = vector.setValueCount(count)

  override def reset(): Unit = {
    vector.reset()
    addresses()
  }
}

private final class LongColumn(vector: BaseFixedWidthVector) extends FixedWidthColumn(vector) {
  override def write(row: SpecializedGetters, ordinal: Int, index: Int): Unit = {
    val at = slot(row, ordinal, index, 8)
    if (at >= 0) Platform.putLong(null, at, row.getLong(ordinal))
  }
}

private final class DoubleColumn(vector: BaseFixedWidthVector) extends FixedWidthColumn(vector) {
  override def write(row: SpecializedGetters, ordinal: Int, index: Int): Unit = {
    val at = slot(row, ordinal, index, 8)
    if (at >= 0) Platform.putDouble(null, at, row.getDouble(ordinal))
  }
}

private final class IntColumn(vector: BaseFixedWidthVector) extends FixedWidthColumn(vector) {
  override def write(row: SpecializedGetters, ordinal: Int, index: Int): Unit = {
    val at = slot(row, ordinal, index, 4)
    if (at >= 0) Platform.putInt(null, at, row.getInt(ordinal))
  }
}

private final class FloatColumn(vector: BaseFixedWidthVector) extends FixedWidthColumn(vector) {
  override def write(row: SpecializedGetters, ordinal: Int, index: Int): Unit = {
    val at = slot(row, ordinal, index, 4)
    if (at >= 0) Platform.putFloat(null, at, row.getFloat(ordinal))
  }
}

private final class ShortColumn(vector: BaseFixedWidthVector) extends FixedWidthColumn(vector) {
  override def write(row: SpecializedGetters, ordinal: Int, index: Int): Unit = {
    val at = slot(row, ordinal, index, 2)
    if (at >= 0) Platform.putShort(null, at, row.getShort(ordinal))
  }
}

private final class ByteColumn(vector: BaseFixedWidthVector) extends FixedWidthColumn(vector) {
  override def write(row: SpecializedGetters, ordinal: Int, index: Int): Unit = {
    val at = slot(row, ordinal, index, 1)
    if (at >= 0) Platform.putByte(null, at, row.getByte(ordinal))
  }
}

/** UTF-8 strings, copied from Spark's own bytes; a null gets an empty slot (its end offset is its start). */
private final class StringColumn(vector: VarCharVector) extends ColumnWriter {
  private var offsets = 0L
  private var data = 0L
  private var validity = 0L
  private var capacity = 0
  private var dataCapacity = 0L
  vector.allocateNew()
  addresses()

  private def addresses(): Unit = {
    offsets = vector.getOffsetBufferAddress
    data = vector.getDataBufferAddress
    validity = vector.getValidityBufferAddress
    capacity = vector.getValueCapacity
    dataCapacity = vector.getDataBuffer.capacity()
  }

  override def write(row: SpecializedGetters, ordinal: Int, index: Int): Unit = {
    while (index >= capacity) {
      vector.reallocValidityAndOffsetBuffers()
      addresses()
    }
    val start = Platform.getInt(null, offsets + index.toLong * 4)
    val endAt = offsets + (index.toLong + 1) * 4
    if (row.isNullAt(ordinal)) Platform.putInt(null, endAt, start)
    else {
      val text = row.getUTF8String(ordinal)
      val length = text.numBytes()
      val end = start.toLong + length
      if (end > Int.MaxValue) {
        throw new FeatureStoreValidationException(s"the strings of one Arrow batch exceed 2 GiB (column " +
          s"'${vector.getName}'); lower the batchRows or batchBytes option")
      }
      while (end > dataCapacity) {
        vector.reallocDataBuffer()
        addresses()
      }
      Platform.copyMemory(text.getBaseObject, text.getBaseOffset, null, data + start, length)
      Platform.putInt(null, endAt, end.toInt)
      ColumnWriter.setValid(validity, index)
    }
  }

  // Every offset up to `count` is written: the vector must not fill "holes" over them.
  override def finish(count: Int): Unit = {
    vector.setLastSet(count - 1)
    vector.setValueCount(count)
  }

  override def reset(): Unit = {
    vector.reset()
    addresses()
  }
}
