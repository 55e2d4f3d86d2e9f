//! The feature group as DescribeFeatureGroup returns it: what the encoder and the schema check need to
//! know (names, feature and collection types, the record identifier and event time, the stores).
//!
//! Parsed from the service's JSON verbatim (botocore `sagemaker` 2017-07-24, `DescribeFeatureGroupResponse`).
//! Members we do not use are ignored, so new members the service adds never break a job; a missing or
//! malformed member we do use is an [`Error::FeatureGroup`] naming every problem at once.

use std::collections::HashSet;
use std::fmt;

use crate::error::{Error, Result};

/// A feature group's definitions, resolved once on the driver and shipped to every task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureGroup {
    pub name: String,
    pub arn: String,
    pub record_identifier_feature_name: String,
    pub event_time_feature_name: String,
    /// In the service's order.
    pub features: Vec<FeatureDefinition>,
    pub online_store: OnlineStore,
    /// `OfflineStoreConfig`, present when the group has an offline store.
    pub offline_store: Option<OfflineStore>,
    /// `FeatureGroupStatus` (`Created`, `Creating`, `CreateFailed`, `Deleting`, `DeleteFailed`); `None` when
    /// the answer does not say.
    pub status: Option<String>,
    /// `FailureReason`: why creating or deleting the group failed.
    pub failure_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureDefinition {
    pub name: String,
    pub feature_type: FeatureType,
    /// `None` for a scalar feature (`ValueAsString`); a collection is written as `ValueAsStringList`.
    pub collection: Option<CollectionType>,
}

/// The type of a feature's value, or of each element of a collection feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureType {
    /// A 64-bit signed integer.
    Integral,
    /// An IEEE 754 double.
    Fractional,
    /// UTF-8 text.
    String,
}

/// A collection feature (online stores with the `InMemory` storage type only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionType {
    /// Ordered, repeats allowed.
    List,
    /// Unordered, unique elements.
    Set,
    /// Exactly `dimension` Fractional elements.
    Vector { dimension: u32 },
}

/// Where and how the offline store keeps its files (what a direct write needs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfflineStore {
    /// `S3StorageConfig.ResolvedOutputS3Uri`: the `.../data` prefix the service writes the Parquet files under.
    pub resolved_output_s3_uri: Option<String>,
    /// `TableFormat` (`Glue`, `Iceberg`); `None` when the answer does not say (the service's default is Glue).
    pub table_format: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineStore {
    pub enabled: bool,
    /// `Standard` when the service does not say.
    pub storage_type: StorageType,
    /// The group's default time to live of online records, if any.
    pub ttl_duration: Option<TtlDuration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageType {
    Standard,
    StandardV2,
    InMemory,
    /// A storage type newer than this library: kept, since nothing we encode depends on it.
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlDuration {
    pub unit: TtlUnit,
    pub value: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl FeatureGroup {
    /// Parses a DescribeFeatureGroup response (the service's JSON, verbatim).
    pub fn from_describe_json(json: &str) -> Result<FeatureGroup> {
        let wire: wire::DescribeFeatureGroupResponse = serde_json::from_str(json).map_err(|e| {
            Error::FeatureGroup(format!("the DescribeFeatureGroup response is not valid: {e}"))
        })?;
        let mut problems = Vec::new();
        let group = convert(wire, &mut problems);
        match group {
            Some(group) if problems.is_empty() => Ok(group),
            _ => Err(Error::FeatureGroup(problems.join("; "))),
        }
    }

    /// The definition of the feature called `name`.
    pub fn feature(&self, name: &str) -> Option<&FeatureDefinition> {
        self.features.iter().find(|f| f.name == name)
    }
}

impl fmt::Display for FeatureType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FeatureType::Integral => "Integral",
            FeatureType::Fractional => "Fractional",
            FeatureType::String => "String",
        })
    }
}

impl fmt::Display for FeatureDefinition {
    /// `Integral`, `List of String`, `Vector(128) of Fractional`: how messages name a feature's type.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.collection {
            None => write!(f, "{}", self.feature_type),
            Some(CollectionType::List) => write!(f, "List of {}", self.feature_type),
            Some(CollectionType::Set) => write!(f, "Set of {}", self.feature_type),
            Some(CollectionType::Vector { dimension }) => {
                write!(f, "Vector({dimension}) of {}", self.feature_type)
            }
        }
    }
}

