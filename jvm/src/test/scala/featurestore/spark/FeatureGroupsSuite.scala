package featurestore.spark

import scala.concurrent.duration._

import org.apache.spark.sql.DataFrame
import org.scalatest.funsuite.AnyFunSuite

/**
 * Feature groups from a DataFrame ([[FeatureGroups]]) against the real local Feature Store: the definitions every
 * Spark type maps to, a group created from a DataFrame that takes that DataFrame and reads it back exactly, and
 * the problems named before any call.
 */
class FeatureGroupsSuite extends AnyFunSuite {
  private lazy val spark = TestEnv.spark
  private lazy val store = TestEnv.store

  /** The connector's options for the store, without a feature group (the spec names it). */
  private def connection: Map[String, String] = TestEnv.storeOptions("unused") - "featureGroupName"

  /** Every Spark type the mapping names, two rows (the second with nulls where a feature may be absent). */
  private def everyType: DataFrame = spark.sql(
    """SELECT * FROM VALUES
      |  ('r1', TIMESTAMP '2024-01-02 03:04:05.678901', CAST(1 AS TINYINT), CAST(2 AS SMALLINT), 3, 4000000000000,
      |   CAST(123456789012345678 AS DECIMAL(18,0)), CAST(12.34 AS DECIMAL(10,2)), CAST(1.5 AS FLOAT), 0.1D, 'héllo',
      |   true, DATE '2024-02-29', TIMESTAMP '2024-01-02 03:04:05.678901', TIMESTAMP_NTZ '2024-05-06 07:08:09.123456',
      |   array(1L, -2L), array(0.25D, 1e300D), array('a', 'b'), array(true, false), array(DATE '2020-01-01'),
      |   array(TIMESTAMP '2024-01-02 03:04:05'), array('x', 'y'), array(CAST(0.5 AS FLOAT), 1.0F, 2.0F)),
      |  ('r2', TIMESTAMP '2024-01-03 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      |   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
      |AS t(id, ts, tiny, small, int, big, dec18, dec_scaled, float, double, text, flag, day, time, ntz, ints,
      |     doubles, texts, flags, days, times, tag_set, embedding)""".stripMargin)

  test("every Spark type the README's mapping names maps to its feature type") {
    val defs = FeatureGroups.featureDefinitions(everyType.schema, Some("ts"),
      Map("tag_set" -> "Set", "embedding" -> "Vector(3)"))
    val shown = defs.map(d => s"${d.name} ${d.collectionType.map(_ + " of ").getOrElse("")}${d.featureType}" +
      d.vectorDimension.map(n => s" ($n)").getOrElse(""))
    assert(shown == Seq("id String", "ts String", "tiny Integral", "small Integral", "int Integral",
      "big Integral", "dec18 Integral", "dec_scaled Fractional", "float Fractional", "double Fractional",
      "text String", "flag String", "day String", "time String", "ntz String", "ints List of Integral",
      "doubles List of Fractional", "texts List of String", "flags List of String", "days List of String",
      "times List of String", "tag_set Set of String", "embedding Vector of Fractional (3)"))
  }

  test("a group created from a DataFrame of every type takes it: written and read back exactly") {
    val group = TestEnv.newGroupName("from-df")
    val described = Json.mapper.readTree(FeatureGroups.create(everyType, FeatureGroupSpec(group, "id", "ts",
      storageType = Some("InMemory"), ttlDuration = Some("520 Weeks"), description = Some("every type"),
      tags = Map("team" -> "tests"), collectionTypes = Map("tag_set" -> "Set", "embedding" -> "Vector(3)"),
      timeout = 30.seconds), connection))
    assert(described.path("FeatureGroupStatus").asText() == "Created")
    assert(described.path("FeatureGroupName").asText() == group)
    assert(described.path("OnlineStoreConfig").path("TtlDuration").path("Unit").asText() == "Weeks")
    assert(described.path("FeatureDefinitions").size() == 23)

    everyType.write.format("featurestore").options(TestEnv.storeOptions(group)).mode("append").save()
    assert(WriteSummaries.last(group).get.written == 2)

    // The session's time zone is America/New_York: timestamps are written in UTC; TIMESTAMP_NTZ as wall-clock UTC.
    assert(store.getRecord(group, "r1").contains(Map(
      "id" -> "r1", "ts" -> "2024-01-02T08:04:05.678Z", "tiny" -> "1", "small" -> "2", "int" -> "3",
      "big" -> "4000000000000", "dec18" -> "123456789012345678", "dec_scaled" -> "12.34", "float" -> "1.5",
      "double" -> "0.1", "text" -> "héllo", "flag" -> "true", "day" -> "2024-02-29",
      "time" -> "2024-01-02T08:04:05.678901Z", "ntz" -> "2024-05-06T07:08:09.123456Z", "ints" -> List("1", "-2"),
      "doubles" -> List("0.25", "1e+300"), "texts" -> List("a", "b"), "flags" -> List("true", "false"),
      "days" -> List("2020-01-01"), "times" -> List("2024-01-02T08:04:05.000000Z"), "tag_set" -> List("x", "y"),
      "embedding" -> List("0.5", "1.0", "2.0"))))
    assert(store.getRecord(group, "r2").contains(Map("id" -> "r2", "ts" -> "2024-01-03T05:00:00.000Z")))
  }

