package featurestore.spark

import org.apache.arrow.vector.VectorSchemaRoot
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow
import org.apache.spark.sql.catalyst.util.{ArrayBasedMapData, GenericArrayData}
import org.apache.spark.sql.execution.arrow.ArrowWriter
import org.apache.spark.sql.featurestore.ArrowShim
import org.apache.spark.sql.types._
import org.apache.spark.unsafe.types.UTF8String
import org.scalatest.funsuite.AnyFunSuite

/** [[RowsToArrow]] fills its vectors exactly as Spark's own ArrowWriter does, batch after batch. */
class RowsToArrowSuite extends AnyFunSuite {
  private val schema = StructType(Seq(
    StructField("id", LongType), StructField("i", IntegerType), StructField("s", ShortType),
    StructField("b", ByteType), StructField("d", DoubleType), StructField("f", FloatType),
    StructField("text", StringType), StructField("ts", TimestampType), StructField("ntz", TimestampNTZType),
    StructField("day", DateType), StructField("flag", BooleanType), StructField("dec", DecimalType(10, 2)),
    StructField("bin", BinaryType), StructField("longs", ArrayType(LongType)),
    StructField("tags", MapType(StringType, StringType))))

  /** Row `n` of a batch; every column null on some rows, strings of 0 to 3,000 bytes, some not ASCII. */
  private def row(n: Int, seed: Int): InternalRow = {
    val r = new scala.util.Random(n * 31L + seed)
    def maybe(value: => Any): Any = if (r.nextInt(7) == 0) null else value
    val text = maybe(UTF8String.fromString(("é" + r.nextString(3)) * r.nextInt(if (n % 97 == 0) 1000 else 5)))
    new GenericInternalRow(Array[Any](
      maybe(r.nextLong()), maybe(r.nextInt()), maybe(r.nextInt().toShort), maybe(r.nextInt().toByte),
      maybe(if (n % 50 == 0) Double.NaN else r.nextDouble() * 1e9), maybe(r.nextFloat()), text,
      maybe(r.nextLong() / 1000), maybe(r.nextLong() / 1000), maybe(r.nextInt(40000)), maybe(r.nextBoolean()),
      maybe(Decimal(BigDecimal(r.nextInt(100000)) / 100, 10, 2)), maybe(Array.fill(r.nextInt(4))(r.nextInt().toByte)),
      maybe(new GenericArrayData(Array.fill(r.nextInt(3))(r.nextLong()))),
      maybe(ArrayBasedMapData(Map(UTF8String.fromString("k" + n) -> UTF8String.fromString("v"))))))
  }

  private def withRoots(columns: StructType)(check: (VectorSchemaRoot, VectorSchemaRoot) => Unit): Unit = {
    val allocator = ArrowShim.rootAllocator.newChildAllocator("rows-to-arrow-suite", 0, Long.MaxValue)
    val arrowSchema = ArrowShim.toArrowSchema(columns, "UTC")
    val ours = VectorSchemaRoot.create(arrowSchema, allocator)
    val spark = VectorSchemaRoot.create(arrowSchema, allocator)
    try check(ours, spark)
    finally {
      ours.close()
      spark.close()
      allocator.close()
    }
  }

  private def sameBatches(columns: StructType, project: InternalRow => InternalRow): Unit =
    withRoots(columns) { (ours, spark) =>
      val writer = new RowsToArrow(ours, columns)
      val reference = ArrowWriter.create(spark)
      // Sizes past the vectors' first capacity (3,970 values), an empty batch, and smaller ones after big ones.
      for ((rows, batch) <- Seq(10, 9000, 0, 1, 4096, 37).zipWithIndex) {
        (0 until rows).foreach { n =>
          val input = project(row(n, batch))
          writer.write(input)
          reference.write(input)
        }
        writer.finish()
        reference.finish()
        assert(ours.getRowCount == rows)
        // Arrow's own comparison, vector by vector (validity, offsets, values); the text shows what differs.
        assert(ours.equals(spark), s"batch $batch of $rows rows:\n${ours.contentToTSVString()}\n" +
          spark.contentToTSVString())
        writer.reset()
        reference.reset()
      }
    }

  test("every column type, with nulls, over batches that grow the vectors and shrink again") {
    sameBatches(schema, identity)
  }

  test("only the directly written columns (no column through Spark's writer)") {
    val direct = StructType(schema.fields.take(10))
    sameBatches(direct, r => new GenericInternalRow((0 until 10).map(i => r.get(i, schema(i).dataType): Any).toArray))
  }
}
