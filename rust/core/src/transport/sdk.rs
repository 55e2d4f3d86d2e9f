//! The SDK path: the generated `aws-sdk-sagemakerfeaturestoreruntime` client, for users whose policy requires
//! AWS's own SDK stack. Configured like the lean path (credentials, timeouts, pool size, no retries of its own:
//! the sink retries), and reporting the same outcomes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sagemakerfeaturestoreruntime as sdk;
use serde::Deserialize;
use serde_json::Value;

use super::{Endpoint, WriteOutcome, WriteReport, WriteSpec, describe_chain};
use crate::config::ClientConfig;
use crate::credentials::CredentialsCache;
use crate::request::{BatchWriteReply, EntryError, ReturnedEntry, delete_params};

/// The generated SDK client, configured like the lean path: same endpoint, credentials, timeouts and pool
/// size, and no retries of its own (the sink retries).
#[derive(Debug)]
pub struct SdkWriter {
    client: sdk::Client,
    credentials: Arc<CredentialsCache>,
}

/// One feature value as encoded JSON holds it.
#[derive(Deserialize)]
struct EncodedFeature {
    #[serde(rename = "FeatureName")]
    name: String,
    #[serde(rename = "ValueAsString")]
    value: Option<String>,
    #[serde(rename = "ValueAsStringList")]
    list: Option<Vec<String>>,
}

impl SdkWriter {
    pub fn new(
        sdk_config: &aws_config::SdkConfig,
        endpoint: Option<&Endpoint>,
        config: &ClientConfig,
        credentials: Arc<CredentialsCache>,
    ) -> Self {
        let http_client = aws_smithy_http_client::Builder::new()
            .pool_max_idle_per_host(config.max_connections)
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .operation_attempt_timeout(Duration::from_millis(config.request_timeout_ms))
            .build();
        let mut builder = sdk::config::Builder::from(sdk_config);
        builder.set_endpoint_url(endpoint.map(|e| e.base.clone()));
        let sdk_conf = builder
            .credentials_provider(CachedCredentials(Arc::clone(&credentials)))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config(timeouts)
            .http_client(http_client)
            .build();
        Self {
            client: sdk::Client::from_conf(sdk_conf),
            credentials,
        }
    }

    fn record_of(json: &[u8]) -> std::result::Result<Vec<sdk::types::FeatureValue>, String> {
        let features: Vec<EncodedFeature> =
            serde_json::from_slice(json).map_err(|e| format!("unreadable encoded record: {e}"))?;
        Ok(features
            .into_iter()
            .map(|f| {
                sdk::types::FeatureValue::builder()
                    .feature_name(f.name)
                    .set_value_as_string(f.value)
                    .set_value_as_string_list(f.list)
                    .build()
            })
            .collect())
    }

    fn ttl_of(spec: &WriteSpec) -> Option<sdk::types::TtlDuration> {
        spec.ttl.map(|ttl| {
            sdk::types::TtlDuration::builder()
                .unit(sdk::types::TtlDurationUnit::from(ttl.unit.as_str()))
                .value(i32::try_from(ttl.value).unwrap_or(i32::MAX))
                .build()
        })
    }

    fn stores_of(spec: &WriteSpec) -> Option<Vec<sdk::types::TargetStore>> {
        spec.target_stores.as_ref().map(|stores| {
            stores
                .iter()
                .map(|s| sdk::types::TargetStore::from(s.as_str()))
                .collect()
        })
    }

    /// Credentials come from the same cache as the lean path's; a failure is reported before calling the SDK,
    /// as the lean path reports it.
    async fn check_credentials(&self, bytes_sent: usize) -> Option<WriteReport> {
        match self.credentials.get().await {
            Ok(_) => None,
            Err(error) => Some(WriteReport {
                outcome: WriteOutcome::Credentials(error),
                bytes_sent,
                latency: Duration::ZERO,
            }),
        }
    }

    pub(super) async fn batch_write_record(&self, spec: &WriteSpec, records: &[&[u8]]) -> WriteReport {
        let bytes_sent = spec.template.batch_body_len(records.iter().copied());
        if let Some(report) = self.check_credentials(bytes_sent).await {
            return report;
        }
        let mut call = self.client.batch_write_record();
        for record in records {
            let values = match Self::record_of(record) {
                Ok(values) => values,
                Err(message) => return unsendable(message, bytes_sent),
            };
            call = call.entries(
                sdk::types::BatchWriteRecordEntry::builder()
                    .feature_group_name(&spec.feature_group)
                    .set_record(Some(values))
                    .set_target_stores(Self::stores_of(spec))
                    .set_ttl_duration(Self::ttl_of(spec))
                    .build(),
            );
        }
        let started = Instant::now();
        let result = call.send().await;
        let latency = started.elapsed();
        let outcome = match result {
            Ok(output) => WriteOutcome::Written(BatchWriteReply {
                errors: output
                    .errors()
                    .iter()
                    .map(|e| EntryError {
                        entry: ReturnedEntry {
                            record: e
                                .entry()
                                .map(|entry| record_json(entry.record()))
                                .unwrap_or(Value::Null),
                        },
                        code: e.error_code().unwrap_or_default().to_owned(),
                        message: e.error_message().unwrap_or_default().to_owned(),
                    })
                    .collect(),
                unprocessed: output
                    .unprocessed_entries()
                    .iter()
                    .map(|entry| ReturnedEntry {
                        record: record_json(entry.record()),
                    })
                    .collect(),
            }),
            Err(error) => sdk_error_outcome(error),
        };
        WriteReport {
            outcome,
            bytes_sent,
            latency,
        }
    }

