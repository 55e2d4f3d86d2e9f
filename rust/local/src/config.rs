//! What a server is started with: where it listens, where it keeps data, which account and region it pretends
//! to be, how often it flushes, and which faults it injects.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::operation::Operation;

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
    /// How long a shutdown waits for in-flight requests before closing their connections.
    pub shutdown_grace: Duration,
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
            shutdown_grace: Duration::from_secs(10),
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
/// ceiling apply to the runtime's operations (or only to those listed in `operations`); `denied_operations`
/// apply to any operation. Serialized as JSON for `GET`/`PUT /_local/faults` (missing members take their
/// default, so `{}` clears every fault).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every affected request before it is processed.
    pub latency_ms: u64,
    /// A uniformly random extra latency in `0..=latency_jitter_ms`.
    pub latency_jitter_ms: u64,
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
    /// Operations answered as if the caller's IAM role lacked the permission: `AccessForbidden` (HTTP 403)
    /// on the runtime, `AccessDeniedException` (HTTP 400) on the control plane. E.g. `["BatchWriteRecord"]`.
    pub denied_operations: Vec<String>,
    /// The operations the other faults apply to; empty means every runtime operation.
    pub operations: Vec<String>,
}

impl Faults {
    /// Checks ranges and operation names; the admin API and the command line reject invalid faults.
    pub fn validate(&self) -> Result<(), String> {
        let probabilities = [
            ("throttle_probability", self.throttle_probability),
            ("server_error_probability", self.server_error_probability),
            ("unavailable_probability", self.unavailable_probability),
            ("connection_reset_probability", self.connection_reset_probability),
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
}
