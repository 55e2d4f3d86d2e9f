//! The control plane's request and response shapes (botocore's `sagemaker` model, the feature group
//! operations), as serde types. Every request member is optional here so that a missing required member
//! is reported the way the service does ("Member must not be null"), not as a parse error.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFeatureGroupRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_identifier_feature_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time_feature_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_definitions: Option<Vec<FeatureDefinition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_store_config: Option<OnlineStoreConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_store_config: Option<OfflineStoreConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput_config: Option<ThroughputConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeatureDefinition {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_config: Option<CollectionConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CollectionConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_config: Option<VectorConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VectorConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OnlineStoreConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_config: Option<SecurityConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_online_store: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_duration: Option<TtlDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TtlDuration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OfflineStoreConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_storage_config: Option<S3StorageConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_glue_table_creation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_catalog_config: Option<DataCatalogConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_format: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3StorageConfig {
    #[serde(rename = "S3Uri", skip_serializing_if = "Option::is_none")]
    pub s3_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(rename = "ResolvedOutputS3Uri", skip_serializing_if = "Option::is_none")]
    pub resolved_output_s3_uri: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataCatalogConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ThroughputConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_read_capacity_units: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_write_capacity_units: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeatureGroupNameRequest {
    pub feature_group_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeFeatureGroupRequest {
    pub feature_group_name: Option<String>,
    /// Where the feature definitions resume (a previous answer's `NextToken`).
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListFeatureGroupsRequest {
    pub name_contains: Option<String>,
    pub feature_group_status_equals: Option<String>,
    pub offline_store_status_equals: Option<String>,
    pub creation_time_after: Option<f64>,
    pub creation_time_before: Option<f64>,
    pub sort_order: Option<String>,
    pub sort_by: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

/// UpdateFeatureGroup's request: this store takes `FeatureAdditions` (the other members, an online store's new
/// TTL or throughput, are refused as not implemented).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFeatureGroupRequest {
    pub feature_group_name: Option<String>,
    pub feature_additions: Option<Vec<FeatureDefinition>>,
    pub online_store_config: Option<serde::de::IgnoredAny>,
    pub throughput_config: Option<serde::de::IgnoredAny>,
}

/// UpdateFeatureGroup's answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFeatureGroupResponse {
    pub feature_group_arn: String,
}

/// DescribeFeatureGroup's `LastUpdateStatus`: `Successful`, `Failed` (with `FailureReason`) or `InProgress`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LastUpdateStatus {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OfflineStoreStatus {
    pub status: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeFeatureGroupResponse {
    pub feature_group_arn: String,
    pub feature_group_name: String,
    pub record_identifier_feature_name: String,
    pub event_time_feature_name: String,
    pub feature_definitions: Vec<FeatureDefinition>,
    pub creation_time: f64,
    pub last_modified_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_store_config: Option<OnlineStoreConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_store_config: Option<OfflineStoreConfig>,
    pub throughput_config: ThroughputConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub feature_group_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_store_status: Option<OfflineStoreStatus>,
    /// Present once an UpdateFeatureGroup applied, as on the service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status: Option<LastUpdateStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the feature definitions go on when there are more than one page holds; empty on the last page.
    pub next_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_store_total_size_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeatureGroupSummary {
    pub feature_group_name: String,
    pub feature_group_arn: String,
    pub creation_time: f64,
    pub feature_group_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_store_status: Option<OfflineStoreStatus>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListFeatureGroupsResponse {
    pub feature_group_summaries: Vec<FeatureGroupSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFeatureGroupResponse {
    pub feature_group_arn: String,
}
