//! featurestore-core: the native ingestion engine. No JNI here: everything is tested with `cargo test`
//! against `featurestore-local`.
//!
//! Data flows one way through the modules:
//! Arrow batch -> [`encode`] (validate + encode each row) -> [`record::EncodedBatch`] -> sink (requests in
//! flight, retries) -> acknowledged, or [`record::FailedRecord`] with its reason.

pub mod client;
pub mod config;
pub mod control;
pub mod credentials;
pub mod encode;
pub mod error;
pub mod metrics;
pub mod model;
pub mod rate;
pub mod record;
pub mod request;
pub mod retry;
pub mod runtime;
pub mod schema;
pub mod signing;
pub mod sink;
pub mod throughput;
pub mod transport;

pub use error::{Error, ErrorKind, Result, SchemaProblem};
