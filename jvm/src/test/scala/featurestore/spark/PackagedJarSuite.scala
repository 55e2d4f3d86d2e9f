package featurestore.spark

import java.io.File
import java.nio.file.{Files, StandardCopyOption}
import java.util.jar.JarFile

import scala.collection.JavaConverters._
import scala.sys.process._

import org.scalatest.Tag
import org.scalatest.funsuite.AnyFunSuite

/** Runs after `package` (Maven's integration-test phase): checks the jar users get. */
object PackagedJar extends Tag("featurestore.PackagedJar")

class PackagedJarSuite extends AnyFunSuite {
  private lazy val jar: File = {
    val dir = new File(sys.props("featurestore.build.dir"))
    val jars = Option(dir.listFiles()).toSeq.flatten.filter(f => f.getName.startsWith("featurestore-spark_") &&
      f.getName.endsWith(".jar"))
    assert(jars.size == 1, s"expected one featurestore-spark jar in $dir, found ${jars.map(_.getName)}")
    jars.head
  }

  test("the jar holds the connector and the native library, and no Spark, Arrow or Scala class", PackagedJar) {
    val entries = new JarFile(jar)
    val names = try entries.entries().asScala.map(_.getName).toList finally entries.close()
    assert(jar.getName.matches(s"featurestore-spark_${sys.props("featurestore.scala.binary")}-.*\\.jar"), jar.getName)
    for (required <- Seq("native/linux-x86_64/libfeaturestore_jni.so",
        "META-INF/services/org.apache.spark.sql.sources.DataSourceRegister",
        "featurestore/spark/FeatureStoreProvider.class", "featurestore/spark/NativeLibrary.class",
        "org/apache/spark/sql/featurestore/ArrowShim$.class")) {
      assert(names.contains(required), s"$required is missing from ${jar.getName}")
    }
    val foreign = names.filter(n => n.endsWith(".class") && !n.startsWith("featurestore/spark/") &&
      !n.startsWith("org/apache/spark/sql/featurestore/"))
    assert(foreign.isEmpty, s"bundled classes that are not ours: ${foreign.take(10)}")
    assert(!names.exists(_.contains("featurestore/spark/LoaderProbe")), "test classes leaked into the jar")
  }

  test("the bundled library needs no glibc newer than 2.17 (Amazon Linux 2)", PackagedJar) {
    val so = Files.createTempFile("libfeaturestore_jni-", ".so")
    try {
      val entries = new JarFile(jar)
      try Files.copy(entries.getInputStream(entries.getEntry("native/linux-x86_64/libfeaturestore_jni.so")), so,
        StandardCopyOption.REPLACE_EXISTING)
      finally entries.close()
      val versions = "GLIBC_([0-9]+)\\.([0-9]+)".r.findAllMatchIn(Seq("objdump", "-T", so.toString).!!)
        .map(m => (m.group(1).toInt, m.group(2).toInt)).toSet
      assert(versions.nonEmpty, "no GLIBC symbol versions found: not a glibc-linked library?")
      val highest = versions.max
      assert(Ordering[(Int, Int)].lteq(highest, (2, 17)), s"needs GLIBC_${highest._1}.${highest._2}")
    } finally Files.deleteIfExists(so)
  }
}
