//! featurestore-core: the native ingestion engine. No JNI here: everything is tested with `cargo test`
//! against `featurestore-local`.
//!
//! Data flows one way through the modules:
//! Arrow batch -> [`encode`] (validate + encode each row) -> [`record::EncodedBatch`] -> sink (requests in
//! flight, retries) -> acknowledged, or [`record::FailedRecord`] with its reason.
//!
//! Public is what the JNI crate, the benches and the tests use: the options and config, the model and schema
//! check, the encoder and its records, the sink and its metrics, the control-plane call, clients and runtimes
//! (the tests' own control-plane calls), and the rate controller (the simulation). How requests are built,
//! signed, sent and retried, and where credentials come from, stay inside.

pub mod client;
pub mod config;
pub mod control;
mod credentials;
pub mod encode;
pub mod error;
pub mod feature_groups;
pub mod heap;
pub mod io_runtime;
pub mod ipc;
pub mod metrics;
pub mod model;
pub mod offline;
pub mod options;
pub mod rate;
pub mod readiness;
pub mod record;
mod request;
mod retry;
pub mod schema;
mod signing;
pub mod sink;
pub mod throughput;
mod transport;

pub use error::{ConfigProblem, Error, ErrorKind, Result, SchemaProblem};
