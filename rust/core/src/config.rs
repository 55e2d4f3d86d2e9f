//! The writer's configuration, built from the options a user gave (see [`crate::options`], where each option's
//! name, default and rule are written once). The JVM sends one JSON envelope per writer: the options as text,
//! and the two values the Spark side computes (the write's id and this executor's share of its ceiling).
//!
//! Checking is strict and complete: every unknown option, invalid value and contradiction is reported in one
//! [`Error::InvalidConfig`], so a job fails once with the whole list instead of once per fix.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigProblem, Error, Result};
use crate::options::{self, Options, Parsed};
use crate::record::TaskAttempt;

/// The most entries one BatchWriteRecord call takes (botocore: `BatchWriteRecordEntries.max`).
pub const MAX_BATCH_ENTRIES: usize = 25;

/// Everything one `Writer` needs besides the feature group's definitions. Each field says which option sets
/// it; the option's default and rule are in [`crate::options`].
#[derive(Debug, Clone, PartialEq)]
pub struct WriterConfig {
    /// `featureGroupName`: name or ARN of the feature group written to.
    pub feature_group: String,
    /// `operation`: each row is a record to put, or the record identifier and event time of a DeleteRecord.
    pub operation: Operation,
    /// `deletionMode`, for `operation=delete`; `None`: not given (a delete is then a SoftDelete, the service's
    /// default). Given with `operation=write`, it is refused as a contradiction.
    pub deletion_mode: Option<DeletionMode>,
    /// Region, endpoints, credentials, timeouts and pool size.
    pub client: ClientConfig,
    /// `api`: `Auto` is BatchWriteRecord, falling back to PutRecord for the rest of the writer when
    /// BatchWriteRecord is not permitted.
    pub api: Api,
    /// `recordsPerRequest`: records per BatchWriteRecord call.
    pub batch_size: usize,
    /// `targetStores`, sent with every record; `None`: every store the feature group has.
    pub target_stores: Option<Vec<TargetStore>>,
    /// `ttlDuration`, sent with every record; `None`: the feature group's own TTL (if any) applies.
    pub ttl_duration: Option<TtlDuration>,
    /// `maxInFlight`: upper bound on requests in flight for this writer.
    pub max_in_flight: usize,
    /// A ceiling in records per second; `None`: no ceiling. With `write_id`, it is the ceiling of every writer of
    /// that write in this process together (the Spark side sets each executor's share of the job's
    /// `maxRecordsPerSecond`, and moves it while the job runs); without, it is this writer's own.
    pub max_records_per_second: Option<f64>,
    /// The write (Spark job or streaming epoch) this writer belongs to: writers of one write in a process share
    /// one ceiling, which `sink::ceiling::set_write_ceiling` changes. Set by the Spark side, not an option.
    pub write_id: Option<String>,
    /// The Spark task attempt the writer works for, named in each failed-records line. Set by the Spark side.
    pub attempt: Option<TaskAttempt>,
    /// `adaptiveRate`: one controller per process for each (endpoint, feature group), shared by every writer
    /// there (see `throughput`).
    pub adaptive_rate: bool,
    /// `maxQueuedRecords`: records queued or in flight before `write` blocks the caller.
    pub max_queued_records: usize,
    /// `maxQueuedBytes`: encoded bytes queued or in flight before `write` blocks the caller.
    pub max_queued_bytes: usize,
    /// Backoff and bounds for retryable errors.
    pub retry: RetryConfig,
    /// `ignoreUnknownColumns`: input columns that are not features are ignored by the schema check.
    pub ignore_unknown_columns: bool,
    /// `dryRun`: validate and encode every row but send nothing; rows that encode count as acknowledged (and as
    /// `rowsDryRun` in the metrics).
    pub dry_run: bool,
    /// `offlineWrite=direct`: rows are validated here and written by Spark as Parquet into the offline store
    /// (see [`crate::offline`]); nothing is sent.
    pub offline_direct: bool,
    /// `offlineFileSystem`: where an `s3://` offline store URI is written through (see [`crate::offline::hadoop_uri`]).
    pub offline_file_system: String,
}

