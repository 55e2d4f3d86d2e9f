//! featurestore-local given credentials checks SigV4 as the service does: the Rust SDK's signed requests pass
//! (control plane signed here with aws-sigv4, runtime by the SDK), and a missing signature, an unknown key, a
//! wrong secret and a missing session token get the service's errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod support;

use std::time::SystemTime;

use aws_sdk_sagemakerfeaturestoreruntime::config::Credentials;
use aws_sdk_sagemakerfeaturestoreruntime::error::ProvideErrorMetadata;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_smithy_runtime_api::client::identity::Identity;
use featurestore_local::{AcceptedKey, Server, ServerConfig};
use serde_json::Value;
use support::{client_with_credentials, control_headers, group_request, record, send_control};

const KEY: &str = "AKIDSIGNED";
const SECRET: &str = "signed-secret";
const TEMP_KEY: &str = "ASIATEMP";
const TEMP_SECRET: &str = "temp-secret";
const TOKEN: &str = "temp-session-token";

async fn start(dir: &support::DataDir) -> Server {
    let config = ServerConfig {
        data_dir: dir.0.clone(),
        credentials: vec![
            AcceptedKey::parse(&format!("{KEY}:{SECRET}")).unwrap(),
            AcceptedKey::parse(&format!("{TEMP_KEY}:{TEMP_SECRET}:{TOKEN}")).unwrap(),
        ],
        ..ServerConfig::default()
    };
    Server::start(config).await.unwrap()
}

/// A control-plane call, signed with `credentials` by aws-sigv4 unless `None`; returns status and body.
async fn control(
    endpoint: &str,
    operation: &str,
    body: Value,
    credentials: Option<&Credentials>,
) -> (u16, Value) {
    let body = body.to_string();
    let mut headers = control_headers(endpoint, operation);
    if let Some(credentials) = credentials {
        let identity: Identity = credentials.clone().into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("sagemaker")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            "POST",
            format!("{endpoint}/"),
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(body.as_bytes()),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        headers.extend(instructions.headers().map(|(n, v)| (n.to_owned(), v.to_owned())));
    }
    send_control(endpoint, &headers, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_requests_pass_and_bad_signatures_get_the_services_errors() {
    let dir = support::DataDir::new("signatures");
    let server = start(&dir).await;
    let endpoint = server.endpoint();
    let signed = Credentials::new(KEY, SECRET, None, None, "test");

    let (status, body) = control(&endpoint, "CreateFeatureGroup", group_request("signed"), None).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("MissingAuthenticationTokenException")),
        "{body}"
    );
    let wrong = Credentials::new(KEY, "not-the-secret", None, None, "test");
    let (status, body) = control(
        &endpoint,
        "CreateFeatureGroup",
        group_request("signed"),
        Some(&wrong),
    )
    .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidSignatureException")),
        "{body}"
    );
    let (status, body) = control(
        &endpoint,
        "CreateFeatureGroup",
        group_request("signed"),
        Some(&signed),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The runtime through the SDK, unmodified: a path with the group's name, JSON bodies, GET with a query.
    let client = client_with_credentials(&endpoint, signed);
    client
        .put_record()
        .feature_group_name("signed")
        .set_record(Some(record("r1", "2024-05-01T10:00:00Z", "1")))
        .send()
        .await
        .unwrap();
    let got = client
        .get_record()
        .feature_group_name("signed")
        .record_identifier_value_as_string("r1")
        .feature_names("count")
        .send()
        .await
        .unwrap();
    assert!(got.record.is_some());
    let temporary = client_with_credentials(
        &endpoint,
        Credentials::new(TEMP_KEY, TEMP_SECRET, Some(TOKEN.into()), None, "test"),
    );
    temporary
        .put_record()
        .feature_group_name("signed")
        .set_record(Some(record("r2", "2024-05-01T10:00:00Z", "2")))
        .send()
        .await
        .unwrap();

    let refused = [
        (
            Credentials::new(KEY, "not-the-secret", None, None, "test"),
            "InvalidSignatureException",
        ),
        (
            Credentials::new("AKIDUNKNOWN", SECRET, None, None, "test"),
            "UnrecognizedClientException",
        ),
        (
            Credentials::new(TEMP_KEY, TEMP_SECRET, None, None, "test"),
            "UnrecognizedClientException",
        ),
        (
            Credentials::new(TEMP_KEY, TEMP_SECRET, Some("another".into()), None, "test"),
            "UnrecognizedClientException",
        ),
    ];
    for (credentials, code) in refused {
        let error = client_with_credentials(&endpoint, credentials)
            .put_record()
            .feature_group_name("signed")
            .set_record(Some(record("r3", "2024-05-01T10:00:00Z", "3")))
            .send()
            .await
            .unwrap_err();
        let raw = error.raw_response().map(|r| r.status().as_u16());
        let service = error.into_service_error();
        assert_eq!((service.code(), raw), (Some(code), Some(403)), "{service:?}");
    }
    let missing = client
        .get_record()
        .feature_group_name("signed")
        .record_identifier_value_as_string("r3")
        .send()
        .await
        .unwrap();
    assert!(missing.record.is_none(), "a refused write was stored");
    server.shutdown().await.unwrap();
}
