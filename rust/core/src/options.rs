//! Every option a user can give a write, in one table: its name, type, default, rule and what it does.
//!
//! The Spark side hands the options through as the text the user wrote; [`parse`] checks them all at once,
//! matching names without regard to case as Spark does, and returns each option as a typed value (the one
//! given, or its default) with every problem as a [`ConfigProblem`] naming the option. The JVM reads the typed
//! values of the options it handles itself (batching, the failed-records file) from the same parse, and the
//! README's options table is generated from [`ALL`] ([`markdown_table`]; a test keeps README.md equal to it), and
//! so is the Python package's list of options ([`python_json`]; a test keeps python/featurestore_spark/options.json
//! equal to it).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::config::{MAX_BATCH_ENTRIES, TargetStore, TtlDuration, TtlUnit, check_endpoint};
use crate::error::ConfigProblem;

/// The form of an option's value, and the rule a given text must meet.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    /// An absolute `http(s)://host[:port]` URL.
    Url,
    Bool,
    /// A whole number in `min..=max`.
    Whole {
        min: u64,
        max: u64,
    },
    /// A finite number above zero.
    PositiveNumber,
    /// One of these spellings, matched without regard to case; the value is the canonical spelling.
    OneOf(&'static [&'static str]),
    /// `OnlineStore`, `OfflineStore` or both, comma-separated.
    Stores,
    /// `<n> <unit>`, e.g. `7 Days`: the service's `TtlDuration`.
    Ttl,
}

/// What an option is worth when it is not given.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    /// The job cannot run without it.
    Required,
    /// No value: something else decides, as the text (shown in the README) says.
    Unset(&'static str),
    /// This text, parsed like a given one.
    Value(&'static str),
}

/// One option of the connector.
#[derive(Debug)]
pub struct OptionDef {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Default,
    pub doc: &'static str,
    /// Never echoed in a message or a log.
    pub secret: bool,
}

/// A checked option value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OptionValue {
    Text(String),
    Bool(bool),
    Whole(u64),
    Number(f64),
    Stores(Vec<TargetStore>),
    Ttl(TtlDuration),
}

/// The largest whole number the JVM side can hold in a `long`.
const LONG_MAX: u64 = i64::MAX as u64;
const INT_MAX: u64 = i32::MAX as u64;

const fn def(name: &'static str, kind: Kind, default: Default, doc: &'static str) -> OptionDef {
    OptionDef {
        name,
        kind,
        default,
        doc,
        secret: false,
    }
}

const fn secret(name: &'static str, doc: &'static str) -> OptionDef {
    OptionDef {
        name,
        kind: Kind::Text,
        default: Default::Unset("none"),
        doc,
        secret: true,
    }
}