/// How the engine reaches the service. Equal configs share one connection pool and credential cache per I/O
/// thread (see `client`), so this type is a cache key: it must stay `Eq + Hash`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientConfig {
    /// `region`; `None`: the standard chain (`AWS_REGION`, `AWS_DEFAULT_REGION`, profile, IMDS).
    pub region: Option<String>,
    /// `runtimeEndpoint`; `None`: see `client::runtime_endpoint_url`.
    pub runtime_endpoint: Option<String>,
    /// `controlEndpoint` (DescribeFeatureGroup); `None`: see `client::control_endpoint_url`.
    pub control_endpoint: Option<String>,
    /// `profile` of the shared config files; `None`: the default chain (which honours `AWS_PROFILE`).
    pub profile: Option<String>,
    /// `assumeRoleArn`: role to assume (STS AssumeRole) with the credentials found otherwise.
    pub assume_role_arn: Option<String>,
    /// `assumeRoleSessionName`; `None`: `featurestore-spark`.
    pub assume_role_session_name: Option<String>,
    /// `accessKeyId`, `secretAccessKey`, `sessionToken`: static credentials (tests, local store).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// `connectTimeoutMs`: TCP (and TLS) connect timeout.
    pub connect_timeout_ms: u64,
    /// `requestTimeoutMs`: whole-call timeout, from sending the request to reading the whole response.
    pub request_timeout_ms: u64,
    /// `maxConnections`: connections kept open per endpoint.
    pub max_connections: usize,
    /// `transport`: how write calls are built and sent.
    pub transport: TransportKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// What the writer does with each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Put the row as a record (BatchWriteRecord or PutRecord).
    Write,
    /// Delete the row's record (DeleteRecord) at the row's event time.
    Delete,
}

/// DeleteRecord's `DeletionMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeletionMode {
    SoftDelete,
    HardDelete,
}

impl DeletionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionMode::SoftDelete => "SoftDelete",
            DeletionMode::HardDelete => "HardDelete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    Auto,
    BatchWriteRecord,
    PutRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct TtlDuration {
    pub unit: TtlUnit,
    pub value: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
    /// `retryMaxAttempts`: attempts per record, the first included; `None`: only the time bound.
    pub max_attempts: Option<u32>,
    /// `retryMaxElapsedMs`: a record is not retried once this long has passed since its first attempt.
    pub max_elapsed_ms: u64,
    /// `retryBaseDelayMs`: backoff before retry n is uniform in [0, min(max, base * 2^(n-1))].
    pub base_delay_ms: u64,
    /// `retryMaxDelayMs`.
    pub max_delay_ms: u64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::from_options(&Options::defaults())
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self::from_options(&Options::defaults())
    }
}

/// What the JVM sends to open a writer or describe its group.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Envelope {
    /// Option name (any case) → the text the user gave.
    options: BTreeMap<String, String>,
    write_id: Option<String>,
    /// This executor's share of the job's `maxRecordsPerSecond`, in place of the option's value.
    records_per_second: Option<f64>,
    attempt: Option<TaskAttempt>,
}

impl WriterConfig {
    /// A configuration with every default, for `feature_group`.
    pub fn new(feature_group: impl Into<String>) -> Self {
        Self {
            feature_group: feature_group.into(),
            ..Self::from_options(&Options::defaults())
        }
    }

