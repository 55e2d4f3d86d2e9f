package featurestore.spark

/**
 * The README's options table, generated from [[OptionDefs]] (a test keeps README.md equal to it).
 * Regenerate: `mvn -q -f jvm/pom.xml scala:run -DmainClass=featurestore.spark.OptionsDoc -Dnative.skip=true`,
 * or copy the table a failing test prints.
 */
object OptionsDoc {
  val Begin = "<!-- options-table:begin (generated from OptionDefs; jvm/src/main/scala/featurestore/spark/WriteOptions.scala) -->"
  val End = "<!-- options-table:end -->"

  def table: String = {
    val header = Seq("| Option | Type | Default | What it does |", "| --- | --- | --- | --- |")
    val rows = OptionDefs.all.map { o =>
      val doc = if (o.secret) s"${o.doc} Secret: never logged." else o.doc
      s"| `${o.name}` | ${o.optionType.doc} | ${o.default} | $doc |"
    }
    (Seq(Begin) ++ header ++ rows ++ Seq(End)).mkString("\n")
  }

  def main(args: Array[String]): Unit = println(table)
}