pub static FEATURE_GROUP_NAME: OptionDef = def(
    "featureGroupName",
    Kind::Text,
    Default::Required,
    "Name or ARN of the feature group to write to (or delete from).",
);
pub static OPERATION: OptionDef = def(
    "operation",
    Kind::OneOf(&["write", "delete"]),
    Default::Value("write"),
    "`write` puts each row as a record (BatchWriteRecord or PutRecord); `delete` deletes the record of each \
     row with DeleteRecord, one call per row: the input needs only the record identifier and event time \
     columns (the delete's event time, which must be later than the stored record's), other columns are \
     ignored (README, Deleting records).",
);
pub static DELETION_MODE: OptionDef = def(
    "deletionMode",
    Kind::OneOf(&["SoftDelete", "HardDelete"]),
    Default::Unset("SoftDelete"),
    "With `operation=delete`: `SoftDelete` stops GetRecord and BatchGetRecord returning the record (ListRecords \
     still lists it when asked to), `HardDelete` removes it from the online store; a HardDelete whose event \
     time is not later than the stored record's fails. Both append an `is_deleted` marker to the offline \
     store.",
);
pub static REGION: OptionDef = def(
    "region",
    Kind::Text,
    Default::Unset("the AWS default chain"),
    "AWS region (default: the one in `featureGroupName` when it is an ARN, else `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile, instance metadata); a region other than the ARN's is refused.",
);
pub static RUNTIME_ENDPOINT: OptionDef = def(
    "runtimeEndpoint",
    Kind::Url,
    Default::Unset("the regional endpoint"),
    "Feature Store runtime endpoint URL (PutRecord, BatchWriteRecord, DeleteRecord); default \
     `AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME`, `AWS_ENDPOINT_URL`, then the region's endpoint.",
);
pub static CONTROL_ENDPOINT: OptionDef = def(
    "controlEndpoint",
    Kind::Url,
    Default::Unset("the regional endpoint"),
    "SageMaker endpoint URL for DescribeFeatureGroup; default `AWS_ENDPOINT_URL_SAGEMAKER`, \
     `AWS_ENDPOINT_URL`, then the region's endpoint.",
);
pub static PROFILE: OptionDef = def(
    "profile",
    Kind::Text,
    Default::Unset("the default chain"),
    "Named profile of the shared AWS config and credentials files: the credentials' only source when set (as the AWS CLI's `--profile`; the environment's keys do not win over it), `role_arn` and `source_profile` included.",
);
pub static ASSUME_ROLE_ARN: OptionDef = def(
    "assumeRoleArn",
    Kind::Text,
    Default::Unset("none"),
    "IAM role to assume (STS AssumeRole) with the credentials found otherwise.",
);
pub static ASSUME_ROLE_SESSION_NAME: OptionDef = def(
    "assumeRoleSessionName",
    Kind::Text,
    Default::Unset("featurestore-spark"),
    "Session name for `assumeRoleArn`.",
);
pub static ACCESS_KEY_ID: OptionDef = secret(
    "accessKeyId",
    "Static access key id (with `secretAccessKey`); prefer a profile or the default chain.",
);
pub static SECRET_ACCESS_KEY: OptionDef = secret(
    "secretAccessKey",
    "Static secret access key (with `accessKeyId`).",
);
pub static SESSION_TOKEN: OptionDef =
    secret("sessionToken", "Session token for temporary static credentials.");
