//! The writer's configuration: one JSON blob that crosses the JNI boundary once per writer.
//!
//! Parsing is strict and complete: every unknown key and every invalid value is reported in one
//! [`Error::InvalidConfig`], so a job fails once with the whole list instead of once per fix. A key given as
//! `null` means "use the default" (the Spark side serializes unset options that way). Defaults are documented on
//! each field and are the `Default` impls below, the only place they are written.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::fmt;

use crate::error::{Error, Result};

/// The most entries one BatchWriteRecord call takes (botocore: `BatchWriteRecordEntries.max`).
pub const MAX_BATCH_ENTRIES: usize = 25;

/// Everything one `Writer` needs besides the feature group's definitions.
#[derive(Debug, Clone, PartialEq)]
pub struct WriterConfig {
    /// Name or ARN of the feature group written to. Required.
    pub feature_group: String,
    /// Region, endpoints, credentials, timeouts and pool size.
    pub client: ClientConfig,
    /// Which write API to use. Default `auto`: BatchWriteRecord, falling back to PutRecord for the rest of the
    /// writer when BatchWriteRecord is not permitted.
    pub api: Api,
    /// Records per BatchWriteRecord call, 1..=25. Default 25.
    pub batch_size: usize,
    /// `TargetStores` sent with every record; default `null`: every store the feature group has.
    pub target_stores: Option<Vec<TargetStore>>,
    /// `TtlDuration` sent with every record; default `null`: the feature group's own TTL (if any) applies.
    pub ttl_duration: Option<TtlDuration>,
    /// Upper bound on requests in flight for this writer; the adaptive limit moves below it on throttling.
    /// Default 64 (16-64 per core measured best, docs/ARCHITECTURE.md §5).
    pub max_in_flight: usize,
    /// A ceiling in records per second. Default `null`: no ceiling. With `writeId`, it is the ceiling of every
    /// writer of that write in this process together (the Spark side sets each executor's share of a job's
    /// ceiling, and moves it while the job runs); without, it is this writer's own.
    pub max_records_per_second: Option<f64>,
    /// The write (Spark job or streaming epoch) this writer belongs to: writers of one write in a process share
    /// one `maxRecordsPerSecond` ceiling, which `sink::ceiling::set_write_ceiling` changes. Default `null`.
    pub write_id: Option<String>,
    /// Adapt the send rate to the service's throttling, with one controller per process for each (endpoint,
    /// feature group) shared by every writer there (see `throughput`). Default true.
    pub adaptive_rate: bool,
    /// Records queued or in flight before `write` blocks the caller. Default 16384.
    pub max_queued_records: usize,
    /// Encoded bytes queued or in flight before `write` blocks the caller. Default 64 MiB.
    pub max_queued_bytes: usize,
    /// Backoff and bounds for retryable errors.
    pub retry: RetryConfig,
    /// Input columns that are not features are ignored instead of failing the schema check. Default false.
    pub ignore_unknown_columns: bool,
    /// Validate and encode every row but send nothing; rows that encode count as acknowledged (and as
    /// `rowsDryRun` in the metrics). Default false.
    pub dry_run: bool,
}

/// How the engine reaches the service. Equal configs share one connection pool and credential cache per I/O
/// thread (see `client`), so this type is a cache key: it must stay `Eq + Hash`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientConfig {
    /// Region; default `null`: the standard chain (`AWS_REGION`, `AWS_DEFAULT_REGION`, profile, IMDS).
    pub region: Option<String>,
    /// Feature Store runtime endpoint; default `null`: `AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME`, else
    /// `AWS_ENDPOINT_URL`, else `https://featurestore-runtime.sagemaker.<region>.amazonaws.com`.
    pub runtime_endpoint: Option<String>,
    /// SageMaker control-plane endpoint (DescribeFeatureGroup); default `null`: `AWS_ENDPOINT_URL_SAGEMAKER`,
    /// else `AWS_ENDPOINT_URL`, else `https://api.sagemaker.<region>.amazonaws.com`.
    pub control_endpoint: Option<String>,
    /// Named profile of the shared config files; default `null`: the default chain (which honours `AWS_PROFILE`).
    pub profile: Option<String>,
    /// Role to assume (STS AssumeRole) with the credentials found otherwise; default `null`.
    pub assume_role_arn: Option<String>,
    /// Session name for the assumed role; default `null`: `featurestore-spark`.
    pub assume_role_session_name: Option<String>,
    /// Static credentials (tests, local store); both keys or neither. Default `null`.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// TCP (and TLS) connect timeout. Default 3000 ms.
    pub connect_timeout_ms: u64,
    /// Whole-call timeout, from sending the request to reading the whole response. Default 30000 ms.
    pub request_timeout_ms: u64,
    /// Connections kept open per endpoint. Default 256.
    pub max_connections: usize,
    /// How requests are built and sent. Default `lean`; `sdk` sends through the generated AWS SDK client
    /// instead (a reference implementation, measured side by side by the `ingest` bench).
    pub transport: TransportKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// Bodies spliced from encoded records, SigV4 with a cached key, hyper.
    Lean,
    /// The generated `aws-sdk-sagemakerfeaturestoreruntime` client.
    Sdk,
}

