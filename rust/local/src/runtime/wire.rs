//! The runtime's request and response shapes (botocore's `sagemaker-featurestore-runtime` model). Requests
//! borrow their strings from the body (see `Text`); every member is optional so that missing required members
//! are reported as the service does. Unknown members are ignored. The write path's requests are read by
//! `json`, the others by serde.

use serde::{Deserialize, Serialize};

use crate::control_plane::wire::TtlDuration;
use crate::model::text::Text;

/// Serialized back only in BatchWriteRecord's `Errors` and `UnprocessedEntries`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeatureValueIn<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_name: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_as_string: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_as_string_list: Option<Vec<Text<'a>>>,
}

#[derive(Debug, Clone, Default)]
pub struct PutRecordIn<'a> {
    pub record: Option<Vec<FeatureValueIn<'a>>>,
    pub target_stores: Option<Vec<Text<'a>>>,
    pub ttl_duration: Option<TtlDuration>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchWriteEntryIn<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_group_name: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<Vec<FeatureValueIn<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_stores: Option<Vec<Text<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_duration: Option<TtlDuration>,
}

#[derive(Debug, Clone, Default)]
pub struct BatchWriteRecordIn<'a> {
    pub entries: Option<Vec<BatchWriteEntryIn<'a>>>,
    pub ttl_duration: Option<TtlDuration>,
}

#[derive(Debug, Serialize)]
pub struct BatchWriteError<'e, 'a> {
    #[serde(rename = "Entry")]
    pub entry: &'e BatchWriteEntryIn<'a>,
    #[serde(rename = "ErrorCode")]
    pub error_code: &'static str,
    #[serde(rename = "ErrorMessage")]
    pub error_message: String,
}

#[derive(Debug, Serialize)]
pub struct BatchWriteRecordOut<'e, 'a> {
    #[serde(rename = "Errors")]
    pub errors: Vec<BatchWriteError<'e, 'a>>,
    #[serde(rename = "UnprocessedEntries")]
    pub unprocessed_entries: Vec<&'e BatchWriteEntryIn<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct BatchGetIdentifierIn<'a> {
    #[serde(
        rename = "FeatureGroupName",
        borrow,
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub feature_group_name: Option<Text<'a>>,
    #[serde(
        rename = "RecordIdentifiersValueAsString",
        borrow,
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub record_identifiers: Option<Vec<Text<'a>>>,
    #[serde(
        rename = "FeatureNames",
        borrow,
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub feature_names: Option<Vec<Text<'a>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BatchGetRecordIn<'a> {
    #[serde(rename = "Identifiers", borrow, default)]
    pub identifiers: Option<Vec<BatchGetIdentifierIn<'a>>>,
    #[serde(rename = "ExpirationTimeResponse", borrow, default)]
    pub expiration_time_response: Option<Text<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListRecordsIn<'a> {
    #[serde(rename = "MaxResults", default)]
    pub max_results: Option<i64>,
    #[serde(rename = "NextToken", borrow, default)]
    pub next_token: Option<Text<'a>>,
    #[serde(rename = "IncludeSoftDeletedRecords", default)]
    pub include_soft_deleted_records: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct ListRecordsOut {
    #[serde(rename = "RecordIdentifiers")]
    pub record_identifiers: Vec<String>,
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}
