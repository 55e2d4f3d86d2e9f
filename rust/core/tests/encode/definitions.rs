//! Feature definitions from a schema: the mapping of every type it names, every refused column named in one
//! error, and the fact the mapping rests on: a group created from a schema accepts that schema.
use std::collections::HashMap;
use std::sync::Arc;

use crate::support::*;
use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};
use featurestore_core::Error;
use featurestore_core::model::{CollectionType, FeatureType};
use featurestore_core::schema::check_schema;
use featurestore_core::schema::definitions::{Requested, definitions_json, feature_definitions};

fn list_of(element: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", element, true)))
}

fn schema(columns: &[(&str, DataType)]) -> Schema {
    Schema::new(
        columns
            .iter()
            .map(|(name, data_type)| Field::new(*name, data_type.clone(), true))
            .collect::<Vec<_>>(),
    )
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Every Spark type the mapping names, as `ArrowUtils.toArrowSchema` hands it over.
fn every_type() -> Schema {
    schema(&[
        ("id", DataType::Utf8),
        ("event_time", timestamp()),
        ("tiny", DataType::Int8),
        ("small", DataType::Int16),
        ("int", DataType::Int32),
        ("big", DataType::Int64),
        ("dec18", DataType::Decimal128(18, 0)),
        ("dec19", DataType::Decimal128(19, 0)),
        ("dec_scaled", DataType::Decimal128(10, 2)),
        ("float", DataType::Float32),
        ("double", DataType::Float64),
        ("text", DataType::Utf8),
        ("flag", DataType::Boolean),
        ("day", DataType::Date32),
        ("ntz", DataType::Timestamp(TimeUnit::Microsecond, None)),
        ("ints", list_of(DataType::Int64)),
        ("doubles", list_of(DataType::Float64)),
        ("texts", list_of(DataType::Utf8)),
        ("flags", list_of(DataType::Boolean)),
        ("days", list_of(DataType::Date32)),
        ("times", list_of(timestamp())),
        ("tag_set", list_of(DataType::Utf8)),
        ("embedding", list_of(DataType::Float32)),
        ("int_vector", list_of(DataType::Int32)),
    ])
}

fn requested() -> Requested {
    Requested {
        event_time: Some("event_time".into()),
        collection_types: HashMap::from([
            ("tag_set".to_string(), "Set".to_string()),
            ("embedding".to_string(), "vector(3)".to_string()),
            ("int_vector".to_string(), "Vector(2)".to_string()),
        ]),
    }
}

#[test]
fn every_type_maps_as_the_readme_says() {
    let definitions = feature_definitions(&every_type(), &requested()).unwrap();
    let shown: Vec<String> = definitions.iter().map(|d| format!("{} {d}", d.name)).collect();
    assert_eq!(
        shown,
        [
            "id String",
            "event_time String",
            "tiny Integral",
            "small Integral",
            "int Integral",
            "big Integral",
            "dec18 Integral",
            "dec19 Fractional",
            "dec_scaled Fractional",
            "float Fractional",
            "double Fractional",
            "text String",
            "flag String",
            "day String",
            "ntz String",
            "ints List of Integral",
            "doubles List of Fractional",
            "texts List of String",
            "flags List of String",
            "days List of String",
            "times List of String",
            "tag_set Set of String",
            "embedding Vector(3) of Fractional",
            "int_vector Vector(2) of Fractional",
        ]
    );
}

#[test]
fn a_group_created_from_a_schema_accepts_that_schema() {
    let definitions = feature_definitions(&every_type(), &requested()).unwrap();
    let json = definitions_json(&definitions);
    let group = group(json.as_array().unwrap());
    assert_eq!(group.features, definitions, "the service's JSON round-trips");
    check_schema(&group, &every_type(), false).unwrap();
}

#[test]
fn a_numeric_event_time_is_fractional_and_a_fixed_size_list_has_its_dimension() {
    let columns = schema(&[
        ("id", DataType::Int64),
        ("event_time", DataType::Int64),
        (
            "v",
            DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float64, true)), 4),
        ),
    ]);
    let requested = Requested {
        event_time: Some("event_time".into()),
        collection_types: HashMap::from([("v".to_string(), "Vector".to_string())]),
    };
    let definitions = feature_definitions(&columns, &requested).unwrap();
    assert_eq!(definitions[0].feature_type, FeatureType::Integral);
    assert_eq!(definitions[1].feature_type, FeatureType::Fractional);
    assert_eq!(
        definitions[2].collection,
        Some(CollectionType::Vector { dimension: 4 })
    );
    let group = group(definitions_json(&definitions).as_array().unwrap());
    check_schema(&group, &columns, false).unwrap();
}

#[test]
fn every_refused_column_is_named_in_one_error() {
    let columns = schema(&[
        ("id", DataType::Utf8),
        ("event_time", DataType::Boolean),
        (
            "address",
            DataType::Struct(Fields::from(vec![Field::new("city", DataType::Utf8, true)])),
        ),
        (
            "attributes",
            DataType::Map(
                Arc::new(Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", DataType::Utf8, false),
                        Field::new("value", DataType::Utf8, true),
                    ])),
                    false,
                )),
                false,
            ),
        ),
        ("photo", DataType::Binary),
        ("matrix", list_of(list_of(DataType::Float64))),
        ("names", list_of(DataType::Utf8)),
        ("ok", DataType::Int32),
        ("write_time", DataType::Utf8),
        ("bad name", DataType::Utf8),
        ("OK", DataType::Int32),
    ]);
    let requested = Requested {
        event_time: Some("event_time".into()),
        collection_types: HashMap::from([
            ("names".to_string(), "Vector(3)".to_string()),
            ("ok".to_string(), "Set".to_string()),
        ]),
    };
    let Err(Error::Schema(problems)) = feature_definitions(&columns, &requested) else {
        panic!("expected a schema error");
    };
    let named: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.column.as_deref().unwrap(), p.rule.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            ("event_time", "incompatible_type"),
            ("address", "nested_type_not_supported"),
            ("attributes", "nested_type_not_supported"),
            ("photo", "unsupported_type"),
            ("matrix", "nested_type_not_supported"),
            ("names", "incompatible_type"),
            ("ok", "incompatible_type"),
            ("write_time", "invalid_feature_name"),
            ("bad name", "invalid_feature_name"),
            ("OK", "duplicate_column"),
        ]
    );
    let message = Error::Schema(problems).to_string();
    assert!(
        message.contains(
            "column 'photo': the column has type Binary (Spark binary), which no feature type takes"
        ),
        "{message}"
    );
    assert!(
        message.contains("column 'names': a Vector is asked for, but the column"),
        "{message}"
    );
}