/// Never prints secrets: credentials are shown only as present or absent.
impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = |v: &Option<String>| if v.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("ClientConfig")
            .field("region", &self.region)
            .field("runtime_endpoint", &self.runtime_endpoint)
            .field("control_endpoint", &self.control_endpoint)
            .field("profile", &self.profile)
            .field("assume_role_arn", &self.assume_role_arn)
            .field("assume_role_session_name", &self.assume_role_session_name)
            .field("access_key_id", &present(&self.access_key_id))
            .field("secret_access_key", &present(&self.secret_access_key))
            .field("session_token", &present(&self.session_token))
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("max_connections", &self.max_connections)
            .field("transport", &self.transport)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Api {
    #[serde(rename = "auto")]
    Auto,
    BatchWriteRecord,
    PutRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum TargetStore {
    OnlineStore,
    OfflineStore,
}

impl TargetStore {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetStore::OnlineStore => "OnlineStore",
            TargetStore::OfflineStore => "OfflineStore",
        }
    }
}

/// The service's `TtlDuration`: the record expires `value` `unit`s after its event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TtlDuration {
    pub unit: TtlUnit,
    pub value: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum TtlUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl TtlUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            TtlUnit::Seconds => "Seconds",
            TtlUnit::Minutes => "Minutes",
            TtlUnit::Hours => "Hours",
            TtlUnit::Days => "Days",
            TtlUnit::Weeks => "Weeks",
        }
    }
}

/// Exponential backoff with full jitter, bounded in time and, optionally, in attempts (see `retry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RetryConfig {
    /// Attempts per record, the first included (1 = never retry). Default `null`: no limit, only the time bound.
    pub max_attempts: Option<u32>,
    /// A record is not retried once this long has passed since its first attempt: its delivery deadline. Default
    /// 600000 ms, so that an endpoint outage of a few minutes (a failover, a deployment) is ridden out with the
    /// backoff at its 20 s ceiling, while a dead endpoint still fails the job within ten minutes.
    pub max_elapsed_ms: u64,
    /// Backoff before retry n is uniform in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))]. Default 50 ms.
    pub base_delay_ms: u64,
    /// Default 20000 ms.
    pub max_delay_ms: u64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            region: None,
            runtime_endpoint: None,
            control_endpoint: None,
            profile: None,
            assume_role_arn: None,
            assume_role_session_name: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            connect_timeout_ms: 3_000,
            request_timeout_ms: 30_000,
            max_connections: 256,
            transport: TransportKind::Lean,
        }
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: None,
            max_elapsed_ms: 600_000,
            base_delay_ms: 50,
            max_delay_ms: 20_000,
        }
    }
}

impl WriterConfig {
    /// A configuration with every default, for `feature_group`.
    pub fn new(feature_group: impl Into<String>) -> Self {
        Self {
            feature_group: feature_group.into(),
            client: ClientConfig::default(),
            api: Api::Auto,
            batch_size: MAX_BATCH_ENTRIES,
            target_stores: None,
            ttl_duration: None,
            max_in_flight: 64,
            max_records_per_second: None,
            write_id: None,
            adaptive_rate: true,
            max_queued_records: 16_384,
            max_queued_bytes: 64 << 20,
            retry: RetryConfig::default(),
            ignore_unknown_columns: false,
            dry_run: false,
        }
    }

