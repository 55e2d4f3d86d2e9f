//! Feature definitions from an Arrow schema (the one the JVM sends for the schema check): what
//! CreateFeatureGroup and UpdateFeatureGroup's `FeatureAdditions` get for a DataFrame's columns.
//!
//! The mapping lives here, next to the check, so that a group created from a schema always accepts that
//! schema (the tests check exactly that over every type the mapping names):
//!
//! | Arrow column (Spark type)                                      | Feature type |
//! |----------------------------------------------------------------|--------------|
//! | Int8..Int64, UInt8..UInt32 (tinyint, smallint, int, bigint)    | Integral     |
//! | Decimal(p, 0) with p <= 18 (every value fits a 64-bit integer)  | Integral     |
//! | Float16/32/64 (float, double), every other Decimal             | Fractional   |
//! | Utf8, Boolean, Date, Timestamp (string, boolean, date, timestamp, timestamp_ntz) | String |
//! | List/LargeList/FixedSizeList of one of those (array)           | a collection of that type: `List` unless asked for `Set` or `Vector` |
//! | Dictionary(int, scalar)                                        | as its values |
//!
//! The event time feature must be String or Fractional: an integer or decimal event time column becomes
//! Fractional (epoch seconds), and a boolean one is refused. A `Vector` is asked for per column, only for
//! numeric arrays, with a dimension (`Vector(128)`; a FixedSizeList has its own). Everything else (structs,
//! maps, binary, nested arrays, intervals, null columns, UInt64) is refused, every such column named in one
//! [`Error::Schema`].

use std::collections::HashMap;

use arrow_schema::{DataType, Schema};
use serde_json::{Value, json};

use super::{describe_type, rules};
use crate::error::{Error, Result, SchemaProblem};
use crate::model::{CollectionType, FeatureDefinition, FeatureType, is_valid_feature_name};

/// The features the service reserves for the offline store.
const RESERVED_NAMES: [&str; 3] = ["is_deleted", "write_time", "api_invocation_time"];

/// The service's largest vector dimension.
const MAX_VECTOR_DIMENSION: u32 = 8192;

/// Rule id of a column whose name the service refuses.
pub const INVALID_FEATURE_NAME: &str = "invalid_feature_name";

/// What the caller asks for, beyond the defaults (the JSON the Scala API sends: `eventTime`,
/// `collectionTypes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Requested {
    /// The event time column: a String or Fractional feature whatever else its type would map to.
    pub event_time: Option<String>,
    /// Per array column, `List`, `Set`, `Vector` or `Vector(n)` (matched without regard to case).
    #[serde(default)]
    pub collection_types: HashMap<String, String>,
}

impl Requested {
    /// Parses the JSON the Scala API sends; an unknown or mistyped member is named.
    pub fn from_json(json: &str) -> Result<Requested> {
        serde_json::from_str(json).map_err(|e| {
            Error::InvalidConfig(vec![crate::error::ConfigProblem::new(
                "feature definitions",
                e.to_string(),
            )])
        })
    }
}

/// The feature definitions of every column of `schema`, in column order, or every problem at once.
pub fn feature_definitions(schema: &Schema, requested: &Requested) -> Result<Vec<FeatureDefinition>> {
    let mut problems = Vec::new();
    let mut definitions = Vec::new();
    let mut seen: HashMap<String, &str> = HashMap::new();
    for field in schema.fields() {
        let name = field.name().as_str();
        if let Some(problem) = name_problem(name) {
            problems.push(problem);
            continue;
        }
        // The service compares feature names ignoring case (its offline catalog does).
        if let Some(previous) = seen.insert(name.to_ascii_lowercase(), name) {
            problems.push(problem(
                name,
                rules::DUPLICATE_COLUMN,
                format!("the column's name is '{previous}' too when case is ignored, as feature names are compared"),
            ));
            continue;
        }
        let event_time = requested.event_time.as_deref() == Some(name);
        let collection = requested.collection_types.get(name).map(String::as_str);
        match definition(name, field.data_type(), event_time, collection) {
            Ok(definition) => definitions.push(definition),
            Err((rule, message)) => problems.push(problem(name, rule, message)),
        }
    }
    for column in requested.collection_types.keys() {
        if schema.field_with_name(column).is_err() {
            problems.push(problem(
                column,
                rules::UNKNOWN_COLUMN,
                "a collection type is asked for a column the input does not have".to_string(),
            ));
        }
    }
    if problems.is_empty() {
        Ok(definitions)
    } else {
        Err(Error::Schema(problems))
    }
}