    /// The configuration the options stand for (defaults where not given).
    pub fn from_options(options: &Options) -> Self {
        use options::*;
        let feature_group = options.text(&FEATURE_GROUP_NAME).unwrap_or_default();
        let mut client = ClientConfig::from_options(options);
        if client.region.is_none() {
            // An ARN names its region: nothing else need be set to write to a group of another region.
            client.region = arn_region(&feature_group).map(str::to_owned);
        }
        Self {
            feature_group,
            client,
            operation: match options.text(&OPERATION).as_deref() {
                Some("delete") => Operation::Delete,
                _ => Operation::Write,
            },
            deletion_mode: options.text(&DELETION_MODE).map(|mode| match mode.as_str() {
                "HardDelete" => DeletionMode::HardDelete,
                _ => DeletionMode::SoftDelete,
            }),
            api: match options.text(&API).as_deref() {
                Some("BatchWriteRecord") => Api::BatchWriteRecord,
                Some("PutRecord") => Api::PutRecord,
                _ => Api::Auto,
            },
            batch_size: whole(options, &RECORDS_PER_REQUEST),
            target_stores: options.stores(&TARGET_STORES),
            ttl_duration: options.ttl(&TTL_DURATION),
            max_in_flight: whole(options, &MAX_IN_FLIGHT),
            max_records_per_second: options.number(&MAX_RECORDS_PER_SECOND),
            write_id: None,
            attempt: None,
            adaptive_rate: options.flag(&ADAPTIVE_RATE),
            max_queued_records: whole(options, &MAX_QUEUED_RECORDS),
            max_queued_bytes: whole(options, &MAX_QUEUED_BYTES),
            retry: RetryConfig::from_options(options),
            ignore_unknown_columns: options.flag(&IGNORE_UNKNOWN_COLUMNS),
            dry_run: options.flag(&DRY_RUN),
            offline_direct: options.text(&OFFLINE_WRITE).as_deref() == Some("direct"),
            offline_file_system: options.text(&OFFLINE_FILE_SYSTEM).unwrap_or_default(),
        }
    }

