//! Sending writes: the operations the sink needs (BatchWriteRecord, PutRecord) behind one interface, with two
//! implementations measured side by side by the `ingest` bench:
//!
//! - [`Transport::Lean`], the production path: the body is spliced from encoded records ([`crate::request`]),
//!   signed with a cached SigV4 key ([`crate::signing`]) and sent with hyper 1 over a pooled connection;
//! - [`Transport::Sdk`], the generated `aws-sdk-sagemakerfeaturestoreruntime` client, the reference
//!   implementation (records are parsed back into the SDK's types, as a caller of the SDK would build them).
//!
//! Both report the same [`WriteOutcome`], so the sink, its retries and its tests do not know which one runs.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_sagemakerfeaturestoreruntime as sdk;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::Deserialize;
use serde_json::Value;

use crate::config::{ClientConfig, TargetStore, TtlDuration};
use crate::credentials::CredentialsCache;
use crate::error::{Error, Result};
use crate::request::{
    BATCH_WRITE_RECORD_PATH, BatchWriteReply, EntryError, ReturnedEntry, WriteTemplate, parse_error,
};
use crate::signing::{RequestToSign, Signer};

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
        crate::config::check_endpoint(url)
            .map_err(|p| Error::InvalidConfig(vec![format!("endpoint {url}: {p}")]))?;
        let uri: http::Uri = url
            .parse()
            .map_err(|e| Error::InvalidConfig(vec![format!("endpoint {url}: {e}")]))?;
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

type PlainClient = HyperClient<HttpConnector, Full<Bytes>>;
type TlsClient = HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A pooled HTTP/1.1 client for one endpoint: plain TCP for `http://` (loopback, the local store), rustls with
/// ring and the system's root certificates for `https://`.
#[derive(Debug, Clone)]
enum HttpClient {
    Plain(PlainClient),
    Tls(TlsClient),
}

impl HttpClient {
    fn new(endpoint: &Endpoint, config: &ClientConfig) -> Result<Self> {
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(Duration::from_millis(config.connect_timeout_ms)));
        let mut builder = HyperClient::builder(TokioExecutor::new());
        builder
            .pool_max_idle_per_host(config.max_connections)
            .pool_idle_timeout(Duration::from_secs(50))
            .pool_timer(TokioTimer::new());
        if endpoint.https {
            tcp.enforce_http(false);
            let tls = hyper_rustls::HttpsConnectorBuilder::new()
                .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
                .map_err(|e| Error::Transport {
                    operation: "connect",
                    message: format!("cannot load the system's root certificates: {e}"),
                })?
                .https_only()
                .enable_http1()
                .wrap_connector(tcp);
            Ok(HttpClient::Tls(builder.build(tls)))
        } else {
            Ok(HttpClient::Plain(builder.build(tcp)))
        }
    }

    async fn send(&self, request: Request<Full<Bytes>>) -> std::result::Result<HttpAnswer, String> {
        let response = match self {
            HttpClient::Plain(client) => client.request(request).await,
            HttpClient::Tls(client) => client.request(request).await,
        }
        .map_err(|e| describe_chain(&e))?;
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the response: {}", describe_chain(&e)))?
            .to_bytes();
        Ok(HttpAnswer {
            status,
            error_type,
            body,
        })
    }
}

/// A whole HTTP answer.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: u16,
    /// `x-amzn-ErrorType`, when the answer is an error.
    pub error_type: Option<String>,
    pub body: Bytes,
}

/// Why a signed request got no HTTP answer.
#[derive(Debug)]
pub enum SendError {
    /// Timeout, connection refused or reset, TLS failure: worth retrying.
    NoAnswer(String),
    /// Credentials could not be resolved, or cannot be carried by a request: retrying does not help.
    Credentials(Error),
    /// The request could not be built (a bug): retrying does not help either.
    Unsendable(String),
}

const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
const X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");

/// A header value that takes the string over instead of copying it; `unfit` says why when no header can carry it.
fn header_value(
    text: String,
    unfit: impl FnOnce() -> SendError,
) -> std::result::Result<HeaderValue, SendError> {
    HeaderValue::from_maybe_shared(Bytes::from(text)).map_err(|_| unfit())
}

fn unfit_signature() -> SendError {
    SendError::Unsendable("a signed header is not a valid header value".into())
}

/// Signed requests to one endpoint: the lean path's sender, shared by the runtime writes and the control plane.
#[derive(Debug)]
pub struct SignedHttp {
    endpoint: Endpoint,
    http: HttpClient,
    signer: Arc<Signer>,
    credentials: Arc<CredentialsCache>,
    timeout: Duration,
}

