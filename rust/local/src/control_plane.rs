//! The control plane (`sagemaker`, JSON 1.1): the feature group operations.
//!
//! Unlike the service, CreateFeatureGroup returns with the group already `Created` (no `Creating` phase),
//! UpdateFeatureGroup applies its `FeatureAdditions` before it answers (`LastUpdateStatus` `Successful`, never
//! `InProgress`) and DeleteFeatureGroup removes it at once (no `Deleting` phase).

pub mod wire;

use serde::Serialize;

use crate::app::App;
use crate::error::{ErrorCode, ServiceError};
use crate::model::constraints::Constraints;
use crate::model::feature_group::FeatureGroup;
use crate::model::names::{self, NameOrArn};
use crate::model::operation::Operation;
use crate::store::Group;
use wire::{
    CreateFeatureGroupRequest, CreateFeatureGroupResponse, DescribeFeatureGroupRequest,
    DescribeFeatureGroupResponse, FeatureGroupNameRequest, FeatureGroupSummary, LastUpdateStatus,
    ListFeatureGroupsRequest, ListFeatureGroupsResponse, OfflineStoreStatus, UpdateFeatureGroupRequest,
    UpdateFeatureGroupResponse,
};

/// The operation an `X-Amz-Target` header names, if it is one this store implements.
pub fn operation(target: &str) -> Option<Operation> {
    let name = target.strip_prefix("SageMaker.")?;
    Operation::from_name(name).filter(|op| !op.is_runtime())
}

pub fn handle(app: &App, operation: Operation, body: &[u8]) -> Result<Vec<u8>, ServiceError> {
    match operation {
        Operation::CreateFeatureGroup => create(app, parse(body)?),
        Operation::DescribeFeatureGroup => describe(app, parse(body)?),
        Operation::ListFeatureGroups => list(app, parse(body)?),
        Operation::DeleteFeatureGroup => delete(app, parse(body)?),
        Operation::UpdateFeatureGroup => update(app, parse(body)?),
        _ => Err(ServiceError::new(
            ErrorCode::UnknownOperationException,
            "Unknown operation",
        )),
    }
}

fn parse<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, ServiceError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        ServiceError::new(
            ErrorCode::SerializationException,
            format!("The request body is not valid: {e}"),
        )
    })
}

fn to_json(value: &impl Serialize) -> Result<Vec<u8>, ServiceError> {
    serde_json::to_vec(value).map_err(|e| ServiceError::new(ErrorCode::InternalFailure, e.to_string()))
}

fn validation(message: impl Into<String>) -> ServiceError {
    ServiceError::new(ErrorCode::ValidationException, message)
}

fn create(app: &App, request: CreateFeatureGroupRequest) -> Result<Vec<u8>, ServiceError> {
    let group = app.store.create(request)?;
    ::log::info!("created feature group {}", group.definition.name);
    to_json(&CreateFeatureGroupResponse {
        feature_group_arn: group.definition.arn.clone(),
    })
}

/// Finds the group a request names; the control plane's ResourceNotFound otherwise.
fn find(app: &App, name_or_arn: Option<&str>, path: &str) -> Result<std::sync::Arc<Group>, ServiceError> {
    let mut c = Constraints::new();
    if c.required(path, name_or_arn)
        && let Some(value) = name_or_arn
        && c.length(path, value, 1, 256)
    {
        c.pattern(
            path,
            value,
            NameOrArn::parse(value).is_some(),
            names::NAME_OR_ARN_PATTERN,
        );
    }
    c.finish().map_err(validation)?;
    let name_or_arn = name_or_arn.unwrap_or_default();
    app.store.resolve(name_or_arn).ok_or_else(|| {
        let name = NameOrArn::parse(name_or_arn).map_or(name_or_arn, |parsed| parsed.name());
        ServiceError::new(
            ErrorCode::ResourceNotFound,
            format!("Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name {name}"),
        )
    })
}

fn describe(app: &App, request: DescribeFeatureGroupRequest) -> Result<Vec<u8>, ServiceError> {
    let group = find(app, request.feature_group_name.as_deref(), "featureGroupName")?;
    let start = page_start(request.next_token.as_deref())?;
    let mut answer = description(&group);
    let (status, failure_reason) = status_of(app, &group.definition.name);
    answer.feature_group_status = status;
    answer.failure_reason = failure_reason;
    // Pages of the feature definitions, as the service pages them; every other member is on every page.
    let end = (start + app.describe_page_size).min(answer.feature_definitions.len());
    answer.next_token = if end < answer.feature_definitions.len() {
        end.to_string()
    } else {
        String::new()
    };
    answer.feature_definitions = answer
        .feature_definitions
        .get(start..end)
        .map(<[_]>::to_vec)
        .unwrap_or_default();
    to_json(&answer)
}