    /// Parses the JSON blob the Spark side sends. Strict: unknown keys and invalid values are errors, all
    /// reported at once.
    pub fn from_json(json: &str) -> Result<WriterConfig> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::InvalidConfig(vec![format!("not valid JSON: {e}")]))?;
        let mut problems = Vec::new();
        let config = parse_writer(value, &mut problems);
        match config {
            Some(config) if problems.is_empty() => {
                config.validate(&mut problems);
                if problems.is_empty() {
                    Ok(config)
                } else {
                    Err(Error::InvalidConfig(problems))
                }
            }
            _ => Err(Error::InvalidConfig(problems)),
        }
    }

    /// Checks the values' ranges and combinations; appends one line per problem.
    pub fn validate(&self, problems: &mut Vec<String>) {
        if self.feature_group.trim().is_empty() {
            problems.push("featureGroup: must not be empty".into());
        }
        if !(1..=MAX_BATCH_ENTRIES).contains(&self.batch_size) {
            problems.push(format!("batchSize: must be between 1 and {MAX_BATCH_ENTRIES}"));
        }
        if let Some(stores) = &self.target_stores {
            if stores.is_empty() || stores.len() > 2 {
                problems.push("targetStores: must list 1 or 2 stores".into());
            } else if stores.len() == 2 && stores[0] == stores[1] {
                problems.push("targetStores: lists the same store twice".into());
            }
        }
        if let Some(ttl) = &self.ttl_duration
            && ttl.value == 0
        {
            problems.push("ttlDuration.value: must be at least 1".into());
        }
        if self.max_in_flight == 0 {
            problems.push("maxInFlight: must be at least 1".into());
        }
        if let Some(rate) = self.max_records_per_second
            && !(rate.is_finite() && rate > 0.0)
        {
            problems.push("maxRecordsPerSecond: must be a positive number".into());
        }
        if self.max_queued_records == 0 {
            problems.push("maxQueuedRecords: must be at least 1".into());
        }
        if self.max_queued_bytes < 1024 {
            problems.push("maxQueuedBytes: must be at least 1024".into());
        }
        let retry = &self.retry;
        if retry.max_attempts == Some(0) {
            problems.push("retry.maxAttempts: must be at least 1".into());
        }
        if retry.max_delay_ms < retry.base_delay_ms {
            problems.push("retry.maxDelayMs: must not be less than retry.baseDelayMs".into());
        }
        self.client.validate(problems);
    }
}

impl ClientConfig {
    pub fn validate(&self, problems: &mut Vec<String>) {
        for (key, endpoint) in [
            ("client.runtimeEndpoint", &self.runtime_endpoint),
            ("client.controlEndpoint", &self.control_endpoint),
        ] {
            if let Some(endpoint) = endpoint
                && let Err(problem) = check_endpoint(endpoint)
            {
                problems.push(format!("{key}: {problem}"));
            }
        }
        if self.access_key_id.is_some() != self.secret_access_key.is_some() {
            problems.push("client.accessKeyId and client.secretAccessKey: give both or neither".into());
        }
        if self.session_token.is_some() && self.access_key_id.is_none() {
            problems.push("client.sessionToken: needs client.accessKeyId and client.secretAccessKey".into());
        }
        if self.assume_role_session_name.is_some() && self.assume_role_arn.is_none() {
            problems.push("client.assumeRoleSessionName: needs client.assumeRoleArn".into());
        }
        if self.profile.is_some() && self.access_key_id.is_some() {
            problems.push("client.profile: cannot be combined with static keys".into());
        }
        if self.connect_timeout_ms == 0 {
            problems.push("client.connectTimeoutMs: must be at least 1".into());
        }
        if self.request_timeout_ms == 0 {
            problems.push("client.requestTimeoutMs: must be at least 1".into());
        }
        if self.max_connections == 0 {
            problems.push("client.maxConnections: must be at least 1".into());
        }
    }
}

/// An endpoint is an absolute http(s) URL with a host and nothing after the authority but an optional `/`.
pub(crate) fn check_endpoint(endpoint: &str) -> std::result::Result<(), String> {
    let uri: http::Uri = endpoint.parse().map_err(|e| format!("not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return Err("must start with http:// or https://".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err("must not have a path or query".into());
    }
    Ok(())
}

/// Reads the members of one JSON object by name, remembering which were read so that the rest can be
/// reported as unknown, and recording every problem instead of stopping at the first.
struct ObjectReader<'p> {
    prefix: &'static str,
    members: Map<String, Value>,
    problems: &'p mut Vec<String>,
}