impl SignedHttp {
    pub fn new(
        endpoint: Endpoint,
        config: &ClientConfig,
        signer: Arc<Signer>,
        credentials: Arc<CredentialsCache>,
    ) -> Result<Self> {
        Ok(Self {
            http: HttpClient::new(&endpoint, config)?,
            endpoint,
            signer,
            credentials,
            timeout: Duration::from_millis(config.request_timeout_ms),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Signs and sends one request; the answer whatever its status, or why there was none.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &'static str,
        target: Option<&'static str>,
        body: Vec<u8>,
    ) -> std::result::Result<HttpAnswer, SendError> {
        let credentials = self.credentials.get().await.map_err(SendError::Credentials)?;
        let signed = self.signer.sign(
            &credentials,
            &RequestToSign {
                method: method.as_str(),
                host: &self.endpoint.authority,
                path,
                content_type,
                target,
                body: &body,
            },
            SystemTime::now(),
        );
        let mut uri = String::with_capacity(self.endpoint.base.len() + path.len());
        uri.push_str(&self.endpoint.base);
        uri.push_str(path);
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, &self.endpoint.authority)
            .header(header::CONTENT_TYPE, content_type)
            .header(X_AMZ_DATE, header_value(signed.amz_date, unfit_signature)?)
            .header(
                header::AUTHORIZATION,
                header_value(signed.authorization, unfit_signature)?,
            );
        if let Some(token) = signed.security_token {
            let mut value = header_value(token, || {
                SendError::Credentials(Error::Credentials(
                    "the session token cannot be sent: it holds a control character or a non-ASCII byte \
                     (a stray newline where it was set?)"
                        .into(),
                ))
            })?;
            value.set_sensitive(true);
            builder = builder.header(X_AMZ_SECURITY_TOKEN, value);
        }
        if let Some(target) = target {
            builder = builder.header(X_AMZ_TARGET, target);
        }
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| SendError::Unsendable(format!("cannot build the request: {e}")))?;
        match tokio::time::timeout(self.timeout, self.http.send(request)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(message)) => Err(SendError::NoAnswer(message)),
            Err(_) => Err(SendError::NoAnswer(format!(
                "no complete answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
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
        }
    }
}

/// The result of one write call, whichever transport made it.
#[derive(Debug)]
pub enum WriteOutcome {
    /// HTTP 2xx. For BatchWriteRecord, the entries in error or unprocessed (every other entry was written);
    /// for PutRecord, an empty reply.
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

const JSON: &str = "application/json";

impl Transport {
    pub async fn batch_write_record(&self, spec: &WriteSpec, records: &[&[u8]]) -> WriteReport {
        match self {
            Transport::Lean(http) => {
                let mut body = Vec::with_capacity(spec.template.batch_body_len(records.iter().copied()));
                spec.template.write_batch_body(records.iter().copied(), &mut body);
                let bytes_sent = body.len();
                let started = Instant::now();
                let answer = http
                    .send(Method::POST, BATCH_WRITE_RECORD_PATH, JSON, None, body)
                    .await;
                let outcome = outcome_of(answer, BatchWriteReply::parse);
                WriteReport {
                    outcome,
                    bytes_sent,
                    latency: started.elapsed(),
                }
            }
            // Boxed: the SDK's future is several KB, and every lean call's future would carry its size.
            Transport::Sdk(sdk) => Box::pin(sdk.batch_write_record(spec, records)).await,
        }
    }

    pub async fn put_record(&self, spec: &WriteSpec, record: &[u8]) -> WriteReport {
        match self {
            Transport::Lean(http) => {
                let mut body = Vec::new();
                spec.template.write_put_body(record, &mut body);
                let bytes_sent = body.len();
                let started = Instant::now();
                let answer = http
                    .send(Method::PUT, spec.template.put_path(), JSON, None, body)
                    .await;
                let outcome = outcome_of(answer, |_| Ok(BatchWriteReply::default()));
                WriteReport {
                    outcome,
                    bytes_sent,
                    latency: started.elapsed(),
                }
            }
            Transport::Sdk(sdk) => Box::pin(sdk.put_record(spec, record)).await,
        }
    }
}

fn outcome_of(
    answer: std::result::Result<HttpAnswer, SendError>,
    parse_success: impl FnOnce(&[u8]) -> std::result::Result<BatchWriteReply, String>,
) -> WriteOutcome {
    match answer {
        Ok(answer) if (200..300).contains(&answer.status) => match parse_success(&answer.body) {
            Ok(reply) => WriteOutcome::Written(reply),
            Err(message) => WriteOutcome::NoAnswer { message },
        },
        Ok(answer) => {
            let (code, message) = parse_error(answer.status, answer.error_type.as_deref(), &answer.body);
            WriteOutcome::Refused {
                status: answer.status,
                code,
                message,
            }
        }
        Err(SendError::NoAnswer(message)) => WriteOutcome::NoAnswer { message },
        Err(SendError::Credentials(error)) => WriteOutcome::Credentials(error),
        Err(SendError::Unsendable(message)) => WriteOutcome::Unsendable { message },
    }
}

/// The generated SDK client, configured like the lean path: same endpoint, credentials, timeouts and pool
/// size, and no retries of its own (the sink retries).
#[derive(Debug)]
pub struct SdkWriter {
    client: sdk::Client,
    credentials: Arc<CredentialsCache>,
}

/// One feature value as encoded JSON holds it.
#[derive(Deserialize)]
struct EncodedFeature {
    #[serde(rename = "FeatureName")]
    name: String,
    #[serde(rename = "ValueAsString")]
    value: Option<String>,
    #[serde(rename = "ValueAsStringList")]
    list: Option<Vec<String>>,
}

impl SdkWriter {
    pub fn new(
        sdk_config: &aws_config::SdkConfig,
        endpoint: &Endpoint,
        config: &ClientConfig,
        credentials: Arc<CredentialsCache>,
    ) -> Self {
        let http_client = aws_smithy_http_client::Builder::new()
            .pool_max_idle_per_host(config.max_connections)
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .operation_attempt_timeout(Duration::from_millis(config.request_timeout_ms))
            .build();
        let sdk_conf = sdk::config::Builder::from(sdk_config)
            .endpoint_url(endpoint.base.clone())
            .credentials_provider(CachedCredentials(Arc::clone(&credentials)))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config(timeouts)
            .http_client(http_client)
            .build();
        Self {
            client: sdk::Client::from_conf(sdk_conf),
            credentials,
        }
    }

    fn record_of(json: &[u8]) -> std::result::Result<Vec<sdk::types::FeatureValue>, String> {
        let features: Vec<EncodedFeature> =
            serde_json::from_slice(json).map_err(|e| format!("unreadable encoded record: {e}"))?;
        Ok(features
            .into_iter()
            .map(|f| {
                sdk::types::FeatureValue::builder()
                    .feature_name(f.name)
                    .set_value_as_string(f.value)
                    .set_value_as_string_list(f.list)
                    .build()
            })
            .collect())
    }

    fn ttl_of(spec: &WriteSpec) -> Option<sdk::types::TtlDuration> {
        spec.ttl.map(|ttl| {
            sdk::types::TtlDuration::builder()
                .unit(sdk::types::TtlDurationUnit::from(ttl.unit.as_str()))
                .value(i32::try_from(ttl.value).unwrap_or(i32::MAX))
                .build()
        })
    }

    fn stores_of(spec: &WriteSpec) -> Option<Vec<sdk::types::TargetStore>> {
        spec.target_stores.as_ref().map(|stores| {
            stores
                .iter()
                .map(|s| sdk::types::TargetStore::from(s.as_str()))
                .collect()
        })
    }

    /// Credentials come from the same cache as the lean path's; a failure is reported before calling the SDK,
    /// as the lean path reports it.
    async fn check_credentials(&self, bytes_sent: usize) -> Option<WriteReport> {
        match self.credentials.get().await {
            Ok(_) => None,
            Err(error) => Some(WriteReport {
                outcome: WriteOutcome::Credentials(error),
                bytes_sent,
                latency: Duration::ZERO,
            }),
        }
    }

    async fn batch_write_record(&self, spec: &WriteSpec, records: &[&[u8]]) -> WriteReport {
        let bytes_sent = spec.template.batch_body_len(records.iter().copied());
        if let Some(report) = self.check_credentials(bytes_sent).await {
            return report;
        }
        let mut call = self.client.batch_write_record();
        for record in records {
            let values = match Self::record_of(record) {
                Ok(values) => values,
                Err(message) => return unsendable(message, bytes_sent),
            };
            call = call.entries(
                sdk::types::BatchWriteRecordEntry::builder()
                    .feature_group_name(&spec.feature_group)
                    .set_record(Some(values))
                    .set_target_stores(Self::stores_of(spec))
                    .set_ttl_duration(Self::ttl_of(spec))
                    .build(),
            );
        }
        let started = Instant::now();
        let result = call.send().await;
        let latency = started.elapsed();
        let outcome = match result {
            Ok(output) => WriteOutcome::Written(BatchWriteReply {
                errors: output
                    .errors()
                    .iter()
                    .map(|e| EntryError {
                        entry: ReturnedEntry {
                            record: e
                                .entry()
                                .map(|entry| record_json(entry.record()))
                                .unwrap_or(Value::Null),
                        },
                        code: e.error_code().unwrap_or_default().to_owned(),
                        message: e.error_message().unwrap_or_default().to_owned(),
                    })
                    .collect(),
                unprocessed: output
                    .unprocessed_entries()
                    .iter()
                    .map(|entry| ReturnedEntry {
                        record: record_json(entry.record()),
                    })
                    .collect(),
            }),
            Err(error) => sdk_error_outcome(error),
        };
        WriteReport {
            outcome,
            bytes_sent,
            latency,
        }
    }

    async fn put_record(&self, spec: &WriteSpec, record: &[u8]) -> WriteReport {
        let mut body = Vec::new();
        spec.template.write_put_body(record, &mut body);
        let bytes_sent = body.len();
        if let Some(report) = self.check_credentials(bytes_sent).await {
            return report;
        }
        let values = match Self::record_of(record) {
            Ok(values) => values,
            Err(message) => return unsendable(message, bytes_sent),
        };
        let started = Instant::now();
        let result = self
            .client
            .put_record()
            .feature_group_name(&spec.feature_group)
            .set_record(Some(values))
            .set_target_stores(Self::stores_of(spec))
            .set_ttl_duration(Self::ttl_of(spec))
            .send()
            .await;
        let latency = started.elapsed();
        let outcome = match result {
            Ok(_) => WriteOutcome::Written(BatchWriteReply::default()),
            Err(error) => sdk_error_outcome(error),
        };
        WriteReport {
            outcome,
            bytes_sent,
            latency,
        }
    }
}

/// Hands the SDK the credentials of our cache (the SDK adds its own identity cache on top).
#[derive(Debug)]
struct CachedCredentials(Arc<CredentialsCache>);

impl aws_credential_types::provider::ProvideCredentials for CachedCredentials {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            self.0.get().await.map_err(|e| {
                aws_credential_types::provider::error::CredentialsError::provider_error(e.to_string())
            })
        })
    }
}

