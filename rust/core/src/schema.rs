//! Does an Arrow schema fit a feature group? [`check_schema`] answers before any task runs, listing every
//! problem at once; the encoder builds on the same decisions ([`plan_columns`]), so what the check accepts
//! is exactly what the encoder can write.
//!
//! The decisions (docs/ARCHITECTURE.md §4), per column type and feature type:
//!
//! | Arrow column                          | Integral            | Fractional              | String                                  |
//! |---------------------------------------|---------------------|-------------------------|-----------------------------------------|
//! | Int8..Int64, UInt8..UInt64            | digits (UInt64 above i64::MAX fails the row) | digits | digits                          |
//! | Float16/32/64                         | rejected            | shortest round-trip text; NaN/Inf fail the row | shortest text, `NaN`, `Infinity` |
//! | Decimal32/64/128(p,s)                 | whole values in i64, else the row fails | exact digits | exact digits                  |
//! | Boolean                               | rejected            | rejected                | `true` / `false`                        |
//! | Utf8, LargeUtf8, Utf8View             | rejected            | rejected                | the text                                |
//! | Timestamp(unit, any tz or none)       | rejected            | epoch seconds, exact    | `yyyy-MM-ddTHH:mm:ss.fffZ`, UTC, the unit's digits |
//! | Date32, Date64                        | rejected            | epoch seconds           | `yyyy-MM-dd`                            |
//! | Null                                  | always omitted      | always omitted          | always omitted                          |
//! | List/LargeList/FixedSizeList of those | collection features only (List, Set, Vector), element by element       |
//! | Dictionary(int, scalar)               | as its value type                                                        |
//!
//! The event time feature (String or Fractional) is stricter: a String event time takes a timestamp
//! (`yyyy-MM-ddTHH:mm:ss.SSSZ` in UTC, sub-millisecond digits truncated), a date (midnight UTC) or text
//! already in one of the service's formats; a Fractional event time takes numbers, timestamps or dates as
//! epoch seconds. Either way the instant must lie in years 0000..=9999. A timestamp without a time zone
//! (Spark's TimestampNTZ) is read as UTC wall-clock time.
//!
//! Rejected everywhere, with a hint: binary, time of day, durations, intervals, Decimal256, structs, maps,
//! unions, nested lists, list views, run-end encoded arrays.

pub mod definitions;

use std::collections::HashMap;

use arrow_schema::{DataType, Schema, TimeUnit};

use crate::config::Operation;
use crate::error::{Error, Result, SchemaProblem};
use crate::model::{CollectionType, FeatureDefinition, FeatureGroup, FeatureType};

/// Checks `schema` as the input of `operation` on `group`: [`check_schema`] for a write, [`check_delete_schema`]
/// for deletes (the driver's check and the writer's are this one).
pub fn check_input_schema(
    group: &FeatureGroup,
    schema: &Schema,
    operation: Operation,
    ignore_unknown_columns: bool,
) -> Result<()> {
    match operation {
        Operation::Write => check_schema(group, schema, ignore_unknown_columns),
        Operation::Delete => check_delete_schema(group, schema),
    }
}

/// Checks that `schema` can be written to `group`. `Err(Error::Schema(problems))` lists every problem:
/// missing record identifier or event time column, unknown columns (unless `ignore_unknown_columns`),
/// duplicate columns, types that cannot be written faithfully to their feature, nested types.
pub fn check_schema(group: &FeatureGroup, schema: &Schema, ignore_unknown_columns: bool) -> Result<()> {
    plan_columns(group, schema, ignore_unknown_columns).map(|_| ())
}

/// The columns a delete reads (`operation=delete`): those named for the record identifier or the event time
/// feature, in input order (a name given twice is kept twice, so that the check names it). Every other column is
/// ignored, whatever its type.
pub fn delete_columns(group: &FeatureGroup, schema: &Schema) -> Vec<usize> {
    schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, field)| {
            let name = field.name().as_str();
            name == group.record_identifier_feature_name || name == group.event_time_feature_name
        })
        .map(|(index, _)| index)
        .collect()
}