    /// Checks `given` (option name in any case → text) as a whole: each value, then their combinations. What
    /// the driver calls before a job starts.
    pub fn check<'a>(given: impl IntoIterator<Item = (&'a str, &'a str)>) -> Parsed {
        let mut parsed = options::parse(given);
        let config = WriterConfig::from_options(&parsed.values);
        add_combination_problems(&config, &mut parsed.problems);
        parsed
    }

    /// [`Self::check`] for the JVM: a JSON object of option texts in, the [`Parsed`] outcome as JSON out.
    pub fn check_json(options_json: &str) -> Result<String> {
        let given: BTreeMap<String, String> = serde_json::from_str(options_json)
            .map_err(|e| Error::Internal(format!("options are not a JSON object of texts: {e}")))?;
        let parsed = Self::check(given.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        serde_json::to_string(&parsed).map_err(|e| Error::Internal(format!("cannot render options: {e}")))
    }

    /// Parses the JVM's envelope: `{"options": {...}, "writeId": ..., "recordsPerSecond": ...}`.
    pub fn from_json(json: &str) -> Result<WriterConfig> {
        // serde's message would quote values, secrets among them: only where it went wrong is said.
        let envelope: Envelope = serde_json::from_str(json).map_err(|e| {
            Error::InvalidConfig(vec![ConfigProblem::new(
                "writer config",
                format!(
                    "not the JSON the connector sends ({:?} error at line {}, column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            )])
        })?;
        let parsed = options::parse(envelope.options.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut problems = parsed.problems;
        let mut config = WriterConfig::from_options(&parsed.values);
        config.write_id = envelope.write_id;
        config.attempt = envelope.attempt;
        if envelope.records_per_second.is_some() {
            config.max_records_per_second = envelope.records_per_second;
        }
        add_combination_problems(&config, &mut problems);
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(Error::InvalidConfig(problems))
        }
    }

    /// Checks the values' ranges (for configs built in code) and their combinations; one problem each, named
    /// by option.
    pub fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        use options::*;
        if self.feature_group.trim().is_empty() {
            problems.push(ConfigProblem::new(FEATURE_GROUP_NAME.name, "must not be empty"));
        }
        let wholes = [
            (&RECORDS_PER_REQUEST, self.batch_size as u64),
            (&MAX_IN_FLIGHT, self.max_in_flight as u64),
            (&MAX_QUEUED_RECORDS, self.max_queued_records as u64),
            (&MAX_QUEUED_BYTES, self.max_queued_bytes as u64),
        ];
        for (option, value) in wholes {
            option.check_whole(value, problems);
        }
        if let Some(stores) = &self.target_stores
            && (stores.is_empty() || stores.len() > 2 || (stores.len() == 2 && stores[0] == stores[1]))
        {
            problems.push(ConfigProblem::new(
                TARGET_STORES.name,
                "must list OnlineStore and/or OfflineStore, once each",
            ));
        }
        if let Some(ttl) = &self.ttl_duration
            && ttl.value == 0
        {
            problems.push(ConfigProblem::new(TTL_DURATION.name, "must be at least 1"));
        }
        if let Some(rate) = self.max_records_per_second
            && !(rate.is_finite() && rate > 0.0)
        {
            problems.push(ConfigProblem::new(
                MAX_RECORDS_PER_SECOND.name,
                "must be a number > 0",
            ));
        }
        if let (Some(region), Some(in_arn)) = (&self.client.region, arn_region(&self.feature_group))
            && region != in_arn
        {
            problems.push(ConfigProblem::new(
                REGION.name,
                format!("is {region}, but featureGroupName is an ARN in {in_arn}: give one region, or none"),
            ));
        }
        self.validate_operation(problems);
        self.validate_offline_direct(problems);
        self.retry.validate(problems);
        self.client.validate(problems);
    }

    /// Options that make no sense with `offlineWrite=direct`, which writes Parquet files and sends nothing.
    fn validate_offline_direct(&self, problems: &mut Vec<ConfigProblem>) {
        use options::*;
        if let Err(problem) = crate::offline::hadoop_uri("s3://bucket/key", &self.offline_file_system) {
            problems.push(ConfigProblem::new(OFFLINE_FILE_SYSTEM.name, problem));
        }
        if !self.offline_direct {
            return;
        }
        if self.operation == Operation::Delete {
            problems.push(ConfigProblem::new(
                OFFLINE_WRITE.name,
                "is direct, which cannot delete: operation=delete goes through DeleteRecord (leave offlineWrite unset)",
            ));
        }
        if self.target_stores.as_deref() != Some(&[TargetStore::OfflineStore][..]) {
            problems.push(ConfigProblem::new(
                TARGET_STORES.name,
                "must be OfflineStore with offlineWrite=direct, which writes only the offline store",
            ));
        }
        let moot = [
            (
                self.ttl_duration.is_some(),
                &TTL_DURATION,
                "applies to online records",
            ),
            (self.api != Api::Auto, &API, "chooses a write API"),
            (
                self.max_records_per_second.is_some(),
                &MAX_RECORDS_PER_SECOND,
                "paces API calls",
            ),
            (self.dry_run, &DRY_RUN, "is not supported yet"),
        ];
        for (given, option, what) in moot {
            if given {
                problems.push(ConfigProblem::new(
                    option.name,
                    format!("{what}, but offlineWrite=direct makes no API calls: leave it unset"),
                ));
            }
        }
    }

    /// The DeletionMode a delete sends.
    pub fn deletion_mode(&self) -> DeletionMode {
        self.deletion_mode.unwrap_or(DeletionMode::SoftDelete)
    }

    /// Options that contradict the operation. `recordsPerRequest` and `ignoreUnknownColumns` are moot for a
    /// delete (one record per call; columns other than the identifier and event time are ignored) but not
    /// contradictions: a session may set them for every write.
    fn validate_operation(&self, problems: &mut Vec<ConfigProblem>) {
        use options::*;
        match self.operation {
            Operation::Write => {
                if self.deletion_mode.is_some() {
                    problems.push(ConfigProblem::new(
                        DELETION_MODE.name,
                        "applies only with operation=delete",
                    ));
                }
            }
            Operation::Delete => {
                if self.ttl_duration.is_some() {
                    problems.push(ConfigProblem::new(
                        TTL_DURATION.name,
                        "cannot be combined with operation=delete: a delete has no time to live",
                    ));
                }
                if self.api == Api::BatchWriteRecord {
                    problems.push(ConfigProblem::new(
                        API.name,
                        "is BatchWriteRecord, but operation=delete sends DeleteRecord calls: leave api unset",
                    ));
                }
            }
        }
    }
}

/// The region of a feature group ARN (`arn:<partition>:sagemaker:<region>:<account>:feature-group/<name>`);
/// `None` for a plain name.
pub fn arn_region(name_or_arn: &str) -> Option<&str> {
    let mut parts = name_or_arn.splitn(6, ':');
    let (arn, _partition, service, region, _account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (arn == "arn" && service == "sagemaker" && !region.is_empty() && resource.starts_with("feature-group/"))
        .then_some(region)
}

/// The config's own checks after the values' ones, leaving out what they say about an option whose value was
/// already refused (its default stands in for it, so anything said about it would be about the default).
fn add_combination_problems(config: &WriterConfig, problems: &mut Vec<ConfigProblem>) {
    let mut more = Vec::new();
    config.validate(&mut more);
    more.retain(|p| !problems.iter().any(|q| q.option == p.option));
    problems.extend(more);
}

/// A whole-number option's value as a `usize` (the option's rule keeps it in range).
fn whole(options: &Options, option: &options::OptionDef) -> usize {
    options
        .whole(option)
        .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

impl RetryConfig {
    pub fn from_options(options: &Options) -> Self {
        use options::*;
        Self {
            max_attempts: options
                .whole(&RETRY_MAX_ATTEMPTS)
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            max_elapsed_ms: options.whole(&RETRY_MAX_ELAPSED_MS).unwrap_or_default(),
            base_delay_ms: options.whole(&RETRY_BASE_DELAY_MS).unwrap_or_default(),
            max_delay_ms: options.whole(&RETRY_MAX_DELAY_MS).unwrap_or_default(),
        }
    }

    pub fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        use options::*;
        if let Some(attempts) = self.max_attempts {
            RETRY_MAX_ATTEMPTS.check_whole(u64::from(attempts), problems);
        }
        if self.max_delay_ms < self.base_delay_ms {
            problems.push(ConfigProblem::new(
                RETRY_MAX_DELAY_MS.name,
                "must not be less than retryBaseDelayMs",
            ));
        }
    }
}

impl ClientConfig {
    pub fn from_options(options: &Options) -> Self {
        use options::*;
        Self {
            region: options.text(&REGION),
            runtime_endpoint: options.text(&RUNTIME_ENDPOINT),
            control_endpoint: options.text(&CONTROL_ENDPOINT),
            profile: options.text(&PROFILE),
            assume_role_arn: options.text(&ASSUME_ROLE_ARN),
            assume_role_session_name: options.text(&ASSUME_ROLE_SESSION_NAME),
            access_key_id: options.text(&ACCESS_KEY_ID),
            secret_access_key: options.text(&SECRET_ACCESS_KEY),
            session_token: options.text(&SESSION_TOKEN),
            connect_timeout_ms: options.whole(&CONNECT_TIMEOUT_MS).unwrap_or_default(),
            request_timeout_ms: options.whole(&REQUEST_TIMEOUT_MS).unwrap_or_default(),
            max_connections: whole(options, &MAX_CONNECTIONS),
            transport: match options.text(&TRANSPORT).as_deref() {
                Some("sdk") => TransportKind::Sdk,
                _ => TransportKind::Lean,
            },
        }
    }

    pub fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        use options::*;
        for (option, endpoint) in [
            (&RUNTIME_ENDPOINT, &self.runtime_endpoint),
            (&CONTROL_ENDPOINT, &self.control_endpoint),
        ] {
            if let Some(endpoint) = endpoint
                && let Err(problem) = check_endpoint(endpoint)
            {
                problems.push(ConfigProblem::new(option.name, problem));
            }
        }
        match (&self.access_key_id, &self.secret_access_key) {
            (Some(_), None) => problems.push(ConfigProblem::new(
                SECRET_ACCESS_KEY.name,
                "is required with accessKeyId",
            )),
            (None, Some(_)) => problems.push(ConfigProblem::new(
                ACCESS_KEY_ID.name,
                "is required with secretAccessKey",
            )),
            _ => {}
        }
        if self.session_token.is_some() && self.access_key_id.is_none() {
            problems.push(ConfigProblem::new(
                SESSION_TOKEN.name,
                "needs accessKeyId and secretAccessKey",
            ));
        }
        if self.assume_role_session_name.is_some() && self.assume_role_arn.is_none() {
            problems.push(ConfigProblem::new(
                ASSUME_ROLE_SESSION_NAME.name,
                "needs assumeRoleArn",
            ));
        }
        if self.profile.is_some() && self.access_key_id.is_some() {
            problems.push(ConfigProblem::new(
                PROFILE.name,
                "cannot be combined with static keys",
            ));
        }
        CONNECT_TIMEOUT_MS.check_whole(self.connect_timeout_ms, problems);
        REQUEST_TIMEOUT_MS.check_whole(self.request_timeout_ms, problems);
        MAX_CONNECTIONS.check_whole(self.max_connections as u64, problems);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(options: &[(&str, &str)]) -> String {
        let options: BTreeMap<&str, &str> = options.iter().copied().collect();
        serde_json::json!({ "options": options }).to_string()
    }

    fn problems(options: &[(&str, &str)]) -> Vec<String> {
        match WriterConfig::from_json(&envelope(options)) {
            Err(Error::InvalidConfig(problems)) => problems.iter().map(ToString::to_string).collect(),
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn only_the_feature_group_is_required_and_defaults_apply() {
        let config = WriterConfig::from_json(&envelope(&[("featureGroupName", "customers")])).unwrap();
        assert_eq!(config, WriterConfig::new("customers"));
        assert_eq!(config.api, Api::Auto);
        assert_eq!(config.batch_size, 25);
        assert_eq!(config.max_in_flight, 64);
        assert_eq!(config.client.request_timeout_ms, 30_000);
        assert_eq!(config.client.transport, TransportKind::Lean);
        assert_eq!(config.retry.max_attempts, None);
        assert_eq!(config.retry.max_elapsed_ms, 600_000);
        assert!(config.adaptive_rate);
        assert_eq!(config.ttl_duration, None);
    }

    #[test]
    fn every_engine_option_lands_in_its_field() {
        let config = WriterConfig::from_json(
            &serde_json::json!({
                "options": {
                    "featureGroupName": "arn:aws:sagemaker:us-east-1:123456789012:feature-group/customers",
                    "region": "us-east-1", "runtimeEndpoint": "http://127.0.0.1:4566",
                    "controlEndpoint": "http://127.0.0.1:4567", "assumeRoleArn": "arn:aws:iam::1:role/r",
                    "assumeRoleSessionName": "job", "accessKeyId": "AKID", "secretAccessKey": "SECRET",
                    "sessionToken": "TOKEN", "connectTimeoutMs": "1000", "requestTimeoutMs": "2000",
                    "maxConnections": "32", "transport": "SDK", "api": "putrecord", "recordsPerRequest": "10",
                    "targetStores": "OnlineStore", "ttlDuration": "7 days", "maxInFlight": "16",
                    "maxRecordsPerSecond": "500.5", "adaptiveRate": "false", "maxQueuedRecords": "100",
                    "maxQueuedBytes": "65536", "retryMaxAttempts": "3", "retryMaxElapsedMs": "1000",
                    "retryBaseDelayMs": "5", "retryMaxDelayMs": "100", "ignoreUnknownColumns": "true",
                    "dryRun": "true", "batchRows": "7", "failedRecordsPath": "/tmp/f"
                },
                "writeId": "job-1"
            })
            .to_string(),
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
        assert_eq!(config.max_in_flight, 16);
        assert_eq!((config.max_queued_records, config.max_queued_bytes), (100, 65536));
        assert_eq!(config.client.max_connections, 32);
        assert_eq!(config.client.transport, TransportKind::Sdk);
        assert_eq!(config.client.session_token.as_deref(), Some("TOKEN"));
        assert_eq!(
            config.client.control_endpoint.as_deref(),
            Some("http://127.0.0.1:4567")
        );
        assert_eq!(
            (config.client.connect_timeout_ms, config.client.request_timeout_ms),
            (1000, 2000)
        );
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
    fn an_arn_gives_the_region_unless_one_is_set_and_a_different_one_is_refused() {
        let arn = "arn:aws:sagemaker:eu-west-1:123456789012:feature-group/customers";
        let region =
            |options: &[(&str, &str)]| WriterConfig::from_json(&envelope(options)).unwrap().client.region;
        assert_eq!(region(&[("featureGroupName", arn)]).as_deref(), Some("eu-west-1"));
        assert_eq!(
            region(&[("featureGroupName", arn), ("region", "eu-west-1")]).as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region(&[("featureGroupName", "customers")]), None);
        assert_eq!(
            problems(&[("featureGroupName", arn), ("region", "us-east-1")]),
            ["region: is us-east-1, but featureGroupName is an ARN in eu-west-1: give one region, or none"]
        );
        // Checked on the driver before any task, with the other options.
        let parsed = WriterConfig::check([("featureGroupName", arn), ("region", "us-east-1")]);
        assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
    }

    #[test]
    fn only_a_feature_group_arn_names_a_region() {
        for (text, region) in [
            ("arn:aws:sagemaker:us-west-2:1:feature-group/g", Some("us-west-2")),
            (
                "arn:aws-cn:sagemaker:cn-north-1:1:feature-group/a:b",
                Some("cn-north-1"),
            ),
            ("arn:aws:sagemaker::1:feature-group/g", None),
            ("arn:aws:s3:us-west-2:1:feature-group/g", None),
            ("arn:aws:sagemaker:us-west-2:1:model/m", None),
            ("customers", None),
            ("arn:aws:sagemaker", None),
        ] {
            assert_eq!(arn_region(text), region, "{text}");
        }
    }

    #[test]
    fn a_delete_takes_its_mode_and_options_that_contradict_it_are_refused() {
        let config = WriterConfig::from_json(&envelope(&[
            ("featureGroupName", "g"),
            ("operation", "DELETE"),
            ("deletionMode", "harddelete"),
            ("targetStores", "OnlineStore"),
        ]))
        .unwrap();
        assert_eq!(config.operation, Operation::Delete);
        assert_eq!(config.deletion_mode(), DeletionMode::HardDelete);
        assert_eq!(config.target_stores, Some(vec![TargetStore::OnlineStore]));
        let soft = WriterConfig::from_json(&envelope(&[("featureGroupName", "g"), ("operation", "delete")]));
        assert_eq!(soft.unwrap().deletion_mode(), DeletionMode::SoftDelete);
        assert_eq!(WriterConfig::new("g").operation, Operation::Write);

        // Moot for a delete, not contradictions: a session may set them for every write.
        WriterConfig::from_json(&envelope(&[
            ("featureGroupName", "g"),
            ("operation", "delete"),
            ("api", "PutRecord"),
            ("recordsPerRequest", "10"),
            ("ignoreUnknownColumns", "true"),
            ("transport", "sdk"),
        ]))
        .unwrap();

        assert_eq!(
            problems(&[
                ("featureGroupName", "g"),
                ("operation", "delete"),
                ("ttlDuration", "7 Days"),
                ("api", "BatchWriteRecord"),
            ]),
            [
                "ttlDuration: cannot be combined with operation=delete: a delete has no time to live",
                "api: is BatchWriteRecord, but operation=delete sends DeleteRecord calls: leave api unset",
            ]
        );
        assert_eq!(
            problems(&[("featureGroupName", "g"), ("deletionMode", "HardDelete")]),
            ["deletionMode: applies only with operation=delete"]
        );
        assert_eq!(
            problems(&[("featureGroupName", "g"), ("operation", "remove")]),
            ["operation: must be one of write, delete (given 'remove')"]
        );
        // The driver reports them before any task, with the other options' problems.
        let parsed = WriterConfig::check([
            ("featureGroupName", "g"),
            ("operation", "delete"),
            ("ttlDuration", "1 Days"),
            ("batchRows", "x"),
        ]);
        let found: Vec<String> = parsed.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "batchRows: must be an integer (given 'x')",
                "ttlDuration: cannot be combined with operation=delete: a delete has no time to live",
            ]
        );
    }

    #[test]
    fn the_executor_share_of_the_ceiling_replaces_the_jobs() {
        let json = serde_json::json!({
            "options": {"featureGroupName": "g", "maxRecordsPerSecond": "1000"},
            "writeId": "w", "recordsPerSecond": 250.0
        });
        let config = WriterConfig::from_json(&json.to_string()).unwrap();
        assert_eq!(config.max_records_per_second, Some(250.0));
    }

    #[test]
    fn values_and_combinations_are_listed_together_by_option() {
        let found = problems(&[
            ("featureGroupName", "g"),
            ("recordsPerRequest", "26"),
            ("colour", "red"),
            ("retryBaseDelayMs", "100"),
            ("retryMaxDelayMs", "10"),
            ("accessKeyId", "AKID"),
            ("assumeRoleSessionName", "s"),
            ("runtimeEndpoint", "http://127.0.0.1:1/path"),
        ]);
        assert_eq!(
            found,
            [
                "colour: unknown option",
                "recordsPerRequest: must be integer 1..25 (given '26')",
                "runtimeEndpoint: must not have a path or query (given 'http://127.0.0.1:1/path')",
                "retryMaxDelayMs: must not be less than retryBaseDelayMs",
                "secretAccessKey: is required with accessKeyId",
                "assumeRoleSessionName: needs assumeRoleArn",
            ]
        );
        let checked =
            WriterConfig::check([("featureGroupName", "g"), ("profile", "p"), ("accessKeyId", "a")]);
        let checked: Vec<String> = checked.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            checked,
            [
                "secretAccessKey: is required with accessKeyId",
                "profile: cannot be combined with static keys"
            ]
        );
    }

    #[test]
    fn a_config_built_in_code_is_held_to_the_options_rules() {
        let mut config = WriterConfig::new("g");
        config.batch_size = 0;
        config.client.max_connections = 0;
        config.retry.max_attempts = Some(0);
        let mut found = Vec::new();
        config.validate(&mut found);
        let found: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "recordsPerRequest: must be integer 1..25",
                "retryMaxAttempts: must be integer 1..2147483647",
                "maxConnections: must be integer 1..2147483647"
            ]
        );
    }

    #[test]
    fn an_envelope_that_is_not_the_connectors_is_reported() {
        for json in [
            "[1]",
            "{",
            r#"{"options":{"featureGroupName":3}}"#,
            r#"{"options":{},"extra":1}"#,
        ] {
            let error = WriterConfig::from_json(json).unwrap_err().to_string();
            assert!(error.contains("not the JSON the connector sends"), "{error}");
        }
    }

    #[test]
    fn secrets_never_appear_in_debug_output_or_errors() {
        let rendered = WriterConfig::from_json(&envelope(&[
            ("featureGroupName", "g"),
            ("accessKeyId", "AKIDSECRETLOOKING"),
            ("secretAccessKey", " "),
            ("sessionToken", "TOKENVALUE"),
            ("profile", "p"),
        ]))
        .unwrap_err()
        .to_string();
        let mut config = WriterConfig::new("g");
        config.client.access_key_id = Some("AKIDSECRETLOOKING".into());
        config.client.secret_access_key = Some("wJalrXUtnFEMI".into());
        config.client.session_token = Some("TOKENVALUE".into());
        let debug = format!("{config:?}");
        for secret in ["AKIDSECRETLOOKING", "wJalrXUtnFEMI", "TOKENVALUE"] {
            assert!(!rendered.contains(secret), "{rendered}");
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(
            rendered.contains("secretAccessKey: must not be empty"),
            "{rendered}"
        );
    }
}