fn unsendable(message: String, bytes_sent: usize) -> WriteReport {
    WriteReport {
        outcome: WriteOutcome::Refused {
            status: 0,
            code: "InvalidEncodedRecord".into(),
            message,
        },
        bytes_sent,
        latency: Duration::ZERO,
    }
}

/// The SDK's record as the same JSON the encoder writes, to match returned entries against sent records.
fn record_json(values: &[sdk::types::FeatureValue]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|v| {
                let mut object = serde_json::Map::new();
                object.insert("FeatureName".into(), v.feature_name().unwrap_or_default().into());
                if let Some(text) = v.value_as_string() {
                    object.insert("ValueAsString".into(), text.into());
                }
                if !v.value_as_string_list().is_empty() {
                    object.insert("ValueAsStringList".into(), v.value_as_string_list().into());
                }
                Value::Object(object)
            })
            .collect(),
    )
}

fn sdk_error_outcome<E>(
    error: sdk::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> WriteOutcome
where
    E: sdk::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use sdk::error::SdkError;
    match &error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let err = service.err();
            WriteOutcome::Refused {
                status,
                code: err.code().map_or_else(|| format!("HTTP{status}"), str::to_owned),
                message: err.message().unwrap_or_default().to_owned(),
            }
        }
        SdkError::ConstructionFailure(_) => WriteOutcome::Refused {
            status: 0,
            code: "SdkConstructionFailure".into(),
            message: describe_chain(&error),
        },
        _ => WriteOutcome::NoAnswer {
            message: describe_chain(&error),
        },
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

    #[test]
    fn answers_become_outcomes() {
        let ok = outcome_of(
            Ok(HttpAnswer {
                status: 200,
                error_type: None,
                body: Bytes::from_static(br#"{"Errors":[],"UnprocessedEntries":[]}"#),
            }),
            BatchWriteReply::parse,
        );
        assert!(matches!(ok, WriteOutcome::Written(reply) if reply.is_clean()));
        let throttled = outcome_of(
            Ok(HttpAnswer {
                status: 400,
                error_type: Some("ThrottlingException".into()),
                body: Bytes::from_static(br#"{"message":"slow down"}"#),
            }),
            BatchWriteReply::parse,
        );
        assert!(
            matches!(throttled, WriteOutcome::Refused { status: 400, ref code, .. } if code == "ThrottlingException")
        );
        let garbled = outcome_of(
            Ok(HttpAnswer {
                status: 200,
                error_type: None,
                body: Bytes::from_static(b"<html>"),
            }),
            BatchWriteReply::parse,
        );
        assert!(matches!(garbled, WriteOutcome::NoAnswer { .. }));
    }

    #[test]
    fn sdk_records_render_as_the_encoders_json() {
        let json = br#"[{"FeatureName":"id","ValueAsString":"7"},{"FeatureName":"tags","ValueAsStringList":["a","b"]}]"#;
        let values = SdkWriter::record_of(json).unwrap();
        assert_eq!(
            record_json(&values),
            serde_json::from_slice::<Value>(json).unwrap()
        );
    }
}