pub static CONNECT_TIMEOUT_MS: OptionDef = def(
    "connectTimeoutMs",
    Kind::Whole {
        min: 1,
        max: LONG_MAX,
    },
    Default::Value("3000"),
    "TCP and TLS connect timeout, in milliseconds.",
);
pub static REQUEST_TIMEOUT_MS: OptionDef = def(
    "requestTimeoutMs",
    Kind::Whole {
        min: 1,
        max: LONG_MAX,
    },
    Default::Value("30000"),
    "Timeout of one call, from sending to the whole response, in milliseconds.",
);
pub static MAX_CONNECTIONS: OptionDef = def(
    "maxConnections",
    Kind::Whole { min: 1, max: INT_MAX },
    Default::Value("256"),
    "Connections kept open per endpoint, per executor.",
);
pub static TRANSPORT: OptionDef = def(
    "transport",
    Kind::OneOf(&["lean", "sdk"]),
    Default::Value("lean"),
    "How write calls are built and sent: `lean`, the connector's own path (bodies spliced from encoded \
     records, a cached SigV4 key, hyper); `sdk`, the AWS SDK for Rust's generated client and its HTTP stack, \
     for a user whose policy requires AWS's own SDK (without a runtime endpoint set, the SDK resolves it \
     itself, honouring `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT`). Same retries, rate control \
     and reports; `sdk` costs several times the CPU per record (README, Performance).",
);
pub static API: OptionDef = def(
    "api",
    Kind::OneOf(&["auto", "BatchWriteRecord", "PutRecord"]),
    Default::Value("auto"),
    "Write API: `auto` uses BatchWriteRecord and falls back to PutRecord when BatchWriteRecord is not \
     permitted. Deletes always use DeleteRecord (`BatchWriteRecord` is refused with `operation=delete`).",
);
pub static RECORDS_PER_REQUEST: OptionDef = def(
    "recordsPerRequest",
    Kind::Whole {
        min: 1,
        max: MAX_BATCH_ENTRIES as u64,
    },
    Default::Value("25"),
    "Records per BatchWriteRecord call.",
);
pub static TARGET_STORES: OptionDef = def(
    "targetStores",
    Kind::Stores,
    Default::Unset("every store of the group"),
    "Stores to write to (`TargetStores` of each record), or to delete from (`TargetStores` of each DeleteRecord).",
);
pub static TTL_DURATION: OptionDef = def(
    "ttlDuration",
    Kind::Ttl,
    Default::Unset("the group's TTL"),
    "Time to live of online records, e.g. `7 Days` (`TtlDuration` of each record); refused with `operation=delete`.",
);
pub static OFFLINE_WRITE: OptionDef = def(
    "offlineWrite",
    Kind::OneOf(&["api", "direct"]),
    Default::Value("api"),
    "`api` writes through the runtime API (BatchWriteRecord, PutRecord); `direct` (with \
     `targetStores=OfflineStore`, for backfills) validates rows as the API path does and writes them as \
     snappy Parquet straight into the group's offline store (`ResolvedOutputS3Uri`, partitioned \
     `year=/month=/day=/hour=` by event time in UTC) through Spark's output committer: no API calls, no write \
     units (README, Backfills straight to the offline store). Glue tables only (not Iceberg); batch writes only.",
);
pub static OFFLINE_FILE_SYSTEM: OptionDef = def(
    "offlineFileSystem",
    Kind::Text,
    Default::Value("s3a"),
    "With `offlineWrite=direct`: the Hadoop file system an `s3://bucket/key` offline store URI is written \
     through: a scheme (`s3a` for Hadoop's S3A; `s3` on EMR, for EMRFS), or a base URI ending in `/` under \
     which `bucket/key` lies (e.g. `file:///data/featurestore-local/s3/`, a featurestore-local data directory).",
);
pub static MAX_IN_FLIGHT: OptionDef = def(
    "maxInFlight",
    Kind::Whole { min: 1, max: INT_MAX },
    Default::Value("64"),
    "Requests in flight per task, at most.",
);
pub static ADAPTIVE_RATE: OptionDef = def(
    "adaptiveRate",
    Kind::Bool,
    Default::Value("true"),
    "Adapt the send rate to the service's throttling: one controller per executor for each endpoint and feature \
     group, shared by every task writing there, settles just below the rate the service grants and probes \
     upward again (`false`: send as fast as `maxInFlight` allows, and only back off each throttled request).",
);
pub static MAX_RECORDS_PER_SECOND: OptionDef = def(
    "maxRecordsPerSecond",
    Kind::PositiveNumber,
    Default::Unset("no limit"),
    "Ceiling for the whole job (for a stream, each micro-batch), in records per second: the driver shares it \
     among the executors by the tasks each is writing at the moment, and moves the shares as tasks start and \
     end and executors come and go. Each executor asks for its share every 0.5 s, so when one joins, the job \
     can go over the ceiling for up to that long.",
);
pub static MAX_QUEUED_RECORDS: OptionDef = def(
    "maxQueuedRecords",
    Kind::Whole { min: 1, max: INT_MAX },
    Default::Value("8192"),
    "Records queued or in flight per task before the task waits (backpressure): with their encoded size, what \
     bounds a task's native memory. The default holds two batches of `batchRows` (one being sent, one \
     waiting), more than `maxInFlight` calls carry at once.",
);
pub static MAX_QUEUED_BYTES: OptionDef = def(
    "maxQueuedBytes",
    Kind::Whole {
        min: 1024,
        max: LONG_MAX,
    },
    Default::Value("67108864"),
    "Encoded bytes queued or in flight per task before the task waits.",
);
pub static RETRY_MAX_ATTEMPTS: OptionDef = def(
    "retryMaxAttempts",
    Kind::Whole { min: 1, max: INT_MAX },
    Default::Unset("no limit"),
    "Attempts per record, the first included (1 = never retry); by default only `retryMaxElapsedMs` bounds \
     retries.",
);
// Ten minutes: an endpoint outage of a few minutes (a failover, a deployment) is ridden out with the backoff at
// its ceiling, while a dead endpoint still fails the job well inside a nightly window.
pub static RETRY_MAX_ELAPSED_MS: OptionDef = def(
    "retryMaxElapsedMs",
    Kind::Whole {
        min: 0,
        max: LONG_MAX,
    },
    Default::Value("600000"),
    "A record's delivery deadline: throttled, 5xx, timed-out and unanswered attempts are retried until this \
     long after its first attempt (ms); the default rides out an endpoint outage of a few minutes.",
);
pub static RETRY_BASE_DELAY_MS: OptionDef = def(
    "retryBaseDelayMs",
    Kind::Whole {
        min: 0,
        max: LONG_MAX,
    },
    Default::Value("50"),
    "Backoff before retry n is uniform in [0, min(retryMaxDelayMs, retryBaseDelayMs * 2^(n-1))] (ms); with \
     `adaptiveRate`, a throttled call waits at most `retryBaseDelayMs`, as the rate has slowed down already.",
);
pub static RETRY_MAX_DELAY_MS: OptionDef = def(
    "retryMaxDelayMs",
    Kind::Whole {
        min: 0,
        max: LONG_MAX,
    },
    Default::Value("20000"),
    "Longest backoff between two attempts (ms).",
);
pub static BATCH_ROWS: OptionDef = def(
    "batchRows",
    Kind::Whole { min: 1, max: INT_MAX },
    Default::Value("4096"),
    "Rows per Arrow batch handed from the JVM to the native writer.",
);
pub static BATCH_BYTES: OptionDef = def(
    "batchBytes",
    Kind::Whole {
        min: 1024,
        max: 1 << 30,
    },
    Default::Value("8388608"),
    "Bytes per Arrow batch (checked every 64 rows; at most 1 GiB, as string columns use 32-bit offsets).",
);
pub static IGNORE_UNKNOWN_COLUMNS: OptionDef = def(
    "ignoreUnknownColumns",
    Kind::Bool,
    Default::Value("false"),
    "Columns that are not features are ignored instead of failing the job before it starts.",
);
pub static ADD_MISSING_FEATURES: OptionDef = def(
    "addMissingFeatures",
    Kind::Bool,
    Default::Value("false"),
    "Before a write starts, the DataFrame's columns that are not features of the group are added to it \
     (UpdateFeatureGroup's `FeatureAdditions`, mapped as in README, Feature groups from a DataFrame; array \
     columns become List features), waiting until the update is done; costs one DescribeFeatureGroup per write. \
     Ignored with `operation=delete`.",
);
pub static DRY_RUN: OptionDef = def(
    "dryRun",
    Kind::Bool,
    Default::Value("false"),
    "Validate and encode every row but write nothing; rows that would fail are reported as failed.",
);
pub static FAILED_RECORDS_PATH: OptionDef = def(
    "failedRecordsPath",
    Kind::Text,
    Default::Unset("none"),
    "Directory (any Hadoop file system) for failed records: one JSON-lines file per task attempt, each line \
     the record's values, the reason and the task attempt (README, Failed-records files).",
);
pub static MAX_FAILED_RECORDS: OptionDef = def(
    "maxFailedRecords",
    Kind::Whole {
        min: 0,
        max: LONG_MAX,
    },
    Default::Value("0"),
    "The job fails at commit, after every row was attempted, when more records than this failed.",
);

