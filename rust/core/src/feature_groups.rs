//! Feature groups from a DataFrame: CreateFeatureGroup with the definitions [`schema::definitions`] maps from
//! the DataFrame's Arrow schema, then DescribeFeatureGroup until the group is `Created` (the service takes
//! minutes for an InMemory store), failing with the service's `FailureReason` when creation fails.
//!
//! [`add_missing_features`] adds a DataFrame's new columns to a group with UpdateFeatureGroup's
//! `FeatureAdditions` (on request, or as the `addMissingFeatures` write option) and waits for the update.
//!
//! The calls go through the control client of [`control`] (endpoint, credentials, signing, retries), as
//! DescribeFeatureGroup does.
//!
//! [`schema::definitions`]: crate::schema::definitions

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use arrow_schema::Schema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::ClientConfig;
use crate::control::{call, describe_feature_group};
use crate::error::{ConfigProblem, Error, Result};
use crate::model::FeatureGroup;
use crate::options::{OptionValue, TTL_DURATION};
use crate::schema::definitions::{Requested, definitions_json, feature_definitions};

const CREATE: &str = "CreateFeatureGroup";
const UPDATE: &str = "UpdateFeatureGroup";
const UPDATE_TARGET: &str = "SageMaker.UpdateFeatureGroup";

/// UpdateFeatureGroup's `FeatureAdditions`, at most, per call.
pub const MAX_ADDITIONS_PER_CALL: usize = 100;
const CREATE_TARGET: &str = "SageMaker.CreateFeatureGroup";

/// How long [`create_feature_group`] waits for `Created` unless told otherwise.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 600;

/// Status polls start this often and slow down to [`MAX_POLL`]: a local store is `Created` at once, the
/// service takes minutes, and DescribeFeatureGroup's rate is limited.
const FIRST_POLL: Duration = Duration::from_millis(200);
const MAX_POLL: Duration = Duration::from_secs(5);

/// A feature group to create from a schema: what the Scala and Python APIs take, as JSON (camelCase).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSpec {
    pub feature_group_name: String,
    pub record_identifier: String,
    pub event_time: String,
    /// An online store (default true).
    pub online_store: Option<bool>,
    /// `Standard` (the service's default) or `InMemory` (needed by collection features).
    pub storage_type: Option<String>,
    /// The online store's default time to live, `7 Days` (as the `ttlDuration` option).
    pub ttl_duration: Option<String>,
    /// An offline store at this `s3://` URI.
    pub offline_store_s3_uri: Option<String>,
    /// The offline store's table format: `Glue` (the service's default) or `Iceberg`.
    pub table_format: Option<String>,
    /// The role the service uses for the offline store.
    pub role_arn: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Per array column: `List` (the default), `Set`, `Vector` or `Vector(n)`.
    #[serde(default)]
    pub collection_types: std::collections::HashMap<String, String>,
    /// How long to wait for `Created`, in seconds (default [`DEFAULT_TIMEOUT_SECONDS`]).
    pub timeout_seconds: Option<u64>,
}

impl CreateSpec {
    /// Parses the JSON the Scala API sends; an unknown or mistyped member is named.
    pub fn from_json(json: &str) -> Result<CreateSpec> {
        serde_json::from_str(json)
            .map_err(|e| Error::InvalidConfig(vec![ConfigProblem::new("feature group", e.to_string())]))
    }
}

const STORAGE_TYPES: [&str; 2] = ["Standard", "InMemory"];
const TABLE_FORMATS: [&str; 2] = ["Glue", "Iceberg"];

