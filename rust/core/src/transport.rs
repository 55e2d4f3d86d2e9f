//! Sending writes: the operations the sink needs (BatchWriteRecord, PutRecord, DeleteRecord) behind one interface, with two
//! implementations measured side by side by the `ingest` bench and chosen by the `transport` option:
//!
//! - [`lean`], the default: the body is spliced from encoded records ([`crate::request`]), signed with a cached
//!   SigV4 key ([`crate::signing`]) and sent with hyper 1 over a pooled connection;
//! - [`sdk`], the generated `aws-sdk-sagemakerfeaturestoreruntime` client (records are parsed back into the
//!   SDK's types, as a caller of the SDK would build them).
//!
//! Both report the same [`WriteOutcome`], so the sink, its retries and its tests do not know which one runs.

mod lean;
mod sdk;

use std::time::Duration;

use crate::config::{TargetStore, TtlDuration};
use crate::error::{ConfigProblem, Error, Result};
use crate::request::{BatchWriteReply, DeleteSpec, WriteTemplate};

pub use lean::{SendError, SignedHttp};
pub use sdk::SdkWriter;

/// An endpoint URL split into what requests need: the base to prefix paths with and the `Host` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://authority`, no trailing slash.
    pub base: String,
    pub authority: String,
    pub https: bool,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Self> {
        let invalid = |problem: String| {
            Error::InvalidConfig(vec![ConfigProblem::new("endpoint", format!("{url}: {problem}"))])
        };
        crate::config::check_endpoint(url).map_err(invalid)?;
        let uri: http::Uri = url.parse().map_err(|e| invalid(format!("{e}")))?;
        let authority = uri.authority().map(|a| a.as_str().to_owned()).unwrap_or_default();
        let https = uri.scheme_str() == Some("https");
        let scheme = if https { "https" } else { "http" };
        Ok(Self {
            base: format!("{scheme}://{authority}"),
            authority,
            https,
        })
    }
}

/// What every write to one feature group shares: the pre-rendered JSON parts and, for the SDK path, the
/// same options as typed values.
#[derive(Debug, Clone)]
pub struct WriteSpec {
    pub feature_group: String,
    pub target_stores: Option<Vec<TargetStore>>,
    pub ttl: Option<TtlDuration>,
    pub template: WriteTemplate,
    /// `Some` for a writer that deletes (`operation=delete`).
    pub delete: Option<DeleteSpec>,
}

impl WriteSpec {
    pub fn new(
        feature_group: &str,
        target_stores: Option<Vec<TargetStore>>,
        ttl: Option<TtlDuration>,
    ) -> Self {
        Self {
            template: WriteTemplate::new(feature_group, target_stores.as_deref(), ttl),
            feature_group: feature_group.to_owned(),
            target_stores,
            ttl,
            delete: None,
        }
    }

    /// The spec of a writer that deletes records rather than putting them.
    pub fn deleting(mut self, delete: DeleteSpec) -> Self {
        self.delete = Some(delete);
        self
    }
}

/// The result of one write call, whichever transport made it.
#[derive(Debug)]
pub enum WriteOutcome {
    /// HTTP 2xx. For BatchWriteRecord, the entries in error or unprocessed (every other entry was written);
    /// for PutRecord and DeleteRecord, an empty reply.
    Written(BatchWriteReply),
    /// An error answer to the whole call.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// No usable answer (timeout, connection error, unreadable response): the records' fate is unknown.
    NoAnswer { message: String },
    /// The request could not be built: nothing was sent.
    Unsendable { message: String },
    /// No credentials to sign with.
    Credentials(Error),
}

/// One call's outcome and what it cost.
#[derive(Debug)]
pub struct WriteReport {
    pub outcome: WriteOutcome,
    pub bytes_sent: usize,
    pub latency: Duration,
}

/// The two implementations of the write operations.
#[derive(Debug)]
pub enum Transport {
    Lean(Box<SignedHttp>),
    Sdk(SdkWriter),
}

impl Transport {
    pub async fn batch_write_record(&self, spec: &WriteSpec, records: &[&[u8]]) -> WriteReport {
        match self {
            Transport::Lean(http) => http.batch_write_record(spec, records).await,
            // Boxed: the SDK's future is several KB, and every lean call's future would carry its size.
            Transport::Sdk(sdk) => Box::pin(sdk.batch_write_record(spec, records)).await,
        }
    }

    pub async fn put_record(&self, spec: &WriteSpec, record: &[u8]) -> WriteReport {
        match self {
            Transport::Lean(http) => http.put_record(spec, record).await,
            Transport::Sdk(sdk) => Box::pin(sdk.put_record(spec, record)).await,
        }
    }

    /// DeleteRecord of the record identifier and event time of `record` (encoded from those two columns).
    pub async fn delete_record(&self, spec: &WriteSpec, record: &[u8]) -> WriteReport {
        match self {
            Transport::Lean(http) => http.delete_record(spec, record).await,
            Transport::Sdk(sdk) => Box::pin(sdk.delete_record(spec, record)).await,
        }
    }
}

/// An error and its causes on one line (hyper and the SDK put the useful part in the sources).
pub fn describe_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_split_into_base_and_host() {
        let e = Endpoint::parse("http://127.0.0.1:4566/").unwrap();
        assert_eq!(e.base, "http://127.0.0.1:4566");
        assert_eq!(e.authority, "127.0.0.1:4566");
        assert!(!e.https);
        let e = Endpoint::parse("https://featurestore-runtime.sagemaker.us-east-1.amazonaws.com").unwrap();
        assert!(e.https);
        assert_eq!(
            e.authority,
            "featurestore-runtime.sagemaker.us-east-1.amazonaws.com"
        );
        assert!(Endpoint::parse("127.0.0.1:80").is_err());
    }
}