/// Every option, in the order the README lists them.
pub static ALL: [&OptionDef; 38] = [
    &FEATURE_GROUP_NAME,
    &OPERATION,
    &DELETION_MODE,
    &REGION,
    &RUNTIME_ENDPOINT,
    &CONTROL_ENDPOINT,
    &PROFILE,
    &ASSUME_ROLE_ARN,
    &ASSUME_ROLE_SESSION_NAME,
    &ACCESS_KEY_ID,
    &SECRET_ACCESS_KEY,
    &SESSION_TOKEN,
    &CONNECT_TIMEOUT_MS,
    &REQUEST_TIMEOUT_MS,
    &MAX_CONNECTIONS,
    &TRANSPORT,
    &API,
    &RECORDS_PER_REQUEST,
    &TARGET_STORES,
    &TTL_DURATION,
    &OFFLINE_WRITE,
    &OFFLINE_FILE_SYSTEM,
    &MAX_IN_FLIGHT,
    &ADAPTIVE_RATE,
    &MAX_RECORDS_PER_SECOND,
    &MAX_QUEUED_RECORDS,
    &MAX_QUEUED_BYTES,
    &RETRY_MAX_ATTEMPTS,
    &RETRY_MAX_ELAPSED_MS,
    &RETRY_BASE_DELAY_MS,
    &RETRY_MAX_DELAY_MS,
    &BATCH_ROWS,
    &BATCH_BYTES,
    &IGNORE_UNKNOWN_COLUMNS,
    &ADD_MISSING_FEATURES,
    &DRY_RUN,
    &FAILED_RECORDS_PATH,
    &MAX_FAILED_RECORDS,
];