/// The CreateFeatureGroup request for `spec` over `schema`'s columns, or every problem at once (the spec's
/// as [`Error::InvalidConfig`], then the columns' as [`Error::Schema`]).
pub fn create_request(spec: &CreateSpec, schema: &Schema) -> Result<Value> {
    let mut problems = Vec::new();
    let column = |name: &str| schema.field_with_name(name).is_ok();
    for (member, name) in [
        ("recordIdentifier", &spec.record_identifier),
        ("eventTime", &spec.event_time),
    ] {
        if !column(name) {
            problems.push(ConfigProblem::new(
                member,
                format!("the input has no column '{name}'"),
            ));
        }
    }
    if spec.record_identifier == spec.event_time {
        problems.push(ConfigProblem::new(
            "eventTime",
            "must be another column than the record identifier",
        ));
    }
    if spec.feature_group_name.trim().is_empty() {
        problems.push(ConfigProblem::new("featureGroupName", "must not be empty"));
    }
    let online = spec.online_store.unwrap_or(true);
    let storage_type = canonical(&spec.storage_type, &STORAGE_TYPES, "storageType", &mut problems);
    let table_format = canonical(&spec.table_format, &TABLE_FORMATS, "tableFormat", &mut problems);
    let ttl = spec
        .ttl_duration
        .as_deref()
        .and_then(|text| match TTL_DURATION.kind.parse(text) {
            Ok(OptionValue::Ttl(ttl)) => Some(ttl),
            Ok(_) | Err(_) => {
                problems.push(ConfigProblem::new(
                    "ttlDuration",
                    format!("must be a positive whole number and a unit, e.g. '7 Days' (given '{text}')"),
                ));
                None
            }
        });
    if !online && (spec.storage_type.is_some() || spec.ttl_duration.is_some()) {
        problems.push(ConfigProblem::new(
            "onlineStore",
            "is false, but storageType or ttlDuration configures an online store",
        ));
    }
    if !online && spec.offline_store_s3_uri.is_none() {
        problems.push(ConfigProblem::new(
            "offlineStoreS3Uri",
            "is required without an online store: a feature group needs at least one store",
        ));
    }
    if spec.offline_store_s3_uri.is_none() && spec.table_format.is_some() {
        problems.push(ConfigProblem::new(
            "tableFormat",
            "applies to an offline store: set offlineStoreS3Uri",
        ));
    }
    if let Some(uri) = &spec.offline_store_s3_uri
        && !uri.starts_with("s3://")
    {
        problems.push(ConfigProblem::new(
            "offlineStoreS3Uri",
            format!("must be an s3:// URI (given '{uri}')"),
        ));
    }
    let requested = Requested {
        event_time: Some(spec.event_time.clone()),
        collection_types: spec.collection_types.clone(),
    };
    let definitions = feature_definitions(schema, &requested);
    if let Ok(definitions) = &definitions
        && online
        && storage_type != Some("InMemory")
        && let Some(collection) = definitions.iter().find(|d| d.collection.is_some())
    {
        problems.push(ConfigProblem::new(
            "storageType",
            format!(
                "must be InMemory: column '{}' becomes a {collection} feature, and only an InMemory online store takes collections",
                collection.name
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(Error::InvalidConfig(problems));
    }
    let definitions = definitions?;

    let mut request = json!({
        "FeatureGroupName": spec.feature_group_name,
        "RecordIdentifierFeatureName": spec.record_identifier,
        "EventTimeFeatureName": spec.event_time,
        "FeatureDefinitions": definitions_json(&definitions),
    });
    if online {
        let mut config = json!({"EnableOnlineStore": true});
        if let Some(storage_type) = storage_type {
            config["StorageType"] = json!(storage_type);
        }
        if let Some(ttl) = ttl {
            config["TtlDuration"] = json!({"Unit": ttl.unit.as_str(), "Value": ttl.value});
        }
        request["OnlineStoreConfig"] = config;
    }
    if let Some(uri) = &spec.offline_store_s3_uri {
        let mut config = json!({"S3StorageConfig": {"S3Uri": uri}});
        if let Some(format) = table_format {
            config["TableFormat"] = json!(format);
        }
        request["OfflineStoreConfig"] = config;
    }
    if let Some(role) = &spec.role_arn {
        request["RoleArn"] = json!(role);
    }
    if let Some(description) = &spec.description {
        request["Description"] = json!(description);
    }
    if !spec.tags.is_empty() {
        request["Tags"] = spec
            .tags
            .iter()
            .map(|(key, value)| json!({"Key": key, "Value": value}))
            .collect();
    }
    Ok(request)
}

/// The allowed spelling of `value` (matched without regard to case), or a problem.
fn canonical(
    value: &Option<String>,
    allowed: &[&'static str],
    member: &str,
    problems: &mut Vec<ConfigProblem>,
) -> Option<&'static str> {
    let value = value.as_deref()?;
    let found = allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value.trim()))
        .copied();
    if found.is_none() {
        problems.push(ConfigProblem::new(
            member,
            format!("must be one of {} (given '{value}')", allowed.join(", ")),
        ));
    }
    found
}

/// Creates the feature group `spec` describes over `schema`'s columns and waits until it is `Created`;
/// returns its DescribeFeatureGroup answer. Blocking (the Spark driver's thread).
pub fn create_feature_group(client: &ClientConfig, spec: &CreateSpec, schema: &Schema) -> Result<String> {
    let request = create_request(spec, schema)?;
    call(client, CREATE_TARGET, request)?;
    let timeout = Duration::from_secs(spec.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS));
    wait_until_created(client, &spec.feature_group_name, timeout)
}

