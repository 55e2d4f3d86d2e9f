//! Shared by the sink and transport tests: a real `featurestore-local` on a free port, a feature group of 20
//! features created through the control plane, Arrow batches for it, and read-back through the Rust SDK.
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arrow_array::{
    ArrayRef, Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, RecordBatch,
    StringArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use aws_sdk_sagemakerfeaturestoreruntime as sdk;
use featurestore_core::client::client_for;
use featurestore_core::config::{ClientConfig, RetryConfig, TransportKind, WriterConfig};
use featurestore_core::io_runtime::next_runtime;
use featurestore_core::metrics::{METRIC_COUNT, index};
use featurestore_core::model::FeatureGroup;
use featurestore_local::{AcceptedKey, BackgroundServer, Faults, ServerConfig, Stats};
use serde_json::{Value, json};

pub const TRANSPORTS: [TransportKind; 2] = [TransportKind::Lean, TransportKind::Sdk];

/// A local store on a free port with its own data directory, stopped and removed when dropped.
pub struct TestStore {
    server: Option<BackgroundServer>,
    pub endpoint: String,
    dir: PathBuf,
}

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

impl TestStore {
    pub fn start() -> TestStore {
        Self::start_with(|_| {})
    }

    /// A store whose configuration `configure` changes first.
    pub fn start_with(configure: impl FnOnce(&mut ServerConfig)) -> TestStore {
        let _ = env_logger::builder().is_test(true).try_init();
        let dir = std::env::temp_dir().join(format!(
            "featurestore-sink-test-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = ServerConfig {
            data_dir: dir.clone(),
            credentials: accepted_keys(),
            ..ServerConfig::default()
        };
        configure(&mut config);
        let server = BackgroundServer::start(config).unwrap();
        let endpoint = server.endpoint();
        assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
        TestStore {
            server: Some(server),
            endpoint,
            dir,
        }
    }

    pub fn server(&self) -> &BackgroundServer {
        self.server.as_ref().unwrap()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.server().set_faults(faults).unwrap();
    }

    pub fn clear_faults(&self) {
        self.set_faults(Faults::default());
    }

    pub fn stats(&self) -> Stats {
        self.server().stats()
    }

    /// Static test credentials (the only ones the store accepts) and both endpoints pointing at this store.
    pub fn client_config(&self, transport: TransportKind) -> ClientConfig {
        ClientConfig {
            region: Some("us-east-1".into()),
            runtime_endpoint: Some(self.endpoint.clone()),
            control_endpoint: Some(self.endpoint.clone()),
            access_key_id: Some("AKIDTEST".into()),
            secret_access_key: Some("test-secret".into()),
            transport,
            ..ClientConfig::default()
        }
    }

    /// A writer configuration for `group` with short backoffs, so that retry tests finish quickly.
    pub fn writer_config(&self, group: &str, transport: TransportKind) -> WriterConfig {
        let mut config = WriterConfig::new(group);
        config.client = self.client_config(transport);
        config.retry = RetryConfig {
            max_attempts: None,
            max_elapsed_ms: 60_000,
            base_delay_ms: 2,
            max_delay_ms: 50,
        };
        config
    }

    /// Creates the 20-feature test group (online store only) through the signed control plane and returns
    /// its model, as the driver would get it from DescribeFeatureGroup.
    pub fn create_group(&self, name: &str) -> FeatureGroup {
        let mut definitions = vec![
            json!({"FeatureName": "id", "FeatureType": "String"}),
            json!({"FeatureName": "event_time", "FeatureType": "String"}),
        ];
        for i in 0..6 {
            definitions.push(json!({"FeatureName": format!("i{i}"), "FeatureType": "Integral"}));
            definitions.push(json!({"FeatureName": format!("x{i}"), "FeatureType": "Fractional"}));
            definitions.push(json!({"FeatureName": format!("s{i}"), "FeatureType": "String"}));
        }
        let request = json!({
            "FeatureGroupName": name,
            "RecordIdentifierFeatureName": "id",
            "EventTimeFeatureName": "event_time",
            "FeatureDefinitions": definitions,
            "OnlineStoreConfig": {"EnableOnlineStore": true},
        });
        let (status, body) = self.control_call("SageMaker.CreateFeatureGroup", request);
        assert_eq!(status, 200, "CreateFeatureGroup: {body}");
        let described = featurestore_core::control::describe_feature_group(
            &self.client_config(TransportKind::Lean),
            name,
        )
        .unwrap();
        FeatureGroup::from_describe_json(&described).unwrap()
    }

    /// A signed awsJson 1.1 call to the control plane, through the engine's own signed HTTP client.
    pub fn control_call(&self, target: &'static str, request: Value) -> (u16, String) {
        let runtime = next_runtime().unwrap();
        let client = client_for(&runtime, &self.client_config(TransportKind::Lean)).unwrap();
        runtime
            .block_on(async move {
                let answer = client
                    .control
                    .send(
                        http::Method::POST,
                        "/",
                        "application/x-amz-json-1.1",
                        Some(target),
                        request.to_string().into_bytes(),
                    )
                    .await
                    .map_err(|e| format!("{e:?}"))
                    .unwrap();
                (answer.status, String::from_utf8_lossy(&answer.body).into_owned())
            })
            .unwrap()
    }

    /// ListRecords through the SDK, every page: the online store's record identifiers, with the soft-deleted
    /// ones when asked for, in key order.
    pub fn list_records(&self, group: &str, include_soft_deleted: bool) -> Vec<String> {
        let client = self.sdk_client();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut identifiers = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let output = runtime
                .block_on(
                    client
                        .list_records()
                        .feature_group_name(group)
                        .include_soft_deleted_records(include_soft_deleted)
                        .set_next_token(next_token.take())
                        .send(),
                )
                .unwrap();
            identifiers.extend(output.record_identifiers().iter().cloned());
            match output.next_token() {
                Some(token) => next_token = Some(token.to_owned()),
                None => return identifiers,
            }
        }
    }

    /// The Rust SDK's client for this store (the reference reader).
    pub fn sdk_client(&self) -> sdk::Client {
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let config = sdk::Config::builder()
            .behavior_version(sdk::config::BehaviorVersion::latest())
            .region(sdk::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(sdk::config::Credentials::new(
                "AKIDTEST",
                "test-secret",
                None,
                None,
                "test",
            ))
            .http_client(http_client)
            .build();
        sdk::Client::from_conf(config)
    }

    /// GetRecord through the SDK: feature -> value (string, or list of strings), `None` if there is no record.
    pub fn get_record(&self, group: &str, id: &str) -> Option<serde_json::Map<String, Value>> {
        let client = self.sdk_client();
        let (group, id) = (group.to_owned(), id.to_owned());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let output = runtime
            .block_on(
                client
                    .get_record()
                    .feature_group_name(group)
                    .record_identifier_value_as_string(id)
                    .send(),
            )
            .unwrap();
        let record = output.record();
        if record.is_empty() {
            return None;
        }
        Some(record_values(record))
    }
}

impl TestStore {
    /// Stops the store, waits `pause`, and starts it again on the same port with the same data: an endpoint
    /// outage, as clients see it (connections refused, then a store that knows what it had acknowledged).
    pub fn restart_after(&mut self, pause: Duration) {
        let server = self.server.take().unwrap();
        let port = server.local_addr().port();
        server.shutdown().unwrap();
        std::thread::sleep(pause);
        let server = BackgroundServer::start(ServerConfig {
            data_dir: self.dir.clone(),
            port,
            credentials: accepted_keys(),
            ..ServerConfig::default()
        })
        .unwrap();
        assert_eq!(server.endpoint(), self.endpoint);
        self.server = Some(server);
    }

    /// The records of `ids` in `group` (BatchGetRecord, 100 at a time), in order; `None` where there is none.
    pub fn get_records(&self, group: &str, ids: &[String]) -> Vec<Option<serde_json::Map<String, Value>>> {
        let client = self.sdk_client();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut records = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(100) {
            let identifiers = sdk::types::BatchGetRecordIdentifier::builder()
                .feature_group_name(group)
                .set_record_identifiers_value_as_string(Some(chunk.to_vec()))
                .build();
            let output = runtime
                .block_on(client.batch_get_record().identifiers(identifiers).send())
                .unwrap();
            assert!(output.errors().is_empty(), "{:?}", output.errors());
            let mut found: std::collections::HashMap<String, serde_json::Map<String, Value>> = output
                .records()
                .iter()
                .map(|r| {
                    (
                        r.record_identifier_value_as_string()
                            .unwrap_or_default()
                            .to_owned(),
                        record_values(r.record()),
                    )
                })
                .collect();
            records.extend(chunk.iter().map(|id| found.remove(id)));
        }
        records
    }
}

/// A record as feature -> value (a string, or a list of strings).
/// The store checks every signature against the test credentials: each request the engine (lean or SDK
/// transport) and the reference SDK client sign is verified by an implementation independent of ours.
fn accepted_keys() -> Vec<AcceptedKey> {
    vec![AcceptedKey::parse("AKIDTEST:test-secret").unwrap()]
}

fn record_values(record: &[sdk::types::FeatureValue]) -> serde_json::Map<String, Value> {
    record
        .iter()
        .map(|v| {
            let value = match v.value_as_string() {
                Some(text) => Value::String(text.to_owned()),
                None => Value::from(v.value_as_string_list()),
            };
            (v.feature_name().unwrap_or_default().to_owned(), value)
        })
        .collect()
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.shutdown();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The test group's Arrow schema: a timestamp event time, and integers, floats and strings of several widths.
pub fn schema() -> Arc<Schema> {
    let mut fields = vec![
        Field::new("id", DataType::Utf8, false),
        Field::new(
            "event_time",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
    ];
    let integers = [
        DataType::Int64,
        DataType::Int32,
        DataType::Int16,
        DataType::Int8,
        DataType::Int64,
        DataType::Int64,
    ];
    let floats = [
        DataType::Float64,
        DataType::Float32,
        DataType::Float64,
        DataType::Float64,
        DataType::Float64,
        DataType::Float64,
    ];
    for i in 0..6 {
        fields.push(Field::new(format!("i{i}"), integers[i].clone(), true));
        fields.push(Field::new(format!("x{i}"), floats[i].clone(), true));
        fields.push(Field::new(format!("s{i}"), DataType::Utf8, true));
    }
    Arc::new(Schema::new(fields))
}

/// `rows` rows with ids `id-<first>`.. and deterministic values.
pub fn batch(first: usize, rows: usize) -> RecordBatch {
    let range = first..first + rows;
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            range.clone().map(|i| format!("id-{i}")),
        )),
        Arc::new(
            TimestampMillisecondArray::from_iter_values(range.clone().map(|i| 1_700_000_000_000 + i as i64))
                .with_timezone("UTC"),
        ),
    ];
    for k in 0..6 {
        let integers: ArrayRef = match k {
            1 => Arc::new(Int32Array::from_iter_values(range.clone().map(|i| -(i as i32)))),
            2 => Arc::new(Int16Array::from_iter_values(
                range.clone().map(|i| (i % 30_000) as i16),
            )),
            3 => Arc::new(Int8Array::from_iter_values(
                range.clone().map(|i| (i % 100) as i8),
            )),
            _ => Arc::new(Int64Array::from_iter_values(
                range.clone().map(|i| i as i64 * 1_000_003 - k as i64),
            )),
        };
        let floats: ArrayRef = match k {
            1 => Arc::new(Float32Array::from_iter_values(
                range.clone().map(|i| i as f32 * 0.5),
            )),
            _ => Arc::new(Float64Array::from_iter_values(
                range.clone().map(|i| i as f64 / 8.0 + k as f64),
            )),
        };
        let strings: ArrayRef = Arc::new(StringArray::from_iter_values(
            range.clone().map(|i| format!("value {k} of row {i}")),
        ));
        columns.extend([integers, floats, strings]);
    }
    RecordBatch::try_new(schema(), columns).unwrap()
}

/// accepted = acknowledged + failed, and the number of rows accepted is what was written.
pub fn assert_accounted(metrics: &[i64; METRIC_COUNT], rows: i64) {
    let accepted = metrics[index::ROWS_ACCEPTED];
    let acknowledged = metrics[index::ROWS_ACKNOWLEDGED];
    let failed = metrics[index::ROWS_FAILED];
    assert_eq!(accepted, rows, "accepted: {metrics:?}");
    assert_eq!(
        accepted,
        acknowledged + failed,
        "accepted != acknowledged + failed: {metrics:?}"
    );
}