/// Keys Spark itself may put in a write's options: accepted, and not ours to check.
const SPARK_KEYS: [&str; 2] = ["path", "checkpointlocation"];

const TTL_UNITS: [(&str, TtlUnit); 5] = [
    ("Seconds", TtlUnit::Seconds),
    ("Minutes", TtlUnit::Minutes),
    ("Hours", TtlUnit::Hours),
    ("Days", TtlUnit::Days),
    ("Weeks", TtlUnit::Weeks),
];

impl Kind {
    /// How the README names the type.
    pub fn doc(&self) -> String {
        match self {
            Kind::Text => "string".into(),
            Kind::Url => "URL".into(),
            Kind::Bool => "boolean".into(),
            Kind::Whole { min, max } if *max >= LONG_MAX => format!("integer >= {min}"),
            Kind::Whole { min, max } => format!("integer {min}..{max}"),
            Kind::PositiveNumber => "number > 0".into(),
            Kind::OneOf(values) => values.join(" \\| "),
            Kind::Stores => "OnlineStore,OfflineStore".into(),
            Kind::Ttl => "<n> Seconds\\|Minutes\\|Hours\\|Days\\|Weeks".into(),
        }
    }

    /// The value `text` stands for, or the rule it breaks (never quoting the text: the caller decides whether
    /// it may be shown).
    pub fn parse(&self, text: &str) -> Result<OptionValue, String> {
        let text = text.trim();
        match self {
            Kind::Text if text.is_empty() => Err("must not be empty".into()),
            Kind::Text => Ok(OptionValue::Text(text.to_owned())),
            Kind::Url => check_endpoint(text).map(|()| OptionValue::Text(text.to_owned())),
            Kind::Bool => match text.to_ascii_lowercase().as_str() {
                "true" => Ok(OptionValue::Bool(true)),
                "false" => Ok(OptionValue::Bool(false)),
                _ => Err("must be true or false".into()),
            },
            Kind::Whole { min, max } => match text.parse::<u64>() {
                Ok(n) if (*min..=*max).contains(&n) => Ok(OptionValue::Whole(n)),
                Ok(_) => Err(format!("must be {}", self.doc())),
                Err(_) if text.parse::<i128>().is_ok() => Err(format!("must be {}", self.doc())),
                Err(_) => Err("must be an integer".into()),
            },
            Kind::PositiveNumber => match text.parse::<f64>() {
                Ok(n) if n.is_finite() && n > 0.0 => Ok(OptionValue::Number(n)),
                _ => Err("must be a number > 0".into()),
            },
            Kind::OneOf(values) => values
                .iter()
                .find(|v| v.eq_ignore_ascii_case(text))
                .map(|v| OptionValue::Text((*v).to_owned()))
                .ok_or_else(|| format!("must be one of {}", values.join(", "))),
            Kind::Stores => parse_stores(text),
            Kind::Ttl => parse_ttl(text),
        }
    }
}

fn parse_stores(text: &str) -> Result<OptionValue, String> {
    let mut stores = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let store = [TargetStore::OnlineStore, TargetStore::OfflineStore]
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(item))
            .ok_or_else(|| format!("unknown store {item} (OnlineStore, OfflineStore)"))?;
        if stores.contains(&store) {
            return Err("lists a store twice".into());
        }
        stores.push(store);
    }
    if stores.is_empty() {
        return Err("must list OnlineStore and/or OfflineStore".into());
    }
    Ok(OptionValue::Stores(stores))
}

fn parse_ttl(text: &str) -> Result<OptionValue, String> {
    let units = || TTL_UNITS.map(|(name, _)| name).join(", ");
    let mut parts = text.split_whitespace();
    let (Some(value), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("must look like '7 Days'".into());
    };
    let value = value.parse::<u32>().ok().filter(|v| *v >= 1);
    let unit = TTL_UNITS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(unit))
        .map(|(_, unit)| *unit);
    match (value, unit) {
        (Some(value), Some(unit)) => Ok(OptionValue::Ttl(TtlDuration { unit, value })),
        _ => Err(format!(
            "must be a positive whole number and a unit ({}), e.g. '7 Days'",
            units()
        )),
    }
}