/// What a DescribeFeatureGroup answer says of a group being created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Creation {
    Creating,
    Created,
    /// `CreateFailed` (with the service's `FailureReason`), or a status creation does not lead to.
    Failed {
        status: String,
        reason: String,
    },
}

/// Reads `FeatureGroupStatus` and `FailureReason` from a DescribeFeatureGroup answer.
pub fn creation(describe_json: &str) -> Result<Creation> {
    let answer: Value = serde_json::from_str(describe_json)
        .map_err(|e| Error::FeatureGroup(format!("the DescribeFeatureGroup response is not valid: {e}")))?;
    let status = answer["FeatureGroupStatus"].as_str().unwrap_or_default();
    Ok(match status {
        "Creating" => Creation::Creating,
        "Created" => Creation::Created,
        other => Creation::Failed {
            status: if other.is_empty() { "unknown" } else { other }.to_string(),
            reason: answer["FailureReason"]
                .as_str()
                .unwrap_or("the service gave no FailureReason")
                .to_string(),
        },
    })
}

fn wait_until_created(client: &ClientConfig, name: &str, timeout: Duration) -> Result<String> {
    let started = Instant::now();
    let mut pause = FIRST_POLL;
    loop {
        let described = describe_feature_group(client, name)?;
        match creation(&described)? {
            Creation::Created => return Ok(described),
            Creation::Failed { status, reason } => {
                return Err(Error::Service {
                    operation: CREATE,
                    code: status,
                    status: 200,
                    message: format!("feature group '{name}' was not created: {reason}"),
                });
            }
            Creation::Creating if started.elapsed() + pause > timeout => {
                return Err(Error::Transport {
                    operation: CREATE,
                    message: format!(
                        "feature group '{name}' is still Creating after {} s; it may still become Created (DescribeFeatureGroup tells), or wait longer with a larger timeout",
                        started.elapsed().as_secs()
                    ),
                });
            }
            Creation::Creating => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(MAX_POLL);
            }
        }
    }
}

/// Adds `schema`'s columns that are not features of the group (names compared ignoring case, as the service
/// does) with UpdateFeatureGroup's `FeatureAdditions`, at most [`MAX_ADDITIONS_PER_CALL`] per call, each call
/// waiting until the update is no longer `InProgress` (at most `timeout` in all); fails with the service's
/// `FailureReason` when an update fails. `collection_types` are as for [`create_feature_group`]. Returns the
/// group's DescribeFeatureGroup answer after the last update (the first one when nothing was missing).
pub fn add_missing_features(
    client: &ClientConfig,
    name_or_arn: &str,
    schema: &Schema,
    collection_types: &std::collections::HashMap<String, String>,
    timeout: Duration,
) -> Result<String> {
    let described = describe_feature_group(client, name_or_arn)?;
    let group = FeatureGroup::from_describe_json(&described)?;
    let missing: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, field)| {
            !group
                .features
                .iter()
                .any(|f| f.name.eq_ignore_ascii_case(field.name()))
        })
        .map(|(index, _)| index)
        .collect();
    if missing.is_empty() {
        return Ok(described);
    }
    let projected = schema
        .project(&missing)
        .map_err(|e| Error::Internal(format!("cannot project the missing columns: {e}")))?;
    let requested = Requested {
        event_time: None,
        collection_types: collection_types
            .iter()
            .filter(|(column, _)| projected.field_with_name(column).is_ok())
            .map(|(column, collection)| (column.clone(), collection.clone()))
            .collect(),
    };
    let additions = feature_definitions(&projected, &requested)?;
    let started = Instant::now();
    let mut described = described;
    for chunk in additions.chunks(MAX_ADDITIONS_PER_CALL) {
        let names: Vec<&str> = chunk.iter().map(|d| d.name.as_str()).collect();
        log::info!("adding features {names:?} to feature group '{}'", group.name);
        call(
            client,
            UPDATE_TARGET,
            json!({"FeatureGroupName": group.arn, "FeatureAdditions": definitions_json(chunk)}),
        )?;
        described = wait_until_updated(client, &group.arn, timeout.saturating_sub(started.elapsed()))?;
    }
    Ok(described)
}

