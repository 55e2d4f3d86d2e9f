//! What a server is started with: where it listens, where it keeps data, which account and region it pretends
//! to be, how often it flushes, and which faults it injects.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::feature_group::MAX_FEATURE_DEFINITIONS;
use crate::model::names::is_valid_name;
use crate::model::operation::Operation;
use crate::signature::AcceptedKey;

/// A server's configuration. `Default` gives everything but `data_dir`, which the caller must set.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind; 127.0.0.1 unless told otherwise.
    pub host: IpAddr,
    /// Port to bind; 0 picks a free port (read it back with `Server::endpoint`).
    pub port: u16,
    /// Where the catalog, the online store and the offline store (`s3/`) live.
    pub data_dir: PathBuf,
    pub region: String,
    pub account_id: String,
    /// Faults injected from the start; change them later with `set_faults` or `PUT /_local/faults`.
    pub faults: Faults,
    /// How often buffered offline rows are written as Parquet files (also at shutdown and on
    /// `POST /_local/flush`).
    pub offline_flush_interval: Duration,
    /// Buffered offline rows of one feature group that trigger a flush before the interval ends.
    pub offline_flush_rows: usize,
    /// How often the online store's write buffer is appended to its log and fsynced: the most a crash can
    /// lose of acknowledged online writes.
    pub online_flush_interval: Duration,
    pub offline_compression: OfflineCompression,
    /// Largest request body accepted; larger ones get HTTP 413.
    pub max_body_bytes: usize,
    /// The account's feature group quota: CreateFeatureGroup beyond it fails with ResourceLimitExceeded.
    pub max_feature_groups: usize,
    /// Feature definitions per DescribeFeatureGroup answer; more come with a `NextToken`. The service's page
    /// is 2,500, as many as a group may have, so only a smaller page (for tests of clients' paging) pages.
    pub describe_page_size: usize,
    /// How long a shutdown waits for in-flight requests before closing their connections.
    pub shutdown_grace: Duration,
    /// The keys whose SigV4 signatures are accepted; empty (the default): signatures are not checked.
    pub credentials: Vec<AcceptedKey>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            data_dir: PathBuf::new(),
            region: "us-east-1".to_owned(),
            account_id: "123456789012".to_owned(),
            faults: Faults::default(),
            offline_flush_interval: Duration::from_secs(5),
            offline_flush_rows: 250_000,
            online_flush_interval: Duration::from_millis(200),
            offline_compression: OfflineCompression::Snappy,
            max_body_bytes: 16 << 20,
            max_feature_groups: 1000,
            describe_page_size: MAX_FEATURE_DEFINITIONS,
            shutdown_grace: Duration::from_secs(10),
            credentials: Vec::new(),
        }
    }
}

/// Compression of the offline store's Parquet files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum OfflineCompression {
    Snappy,
    None,
}

/// Faults the server injects, for tests and benchmarks. `Default` injects none.
///
/// Latency, throttling, server errors, connection resets, unprocessed entries and the records-per-second
/// ceilings apply to the runtime's operations (or only to those listed in `operations`); `denied_operations`
/// apply to any operation. Serialized as JSON for `GET`/`PUT /_local/faults` (missing members take their
/// default, so `{}` clears every fault).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every affected request before it is processed.
    pub latency_ms: u64,
    /// A uniformly random extra latency in `0..=latency_jitter_ms`.
    pub latency_jitter_ms: u64,
    /// Share of affected requests that wait `latency_spike_ms` more (a latency spike).
    pub latency_spike_probability: f64,
    pub latency_spike_ms: u64,
    /// Share of requests answered `ThrottlingException` (HTTP 429) without being processed.
    pub throttle_probability: f64,
    /// Share of requests answered `InternalFailure` (HTTP 500) without being processed.
    pub server_error_probability: f64,
    /// Share of requests answered `ServiceUnavailable` (HTTP 503) without being processed.
    pub unavailable_probability: f64,
    /// Share of requests whose connection is reset (TCP RST, no response) without being processed.
    pub connection_reset_probability: f64,
    /// Share of BatchWriteRecord entries returned in `UnprocessedEntries` (not written) instead of written.
    pub unprocessed_entry_probability: f64,
    /// Records per second accepted across all writes; a write that would exceed it is answered
    /// `ThrottlingException` (HTTP 429). A burst of one second's worth is allowed.
    pub max_records_per_second: Option<f64>,
    /// Records per second accepted for one feature group, by its name (names match regardless of case, as
    /// feature group names do; a group not created yet may be named). E.g. `{"customers": 2000}`. Each is a
    /// budget of its own, with one second of burst; a write is admitted only if every budget it draws on (this
    /// store-wide one and those of the groups its records belong to) has room for it.
    pub max_records_per_second_by_group: BTreeMap<String, f64>,
    /// Operations answered as if the caller's IAM role lacked the permission: `AccessForbidden` (HTTP 403)
    /// on the runtime, `AccessDeniedException` (HTTP 400) on the control plane. E.g. `["BatchWriteRecord"]`.
    pub denied_operations: Vec<String>,
    /// The operations the other faults apply to; empty means every runtime operation.
    pub operations: Vec<String>,
    /// Writes are validated and answered as written, but nothing is stored: for benchmarks of a client at
    /// volumes the store's disk and index could not hold (GetRecord then finds none of them).
    pub discard_writes: bool,
    /// Feature groups reported in another status than `Created` by DescribeFeatureGroup and ListFeatureGroups,
    /// by name (regardless of case), as the service reports a group being created, deleted, or that failed to
    /// be: e.g. `{"customers": {"status": "CreateFailed", "failure_reason": "..."}}`. Nothing else changes.
    pub group_statuses: BTreeMap<String, GroupStatus>,
}