/// The service's feature name pattern (`[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}`, at most 64 characters).
pub fn is_valid_feature_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    bytes.len() <= 64
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

fn convert(wire: wire::DescribeFeatureGroupResponse, problems: &mut Vec<String>) -> Option<FeatureGroup> {
    let name = required(wire.feature_group_name, "FeatureGroupName", problems);
    let arn = required(wire.feature_group_arn, "FeatureGroupArn", problems);
    let record_identifier = required(
        wire.record_identifier_feature_name,
        "RecordIdentifierFeatureName",
        problems,
    );
    let event_time = required(wire.event_time_feature_name, "EventTimeFeatureName", problems);
    let definitions = required(wire.feature_definitions, "FeatureDefinitions", problems);

    let features: Vec<FeatureDefinition> = definitions
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter_map(|(i, d)| convert_definition(i, d, problems))
        .collect();

    let mut seen = HashSet::new();
    for feature in &features {
        if !seen.insert(feature.name.as_str()) {
            problems.push(format!("feature '{}' is defined twice", feature.name));
        }
    }
    if let Some(record_identifier) = &record_identifier {
        check_key_feature(&features, record_identifier, "record identifier", problems);
    }
    if let Some(event_time) = &event_time {
        check_key_feature(&features, event_time, "event time", problems);
        if let Some(def) = features.iter().find(|f| &f.name == event_time)
            && def.feature_type == FeatureType::Integral
        {
            problems.push(format!(
                "the event time feature '{event_time}' is Integral; the service accepts only String or Fractional"
            ));
        }
    }

    let online_store = match wire.online_store_config {
        None => OnlineStore {
            enabled: false,
            storage_type: StorageType::Standard,
            ttl_duration: None,
        },
        Some(config) => OnlineStore {
            enabled: config.enable_online_store.unwrap_or(false),
            storage_type: match config.storage_type.as_deref() {
                None | Some("Standard") => StorageType::Standard,
                Some("Standard_V2") => StorageType::StandardV2,
                Some("InMemory") => StorageType::InMemory,
                Some(other) => StorageType::Other(other.to_string()),
            },
            ttl_duration: config.ttl_duration.and_then(|ttl| convert_ttl(ttl, problems)),
        },
    };

    Some(FeatureGroup {
        name: name?,
        arn: arn?,
        record_identifier_feature_name: record_identifier?,
        event_time_feature_name: event_time?,
        features,
        online_store,
        offline_store: wire.offline_store_config.map(|config| OfflineStore {
            resolved_output_s3_uri: config.s3_storage_config.and_then(|s3| s3.resolved_output_s3_uri),
            table_format: config.table_format,
        }),
        status: wire.feature_group_status,
        failure_reason: wire.failure_reason,
    })
}

fn required<T>(value: Option<T>, member: &str, problems: &mut Vec<String>) -> Option<T> {
    if value.is_none() {
        problems.push(format!("the required member {member} is missing"));
    }
    value
}

fn check_key_feature(features: &[FeatureDefinition], name: &str, role: &str, problems: &mut Vec<String>) {
    match features.iter().find(|f| f.name == name) {
        None => problems.push(format!(
            "the {role} feature '{name}' is not among the feature definitions"
        )),
        Some(def) if def.collection.is_some() => problems.push(format!(
            "the {role} feature '{name}' is a collection ({def}); it must be a scalar"
        )),
        Some(_) => {}
    }
}