/// A group's `FeatureGroupStatus` and `FailureReason`: `Created`, unless the `group_statuses` fault says
/// otherwise (this store creates and deletes groups at once).
fn status_of(app: &App, name: &str) -> (String, Option<String>) {
    let faults = app.faults.faults();
    match faults
        .group_statuses
        .iter()
        .find(|(group, _)| group.eq_ignore_ascii_case(name))
    {
        Some((_, status)) => (status.status.clone(), status.failure_reason.clone()),
        None => ("Created".to_owned(), None),
    }
}

/// Where a page starts: this store's tokens are the offset of the page's first item.
fn page_start(next_token: Option<&str>) -> Result<usize, ServiceError> {
    match next_token.filter(|t| !t.is_empty()) {
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| validation("The NextToken is not valid")),
        None => Ok(0),
    }
}

fn offline_status(definition: &FeatureGroup) -> Option<OfflineStoreStatus> {
    definition
        .offline
        .as_ref()
        .map(|_| OfflineStoreStatus { status: "Active" })
}

fn description(group: &Group) -> DescribeFeatureGroupResponse {
    let definition = &group.definition;
    let request = &definition.request;
    let online_store_config = request.online_store_config.clone().map(|mut config| {
        if config.enable_online_store == Some(true) && config.storage_type.is_none() {
            config.storage_type = Some("Standard".to_owned());
        }
        config
    });
    let offline_store_config = match (&request.offline_store_config, &definition.offline) {
        (Some(config), Some(offline)) => {
            let mut config = config.clone();
            if let Some(s3) = config.s3_storage_config.as_mut() {
                s3.resolved_output_s3_uri = Some(offline.resolved_uri.clone());
            }
            config.data_catalog_config = Some(offline.data_catalog.clone());
            config.table_format = Some(offline.table_format.clone());
            config.disable_glue_table_creation.get_or_insert(false);
            Some(config)
        }
        _ => None,
    };
    let throughput_config = request
        .throughput_config
        .clone()
        .unwrap_or(wire::ThroughputConfig {
            throughput_mode: Some("OnDemand".to_owned()),
            ..Default::default()
        });
    DescribeFeatureGroupResponse {
        feature_group_arn: definition.arn.clone(),
        feature_group_name: definition.name.clone(),
        record_identifier_feature_name: definition.record_identifier_name().to_owned(),
        event_time_feature_name: definition.event_time_name().to_owned(),
        feature_definitions: request.feature_definitions.clone().unwrap_or_default(),
        creation_time: definition.creation_time,
        last_modified_time: group.last_modified_time.unwrap_or(definition.creation_time),
        online_store_config,
        offline_store_config,
        throughput_config,
        role_arn: request.role_arn.clone(),
        feature_group_status: "Created".to_owned(),
        failure_reason: None,
        offline_store_status: offline_status(definition),
        // Updates apply before UpdateFeatureGroup answers: never InProgress here.
        last_update_status: group.last_modified_time.map(|_| LastUpdateStatus {
            status: "Successful",
            failure_reason: None,
        }),
        description: request.description.clone(),
        next_token: String::new(),
        online_store_total_size_bytes: group.online.as_ref().map(|online| online.live_bytes()),
    }
}

const SORT_BY: [&str; 4] = ["Name", "FeatureGroupStatus", "OfflineStoreStatus", "CreationTime"];
const SORT_ORDER: [&str; 2] = ["Ascending", "Descending"];
const STATUSES: [&str; 5] = ["Creating", "Created", "CreateFailed", "Deleting", "DeleteFailed"];
const OFFLINE_STATUSES: [&str; 3] = ["Active", "Blocked", "Disabled"];