/// Checks that `schema` can feed deletes from `group`: a record identifier and an event time column of types
/// those features take, under the same rules as a write's (the other columns are not read).
pub fn check_delete_schema(group: &FeatureGroup, schema: &Schema) -> Result<()> {
    let projected = schema
        .project(&delete_columns(group, schema))
        .map_err(|e| Error::Internal(format!("cannot project the delete's columns: {e}")))?;
    check_schema(group, &projected, false)
}

/// What a column is to the feature group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    RecordIdentifier,
    EventTime,
    Feature,
}

/// How one column of the schema is written.
#[derive(Debug, Clone)]
pub(crate) struct ColumnPlan {
    /// Index of the column in the schema.
    pub index: usize,
    pub feature: FeatureDefinition,
    pub role: Role,
    /// The column's type when the plan was made; a batch with another type is not encoded with it.
    pub data_type: DataType,
    pub value: ValuePlan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValuePlan {
    /// A `Null`-typed column: the feature is omitted from every record.
    AlwaysNull,
    /// `ValueAsString`.
    Scalar(TextFormat),
    /// `ValueAsStringList`, each element written with `element`.
    Collection {
        collection: CollectionType,
        element: TextFormat,
    },
}

/// How one scalar Arrow value becomes the feature's text. `event_time` adds the event time rules (the
/// instant must lie in years 0000..=9999; failures carry the event time's rule ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextFormat {
    /// Decimal digits. `integral`: the value must fit an i64 (only UInt64 can fail).
    Integer {
        integral: bool,
        event_time: bool,
    },
    /// Shortest round-trip text. `finite_only`: NaN and infinities fail the row (Fractional features);
    /// otherwise they are written `NaN`, `Infinity`, `-Infinity` (String features).
    Float {
        finite_only: bool,
        event_time: bool,
    },
    /// Exact digits with the column's scale. `integral`: the value must be whole and fit an i64, and is
    /// written without a fraction.
    Decimal {
        integral: bool,
        event_time: bool,
    },
    /// `true` / `false`.
    Bool,
    /// The text itself.
    Text,
    /// Text that must already be in one of the service's event time formats.
    EventTimeText,
    Timestamp {
        text: TimeText,
        event_time: bool,
    },
    Date {
        text: DateText,
        event_time: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeText {
    /// `yyyy-MM-ddTHH:mm:ss.SSSZ` (the event time format; finer digits truncated).
    IsoMillis,
    /// `yyyy-MM-ddTHH:mm:ss.fffZ` with as many fraction digits as the unit has (3 for seconds and
    /// milliseconds, 6 for microseconds, 9 for nanoseconds): nothing is lost.
    IsoUnit,
    /// Seconds since the epoch, exact (`1700000000.123456`).
    EpochSeconds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateText {
    /// `yyyy-MM-dd`.
    Day,
    /// `yyyy-MM-ddT00:00:00.000Z`.
    Midnight,
    /// Seconds since the epoch of midnight UTC.
    EpochSeconds,
}

/// Stable rule ids of schema problems.
pub mod rules {
    pub const MISSING_RECORD_IDENTIFIER: &str = "missing_record_identifier";
    pub const MISSING_EVENT_TIME: &str = "missing_event_time";
    pub const UNKNOWN_COLUMN: &str = "unknown_column";
    pub const DUPLICATE_COLUMN: &str = "duplicate_column";
    pub const INCOMPATIBLE_TYPE: &str = "incompatible_type";
    pub const NESTED_TYPE_NOT_SUPPORTED: &str = "nested_type_not_supported";
    pub const UNSUPPORTED_TYPE: &str = "unsupported_type";
    pub const REQUIRED_COLUMN_ALWAYS_NULL: &str = "required_column_always_null";
}

/// Decides how every column is written, or lists every problem.
pub(crate) fn plan_columns(
    group: &FeatureGroup,
    schema: &Schema,
    ignore_unknown_columns: bool,
) -> Result<Vec<ColumnPlan>> {
    let mut problems = Vec::new();
    let mut plans = Vec::new();

    let mut first_index: HashMap<&str, usize> = HashMap::new();
    for (index, field) in schema.fields().iter().enumerate() {
        let name = field.name().as_str();
        if first_index.contains_key(name) {
            problems.push(problem(
                name,
                rules::DUPLICATE_COLUMN,
                "the column appears more than once in the input; each feature takes one column".to_string(),
            ));
            continue;
        }
        first_index.insert(name, index);

        let Some(feature) = group.feature(name) else {
            if !ignore_unknown_columns {
                problems.push(unknown_column(group, name));
            }
            continue;
        };
        let role = if name == group.record_identifier_feature_name {
            Role::RecordIdentifier
        } else if name == group.event_time_feature_name {
            Role::EventTime
        } else {
            Role::Feature
        };
        match plan_value(field.data_type(), feature, role) {
            Ok(value) => plans.push(ColumnPlan {
                index,
                feature: feature.clone(),
                role,
                data_type: field.data_type().clone(),
                value,
            }),
            Err(rejection) => problems.push(problem(name, rejection.rule, rejection.message)),
        }
    }

    for (feature_name, rule, role) in [
        (
            &group.record_identifier_feature_name,
            rules::MISSING_RECORD_IDENTIFIER,
            "record identifier",
        ),
        (
            &group.event_time_feature_name,
            rules::MISSING_EVENT_TIME,
            "event time",
        ),
    ] {
        if !first_index.contains_key(feature_name.as_str()) {
            let feature_type = group
                .feature(feature_name)
                .map(|f| f.to_string())
                .unwrap_or_default();
            problems.push(SchemaProblem {
                column: Some(feature_name.clone()),
                rule: rule.to_string(),
                message: format!(
                    "the input has no column for the {role} feature '{feature_name}' ({feature_type}); every record needs one"
                ),
            });
        }
    }

    if problems.is_empty() {
        Ok(plans)
    } else {
        Err(Error::Schema(problems))
    }
}

fn problem(column: &str, rule: &str, message: String) -> SchemaProblem {
    SchemaProblem {
        column: Some(column.to_string()),
        rule: rule.to_string(),
        message,
    }
}

fn unknown_column(group: &FeatureGroup, name: &str) -> SchemaProblem {
    let near = group
        .features
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .map(|f| format!(" (feature names are case-sensitive: did you mean '{}'?)", f.name))
        .unwrap_or_default();
    problem(
        name,
        rules::UNKNOWN_COLUMN,
        format!(
            "the column is not a feature of feature group '{}'{near}; drop it, or set ignoreUnknownColumns to skip columns that are not features",
            group.name
        ),
    )
}

/// Why a column cannot be written to its feature.
struct Rejection {
    rule: &'static str,
    message: String,
}

fn plan_value(
    data_type: &DataType,
    feature: &FeatureDefinition,
    role: Role,
) -> std::result::Result<ValuePlan, Rejection> {
    let event_time = role == Role::EventTime;
    match (data_type, feature.collection) {
        (DataType::Null, _) => {
            if role == Role::Feature {
                Ok(ValuePlan::AlwaysNull)
            } else {
                Err(Rejection {
                    rule: rules::REQUIRED_COLUMN_ALWAYS_NULL,
                    message: format!(
                        "the column has type {} and is always null, but it holds the {} and every record needs one",
                        describe_type(data_type),
                        role_name(role)
                    ),
                })
            }
        }
        (DataType::List(element) | DataType::LargeList(element), Some(collection)) => {
            Ok(ValuePlan::Collection {
                collection,
                element: plan_element(data_type, element.data_type(), feature)?,
            })
        }
        (DataType::FixedSizeList(element, size), Some(collection)) => {
            if let CollectionType::Vector { dimension } = collection
                && u32::try_from(*size).ok() != Some(dimension)
            {
                return Err(Rejection {
                    rule: rules::INCOMPATIBLE_TYPE,
                    message: format!(
                        "the column has type {} with {size} elements per row, but feature '{}' is a {}: every row would fail",
                        describe_type(data_type),
                        feature.name,
                        feature
                    ),
                });
            }
            Ok(ValuePlan::Collection {
                collection,
                element: plan_element(data_type, element.data_type(), feature)?,
            })
        }
        (DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..), None) => Err(Rejection {
            rule: rules::INCOMPATIBLE_TYPE,
            message: format!(
                "the column has type {} but feature '{}' is {}, not a collection: only List, Set and Vector features take arrays (to_json(col) writes an array as JSON text to a String feature)",
                describe_type(data_type),
                feature.name,
                feature
            ),
        }),
        (DataType::Struct(_) | DataType::Map(..) | DataType::Union(..), _) => Err(nested(data_type, feature)),
        (DataType::ListView(_) | DataType::LargeListView(_), _) => Err(Rejection {
            rule: rules::UNSUPPORTED_TYPE,
            message: format!(
                "the column has type {}, which this writer does not read; cast it to a List",
                describe_type(data_type)
            ),
        }),
        (_, Some(_)) => Err(Rejection {
            rule: rules::INCOMPATIBLE_TYPE,
            message: format!(
                "the column has type {} but feature '{}' is a {}: the column must be an array (array(col) wraps a single value)",
                describe_type(data_type),
                feature.name,
                feature
            ),
        }),
        (_, None) => Ok(ValuePlan::Scalar(plan_scalar(data_type, feature, event_time)?)),
    }
}

fn plan_element(
    list_type: &DataType,
    element_type: &DataType,
    feature: &FeatureDefinition,
) -> std::result::Result<TextFormat, Rejection> {
    match element_type {
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::Struct(_)
        | DataType::Map(..)
        | DataType::Union(..) => Err(nested(list_type, feature)),
        DataType::Null => Err(Rejection {
            rule: rules::INCOMPATIBLE_TYPE,
            message: format!(
                "the column has type {}: its elements are always null, which the service rejects in a collection",
                describe_type(list_type)
            ),
        }),
        _ => plan_scalar(element_type, feature, false).map_err(|r| Rejection {
            rule: r.rule,
            message: format!(
                "the elements of the column ({}) do not fit feature '{}' ({}): {}",
                describe_type(list_type),
                feature.name,
                feature,
                r.message
            ),
        }),
    }
}

fn nested(data_type: &DataType, feature: &FeatureDefinition) -> Rejection {
    Rejection {
        rule: rules::NESTED_TYPE_NOT_SUPPORTED,
        message: format!(
            "the column has type {}; nested types cannot be written to feature '{}' ({}): flatten it into one column per feature, or write it as JSON text with to_json(col) to a String feature",
            describe_type(data_type),
            feature.name,
            feature
        ),
    }
}

/// The decision table of the module documentation, for one scalar type.
fn plan_scalar(
    data_type: &DataType,
    feature: &FeatureDefinition,
    event_time: bool,
) -> std::result::Result<TextFormat, Rejection> {
    use FeatureType::{Fractional, Integral, String};

    let value_type = match data_type {
        DataType::Dictionary(key, value) if key.is_dictionary_key_type() => value.as_ref(),
        other => other,
    };
    let feature_type = feature.feature_type;
    let incompatible = |hint: &str| Rejection {
        rule: rules::INCOMPATIBLE_TYPE,
        message: format!(
            "the column has type {} but {} '{}' is {}: {hint}",
            describe_type(data_type),
            if event_time {
                "the event time feature"
            } else {
                "feature"
            },
            feature.name,
            feature_type
        ),
    };
    let unsupported = |hint: &str| Rejection {
        rule: rules::UNSUPPORTED_TYPE,
        message: format!(
            "the column has type {}, which cannot be written to a feature ({hint})",
            describe_type(data_type)
        ),
    };
    const ISO_EVENT_TIME: &str = "a String event time takes a timestamp, a date or ISO-8601 text (yyyy-MM-ddTHH:mm:ssZ or yyyy-MM-ddTHH:mm:ss.SSSZ); convert numbers with timestamp_seconds(col) or timestamp_millis(col)";

    Ok(match value_type {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => match feature_type {
            String if event_time => return Err(incompatible(ISO_EVENT_TIME)),
            Integral | Fractional | String => TextFormat::Integer {
                integral: feature_type == Integral,
                event_time,
            },
        },
        DataType::Float16 | DataType::Float32 | DataType::Float64 => match feature_type {
            Integral => {
                return Err(incompatible(
                    "Integral values are never written with a fraction; cast the column to bigint if its values are whole numbers",
                ));
            }
            String if event_time => return Err(incompatible(ISO_EVENT_TIME)),
            Fractional | String => TextFormat::Float {
                finite_only: feature_type == Fractional,
                event_time,
            },
        },
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) => match feature_type {
            String if event_time => return Err(incompatible(ISO_EVENT_TIME)),
            Integral | Fractional | String => TextFormat::Decimal {
                integral: feature_type == Integral,
                event_time,
            },
        },
        DataType::Boolean => match feature_type {
            String if !event_time => TextFormat::Bool,
            _ => {
                return Err(incompatible(
                    "booleans are written only to String features (as true/false); cast the column to int for an Integral feature",
                ));
            }
        },
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => match feature_type {
            String if event_time => TextFormat::EventTimeText,
            String => TextFormat::Text,
            Integral => {
                return Err(incompatible(
                    "text is not parsed into numbers here; cast the column to bigint",
                ));
            }
            Fractional => {
                return Err(incompatible(if event_time {
                    "a Fractional event time takes epoch seconds; cast the column to timestamp or to double"
                } else {
                    "text is not parsed into numbers here; cast the column to double"
                }));
            }
        },
        DataType::Timestamp(unit, _) => match feature_type {
            String => TextFormat::Timestamp {
                text: if event_time || *unit == TimeUnit::Second || *unit == TimeUnit::Millisecond {
                    TimeText::IsoMillis
                } else {
                    TimeText::IsoUnit
                },
                event_time,
            },
            Fractional => TextFormat::Timestamp {
                text: TimeText::EpochSeconds,
                event_time,
            },
            Integral => {
                return Err(incompatible(
                    "the unit would be ambiguous; convert with unix_seconds(col), unix_millis(col) or unix_micros(col)",
                ));
            }
        },
        DataType::Date32 | DataType::Date64 => match feature_type {
            String => TextFormat::Date {
                text: if event_time {
                    DateText::Midnight
                } else {
                    DateText::Day
                },
                event_time,
            },
            Fractional => TextFormat::Date {
                text: DateText::EpochSeconds,
                event_time,
            },
            Integral => {
                return Err(incompatible(
                    "convert with unix_date(col) (days) or unix_seconds(cast(col as timestamp))",
                ));
            }
        },
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            return Err(unsupported(
                "bytes have no text form of their own: write base64(col) or cast(col as string) for UTF-8 bytes to a String feature",
            ));
        }
        DataType::Time32(_) | DataType::Time64(_) | DataType::Duration(_) | DataType::Interval(_) => {
            return Err(unsupported("cast the column to string for a String feature"));
        }
        DataType::Decimal256(..) => {
            return Err(unsupported(
                "precision above 38 digits: cast the column to decimal(38, s) or double",
            ));
        }
        DataType::Null => {
            return Err(incompatible("the column is always null"));
        }
        DataType::Dictionary(..) => {
            return Err(unsupported(
                "a dictionary with non-integer keys or nested dictionaries",
            ));
        }
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::Struct(_)
        | DataType::Map(..)
        | DataType::Union(..)
        | DataType::RunEndEncoded(..) => {
            return Err(unsupported(
                "nested or encoded values in this position; flatten the column first",
            ));
        }
    })
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::RecordIdentifier => "record identifier",
        Role::EventTime => "event time",
        Role::Feature => "feature",
    }
}

