package featurestore.spark

import java.io.File
import java.nio.file.Files

import scala.sys.process._

import org.scalatest.funsuite.AnyFunSuite

/** The loader, in child JVMs that have only the classpath (the library comes from the jar's resources). */
class NativeLibrarySuite extends AnyFunSuite {

  private def probe(tmpDir: String): Map[String, String] = {
    val java = new File(sys.props("java.home"), "bin/java").getPath
    val out = Seq(java, "-cp", sys.props("java.class.path"), s"-Dfeaturestore.native.tmpdir=$tmpDir",
      "featurestore.spark.LoaderProbe").!!
    out.split("\n").flatMap { line =>
      line.split("=", 2) match {
        case Array(k, v) => Some(k -> v)
        case _ => None
      }
    }.toMap
  }

  test("an executor-like JVM loads the library from the jar's os/arch resource and deletes the extracted file") {
    val tmp = Files.createTempDirectory("featurestore-native-").toFile
    val result = probe(tmp.getPath)
    assert(result.get("loadedFrom").contains("jar:native/linux-x86_64/libfeaturestore_jni.so"), result)
    assert(result.get("metricNames").contains(Metrics.NativeNames.size.toString), result)
    assert(tmp.list().isEmpty, s"left behind: ${tmp.list().mkString(", ")}")
  }

  test("a load failure is kept and thrown again, with context, on every later use") {
    val result = probe("/nonexistent/featurestore-tmp")
    assert(result.get("firstError").exists(_.contains("could not extract native/linux-x86_64/libfeaturestore_jni.so")),
      result)
    assert(result.get("secondError").exists(_.contains("failed to load earlier in this JVM")), result)
    assert(result.get("secondCause").contains("true"), result)
  }
}