impl OptionDef {
    /// The rule of a whole-number option, for values that did not come from text (a config built in code).
    pub fn check_whole(&self, value: u64, problems: &mut Vec<ConfigProblem>) {
        if let Kind::Whole { min, max } = self.kind
            && !(min..=max).contains(&value)
        {
            problems.push(ConfigProblem::new(
                self.name,
                format!("must be {}", self.kind.doc()),
            ));
        }
    }

    fn default_value(&self) -> Option<OptionValue> {
        match self.default {
            Default::Value(text) => self.kind.parse(text).ok(),
            Default::Required | Default::Unset(_) => None,
        }
    }
}

/// Options after [`parse`]: every option given, and every other one that has a default.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Options {
    values: BTreeMap<&'static str, OptionValue>,
}

impl Options {
    /// Every default and nothing given.
    pub fn defaults() -> Self {
        Self {
            values: ALL
                .iter()
                .filter_map(|o| Some((o.name, o.default_value()?)))
                .collect(),
        }
    }

    pub fn get(&self, option: &OptionDef) -> Option<&OptionValue> {
        self.values.get(option.name)
    }

    pub fn text(&self, option: &OptionDef) -> Option<String> {
        match self.get(option) {
            Some(OptionValue::Text(text)) => Some(text.clone()),
            _ => None,
        }
    }

    pub fn flag(&self, option: &OptionDef) -> bool {
        matches!(self.get(option), Some(OptionValue::Bool(true)))
    }