/// `FeatureDefinitions` (or `FeatureAdditions`) as the service's JSON takes them.
pub fn definitions_json(definitions: &[FeatureDefinition]) -> Value {
    Value::Array(
        definitions
            .iter()
            .map(|d| {
                let mut json = json!({"FeatureName": d.name, "FeatureType": d.feature_type.to_string()});
                match d.collection {
                    None => {}
                    Some(CollectionType::List) => json["CollectionType"] = json!("List"),
                    Some(CollectionType::Set) => json["CollectionType"] = json!("Set"),
                    Some(CollectionType::Vector { dimension }) => {
                        json["CollectionType"] = json!("Vector");
                        json["CollectionConfig"] = json!({"VectorConfig": {"Dimension": dimension}});
                    }
                }
                json
            })
            .collect(),
    )
}

fn problem(column: &str, rule: &str, message: String) -> SchemaProblem {
    SchemaProblem {
        column: Some(column.to_string()),
        rule: rule.to_string(),
        message,
    }
}

fn name_problem(name: &str) -> Option<SchemaProblem> {
    if !is_valid_feature_name(name) {
        return Some(problem(
            name,
            INVALID_FEATURE_NAME,
            "the name does not match the service's feature name pattern [a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}; rename the column".to_string(),
        ));
    }
    RESERVED_NAMES
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(name))
        .then(|| {
            problem(
                name,
                INVALID_FEATURE_NAME,
                format!(
                    "the name is reserved by the service ({}); rename the column",
                    RESERVED_NAMES.join(", ")
                ),
            )
        })
}