impl<'p> ObjectReader<'p> {
    fn new(prefix: &'static str, value: Value, problems: &'p mut Vec<String>) -> Option<Self> {
        match value {
            Value::Object(members) => Some(Self {
                prefix,
                members,
                problems,
            }),
            other => {
                let what = match prefix.trim_end_matches('.') {
                    "" => "the configuration",
                    name => name,
                };
                problems.push(format!(
                    "{what}: must be a JSON object, not {}",
                    json_kind(&other)
                ));
                None
            }
        }
    }

    /// The member's value, `None` when absent or `null`; a value of the wrong shape is a problem.
    fn optional<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        match self.members.remove(key) {
            None | Some(Value::Null) => None,
            Some(value) => match serde_json::from_value(value) {
                Ok(parsed) => Some(parsed),
                Err(e) => {
                    self.problems.push(format!("{}{key}: {e}", self.prefix));
                    None
                }
            },
        }
    }

    /// Like [`Self::optional`] for a string whose value must never be echoed (serde's messages quote values).
    fn secret(&mut self, key: &str) -> Option<String> {
        match self.members.remove(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(secret)) => Some(secret),
            Some(other) => {
                self.problems.push(format!(
                    "{}{key}: must be a string, not {}",
                    self.prefix,
                    json_kind(&other)
                ));
                None
            }
        }
    }

    fn or_default<T: DeserializeOwned>(&mut self, key: &str, default: T) -> T {
        self.optional(key).unwrap_or(default)
    }

    /// The nested object under `key`, if present and not null.
    fn take_raw(&mut self, key: &str) -> Option<Value> {
        match self.members.remove(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        }
    }

    fn finish(self, known: &[&str]) {
        for key in self.members.keys() {
            self.problems.push(format!(
                "{}{key}: unknown key (known keys: {})",
                self.prefix,
                known.join(", ")
            ));
        }
    }
}

const WRITER_KEYS: &[&str] = &[
    "featureGroup",
    "client",
    "api",
    "batchSize",
    "targetStores",
    "ttlDuration",
    "maxInFlight",
    "maxRecordsPerSecond",
    "writeId",
    "adaptiveRate",
    "maxQueuedRecords",
    "maxQueuedBytes",
    "retry",
    "ignoreUnknownColumns",
    "dryRun",
];

const CLIENT_KEYS: &[&str] = &[
    "region",
    "runtimeEndpoint",
    "controlEndpoint",
    "profile",
    "assumeRoleArn",
    "assumeRoleSessionName",
    "accessKeyId",
    "secretAccessKey",
    "sessionToken",
    "connectTimeoutMs",
    "requestTimeoutMs",
    "maxConnections",
    "transport",
];

const RETRY_KEYS: &[&str] = &["maxAttempts", "maxElapsedMs", "baseDelayMs", "maxDelayMs"];

fn parse_writer(value: Value, problems: &mut Vec<String>) -> Option<WriterConfig> {
    let mut reader = ObjectReader::new("", value, problems)?;
    let defaults = WriterConfig::new("");
    let feature_group: Option<String> = reader.optional("featureGroup");
    let client = reader.take_raw("client");
    let retry = reader.take_raw("retry");
    let mut config = WriterConfig {
        feature_group: feature_group.clone().unwrap_or_default(),
        client: ClientConfig::default(),
        api: reader.or_default("api", defaults.api),
        batch_size: reader.or_default("batchSize", defaults.batch_size),
        target_stores: reader.optional("targetStores"),
        ttl_duration: reader.optional("ttlDuration"),
        max_in_flight: reader.or_default("maxInFlight", defaults.max_in_flight),
        max_records_per_second: reader.optional("maxRecordsPerSecond"),
        write_id: reader.optional("writeId"),
        adaptive_rate: reader.or_default("adaptiveRate", defaults.adaptive_rate),
        max_queued_records: reader.or_default("maxQueuedRecords", defaults.max_queued_records),
        max_queued_bytes: reader.or_default("maxQueuedBytes", defaults.max_queued_bytes),
        retry: defaults.retry,
        ignore_unknown_columns: reader.or_default("ignoreUnknownColumns", false),
        dry_run: reader.or_default("dryRun", false),
    };
    reader.finish(WRITER_KEYS);
    if feature_group.is_none() {
        problems.push("featureGroup: required (a feature group name or ARN)".into());
    }
    if let Some(client) = client {
        config.client = parse_client(client, problems).unwrap_or_default();
    }
    if let Some(retry) = retry {
        config.retry = parse_retry(retry, problems).unwrap_or_default();
    }
    Some(config)
}