    pub fn whole(&self, option: &OptionDef) -> Option<u64> {
        match self.get(option) {
            Some(OptionValue::Whole(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn number(&self, option: &OptionDef) -> Option<f64> {
        match self.get(option) {
            Some(OptionValue::Number(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn stores(&self, option: &OptionDef) -> Option<Vec<TargetStore>> {
        match self.get(option) {
            Some(OptionValue::Stores(stores)) => Some(stores.clone()),
            _ => None,
        }
    }

    pub fn ttl(&self, option: &OptionDef) -> Option<TtlDuration> {
        match self.get(option) {
            Some(OptionValue::Ttl(ttl)) => Some(*ttl),
            _ => None,
        }
    }

    /// The options as given, secrets masked: for messages and logs.
    pub fn shown(&self, given: &Options) -> String {
        ALL.iter()
            .filter_map(|o| {
                let value = given.get(o)?;
                Some(if o.secret {
                    format!("{}=***", o.name)
                } else {
                    format!("{}={}", o.name, shown_value(value))
                })
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn shown_value(value: &OptionValue) -> String {
    match value {
        OptionValue::Text(text) => text.clone(),
        OptionValue::Bool(b) => b.to_string(),
        OptionValue::Whole(n) => n.to_string(),
        OptionValue::Number(n) => n.to_string(),
        OptionValue::Stores(stores) => stores.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","),
        OptionValue::Ttl(ttl) => format!("{} {}", ttl.value, ttl.unit.as_str()),
    }
}

/// The outcome of [`parse`]: what the JVM side reads back through the JNI.
#[derive(Debug, Serialize)]
pub struct Parsed {
    /// Every option given or defaulted, typed.
    pub values: Options,
    /// Every problem found, in the order the options are listed.
    pub problems: Vec<ConfigProblem>,
    /// The options given, secrets masked.
    pub shown: String,
}

/// Checks `given` (option name in any case → the text the user wrote) all at once.
pub fn parse<'a>(given: impl IntoIterator<Item = (&'a str, &'a str)>) -> Parsed {
    let mut problems = Vec::new();
    let mut found = Options {
        values: BTreeMap::new(),
    };
    let mut given: Vec<(&str, &str)> = given.into_iter().collect();
    given.sort_by_key(|(key, _)| key.to_ascii_lowercase());
    for (key, text) in given {
        let Some(option) = ALL.iter().find(|o| o.name.eq_ignore_ascii_case(key)) else {
            if !SPARK_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                problems.push(ConfigProblem::new(
                    key,
                    format!("unknown option{}", suggestion(key)),
                ));
            }
            continue;
        };
        match option.kind.parse(text) {
            Ok(value) => {
                found.values.insert(option.name, value);
            }
            Err(rule) if option.secret => problems.push(ConfigProblem::new(option.name, rule)),
            Err(rule) => {
                problems.push(ConfigProblem::new(
                    option.name,
                    format!("{rule} (given '{text}')"),
                ));
            }
        }
    }
    if found.get(&FEATURE_GROUP_NAME).is_none()
        && !problems.iter().any(|p| p.option == FEATURE_GROUP_NAME.name)
    {
        problems.push(ConfigProblem::new(
            FEATURE_GROUP_NAME.name,
            "is required (the name or ARN of the feature group)",
        ));
    }
    let shown = found.shown(&found);
    let mut values = Options::defaults();
    values.values.extend(found.values);
    Parsed {
        values,
        problems,
        shown,
    }
}

/// " (did you mean 'x'?)" for a near miss (typos, other connectors' spellings).
fn suggestion(key: &str) -> String {
    let key = key.to_ascii_lowercase();
    let (best, distance) = ALL
        .iter()
        .map(|o| (o.name, edit_distance(&key, &o.name.to_ascii_lowercase())))
        .min_by_key(|(_, d)| *d)
        .unwrap_or(("", usize::MAX));
    if distance <= (key.len() / 4).max(2) {
        format!(" (did you mean '{best}'?)")
    } else {
        String::new()
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current[j + 1] = (previous[j + 1] + 1).min(current[j] + 1).min(previous[j] + cost);
        }
        previous = current;
    }
    previous[b.len()]
}

pub const TABLE_BEGIN: &str =
    "<!-- options-table:begin (generated from rust/core/src/options.rs; its test prints it) -->";
pub const TABLE_END: &str = "<!-- options-table:end -->";

/// The README's options table, markers included.
pub fn markdown_table() -> String {
    let mut table =
        format!("{TABLE_BEGIN}\n| Option | Type | Default | What it does |\n| --- | --- | --- | --- |\n");
    for option in ALL {
        let default = match option.default {
            Default::Required => "(required)",
            Default::Unset(text) | Default::Value(text) => text,
        };
        let secret = if option.secret {
            " Secret: never logged."
        } else {
            ""
        };
        let _ = writeln!(
            table,
            "| `{}` | {} | {default} | {}{secret} |",
            option.name,
            option.kind.doc(),
            option.doc
        );
    }
    table.push_str(TABLE_END);
    table
}

/// The Python package's description of every option (python/featurestore_spark/options.json): the names it
/// derives its keyword arguments from, with the type, default and doc it shows in errors and help. The values
/// themselves are checked by [`parse`], through the jar, before a job starts.
pub fn python_json() -> String {
    #[derive(Serialize)]
    struct Described {
        name: &'static str,
        #[serde(rename = "type")]
        kind: String,
        required: bool,
        default: Option<&'static str>,
        doc: &'static str,
        secret: bool,
    }
    let described: Vec<Described> = ALL
        .iter()
        .map(|option| Described {
            name: option.name,
            // The README escapes `|` for its table; the JSON keeps the plain text.
            kind: option.kind.doc().replace("\\|", "|"),
            required: matches!(option.default, Default::Required),
            default: match option.default {
                Default::Required => None,
                Default::Unset(text) | Default::Value(text) => Some(text),
            },
            doc: option.doc,
            secret: option.secret,
        })
        .collect();
    let mut json = serde_json::to_string_pretty(&serde_json::json!({
        "generatedFrom": "rust/core/src/options.rs",
        "options": described,
    }))
    .unwrap_or_default();
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(given: &[(&str, &str)]) -> Vec<String> {
        parse(given.iter().copied())
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn every_default_parses_and_names_are_unique() {
        for option in ALL {
            if let Default::Value(text) = option.default {
                assert!(option.kind.parse(text).is_ok(), "{}", option.name);
            }
            let same = ALL
                .iter()
                .filter(|o| o.name.eq_ignore_ascii_case(option.name))
                .count();
            assert_eq!(same, 1, "{}", option.name);
        }
    }

    #[test]
    fn values_are_typed_whatever_the_case_of_names_and_values() {
        let parsed = parse([
            ("FEATUREGROUPNAME", " customers "),
            ("api", "batchwriterecord"),
            ("targetStores", "onlinestore, OfflineStore"),
            ("ttlDuration", "3 hours"),
            ("adaptiveRate", "False"),
            ("maxRecordsPerSecond", "2500.5"),
            ("path", "ignored"),
        ]);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let v = &parsed.values;
        assert_eq!(v.text(&FEATURE_GROUP_NAME).as_deref(), Some("customers"));
        assert_eq!(v.text(&API).as_deref(), Some("BatchWriteRecord"));
        assert_eq!(
            v.stores(&TARGET_STORES),
            Some(vec![TargetStore::OnlineStore, TargetStore::OfflineStore])
        );
        assert_eq!(
            v.ttl(&TTL_DURATION),
            Some(TtlDuration {
                unit: TtlUnit::Hours,
                value: 3
            })
        );
        assert!(!v.flag(&ADAPTIVE_RATE));
        assert_eq!(v.number(&MAX_RECORDS_PER_SECOND), Some(2500.5));
        assert_eq!(v.whole(&RECORDS_PER_REQUEST), Some(25), "defaults fill in");
        assert_eq!(v.text(&REGION), None);
        let json = serde_json::to_value(&parsed.values).unwrap();
        assert_eq!(json["ttlDuration"], serde_json::json!({"unit":"Hours","value":3}));
        assert_eq!(json["batchRows"], 4096);
    }

    #[test]
    fn each_kind_of_invalid_value_is_named_and_secrets_are_never_echoed() {
        let found = problems(&[
            ("featureGroupName", "g"),
            ("batchRows", "many"),
            ("batchBytes", "12"),
            ("maxRecordsPerSecond", "-1"),
            ("targetStores", "Online"),
            ("ttlDuration", "7"),
            ("ignoreUnknownColumns", "yes"),
            ("region", " "),
            ("secretAccessKey", "  "),
            ("runtimeEndpoint", "ftp://h"),
            ("maxFaildRecords", "1"),
            ("retryMaxAttempts", "-3"),
        ]);
        let expect = [
            "batchBytes: must be integer 1024..1073741824 (given '12')",
            "batchRows: must be an integer (given 'many')",
            "ignoreUnknownColumns: must be true or false (given 'yes')",
            "maxFaildRecords: unknown option (did you mean 'maxFailedRecords'?)",
            "maxRecordsPerSecond: must be a number > 0 (given '-1')",
            "region: must not be empty (given ' ')",
            "retryMaxAttempts: must be integer 1..2147483647 (given '-3')",
            "runtimeEndpoint: must start with http:// or https:// (given 'ftp://h')",
            "secretAccessKey: must not be empty",
            "targetStores: unknown store Online (OnlineStore, OfflineStore) (given 'Online')",
            "ttlDuration: must look like '7 Days' (given '7')",
        ];
        assert_eq!(found, expect);
        assert_eq!(
            problems(&[]),
            ["featureGroupName: is required (the name or ARN of the feature group)"]
        );
    }

    #[test]
    fn shown_options_mask_secrets() {
        let parsed = parse([
            ("featureGroupName", "g"),
            ("accessKeyId", "AKIDSECRET"),
            ("recordsPerRequest", "10"),
        ]);
        assert_eq!(
            parsed.shown,
            "featureGroupName=g, accessKeyId=***, recordsPerRequest=10"
        );
    }

    #[test]
    fn the_readme_options_table_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let table = markdown_table();
        // Once each: a second copy (a pasted test failure, say) would otherwise go unnoticed below the first.
        assert_eq!(
            (
                readme.matches(TABLE_BEGIN).count(),
                readme.matches(TABLE_END).count()
            ),
            (1, 1),
            "README.md must hold the options table's markers once each"
        );
        let current = readme
            .find(TABLE_BEGIN)
            .zip(readme.find(TABLE_END))
            .map(|(start, end)| &readme[start..end + TABLE_END.len()]);
        assert_eq!(
            current,
            Some(table.as_str()),
            "README.md's options table is missing or stale; put this in its place:\n{table}"
        );
    }

    #[test]
    fn the_python_packages_options_json_is_the_generated_one() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../python/featurestore_spark/options.json"
        );
        let json = python_json();
        if std::env::var_os("FEATURESTORE_UPDATE_GENERATED").is_some() {
            std::fs::write(path, &json).unwrap();
        }
        let current = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            current == json,
            "{path} is missing or stale: run FEATURESTORE_UPDATE_GENERATED=1 cargo test -p featurestore-core \
             --lib python_packages_options_json"
        );
    }
}