  test("columns with no feature type are all named in one error, before any call") {
    val df = spark.sql("""SELECT 'a' AS id, current_timestamp() AS ts, named_struct('x', 1) AS address,
      map('k', 'v') AS attributes, X'00' AS photo, array(array(1.0D)) AS matrix, 1 AS ok""")
    val requests = store.requestsOf("CreateFeatureGroup")
    val error = intercept[FeatureStoreValidationException](FeatureGroups.create(df,
      FeatureGroupSpec(TestEnv.newGroupName("refused"), "id", "ts"), connection))
    for (column <- Seq("address", "attributes", "photo", "matrix"))
      assert(error.getMessage.contains(s"column '$column'"), error.getMessage)
    assert(!error.getMessage.contains("column 'ok'"), error.getMessage)
    assert(store.requestsOf("CreateFeatureGroup") == requests)
  }

  test("the spec's problems are named together; the service's refusal comes with its code") {
    val df = spark.sql("SELECT 'a' AS id, current_timestamp() AS ts, array('x') AS tags")
    val bad = intercept[FeatureStoreValidationException](FeatureGroups.create(df,
      FeatureGroupSpec(TestEnv.newGroupName("bad"), "key", "ts", ttlDuration = Some("soon")), connection))
    for (part <- Seq("recordIdentifier: the input has no column 'key'", "ttlDuration: must be",
        "storageType: must be InMemory: column 'tags' becomes a List of String feature"))
      assert(bad.getMessage.contains(part), bad.getMessage)

    val group = TestEnv.newGroupName("twice")
    val spec = FeatureGroupSpec(group, "id", "ts", storageType = Some("InMemory"))
    FeatureGroups.create(df, spec, connection)
    val again = intercept[FeatureStoreServiceException](FeatureGroups.create(df, spec, connection))
    assert(again.getMessage.contains("ResourceInUse"), again.getMessage)
  }

  test("new columns are added on request and with addMissingFeatures; old and new records read back") {
    val group = TestEnv.newGroupName("grows")
    val v1 = spark.sql("SELECT 'a' AS id, TIMESTAMP '2024-01-02 03:04:05' AS ts, 1 AS visits")
    FeatureGroups.create(v1, FeatureGroupSpec(group, "id", "ts"), connection)
    val write = (df: DataFrame, options: Map[String, String]) =>
      df.write.format("featurestore").options(TestEnv.storeOptions(group) ++ options).mode("append").save()
    write(v1, Map.empty)

    // Without the option, a new column fails the write before it starts, naming the column.
    val v2 = spark.sql("SELECT 'b' AS id, TIMESTAMP '2024-01-03 00:00:00' AS ts, 2 AS visits, 'eu' AS region")
    val unknown = intercept[FeatureStoreValidationException](write(v2, Map.empty))
    assert(unknown.getMessage.contains("column 'region'"), unknown.getMessage)

    val described = Json.mapper.readTree(FeatureGroups.addMissingFeatures(v2, group, connection))
    assert(described.path("LastUpdateStatus").path("Status").asText() == "Successful")
    assert(described.path("FeatureDefinitions").size() == 4)
    write(v2, Map.empty)

    // As a write option: the write adds its new columns (an array as a List, which needs InMemory: refused here by
    // the service, naming the reason) and then writes.
    val v3 = spark.sql("SELECT 'c' AS id, TIMESTAMP '2024-01-04 00:00:00' AS ts, 3 AS visits, 'us' AS region, " +
      "CAST(9.5 AS DOUBLE) AS score")
    write(v3, Map("addMissingFeatures" -> "true"))
    assert(WriteSummaries.last(group).get.written == 1)
    val listy = spark.sql("SELECT 'd' AS id, TIMESTAMP '2024-01-05 00:00:00' AS ts, array('x') AS tags")
    val refused = intercept[FeatureStoreServiceException](write(listy, Map("addMissingFeatures" -> "true")))
    assert(refused.getMessage.contains("InMemory"), refused.getMessage)

    assert(store.getRecord(group, "a").contains(Map("id" -> "a", "ts" -> "2024-01-02T08:04:05.000Z", "visits" -> "1")))
    assert(store.getRecord(group, "b").contains(Map("id" -> "b", "ts" -> "2024-01-03T05:00:00.000Z",
      "visits" -> "2", "region" -> "eu")))
    assert(store.getRecord(group, "c").contains(Map("id" -> "c", "ts" -> "2024-01-04T05:00:00.000Z",
      "visits" -> "3", "region" -> "us", "score" -> "9.5")))
  }
}