fn parse_client(value: Value, problems: &mut Vec<String>) -> Option<ClientConfig> {
    let mut reader = ObjectReader::new("client.", value, problems)?;
    let defaults = ClientConfig::default();
    let config = ClientConfig {
        region: reader.optional("region"),
        runtime_endpoint: reader.optional("runtimeEndpoint"),
        control_endpoint: reader.optional("controlEndpoint"),
        profile: reader.optional("profile"),
        assume_role_arn: reader.optional("assumeRoleArn"),
        assume_role_session_name: reader.optional("assumeRoleSessionName"),
        access_key_id: reader.secret("accessKeyId"),
        secret_access_key: reader.secret("secretAccessKey"),
        session_token: reader.secret("sessionToken"),
        connect_timeout_ms: reader.or_default("connectTimeoutMs", defaults.connect_timeout_ms),
        request_timeout_ms: reader.or_default("requestTimeoutMs", defaults.request_timeout_ms),
        max_connections: reader.or_default("maxConnections", defaults.max_connections),
        transport: reader.or_default("transport", defaults.transport),
    };
    reader.finish(CLIENT_KEYS);
    Some(config)
}

fn parse_retry(value: Value, problems: &mut Vec<String>) -> Option<RetryConfig> {
    let mut reader = ObjectReader::new("retry.", value, problems)?;
    let defaults = RetryConfig::default();
    let config = RetryConfig {
        max_attempts: reader.optional("maxAttempts"),
        max_elapsed_ms: reader.or_default("maxElapsedMs", defaults.max_elapsed_ms),
        base_delay_ms: reader.or_default("baseDelayMs", defaults.base_delay_ms),
        max_delay_ms: reader.or_default("maxDelayMs", defaults.max_delay_ms),
    };
    reader.finish(RETRY_KEYS);
    Some(config)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(json: &str) -> Vec<String> {
        match WriterConfig::from_json(json) {
            Err(Error::InvalidConfig(problems)) => problems,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn only_the_feature_group_is_required_and_defaults_apply() {
        let config = WriterConfig::from_json(r#"{"featureGroup":"customers"}"#).unwrap();
        assert_eq!(config, WriterConfig::new("customers"));
        assert_eq!(config.api, Api::Auto);
        assert_eq!(config.batch_size, 25);
        assert_eq!(config.max_in_flight, 64);
        assert_eq!(config.client.request_timeout_ms, 30_000);
        assert_eq!(config.retry.max_attempts, None);
        assert_eq!(config.retry.max_elapsed_ms, 600_000);
        assert!(config.adaptive_rate);
        assert_eq!(config.ttl_duration, None);
    }

    #[test]
    fn the_documented_example_parses_with_every_key() {
        let config = WriterConfig::from_json(
            r#"{ "featureGroup": "arn:aws:sagemaker:us-east-1:123456789012:feature-group/customers",
              "client": { "region": "us-east-1", "runtimeEndpoint": "http://127.0.0.1:4566",
                          "controlEndpoint": null, "profile": null, "assumeRoleArn": null,
                          "assumeRoleSessionName": null, "accessKeyId": "AKID", "secretAccessKey": "SECRET",
                          "sessionToken": "TOKEN", "connectTimeoutMs": 1000, "requestTimeoutMs": 2000,
                          "maxConnections": 32, "transport": "sdk" },
              "api": "PutRecord", "batchSize": 10, "targetStores": ["OnlineStore"],
              "ttlDuration": {"unit":"Days","value":7}, "maxInFlight": 16, "maxRecordsPerSecond": 500.5,
              "writeId": "job-1", "adaptiveRate": false, "maxQueuedRecords": 100, "maxQueuedBytes": 65536,
              "retry": { "maxAttempts": 3, "maxElapsedMs": 1000, "baseDelayMs": 5, "maxDelayMs": 100 },
              "ignoreUnknownColumns": true, "dryRun": true }"#,
        )
        .unwrap();
        assert_eq!(config.api, Api::PutRecord);
        assert_eq!(config.batch_size, 10);
        assert_eq!(config.target_stores, Some(vec![TargetStore::OnlineStore]));
        assert_eq!(
            config.ttl_duration,
            Some(TtlDuration {
                unit: TtlUnit::Days,
                value: 7
            })
        );
        assert_eq!(config.max_records_per_second, Some(500.5));
        assert_eq!(config.write_id.as_deref(), Some("job-1"));
        assert!(!config.adaptive_rate);
        assert_eq!(config.client.max_connections, 32);
        assert_eq!(config.client.transport, TransportKind::Sdk);
        assert_eq!(config.client.session_token.as_deref(), Some("TOKEN"));
        assert_eq!(
            config.retry,
            RetryConfig {
                max_attempts: Some(3),
                max_elapsed_ms: 1000,
                base_delay_ms: 5,
                max_delay_ms: 100
            }
        );
        assert!(config.ignore_unknown_columns && config.dry_run);
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let found = problems(
            r#"{ "api": "Batch", "maxInFlight": -1, "colour": "red",
                 "client": { "regoin": "x", "runtimeEndpoint": "ftp://h", "maxConnections": 0 },
                 "retry": { "maxAttempts": "ten" },
                 "ttlDuration": {"unit":"Days","value":7,"extra":1} }"#,
        );
        let expect = [
            "featureGroup: required",
            "api:",
            "maxInFlight:",
            "colour: unknown key",
            "client.regoin: unknown key",
            "retry.maxAttempts:",
            "ttlDuration:",
        ];
        for needle in expect {
            assert!(
                found.iter().any(|p| p.starts_with(needle)),
                "missing {needle:?} in {found:#?}"
            );
        }
        assert_eq!(found.len(), expect.len(), "{found:#?}");
    }

    #[test]
    fn range_and_combination_problems_are_listed_together() {
        let found = problems(
            r#"{ "featureGroup": " ", "batchSize": 26, "targetStores": ["OnlineStore","OnlineStore"],
                 "maxRecordsPerSecond": 0, "retry": {"baseDelayMs": 100, "maxDelayMs": 10},
                 "client": { "accessKeyId": "AKID", "runtimeEndpoint": "http://127.0.0.1:1/path",
                             "assumeRoleSessionName": "s", "requestTimeoutMs": 0 } }"#,
        );
        let expect = [
            "featureGroup: must not be empty",
            "batchSize:",
            "targetStores: lists the same store twice",
            "maxRecordsPerSecond:",
            "retry.maxDelayMs:",
            "client.runtimeEndpoint: must not have a path",
            "client.accessKeyId and client.secretAccessKey",
            "client.assumeRoleSessionName:",
            "client.requestTimeoutMs:",
        ];
        for needle in expect {
            assert!(
                found.iter().any(|p| p.starts_with(needle)),
                "missing {needle:?} in {found:#?}"
            );
        }
        assert_eq!(found.len(), expect.len(), "{found:#?}");
    }

    #[test]
    fn not_an_object_and_not_json_are_reported() {
        assert_eq!(
            problems("[1]"),
            vec!["the configuration: must be a JSON object, not an array"]
        );
        assert!(problems("{").first().unwrap().starts_with("not valid JSON"));
        assert_eq!(
            problems(r#"{"featureGroup":"g","client":3}"#),
            vec!["client: must be a JSON object, not a number"]
        );
    }

    #[test]
    fn secrets_never_appear_in_debug_output_or_errors() {
        let json = r#"{"featureGroup":"g","client":{"accessKeyId":"AKIDSECRETLOOKING",
            "secretAccessKey":"wJalrXUtnFEMI","sessionToken":"TOKENVALUE","maxConnections":0}}"#;
        let wrong_type =
            r#"{"featureGroup":"g","client":{"accessKeyId":12345678,"secretAccessKey":98765432}}"#;
        let wrong_type_rendered = WriterConfig::from_json(wrong_type).unwrap_err().to_string();
        assert!(!wrong_type_rendered.contains("12345678"), "{wrong_type_rendered}");
        assert!(!wrong_type_rendered.contains("98765432"), "{wrong_type_rendered}");
        let rendered = WriterConfig::from_json(json).unwrap_err().to_string();
        let mut config = WriterConfig::new("g");
        config.client.access_key_id = Some("AKIDSECRETLOOKING".into());
        config.client.secret_access_key = Some("wJalrXUtnFEMI".into());
        config.client.session_token = Some("TOKENVALUE".into());
        let debug = format!("{config:?}");
        for secret in ["AKIDSECRETLOOKING", "wJalrXUtnFEMI", "TOKENVALUE"] {
            assert!(!rendered.contains(secret), "{rendered}");
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}
