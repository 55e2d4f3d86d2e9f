//! The lean path: request bodies spliced from encoded records, signed with a cached SigV4 key, sent with hyper 1
//! over pooled connections (plain TCP for loopback, rustls for https). Also the control plane's sender.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::{Endpoint, WriteOutcome, WriteReport, WriteSpec, describe_chain};
use crate::config::ClientConfig;
use crate::credentials::CredentialsCache;
use crate::error::{Error, Result};
use crate::request::{BATCH_WRITE_RECORD_PATH, BatchWriteReply, delete_query, parse_error};
use crate::signing::{RequestToSign, Signer};

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
            HttpClient::Plain(client) => client.request(request).await.map_err(|e| describe_chain(&e)),
            HttpClient::Tls(client) => client.request(request).await.map_err(|e| {
                let text = describe_chain(&e);
                // A connection that failed after TCP connected failed in the handshake, and rustls's own words
                // ("received corrupt message of type InvalidContentType") do not say that TLS is what failed.
                if e.is_connect() && !text.contains("tcp connect error") && !text.contains("dns error") {
                    format!("TLS handshake failed: {text}")
                } else {
                    text
                }
            }),
        }?;
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

    /// Signs and sends one request; the answer whatever its status, or why there was none. `path` may end in a
    /// `?query`, which must already be in SigV4's canonical form (see `request::delete_query`).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &'static str,
        target: Option<&'static str>,
        body: Vec<u8>,
    ) -> std::result::Result<HttpAnswer, SendError> {
        let credentials = self.credentials.get().await.map_err(SendError::Credentials)?;
        let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
        let signed = self.signer.sign(
            &credentials,
            &RequestToSign {
                method: method.as_str(),
                host: &self.endpoint.authority,
                path: path_only,
                query,
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

const JSON: &str = "application/json";

impl SignedHttp {
    pub(super) async fn batch_write_record(&self, spec: &WriteSpec, records: &[&[u8]]) -> WriteReport {
        let mut body = Vec::with_capacity(spec.template.batch_body_len(records.iter().copied()));
        spec.template.write_batch_body(records.iter().copied(), &mut body);
        let bytes_sent = body.len();
        let started = Instant::now();
        let answer = self
            .send(Method::POST, BATCH_WRITE_RECORD_PATH, JSON, None, body)
            .await;
        WriteReport {
            outcome: outcome_of(answer, BatchWriteReply::parse),
            bytes_sent,
            latency: started.elapsed(),
        }
    }

    pub(super) async fn put_record(&self, spec: &WriteSpec, record: &[u8]) -> WriteReport {
        let mut body = Vec::new();
        spec.template.write_put_body(record, &mut body);
        let bytes_sent = body.len();
        let started = Instant::now();
        let answer = self
            .send(Method::PUT, spec.template.put_path(), JSON, None, body)
            .await;
        WriteReport {
            outcome: outcome_of(answer, |_| Ok(BatchWriteReply::default())),
            bytes_sent,
            latency: started.elapsed(),
        }
    }
}

impl SignedHttp {
    /// DeleteRecord: `DELETE /FeatureGroup/<name>?<parameters>`, no body.
    pub(super) async fn delete_record(&self, spec: &WriteSpec, record: &[u8]) -> WriteReport {
        let query = match &spec.delete {
            Some(delete) => delete_query(record, delete, spec.target_stores.as_deref()),
            None => Err("a DeleteRecord call from a writer that does not delete".into()),
        };
        let query = match query {
            Ok(query) => query,
            Err(message) => {
                return WriteReport {
                    outcome: WriteOutcome::Unsendable { message },
                    bytes_sent: 0,
                    latency: Duration::ZERO,
                };
            }
        };
        let path = format!("{}?{query}", spec.template.put_path());
        let started = Instant::now();
        let answer = self.send(Method::DELETE, &path, JSON, None, Vec::new()).await;
        WriteReport {
            outcome: outcome_of(answer, |_| Ok(BatchWriteReply::default())),
            bytes_sent: 0,
            latency: started.elapsed(),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