fn convert_definition(
    index: usize,
    wire: wire::FeatureDefinition,
    problems: &mut Vec<String>,
) -> Option<FeatureDefinition> {
    let Some(name) = wire.feature_name else {
        problems.push(format!(
            "FeatureDefinitions[{index}]: the required member FeatureName is missing"
        ));
        return None;
    };
    if !is_valid_feature_name(&name) {
        problems.push(format!(
            "feature '{name}': the name does not match the service's pattern [a-zA-Z0-9]([-_]*[a-zA-Z0-9]){{0,63}}"
        ));
    }
    let feature_type = match wire.feature_type.as_deref() {
        Some("Integral") => FeatureType::Integral,
        Some("Fractional") => FeatureType::Fractional,
        Some("String") => FeatureType::String,
        Some(other) => {
            problems.push(format!(
                "feature '{name}': unknown FeatureType '{other}' (expected Integral, Fractional or String)"
            ));
            return None;
        }
        None => {
            problems.push(format!(
                "feature '{name}': the required member FeatureType is missing"
            ));
            return None;
        }
    };
    let dimension = wire
        .collection_config
        .and_then(|c| c.vector_config)
        .and_then(|v| v.dimension);
    let collection = match wire.collection_type.as_deref() {
        None => None,
        Some("List") => Some(CollectionType::List),
        Some("Set") => Some(CollectionType::Set),
        Some("Vector") => match dimension {
            Some(dimension) if (1..=8192).contains(&dimension) => Some(CollectionType::Vector { dimension }),
            Some(dimension) => {
                problems.push(format!(
                    "feature '{name}': vector dimension {dimension} is outside 1..=8192"
                ));
                return None;
            }
            None => {
                problems.push(format!(
                    "feature '{name}': a Vector feature needs CollectionConfig.VectorConfig.Dimension"
                ));
                return None;
            }
        },
        Some(other) => {
            problems.push(format!(
                "feature '{name}': unknown CollectionType '{other}' (expected List, Set or Vector)"
            ));
            return None;
        }
    };
    Some(FeatureDefinition {
        name,
        feature_type,
        collection,
    })
}

fn convert_ttl(wire: wire::TtlDuration, problems: &mut Vec<String>) -> Option<TtlDuration> {
    let unit = match wire.unit.as_deref() {
        Some("Seconds") => TtlUnit::Seconds,
        Some("Minutes") => TtlUnit::Minutes,
        Some("Hours") => TtlUnit::Hours,
        Some("Days") => TtlUnit::Days,
        Some("Weeks") => TtlUnit::Weeks,
        other => {
            problems.push(format!(
                "OnlineStoreConfig.TtlDuration: unknown Unit {other:?} (expected Seconds, Minutes, Hours, Days or Weeks)"
            ));
            return None;
        }
    };
    match wire.value {
        Some(value) if value >= 1 => Some(TtlDuration { unit, value }),
        other => {
            problems.push(format!(
                "OnlineStoreConfig.TtlDuration: Value {other:?} is not a positive integer"
            ));
            None
        }
    }
}

/// The service's JSON shapes, only the members we read. Every member is optional here so that missing
/// ones are reported together, with the service's member names.
mod wire {
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub(super) struct DescribeFeatureGroupResponse {
        pub feature_group_arn: Option<String>,
        pub feature_group_name: Option<String>,
        pub record_identifier_feature_name: Option<String>,
        pub event_time_feature_name: Option<String>,
        pub feature_definitions: Option<Vec<FeatureDefinition>>,
        pub online_store_config: Option<OnlineStoreConfig>,
        pub offline_store_config: Option<OfflineStoreConfig>,
        pub feature_group_status: Option<String>,
        pub failure_reason: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub(super) struct OfflineStoreConfig {
        pub s3_storage_config: Option<S3StorageConfig>,
        pub table_format: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub(super) struct S3StorageConfig {
        #[serde(rename = "ResolvedOutputS3Uri")]
        pub resolved_output_s3_uri: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub(super) struct FeatureDefinition {
        pub feature_name: Option<String>,
        pub feature_type: Option<String>,
        pub collection_type: Option<String>,
        pub collection_config: Option<CollectionConfig>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub(super) struct CollectionConfig {
        pub vector_config: Option<VectorConfig>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub(super) struct VectorConfig {
        pub dimension: Option<u32>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub(super) struct OnlineStoreConfig {
        pub enable_online_store: Option<bool>,
        pub storage_type: Option<String>,
        pub ttl_duration: Option<TtlDuration>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub(super) struct TtlDuration {
        pub unit: Option<String>,
        pub value: Option<u32>,
    }
}