type Refusal = (&'static str, String);

fn definition(
    name: &str,
    data_type: &DataType,
    event_time: bool,
    collection: Option<&str>,
) -> std::result::Result<FeatureDefinition, Refusal> {
    let (element, fixed_size) = match data_type {
        DataType::List(element) | DataType::LargeList(element) => (Some(element.data_type()), None),
        DataType::FixedSizeList(element, size) => (Some(element.data_type()), u32::try_from(*size).ok()),
        _ => (None, None),
    };
    let Some(element) = element else {
        if collection.is_some() {
            return Err((
                rules::INCOMPATIBLE_TYPE,
                format!(
                    "a collection type is asked for, but the column has type {}, not an array",
                    describe_type(data_type)
                ),
            ));
        }
        let feature_type = scalar_type(data_type, event_time)?;
        return Ok(FeatureDefinition {
            name: name.to_string(),
            feature_type,
            collection: None,
        });
    };
    if event_time {
        return Err((
            rules::INCOMPATIBLE_TYPE,
            format!(
                "the column has type {} but holds the event time, which must be a single value",
                describe_type(data_type)
            ),
        ));
    }
    if matches!(
        element,
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::Struct(_)
            | DataType::Map(..)
            | DataType::Union(..)
    ) {
        return Err((
            rules::NESTED_TYPE_NOT_SUPPORTED,
            format!(
                "the column has type {}; arrays of nested values have no feature type: flatten it, or write it as JSON text with to_json(col)",
                describe_type(data_type)
            ),
        ));
    }
    let element_type = scalar_type(element, false).map_err(|(rule, message)| {
        (
            rule,
            format!(
                "the elements of the column ({}): {message}",
                describe_type(data_type)
            ),
        )
    })?;
    let (feature_type, collection) = match collection.map(parse_collection).transpose()? {
        None | Some(Collection::List) => (element_type, CollectionType::List),
        Some(Collection::Set) => (element_type, CollectionType::Set),
        Some(Collection::Vector(dimension)) => {
            if element_type == FeatureType::String {
                return Err((
                    rules::INCOMPATIBLE_TYPE,
                    format!(
                        "a Vector is asked for, but the column ({}) is not a numeric array",
                        describe_type(data_type)
                    ),
                ));
            }
            let dimension = match (dimension, fixed_size) {
                (Some(asked), Some(fixed)) if asked != fixed => {
                    return Err((
                        rules::INCOMPATIBLE_TYPE,
                        format!(
                            "a Vector({asked}) is asked for, but the column has {fixed} elements per row"
                        ),
                    ));
                }
                (Some(dimension), _) | (None, Some(dimension)) => dimension,
                (None, None) => {
                    return Err((
                        rules::INCOMPATIBLE_TYPE,
                        "a Vector needs its dimension: ask for Vector(n), n the number of elements of every row"
                            .to_string(),
                    ));
                }
            };
            // A Vector's elements are Fractional, whatever number type the array holds.
            (FeatureType::Fractional, CollectionType::Vector { dimension })
        }
    };
    Ok(FeatureDefinition {
        name: name.to_string(),
        feature_type,
        collection: Some(collection),
    })
}

enum Collection {
    List,
    Set,
    Vector(Option<u32>),
}

fn parse_collection(text: &str) -> std::result::Result<Collection, Refusal> {
    let text = text.trim();
    let invalid = || {
        (
            rules::INCOMPATIBLE_TYPE,
            format!(
                "unknown collection type '{text}' (List, Set, Vector or Vector(n), n in 1..{MAX_VECTOR_DIMENSION})"
            ),
        )
    };
    if text.eq_ignore_ascii_case("List") {
        return Ok(Collection::List);
    }
    if text.eq_ignore_ascii_case("Set") {
        return Ok(Collection::Set);
    }
    if text.eq_ignore_ascii_case("Vector") {
        return Ok(Collection::Vector(None));
    }
    let dimension = text
        .get(..7)
        .filter(|prefix| prefix.eq_ignore_ascii_case("Vector("))
        .and_then(|_| text[7..].strip_suffix(')'))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .filter(|n| (1..=MAX_VECTOR_DIMENSION).contains(n))
        .ok_or_else(invalid)?;
    Ok(Collection::Vector(Some(dimension)))
}

/// The feature type of a scalar column (or of an array's elements).
fn scalar_type(data_type: &DataType, event_time: bool) -> std::result::Result<FeatureType, Refusal> {
    let value_type = match data_type {
        DataType::Dictionary(key, value) if key.is_dictionary_key_type() => value.as_ref(),
        other => other,
    };
    let unsupported = |hint: &str| {
        (
            rules::UNSUPPORTED_TYPE,
            format!(
                "the column has type {}, which no feature type takes ({hint})",
                describe_type(data_type)
            ),
        )
    };
    // Integral is never an event time's type: numbers there are epoch seconds.
    let integral = if event_time {
        FeatureType::Fractional
    } else {
        FeatureType::Integral
    };
    Ok(match value_type {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => integral,
        // 18 digits always fit a 64-bit integer; 19 may not.
        DataType::Decimal32(_, 0) | DataType::Decimal64(_, 0) => integral,
        DataType::Decimal128(precision, 0) if *precision <= 18 => integral,
        DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..) => FeatureType::Fractional,
        DataType::Boolean if event_time => {
            return Err((
                rules::INCOMPATIBLE_TYPE,
                format!(
                    "the column has type {} but holds the event time, which takes a timestamp, a date, ISO-8601 text or epoch seconds",
                    describe_type(data_type)
                ),
            ));
        }
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Boolean
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(..) => FeatureType::String,
        DataType::UInt64 => {
            return Err(unsupported(
                "values above 2^63 fit no Integral; cast it to bigint or decimal",
            ));
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            return Err(unsupported(
                "cast it to string, or base64(col), for a String feature",
            ));
        }
        DataType::Null => return Err(unsupported("it is always null, so its type is unknown; cast it")),
        DataType::Struct(_) | DataType::Map(..) | DataType::Union(..) => {
            return Err((
                rules::NESTED_TYPE_NOT_SUPPORTED,
                format!(
                    "the column has type {}; nested types have no feature type: flatten it into one column per feature, or write it as JSON text with to_json(col)",
                    describe_type(data_type)
                ),
            ));
        }
        _ => return Err(unsupported("cast it to string for a String feature")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_types_parse_without_regard_to_case() {
        assert!(matches!(parse_collection("set"), Ok(Collection::Set)));
        assert!(matches!(parse_collection(" List "), Ok(Collection::List)));
        assert!(matches!(parse_collection("vector"), Ok(Collection::Vector(None))));
        assert!(matches!(
            parse_collection("Vector(128)"),
            Ok(Collection::Vector(Some(128)))
        ));
        for bad in ["Vector(0)", "Vector(8193)", "Vector(x)", "Vector(3", "Bag"] {
            assert!(parse_collection(bad).is_err(), "{bad}");
        }
    }
}