fn list(app: &App, request: ListFeatureGroupsRequest) -> Result<Vec<u8>, ServiceError> {
    let mut c = Constraints::new();
    if let Some(contains) = &request.name_contains {
        c.length("nameContains", contains, 1, 64);
    }
    if let Some(status) = &request.feature_group_status_equals {
        c.one_of("featureGroupStatusEquals", status, &STATUSES);
    }
    if let Some(status) = &request.offline_store_status_equals {
        c.one_of("offlineStoreStatusEquals", status, &OFFLINE_STATUSES);
    }
    if let Some(sort_by) = &request.sort_by {
        c.one_of("sortBy", sort_by, &SORT_BY);
    }
    if let Some(order) = &request.sort_order {
        c.one_of("sortOrder", order, &SORT_ORDER);
    }
    if let Some(max) = request.max_results {
        c.range("maxResults", max, 1, 100);
    }
    c.finish().map_err(validation)?;

    let mut groups = app.store.groups();
    groups.retain(|group| {
        let definition = &group.definition;
        let offline = offline_status(definition).map(|s| s.status);
        request
            .name_contains
            .as_deref()
            .is_none_or(|part| definition.name.contains(part))
            && request
                .feature_group_status_equals
                .as_deref()
                .is_none_or(|status| status == status_of(app, &definition.name).0)
            && request
                .offline_store_status_equals
                .as_deref()
                .is_none_or(|status| offline == Some(status))
            && request
                .creation_time_after
                .is_none_or(|after| definition.creation_time > after)
            && request
                .creation_time_before
                .is_none_or(|before| definition.creation_time < before)
    });
    let by_name =
        |a: &std::sync::Arc<Group>, b: &std::sync::Arc<Group>| a.definition.name.cmp(&b.definition.name);
    match request.sort_by.as_deref() {
        Some("Name") => groups.sort_by(by_name),
        Some("OfflineStoreStatus") => groups.sort_by(|a, b| {
            offline_status(&a.definition)
                .map(|s| s.status)
                .cmp(&offline_status(&b.definition).map(|s| s.status))
                .then_with(|| by_name(a, b))
        }),
        // Every group is Created: the status order is the name order.
        Some("FeatureGroupStatus") => groups.sort_by(by_name),
        _ => groups.sort_by(|a, b| {
            a.definition
                .creation_time
                .total_cmp(&b.definition.creation_time)
                .then_with(|| by_name(a, b))
        }),
    }
    // The service lists newest first unless told otherwise.
    if request.sort_order.as_deref() != Some("Ascending") {
        groups.reverse();
    }
    let start = page_start(request.next_token.as_deref())?;
    let max = request.max_results.unwrap_or(100) as usize;
    let end = (start + max).min(groups.len());
    let page = groups.get(start..end).unwrap_or_default();
    let response = ListFeatureGroupsResponse {
        feature_group_summaries: page
            .iter()
            .map(|group| FeatureGroupSummary {
                feature_group_name: group.definition.name.clone(),
                feature_group_arn: group.definition.arn.clone(),
                creation_time: group.definition.creation_time,
                feature_group_status: status_of(app, &group.definition.name).0,
                offline_store_status: offline_status(&group.definition),
            })
            .collect(),
        next_token: (end < groups.len()).then(|| end.to_string()),
    };
    to_json(&response)
}

/// UpdateFeatureGroup: `FeatureAdditions` only, by the service's rules ([`Store::add_features`]).
///
/// [`Store::add_features`]: crate::store::Store::add_features
fn update(app: &App, request: UpdateFeatureGroupRequest) -> Result<Vec<u8>, ServiceError> {
    let group = find(app, request.feature_group_name.as_deref(), "featureGroupName")?;
    if request.online_store_config.is_some() || request.throughput_config.is_some() {
        return Err(validation(
            "featurestore-local implements UpdateFeatureGroup's FeatureAdditions only, not OnlineStoreConfig or \
             ThroughputConfig",
        ));
    }
    let updated = app
        .store
        .add_features(&group, request.feature_additions.as_deref())?;
    ::log::info!(
        "updated feature group {}: {} features",
        updated.definition.name,
        updated.definition.features.len()
    );
    to_json(&UpdateFeatureGroupResponse {
        feature_group_arn: updated.definition.arn.clone(),
    })
}

fn delete(app: &App, request: FeatureGroupNameRequest) -> Result<Vec<u8>, ServiceError> {
    let group = find(app, request.feature_group_name.as_deref(), "featureGroupName")?;
    app.store
        .delete(&group)
        .map_err(|e| ServiceError::new(ErrorCode::InternalFailure, e.to_string()))?;
    ::log::info!("deleted feature group {}", group.definition.name);
    Ok(b"{}".to_vec())
}
