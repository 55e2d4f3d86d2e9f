//! featurestore-local: a local Amazon SageMaker Feature Store speaking the real wire protocols, so that the
//! unmodified AWS SDKs (Rust, Java v2, boto3) run against it.
//!
//! One port serves three things:
//! - the control plane (`sagemaker`, JSON 1.1, `POST /` with `X-Amz-Target: SageMaker.<Operation>`);
//! - the runtime (`sagemaker-featurestore-runtime`, REST-JSON);
//! - an admin API under `/_local/` (faults, stats, flush).
//!
//! Given credentials, it checks every control-plane and runtime request's SigV4 signature as the service does
//! (`signature`).
//!
//! Data lives under the configured data directory: feature group definitions in `catalog/`, the online
//! store as one append-only log per feature group in `online/` (an in-memory index answers reads; writes are
//! appended to a buffer that a background task flushes and fsyncs), and the offline store as Parquet files in
//! the service's S3 layout under `s3/<bucket>/<prefix>/`.
//!
//! Use [`Server`] inside an async test or program, [`BackgroundServer`] from plain `#[test]`s and benches, or
//! the `featurestore-local` binary.

mod admin;
mod app;
pub mod config;
mod control_plane;
pub mod error;
mod faults;
mod http;
mod model;
#[cfg(test)]
mod request_fuzz;
mod runtime;
mod server;
pub mod signature;
pub mod stats;
mod store;
#[cfg(test)]
mod test_dir;

pub use config::{Faults, OfflineCompression, ServerConfig};
pub use error::Error;
pub use server::{BackgroundServer, RunningStore, Server};
pub use signature::AcceptedKey;
pub use stats::Stats;