/// The Arrow type, with the Spark SQL type that produces it when there is one, for messages.
pub(crate) fn describe_type(data_type: &DataType) -> String {
    let spark = match data_type {
        DataType::Null => Some("void".to_string()),
        DataType::Boolean => Some("boolean".to_string()),
        DataType::Int8 => Some("tinyint".to_string()),
        DataType::Int16 => Some("smallint".to_string()),
        DataType::Int32 => Some("int".to_string()),
        DataType::Int64 => Some("bigint".to_string()),
        DataType::Float32 => Some("float".to_string()),
        DataType::Float64 => Some("double".to_string()),
        DataType::Decimal128(p, s) => Some(format!("decimal({p},{s})")),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some("string".to_string()),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Some("binary".to_string()),
        DataType::Date32 => Some("date".to_string()),
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => Some("timestamp".to_string()),
        DataType::Timestamp(TimeUnit::Microsecond, None) => Some("timestamp_ntz".to_string()),
        DataType::List(_) | DataType::LargeList(_) => Some("array".to_string()),
        DataType::Struct(_) => Some("struct".to_string()),
        DataType::Map(..) => Some("map".to_string()),
        _ => None,
    };
    match spark {
        Some(spark) => format!("{data_type} (Spark {spark})"),
        None => data_type.to_string(),
    }
}
