//! What the transports put on the wire, captured by a minimal HTTP server on 127.0.0.1: the lean path's
//! BatchWriteRecord and PutRecord requests carry the same JSON as the generated SDK's for the same records, and
//! their SigV4 signature is the one `aws-sigv4`'s own signer computes over the request as received (the local
//! store does not verify signatures, so this is where the lean signer meets a real request).
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::{TestStore, batch};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_smithy_runtime_api::client::identity::Identity;
use featurestore_core::config::{Api, ClientConfig, TransportKind, WriterConfig};
use featurestore_core::metrics::index;
use featurestore_core::sink::Writer;
use serde_json::Value;

#[derive(Debug, Clone)]
struct Captured {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// Accepts connections and answers every request with 200 and a clean BatchWriteRecord reply, keeping what
/// it received. Stops with the test process.
fn capturing_server() -> (String, Arc<Mutex<Vec<Captured>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let captured = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&captured);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let sink = Arc::clone(&sink);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = request_line.split_whitespace();
                    let (method, path) = (parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned());
                    let mut headers = BTreeMap::new();
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        let (name, value) = line.split_once(':').unwrap();
                        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
                    }
                    let length: usize = headers.get("content-length").map_or(0, |l| l.parse().unwrap());
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    sink.lock().unwrap().push(Captured {
                        method,
                        path,
                        headers,
                        body,
                    });
                    let reply = br#"{"Errors":[],"UnprocessedEntries":[]}"#;
                    write!(
                        writer,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        reply.len()
                    )
                    .unwrap();
                    writer.write_all(reply).unwrap();
                }
            });
        }
    });
    (endpoint, captured)
}

fn client(endpoint: &str, transport: TransportKind) -> ClientConfig {
    ClientConfig {
        region: Some("eu-central-1".into()),
        runtime_endpoint: Some(endpoint.to_owned()),
        control_endpoint: Some(endpoint.to_owned()),
        access_key_id: Some("AKIDWIRE".into()),
        secret_access_key: Some("wire/secret+key".into()),
        session_token: Some("wire-session-token".into()),
        transport,
        ..ClientConfig::default()
    }
}

/// Writes 30 rows (two BatchWriteRecord calls, or 30 PutRecord calls) through one transport; returns what the
/// server received, in path order.
fn capture(api: Api, transport: TransportKind) -> Vec<Captured> {
    let store = TestStore::start(); // only for the feature group's model
    let model = store.create_group("wire-group");
    let (endpoint, captured) = capturing_server();
    let mut config = WriterConfig::new("wire-group");
    config.client = client(&endpoint, transport);
    config.api = api;
    config.max_in_flight = 1; // one call at a time: the captured order is the sending order
    let mut writer = Writer::open(config, model).unwrap();
    writer.write_batch(&batch(0, 30)).unwrap();
    writer.flush().unwrap();
    assert_eq!(writer.metrics()[index::ROWS_ACKNOWLEDGED], 30);
    captured.lock().unwrap().clone()
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap()
}

#[test]
fn lean_and_sdk_send_the_same_json_to_the_same_operations() {
    for api in [Api::BatchWriteRecord, Api::PutRecord] {
        let lean = capture(api, TransportKind::Lean);
        let sdk = capture(api, TransportKind::Sdk);
        assert_eq!(lean.len(), sdk.len(), "{api:?}");
        assert_eq!(lean.len(), if api == Api::PutRecord { 30 } else { 2 });
        for (ours, reference) in lean.iter().zip(&sdk) {
            assert_eq!(
                (&ours.method, &ours.path),
                (&reference.method, &reference.path),
                "{api:?}"
            );
            assert_eq!(json(&ours.body), json(&reference.body), "{api:?}: bodies differ");
            assert_eq!(ours.headers["content-type"], reference.headers["content-type"]);
            assert_eq!(ours.headers["x-amz-security-token"], "wire-session-token");
        }
    }
}

#[test]
fn the_lean_signature_is_the_one_aws_sigv4_computes_for_the_received_request() {
    for api in [Api::BatchWriteRecord, Api::PutRecord] {
        for request in capture(api, TransportKind::Lean).iter().take(3) {
            let authorization = &request.headers["authorization"];
            let signed_headers = authorization
                .split("SignedHeaders=")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap();
            assert_eq!(
                signed_headers,
                "content-type;host;x-amz-date;x-amz-security-token"
            );
            assert!(
                authorization.contains("/eu-central-1/sagemaker/aws4_request"),
                "{authorization}"
            );

            let amz_date = &request.headers["x-amz-date"];
            let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
            let when = time::PrimitiveDateTime::parse(amz_date, &format)
                .unwrap()
                .assume_utc();
            let when = UNIX_EPOCH + Duration::from_secs(u64::try_from(when.unix_timestamp()).unwrap());
            let reference = reference_authorization(request, when);
            assert_eq!(authorization, &reference, "{api:?} {}", request.path);
            assert!(when <= SystemTime::now());
        }
    }
}

/// The Authorization header `aws-sigv4` computes for the captured request's signed parts.
fn reference_authorization(request: &Captured, when: SystemTime) -> String {
    let credentials = aws_credential_types::Credentials::new(
        "AKIDWIRE",
        "wire/secret+key",
        Some("wire-session-token".into()),
        None,
        "test",
    );
    let identity: Identity = credentials.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-central-1")
        .name("sagemaker")
        .time(when)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = format!("http://{}{}", request.headers["host"], request.path);
    let headers = [
        ("content-type", request.headers["content-type"].as_str()),
        ("host", request.headers["host"].as_str()),
    ];
    let signable = SignableRequest::new(
        &request.method,
        &url,
        headers.into_iter(),
        SignableBody::Bytes(&request.body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions
        .headers()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.to_owned())
        .unwrap()
}