/// What a DescribeFeatureGroup answer says of the group's last update (`LastUpdateStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    InProgress,
    /// `Successful`, or no update reported (a service that applied it at once).
    Successful,
    Failed {
        reason: String,
    },
}

/// Reads `LastUpdateStatus` from a DescribeFeatureGroup answer.
pub fn last_update(describe_json: &str) -> Result<Update> {
    let answer: Value = serde_json::from_str(describe_json)
        .map_err(|e| Error::FeatureGroup(format!("the DescribeFeatureGroup response is not valid: {e}")))?;
    let status = &answer["LastUpdateStatus"];
    Ok(match status["Status"].as_str() {
        Some("InProgress") => Update::InProgress,
        Some("Failed") => Update::Failed {
            reason: status["FailureReason"]
                .as_str()
                .unwrap_or("the service gave no FailureReason")
                .to_string(),
        },
        _ => Update::Successful,
    })
}

fn wait_until_updated(client: &ClientConfig, name: &str, timeout: Duration) -> Result<String> {
    let started = Instant::now();
    let mut pause = FIRST_POLL;
    loop {
        let described = describe_feature_group(client, name)?;
        match last_update(&described)? {
            Update::Successful => return Ok(described),
            Update::Failed { reason } => {
                return Err(Error::Service {
                    operation: UPDATE,
                    code: "Failed".to_string(),
                    status: 200,
                    message: format!("feature group '{name}' was not updated: {reason}"),
                });
            }
            Update::InProgress if started.elapsed() + pause > timeout => {
                return Err(Error::Transport {
                    operation: UPDATE,
                    message: format!(
                        "feature group '{name}' is still being updated after {} s (LastUpdateStatus InProgress)",
                        started.elapsed().as_secs()
                    ),
                });
            }
            Update::InProgress => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(MAX_POLL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_reads_the_status_and_the_services_failure_reason() {
        assert_eq!(
            creation(r#"{"FeatureGroupStatus":"Creating"}"#).unwrap(),
            Creation::Creating
        );
        assert_eq!(
            creation(r#"{"FeatureGroupStatus":"Created"}"#).unwrap(),
            Creation::Created
        );
        assert_eq!(
            creation(
                r#"{"FeatureGroupStatus":"CreateFailed","FailureReason":"Access denied for S3 bucket"}"#
            )
            .unwrap(),
            Creation::Failed {
                status: "CreateFailed".into(),
                reason: "Access denied for S3 bucket".into()
            }
        );
        assert!(matches!(creation("not json"), Err(Error::FeatureGroup(_))));
    }

    #[test]
    fn last_update_reads_the_status_and_the_services_failure_reason() {
        assert_eq!(
            last_update(r#"{"LastUpdateStatus":{"Status":"InProgress"}}"#).unwrap(),
            Update::InProgress
        );
        assert_eq!(
            last_update(r#"{"LastUpdateStatus":{"Status":"Successful"}}"#).unwrap(),
            Update::Successful
        );
        assert_eq!(
            last_update(r#"{"FeatureGroupStatus":"Created"}"#).unwrap(),
            Update::Successful
        );
        assert_eq!(
            last_update(r#"{"LastUpdateStatus":{"Status":"Failed","FailureReason":"Too many features"}}"#)
                .unwrap(),
            Update::Failed {
                reason: "Too many features".into()
            }
        );
    }
}
