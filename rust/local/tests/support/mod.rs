//! Shared by the integration tests: a store on a free port with its own data directory, the control plane
//! called over plain HTTP (the workspace has no SageMaker control plane SDK), and the runtime SDK client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code; each binary uses a part

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_sagemakerfeaturestoreruntime as sdk;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty data directory for one test, removed when dropped.
#[derive(Debug)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn new(test: &str) -> DataDir {
        let dir = std::env::temp_dir().join(format!(
            "featurestore-local-it-{}-{test}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        DataDir(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The runtime client as an application would build it, with test credentials and `max_attempts` attempts
/// (backing off 1 to 5 ms).
pub fn client(endpoint: &str, max_attempts: u32) -> sdk::Client {
    client_with_backoff(
        endpoint,
        max_attempts,
        Duration::from_millis(1),
        Duration::from_millis(5),
    )
}

pub fn client_with_backoff(
    endpoint: &str,
    max_attempts: u32,
    initial: Duration,
    max: Duration,
) -> sdk::Client {
    client_with(
        endpoint,
        max_attempts,
        (initial, max),
        sdk::config::Credentials::new("AKIDLOCAL", "local-secret", None, None, "test"),
    )
}

/// The runtime client with `credentials`, one attempt per call.
pub fn client_with_credentials(endpoint: &str, credentials: sdk::config::Credentials) -> sdk::Client {
    client_with(
        endpoint,
        1,
        (Duration::from_millis(1), Duration::from_millis(5)),
        credentials,
    )
}

fn client_with(
    endpoint: &str,
    max_attempts: u32,
    (initial, max): (Duration, Duration),
    credentials: sdk::config::Credentials,
) -> sdk::Client {
    use aws_smithy_http_client::tls;
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    let config = sdk::Config::builder()
        .behavior_version(sdk::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(sdk::config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .http_client(http_client)
        .retry_config(
            sdk::config::retry::RetryConfig::standard()
                .with_max_attempts(max_attempts)
                .with_initial_backoff(initial)
                .with_max_backoff(max),
        )
        .build();
    sdk::Client::from_conf(config)
}

/// Calls a control plane operation (`SageMaker.<operation>`, JSON 1.1), unsigned; returns the status and JSON
/// body.
pub async fn control(endpoint: &str, operation: &str, body: Value) -> (u16, Value) {
    let headers = control_headers(endpoint, operation);
    send_control(endpoint, &headers, body.to_string()).await
}

/// The headers of a control plane call before signing: content type, host, target.
pub fn control_headers(endpoint: &str, operation: &str) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/x-amz-json-1.1".into()),
        ("host".into(), endpoint.trim_start_matches("http://").into()),
        ("x-amz-target".into(), format!("SageMaker.{operation}")),
    ]
}

/// POSTs `body` to the control plane with exactly `headers`; returns the status and JSON body.
pub async fn send_control(endpoint: &str, headers: &[(String, String)], body: String) -> (u16, Value) {
    let authority = endpoint.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = http::Request::builder().method("POST").uri("/");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = sender
        .send_request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Creates `name` (see [`group_request`]).
pub async fn create_group(endpoint: &str, name: &str) {
    let (status, body) = control(endpoint, "CreateFeatureGroup", group_request(name)).await;
    assert_eq!(status, 200, "{body}");
}

/// CreateFeatureGroup's input for `name`: a String record identifier `id`, a String event time `ts`, an
/// Integral `count`, a Fractional `score`, a String `label`, online and offline stores.
pub fn group_request(name: &str) -> Value {
    json!({
            "FeatureGroupName": name,
            "RecordIdentifierFeatureName": "id",
            "EventTimeFeatureName": "ts",
            "FeatureDefinitions": [
                {"FeatureName": "id", "FeatureType": "String"},
                {"FeatureName": "ts", "FeatureType": "String"},
                {"FeatureName": "count", "FeatureType": "Integral"},
                {"FeatureName": "score", "FeatureType": "Fractional"},
                {"FeatureName": "label", "FeatureType": "String"},
            ],
            "OnlineStoreConfig": {"EnableOnlineStore": true},
            "OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://test-bucket/offline"}},
    })
}

pub fn value(name: &str, text: &str) -> sdk::types::FeatureValue {
    sdk::types::FeatureValue::builder()
        .feature_name(name)
        .value_as_string(text)
        .build()
}

/// A valid record of the group `create_group` makes.
pub fn record(id: &str, ts: &str, count: &str) -> Vec<sdk::types::FeatureValue> {
    vec![
        value("id", id),
        value("ts", ts),
        value("count", count),
        value("score", "0.5"),
        value("label", "x"),
    ]
}

/// The record as `(feature, value)` pairs, for comparisons.
pub fn pairs(record: &[sdk::types::FeatureValue]) -> Vec<(String, String)> {
    record
        .iter()
        .map(|v| {
            let name = v.feature_name().unwrap_or_default().to_owned();
            (name, v.value_as_string().unwrap_or_default().to_owned())
        })
        .collect()
}