/// A feature group status the service can report (`FeatureGroupStatus`) other than `Created`, and its
/// `FailureReason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupStatus {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// The statuses `group_statuses` may set.
pub const FAULT_STATUSES: [&str; 4] = ["Creating", "CreateFailed", "Deleting", "DeleteFailed"];

impl Faults {
    /// Checks ranges and operation names; the admin API and the command line reject invalid faults.
    pub fn validate(&self) -> Result<(), String> {
        let probabilities = [
            ("throttle_probability", self.throttle_probability),
            ("server_error_probability", self.server_error_probability),
            ("unavailable_probability", self.unavailable_probability),
            ("connection_reset_probability", self.connection_reset_probability),
            ("latency_spike_probability", self.latency_spike_probability),
            (
                "unprocessed_entry_probability",
                self.unprocessed_entry_probability,
            ),
        ];
        for (name, p) in probabilities {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} must be between 0 and 1, got {p}"));
            }
        }
        if let Some(rate) = self.max_records_per_second
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(format!(
                "max_records_per_second must be a positive number, got {rate}"
            ));
        }
        let mut capped = std::collections::HashSet::new();
        for (group, &rate) in &self.max_records_per_second_by_group {
            if !is_valid_name(group) {
                return Err(format!(
                    "max_records_per_second_by_group: '{group}' is not a feature group name"
                ));
            }
            if !(rate.is_finite() && rate > 0.0) {
                return Err(format!(
                    "max_records_per_second_by_group: the rate of '{group}' must be a positive number, got {rate}"
                ));
            }
            if !capped.insert(group.to_ascii_lowercase()) {
                return Err(format!(
                    "max_records_per_second_by_group: '{group}' is named twice (names match regardless of case)"
                ));
            }
        }
        for (group, status) in &self.group_statuses {
            if !is_valid_name(group) {
                return Err(format!("group_statuses: '{group}' is not a feature group name"));
            }
            if !FAULT_STATUSES.contains(&status.status.as_str()) {
                return Err(format!(
                    "group_statuses: the status of '{group}' must be one of {}, got '{}'",
                    FAULT_STATUSES.join(", "),
                    status.status
                ));
            }
        }
        for name in self.denied_operations.iter().chain(&self.operations) {
            if Operation::from_name(name).is_none() {
                return Err(format!(
                    "unknown operation '{name}'; known: {}",
                    Operation::ALL
                        .iter()
                        .map(|op| op.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_clears_every_fault() {
        let faults: Faults = serde_json::from_str("{}").unwrap();
        assert_eq!(faults, Faults::default());
        assert!(faults.validate().is_ok());
    }

    #[test]
    fn invalid_faults_are_rejected_with_the_member_named() {
        let faults = Faults {
            throttle_probability: 1.5,
            ..Faults::default()
        };
        assert!(faults.validate().unwrap_err().contains("throttle_probability"));
        let faults = Faults {
            denied_operations: vec!["PutRecords".into()],
            ..Faults::default()
        };
        assert!(faults.validate().unwrap_err().contains("PutRecords"));
        let faults = Faults {
            max_records_per_second: Some(0.0),
            ..Faults::default()
        };
        assert!(faults.validate().is_err());
        assert!(serde_json::from_str::<Faults>(r#"{"latency":5}"#).is_err());
    }

    #[test]
    fn group_caps_read_as_an_object_of_names_to_rates() {
        let faults: Faults = serde_json::from_str(
            r#"{"max_records_per_second_by_group": {"customers": 2000, "orders": 0.5}}"#,
        )
        .unwrap();
        assert_eq!(
            faults.max_records_per_second_by_group,
            BTreeMap::from([("customers".to_owned(), 2000.0), ("orders".to_owned(), 0.5)])
        );
        assert!(faults.validate().is_ok());
        let json = serde_json::to_value(&faults).unwrap();
        assert_eq!(
            json["max_records_per_second_by_group"],
            serde_json::json!({"customers": 2000.0, "orders": 0.5})
        );
        assert_eq!(
            serde_json::to_value(Faults::default()).unwrap()["max_records_per_second_by_group"],
            serde_json::json!({})
        );
    }

    #[test]
    fn invalid_group_caps_are_rejected_with_the_member_and_the_group_named() {
        let with_caps = |caps: &[(&str, f64)]| Faults {
            max_records_per_second_by_group: caps.iter().map(|(g, r)| ((*g).to_owned(), *r)).collect(),
            ..Faults::default()
        };
        for (caps, problem) in [
            (
                vec![("customers", 0.0)],
                "'customers' must be a positive number, got 0",
            ),
            (vec![("customers", -5.0)], "got -5"),
            (vec![("customers", f64::INFINITY)], "got inf"),
            (vec![("customers", f64::NAN)], "got NaN"),
            (vec![("", 10.0)], "'' is not a feature group name"),
            (
                vec![(
                    "arn:aws:sagemaker:us-east-1:123456789012:feature-group/customers",
                    10.0,
                )],
                "is not a feature group name",
            ),
            (vec![("Customers", 10.0), ("customers", 20.0)], "is named twice"),
        ] {
            let error = with_caps(&caps).validate().unwrap_err();
            assert!(error.starts_with("max_records_per_second_by_group"), "{error}");
            assert!(error.contains(problem), "{error}");
        }
        // A group that does not exist yet may be capped: it may be created later.
        assert!(with_caps(&[("not-created-yet", 10.0)]).validate().is_ok());
    }
}