    pub(super) async fn put_record(&self, spec: &WriteSpec, record: &[u8]) -> WriteReport {
        let mut body = Vec::new();
        spec.template.write_put_body(record, &mut body);
        let bytes_sent = body.len();
        if let Some(report) = self.check_credentials(bytes_sent).await {
            return report;
        }
        let values = match Self::record_of(record) {
            Ok(values) => values,
            Err(message) => return unsendable(message, bytes_sent),
        };
        let started = Instant::now();
        let result = self
            .client
            .put_record()
            .feature_group_name(&spec.feature_group)
            .set_record(Some(values))
            .set_target_stores(Self::stores_of(spec))
            .set_ttl_duration(Self::ttl_of(spec))
            .send()
            .await;
        single_record_report(result, started, bytes_sent)
    }
}

impl SdkWriter {
    pub(super) async fn delete_record(&self, spec: &WriteSpec, record: &[u8]) -> WriteReport {
        let params = match &spec.delete {
            Some(delete) => delete_params(record, delete).map(|params| (delete.mode, params)),
            None => Err("a DeleteRecord call from a writer that does not delete".into()),
        };
        let (mode, (record_identifier, event_time)) = match params {
            Ok(params) => params,
            Err(message) => return unsendable(message, 0),
        };
        if let Some(report) = self.check_credentials(0).await {
            return report;
        }
        let started = Instant::now();
        let result = self
            .client
            .delete_record()
            .feature_group_name(&spec.feature_group)
            .record_identifier_value_as_string(record_identifier)
            .event_time(event_time)
            .set_target_stores(Self::stores_of(spec))
            .deletion_mode(sdk::types::DeletionMode::from(mode.as_str()))
            .send()
            .await;
        single_record_report(result, started, 0)
    }
}

/// Hands the SDK the credentials of our cache (the SDK adds its own identity cache on top).
#[derive(Debug)]
struct CachedCredentials(Arc<CredentialsCache>);

impl aws_credential_types::provider::ProvideCredentials for CachedCredentials {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            self.0.get().await.map_err(|e| {
                aws_credential_types::provider::error::CredentialsError::provider_error(e.to_string())
            })
        })
    }
}

fn unsendable(message: String, bytes_sent: usize) -> WriteReport {
    WriteReport {
        outcome: WriteOutcome::Unsendable { message },
        bytes_sent,
        latency: Duration::ZERO,
    }
}

/// The SDK's record as the same JSON the encoder writes, to match returned entries against sent records.
fn record_json(values: &[sdk::types::FeatureValue]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|v| {
                let mut object = serde_json::Map::new();
                object.insert("FeatureName".into(), v.feature_name().unwrap_or_default().into());
                if let Some(text) = v.value_as_string() {
                    object.insert("ValueAsString".into(), text.into());
                }
                if !v.value_as_string_list().is_empty() {
                    object.insert("ValueAsStringList".into(), v.value_as_string_list().into());
                }
                Value::Object(object)
            })
            .collect(),
    )
}

/// The report of a one-record call (PutRecord, DeleteRecord), whose answer has no content of its own.
fn single_record_report<O, E>(
    result: Result<O, sdk::error::SdkError<E, aws_smithy_runtime_api::http::Response>>,
    started: Instant,
    bytes_sent: usize,
) -> WriteReport
where
    E: sdk::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let latency = started.elapsed();
    let outcome = match result {
        Ok(_) => WriteOutcome::Written(BatchWriteReply::default()),
        Err(error) => sdk_error_outcome(error),
    };
    WriteReport {
        outcome,
        bytes_sent,
        latency,
    }
}

fn sdk_error_outcome<E>(
    error: sdk::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> WriteOutcome
where
    E: sdk::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use sdk::error::SdkError;
    match &error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let err = service.err();
            WriteOutcome::Refused {
                status,
                code: err.code().map_or_else(|| format!("HTTP{status}"), str::to_owned),
                message: err.message().unwrap_or_default().to_owned(),
            }
        }
        // The request could not be built: nothing was sent, and sending it again builds it the same way.
        SdkError::ConstructionFailure(_) => WriteOutcome::Unsendable {
            message: describe_chain(&error),
        },
        _ => WriteOutcome::NoAnswer {
            message: describe_chain(&error),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_records_render_as_the_encoders_json() {
        let json = br#"[{"FeatureName":"id","ValueAsString":"7"},{"FeatureName":"tags","ValueAsStringList":["a","b"]}]"#;
        let values = SdkWriter::record_of(json).unwrap();
        assert_eq!(
            record_json(&values),
            serde_json::from_slice::<Value>(json).unwrap()
        );
    }
}
