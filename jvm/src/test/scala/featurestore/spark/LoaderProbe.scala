package featurestore.spark

/**
 * Run in a child JVM by [[NativeLibrarySuite]]: loads the library the way an executor does (no
 * java.library.path override) and prints what happened, one `key=value` per line.
 */
object LoaderProbe {
  def main(args: Array[String]): Unit = {
    try {
      NativeLibrary.load()
      println(s"loadedFrom=${NativeLibrary.loadedFrom()}")
      println(s"metricNames=${Native.metricNames().length}")
    } catch {
      case e: UnsatisfiedLinkError =>
        println(s"firstError=${e.getMessage}")
        try NativeLibrary.load()
        catch {
          case again: UnsatisfiedLinkError =>
            println(s"secondError=${again.getMessage}")
            println(s"secondCause=${again.getCause eq e}")
        }
    }
  }
}
