//! The runtime (`sagemaker-featurestore-runtime`, REST-JSON): which operation a method and path name, and the
//! handlers.

mod delete;
mod json;
mod read;
pub mod validate;
pub mod wire;
mod write;

use http::Method;
use serde::Deserialize;

use crate::app::App;
use crate::error::{ErrorCode, ServiceError};
use crate::http::{percent_decode, query_pairs};
use crate::model::operation::Operation;

/// The operation a request names, and the raw (still escaped) feature group label of its path.
pub fn route<'p>(method: &Method, path: &'p str) -> Option<(Operation, Option<&'p str>)> {
    if path == "/BatchWriteRecord" && method == Method::POST {
        return Some((Operation::BatchWriteRecord, None));
    }
    if path == "/BatchGetRecord" && method == Method::POST {
        return Some((Operation::BatchGetRecord, None));
    }
    let rest = path.strip_prefix("/FeatureGroup/")?;
    let (label, suffix) = rest
        .split_once('/')
        .map_or((rest, None), |(label, suffix)| (label, Some(suffix)));
    if label.is_empty() {
        return None;
    }
    let operation = match (suffix, method.clone()) {
        (None, Method::PUT) => Operation::PutRecord,
        (None, Method::GET) => Operation::GetRecord,
        (None, Method::DELETE) => Operation::DeleteRecord,
        (Some("ListRecords"), Method::POST) => Operation::ListRecords,
        _ => return None,
    };
    Some((operation, Some(label)))
}

/// Answers one runtime request; the body of a successful answer.
pub fn handle(
    app: &App,
    operation: Operation,
    label: Option<&str>,
    query: Option<&str>,
    body: &[u8],
) -> Result<Vec<u8>, ServiceError> {
    let group_name = match label {
        Some(label) => Some(
            percent_decode(label)
                .ok_or_else(|| validation("The feature group name in the path is not valid"))?,
        ),
        None => None,
    };
    let group_name = group_name.as_deref().unwrap_or_default();
    let query = || query_pairs(query).ok_or_else(|| validation("The query string is not valid"));
    match operation {
        Operation::PutRecord => write::put_record(app, group_name, body),
        Operation::BatchWriteRecord => write::batch_write_record(app, body),
        Operation::GetRecord => read::get_record(app, group_name, &query()?),
        Operation::BatchGetRecord => read::batch_get_record(app, body),
        Operation::ListRecords => read::list_records(app, group_name, body),
        Operation::DeleteRecord => delete::delete_record(app, group_name, &query()?),
        _ => Err(ServiceError::new(
            ErrorCode::UnknownOperationException,
            "Unknown operation",
        )),
    }
}

/// Counts a write that injected throttling answered before it was processed against the feature groups it
/// names (the path's for PutRecord, the entries' for BatchWriteRecord); other operations are not counted.
pub fn count_throttled(app: &App, operation: Operation, label: Option<&str>, body: &[u8]) {
    let group_name = label.and_then(percent_decode);
    write::count_throttled(app, operation, group_name.as_deref().unwrap_or_default(), body);
}

pub(crate) fn validation(message: impl Into<String>) -> ServiceError {
    ServiceError::new(ErrorCode::ValidationError, message)
}

/// The service's message for a feature group it does not know.
pub(crate) fn not_found_message(name: &str) -> String {
    format!("Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name {name}")
}

/// Parses a JSON body (an empty body is `{}`); a body that is not JSON of the expected shape is a
/// SerializationException.
pub(crate) fn parse_body<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ServiceError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_methods_name_operations() {
        assert_eq!(
            route(&Method::PUT, "/FeatureGroup/g"),
            Some((Operation::PutRecord, Some("g")))
        );
        assert_eq!(
            route(&Method::GET, "/FeatureGroup/a%3Ab"),
            Some((Operation::GetRecord, Some("a%3Ab")))
        );
        assert_eq!(
            route(&Method::DELETE, "/FeatureGroup/g"),
            Some((Operation::DeleteRecord, Some("g")))
        );
        assert_eq!(
            route(&Method::POST, "/FeatureGroup/g/ListRecords"),
            Some((Operation::ListRecords, Some("g")))
        );
        assert_eq!(
            route(&Method::POST, "/BatchWriteRecord"),
            Some((Operation::BatchWriteRecord, None))
        );
        assert_eq!(
            route(&Method::POST, "/BatchGetRecord"),
            Some((Operation::BatchGetRecord, None))
        );
        assert_eq!(route(&Method::GET, "/BatchWriteRecord"), None);
        assert_eq!(route(&Method::POST, "/FeatureGroup/g"), None);
        assert_eq!(route(&Method::PUT, "/FeatureGroup/"), None);
        assert_eq!(route(&Method::POST, "/FeatureGroup/g/Other"), None);
    }
}
