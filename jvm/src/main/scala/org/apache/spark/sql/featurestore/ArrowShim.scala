package org.apache.spark.sql.featurestore

import java.lang.reflect.{InvocationTargetException, Method}

import org.apache.arrow.memory.BufferAllocator
import org.apache.arrow.vector.types.pojo.Schema

import org.apache.spark.sql.types.StructType
import org.apache.spark.sql.util.ArrowUtils

/**
 * The connector's one door into Spark's package-private `ArrowUtils` (hence this package).
 *
 * `toArrowSchema` changes arity between Spark lines (3.5-4.2: schema, time zone, errorOnDuplicatedFieldNames,
 * largeVarTypes; 4.3: a fifth boolean, default false), so it is reached by reflection: the jar compiled
 * against 4.2 runs on 4.3 too. The overload with the most flags is used, with errorOnDuplicatedFieldNames
 * true, largeVarTypes false (string and list columns with 32-bit offsets, as the engine reads them) and any
 * further flag false, its default. `rootAllocator` and `ArrowWriter.create(VectorSchemaRoot)` are the same on
 * 3.5, 4.2 and 4.3 (checked with javap on each line's jars).
 */
object ArrowShim {

  /** Spark's process-wide Arrow allocator; writers take child allocators from it. */
  def rootAllocator: BufferAllocator = ArrowUtils.rootAllocator

  /** Spark's own StructType -> Arrow schema mapping; timestamps carry `timeZoneId`. */
  def toArrowSchema(schema: StructType, timeZoneId: String): Schema = {
    val method = toArrowSchemaMethod
    val flags = method.getParameterTypes.drop(2).indices.map(i => java.lang.Boolean.valueOf(i == 0))
    val args: Seq[AnyRef] = Seq(schema, timeZoneId) ++ flags
    try method.invoke(ArrowUtils, args: _*).asInstanceOf[Schema]
    catch { case e: InvocationTargetException if e.getCause != null => throw e.getCause }
  }

  private lazy val toArrowSchemaMethod: Method = {
    val candidates = ArrowUtils.getClass.getMethods.toSeq.filter { m =>
      val params = m.getParameterTypes
      m.getName == "toArrowSchema" && params.length >= 2 &&
      params(0) == classOf[StructType] && params(1) == classOf[String] &&
      params.drop(2).forall(_ == java.lang.Boolean.TYPE)
    }
    candidates.sortBy(-_.getParameterCount).headOption.getOrElse {
      val seen = ArrowUtils.getClass.getMethods.filter(_.getName == "toArrowSchema").map(_.toGenericString)
      throw new UnsupportedOperationException(
        "this Spark version's ArrowUtils.toArrowSchema has no known signature: " + seen.mkString("; "))
    }
  }
}
