//! The control-plane calls: DescribeFeatureGroup, which the driver makes once per job, and the feature group
//! calls of [`crate::feature_groups`], all over the awsJson1_1 protocol
//! (`POST /`, `X-Amz-Target: SageMaker.<Operation>`), signed by the lean signer. The generated
//! `aws-sdk-sagemaker` crate would bring hundreds of operations to compile for these few calls.

use std::time::Instant;

use http::Method;
use serde_json::{Value, json};

use crate::client::client_for;
use crate::config::{ClientConfig, RetryConfig};
use crate::error::{ConfigProblem, Error, Result};
use crate::io_runtime::next_runtime;
use crate::retry::{Backoff, ErrorClass, classify_call, credentials_hint};
use crate::transport::SendError;

const TARGET: &str = "SageMaker.DescribeFeatureGroup";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Pages of feature definitions followed before giving up on a service that keeps answering with a token (a
/// group holds at most 2,500 definitions, one page).
const MAX_PAGES: usize = 100;

/// Throttling and faults are retried a few times: the driver's single call should not fail a job on a blip.
const RETRY: RetryConfig = RetryConfig {
    max_attempts: Some(5),
    max_elapsed_ms: 30_000,
    base_delay_ms: 100,
    max_delay_ms: 5_000,
};

/// Describes a feature group and returns the service's JSON (for `FeatureGroup::from_describe_json`), every page's
/// feature definitions in one list. Blocking: call it from a plain thread (the Spark driver), not from an async
/// runtime.
pub fn describe_feature_group(client: &ClientConfig, name_or_arn: &str) -> Result<String> {
    let mut problems = Vec::new();
    client.validate(&mut problems);
    if name_or_arn.trim().is_empty() {
        problems.push(ConfigProblem::new(
            crate::options::FEATURE_GROUP_NAME.name,
            "must not be empty",
        ));
    }
    if !problems.is_empty() {
        return Err(Error::InvalidConfig(problems));
    }
    // The service pages the feature definitions (2,500 per answer): the group is all pages' definitions.
    let mut group: Option<Value> = None;
    let mut next_token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut request = json!({ "FeatureGroupName": name_or_arn });
        if let Some(token) = &next_token {
            request["NextToken"] = json!(token);
        }
        let mut page: Value = serde_json::from_str(&call(client, TARGET, request)?).map_err(|e| {
            Error::FeatureGroup(format!("the DescribeFeatureGroup response is not valid: {e}"))
        })?;
        next_token = page
            .get("NextToken")
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
            .map(str::to_owned);
        match group.as_mut() {
            None => group = Some(page),
            Some(group) => {
                let more = page["FeatureDefinitions"].take();
                if let (Some(all), Value::Array(more)) = (group["FeatureDefinitions"].as_array_mut(), more) {
                    all.extend(more);
                }
            }
        }
        if next_token.is_none() {
            let mut group = group.unwrap_or_default();
            if let Some(members) = group.as_object_mut() {
                members.remove("NextToken");
            }
            return Ok(group.to_string());
        }
    }
    Err(Error::FeatureGroup(format!(
        "DescribeFeatureGroup still had a NextToken after {MAX_PAGES} pages of feature definitions"
    )))
}

/// One control-plane call (`target`: `SageMaker.<operation>`) with `request` as its body; returns the answer's JSON
/// verbatim. Throttling, faults and unanswered calls are retried a few times ([`RETRY`]); the service's
/// other errors are returned at once. Blocking: call it from a plain thread, not from an async runtime.
pub(crate) fn call(
    client: &ClientConfig,
    target: &'static str,
    request: serde_json::Value,
) -> Result<String> {
    let operation = target.strip_prefix("SageMaker.").unwrap_or(target);
    let mut problems = Vec::new();
    client.validate(&mut problems);
    if !problems.is_empty() {
        return Err(Error::InvalidConfig(problems));
    }
    let runtime = next_runtime()?;
    let client = client_for(&runtime, client)?;
    let body = request.to_string().into_bytes();
    runtime.block_on(async move {
        let backoff = Backoff::new(RETRY);
        let mut rng = fastrand::Rng::new();
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let answer = client
                .control
                .send(Method::POST, "/", CONTENT_TYPE, Some(target), body.clone())
                .await;
            let error = match answer {
                Ok(answer) if answer.status == 200 => {
                    return String::from_utf8(answer.body.to_vec())
                        .map_err(|_| Error::Internal(format!("{operation} answered with non-UTF-8 text")));
                }
                Ok(answer) => {
                    let (code, message) = crate::request::parse_error(
                        answer.status,
                        answer.error_type.as_deref(),
                        &answer.body,
                    );
                    let class = classify_call(answer.status, &code);
                    let retryable = matches!(class, ErrorClass::Throttled | ErrorClass::Retryable);
                    // Said on the driver, before any task runs: what to check.
                    let message = if class == ErrorClass::Credentials {
                        format!("{message} ({})", credentials_hint(&code))
                    } else {
                        message
                    };
                    let error = Error::Service {
                        operation,
                        code,
                        status: answer.status,
                        message,
                    };
                    if !retryable {
                        return Err(error);
                    }
                    error
                }
                Err(SendError::Credentials(error)) => return Err(error),
                Err(SendError::Unsendable(message)) => {
                    return Err(Error::Internal(format!("{operation}: {message}")));
                }
                Err(SendError::NoAnswer(message)) => Error::Transport { operation, message },
            };
            let delay = backoff.delay(attempts, &mut rng);
            if !backoff.may_retry(attempts, started.elapsed(), delay) {
                return Err(error);
            }
            log::debug!("{operation} attempt {attempts} failed, retrying in {delay:?}: {error}");
            tokio::time::sleep(delay).await;
        }
    })?
}
