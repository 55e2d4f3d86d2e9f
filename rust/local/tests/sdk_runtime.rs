//! The Rust SDK (aws-sdk-sagemakerfeaturestoreruntime) against featurestore-local on a free port: every
//! runtime operation, errors as the SDK's typed errors, throttling classified as throttling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod support;

use aws_sdk_sagemakerfeaturestoreruntime as sdk;
use aws_sdk_sagemakerfeaturestoreruntime::error::{ProvideErrorMetadata, SdkError};
use featurestore_local::{BackgroundServer, Faults, Server, ServerConfig};
use sdk::operation::batch_write_record::BatchWriteRecordError;
use sdk::operation::get_record::GetRecordError;
use sdk::operation::put_record::PutRecordError;
use sdk::types::{BatchGetRecordIdentifier, BatchWriteRecordEntry, DeletionMode};
use support::{client, create_group, pairs, record, value};

/// A store on a free port with its own data directory (removed after the store stops).
struct Running {
    server: Server,
    _dir: support::DataDir,
}

impl std::ops::Deref for Running {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.server
    }
}

impl Running {
    async fn shutdown(self) -> Result<(), featurestore_local::Error> {
        let Running { server, _dir } = self;
        server.shutdown().await
    }
}

async fn start(test: &str) -> Running {
    let dir = support::DataDir::new(test);
    let config = ServerConfig {
        data_dir: dir.0.clone(),
        ..ServerConfig::default()
    };
    Running {
        server: Server::start(config).await.unwrap(),
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_then_get_returns_the_record_and_the_latest_event_time_wins() {
    let server = start("put-get").await;
    let endpoint = server.endpoint();
    create_group(&endpoint, "customers").await;
    let client = client(&endpoint, 1);

    let first = record("c1", "2024-05-01T10:00:00Z", "1");
    client
        .put_record()
        .feature_group_name("customers")
        .set_record(Some(first.clone()))
        .send()
        .await
        .unwrap();
    let older = record("c1", "2024-05-01T09:00:00Z", "0");
    client
        .put_record()
        .feature_group_name("customers")
        .set_record(Some(older))
        .send()
        .await
        .unwrap();

    let got = client
        .get_record()
        .feature_group_name("customers")
        .record_identifier_value_as_string("c1")
        .send()
        .await;
    assert_eq!(pairs(got.unwrap().record()), pairs(&first));

    let some = client
        .get_record()
        .feature_group_name("customers")
        .record_identifier_value_as_string("c1")
        .feature_names("count")
        .feature_names("label")
        .send()
        .await
        .unwrap();
    assert_eq!(
        pairs(some.record()),
        vec![("count".into(), "1".into()), ("label".into(), "x".into())]
    );

    let missing = client
        .get_record()
        .feature_group_name("customers")
        .record_identifier_value_as_string("nope");
    assert!(missing.send().await.unwrap().record.is_none());
    assert_eq!(server.stats().records_written["PutRecord"], 2);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_write_reports_bad_entries_per_entry_and_writes_the_rest() {
    let server = start("batch").await;
    let endpoint = server.endpoint();
    create_group(&endpoint, "orders").await;
    let client = client(&endpoint, 1);
    let entry = |group: &str, id: &str, count: &str| {
        BatchWriteRecordEntry::builder()
            .feature_group_name(group)
            .set_record(Some(record(id, "2024-05-01T10:00:00.250Z", count)))
            .build()
    };
    let output = client
        .batch_write_record()
        .entries(entry("orders", "o1", "10"))
        .entries(entry("orders", "o2", "not-a-number"))
        .entries(entry("no-such-group", "o3", "3"))
        .entries(entry("orders", "o4", "-4"))
        .send()
        .await
        .unwrap();
    let errors: Vec<(&str, &str)> = output
        .errors()
        .iter()
        .map(|e| {
            (
                e.error_code().unwrap(),
                e.entry().unwrap().feature_group_name().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            ("ValidationError", "orders"),
            ("ResourceNotFound", "no-such-group")
        ]
    );
    assert!(
        output.errors()[0].error_message().unwrap().contains("count"),
        "{:?}",
        output.errors()[0]
    );
    assert!(output.unprocessed_entries().is_empty());

    let batch = client
        .batch_get_record()
        .identifiers(
            BatchGetRecordIdentifier::builder()
                .feature_group_name("orders")
                .record_identifiers_value_as_string("o1")
                .record_identifiers_value_as_string("o2")
                .record_identifiers_value_as_string("o4")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let found: Vec<&str> = batch
        .records()
        .iter()
        .map(|r| r.record_identifier_value_as_string().unwrap())
        .collect();
    assert_eq!(found, vec!["o1", "o4"]);
    assert!(batch.errors().is_empty());

    let stats = server.stats();
    assert_eq!(stats.records_written["BatchWriteRecord"], 2);
    assert_eq!(stats.records_rejected, 2);
    assert_eq!(stats.entry_errors_by_code["ResourceNotFound"], 1);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_call_errors_surface_as_the_sdks_typed_errors() {
    let server = start("typed-errors").await;
    let endpoint = server.endpoint();
    create_group(&endpoint, "events").await;
    let client = client(&endpoint, 1);

    // PutRecord's model has no ResourceNotFound: the service answers ValidationError.
    let error = client
        .put_record()
        .feature_group_name("missing")
        .set_record(Some(record("a", "2024-01-01T00:00:00Z", "1")));
    match error.send().await.unwrap_err() {
        SdkError::ServiceError(e) => {
            assert!(
                matches!(e.err(), PutRecordError::ValidationError(_)),
                "{:?}",
                e.err()
            );
            assert_eq!(e.raw().status().as_u16(), 400);
            assert!(e.err().message().unwrap().contains("can't find a FeatureGroup"));
        }
        other => panic!("not a service error: {other:?}"),
    }

    let bad_time = client
        .put_record()
        .feature_group_name("events")
        .set_record(Some(record("a", "2024-01-01 00:00:00", "1")));
    let error = bad_time.send().await.unwrap_err().into_service_error();
    assert!(matches!(error, PutRecordError::ValidationError(_)), "{error:?}");
    assert!(
        error.message().unwrap().contains("yyyy-MM-dd'T'HH:mm:ssZ"),
        "{error:?}"
    );

    let get = client
        .get_record()
        .feature_group_name("missing")
        .record_identifier_value_as_string("a")
        .send()
        .await;
    let error = get.unwrap_err().into_service_error();
    assert!(matches!(error, GetRecordError::ResourceNotFound(_)), "{error:?}");

    let entry = BatchWriteRecordEntry::builder()
        .feature_group_name("events")
        .set_record(Some(record("a", "2024-01-01T00:00:00Z", "1")))
        .build();
    // Each injected fault, and the typed error the SDK makes of the store's answer.
    type IsExpected = fn(&BatchWriteRecordError) -> bool;
    let faults: [(Faults, IsExpected); 3] = [
        (
            Faults {
                denied_operations: vec!["BatchWriteRecord".into()],
                ..Faults::default()
            },
            |e| matches!(e, BatchWriteRecordError::AccessForbidden(_)),
        ),
        (
            Faults {
                server_error_probability: 1.0,
                ..Faults::default()
            },
            |e| matches!(e, BatchWriteRecordError::InternalFailure(_)),
        ),
        (
            Faults {
                unavailable_probability: 1.0,
                ..Faults::default()
            },
            |e| matches!(e, BatchWriteRecordError::ServiceUnavailable(_)),
        ),
    ];
    for (fault, is_expected) in faults {
        server.set_faults(fault).unwrap();
        let error = client
            .batch_write_record()
            .entries(entry.clone())
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(is_expected(&error), "{error:?}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_retries_throttling_as_throttling_and_reports_its_code() {
    let server = start("throttling").await;
    let endpoint = server.endpoint();
    create_group(&endpoint, "clicks").await;
    server
        .set_faults(Faults {
            throttle_probability: 1.0,
            ..Faults::default()
        })
        .unwrap();
    server.reset_stats();

    let put = client(&endpoint, 3).put_record().feature_group_name("clicks");
    let error = put
        .set_record(Some(record("k", "2024-01-01T00:00:00Z", "1")))
        .send()
        .await
        .unwrap_err();
    let raw_status = error.raw_response().map(|r| r.status().as_u16());
    let error = error.into_service_error();
    assert_eq!(error.code(), Some("ThrottlingException"));
    assert_eq!(raw_status, Some(429));
    // HTTP 429 is not among the SDK's transient statuses (500, 502, 503, 504): it retried because it classified
    // the code as throttling.
    let stats = server.stats();
    assert_eq!(stats.requests_by_operation["PutRecord"], 3);
    assert_eq!(stats.throttled, 3);

    // A terminal error is not retried.
    server.set_faults(Faults::default()).unwrap();
    server.reset_stats();
    let put = client(&endpoint, 3).put_record().feature_group_name("clicks");
    let invalid = put
        .set_record(Some(vec![value("id", "k")]))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(invalid.code(), Some("ValidationError"));
    assert_eq!(server.stats().requests_by_operation["PutRecord"], 1);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_records_per_second_ceiling_throttles_and_the_sdk_gets_through_after_retrying() {
    let server = start("rate").await;
    let endpoint = server.endpoint();
    create_group(&endpoint, "metered").await;
    // 500 records/s: the first 20 calls of 25 use the one-second burst, the next ones wait for the refill.
    server
        .set_faults(Faults {
            max_records_per_second: Some(500.0),
            ..Faults::default()
        })
        .unwrap();
    let backoff = (
        std::time::Duration::from_millis(20),
        std::time::Duration::from_millis(100),
    );
    let client = support::client_with_backoff(&endpoint, 30, backoff.0, backoff.1);
    let mut written = 0;
    for batch in 0..26 {
        let mut call = client.batch_write_record();
        for i in 0..25 {
            let entry = BatchWriteRecordEntry::builder()
                .feature_group_name("metered")
                .set_record(Some(record(
                    &format!("r{batch}-{i}"),
                    "2024-01-01T00:00:00Z",
                    "1",
                )))
                .build();
            call = call.entries(entry);
        }
        let output = call.send().await.unwrap();
        assert!(output.errors().is_empty());
        written += 25;
    }
    let stats = server.stats();
    assert_eq!(stats.records_written["BatchWriteRecord"], written);
    assert!(stats.throttled > 0, "{stats:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_lists_and_arns_work_through_the_sdk() {
    let server = start("delete-list").await;
    let endpoint = server.endpoint();
    create_group(&endpoint, "people").await;
    let client = client(&endpoint, 1);
    let arn = "arn:aws:sagemaker:us-east-1:123456789012:feature-group/people";
    for id in ["p1", "p2", "p3"] {
        let put = client.put_record().feature_group_name(arn);
        put.set_record(Some(record(id, "2024-01-01T00:00:00Z", "1")))
            .send()
            .await
            .unwrap();
    }
    client
        .delete_record()
        .feature_group_name("people")
        .record_identifier_value_as_string("p2")
        .event_time("2024-01-02T00:00:00Z")
        .send()
        .await
        .unwrap();
    client
        .delete_record()
        .feature_group_name(arn)
        .record_identifier_value_as_string("p3")
        .event_time("2024-01-02T00:00:00Z")
        .deletion_mode(DeletionMode::HardDelete)
        .send()
        .await
        .unwrap();
    let listed = client
        .list_records()
        .feature_group_name("people")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.record_identifiers(), ["p1"]);
    let with_soft_deleted = client
        .list_records()
        .feature_group_name("people")
        .include_soft_deleted_records(true)
        .send()
        .await
        .unwrap();
    assert_eq!(with_soft_deleted.record_identifiers(), ["p1", "p2"]);

    // A HardDelete older than the record is refused.
    let late = client
        .delete_record()
        .feature_group_name("people")
        .record_identifier_value_as_string("p1")
        .event_time("2023-01-01T00:00:00Z")
        .deletion_mode(DeletionMode::HardDelete)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(late.code(), Some("ValidationError"));

    // Paging.
    let first = client
        .list_records()
        .feature_group_name("people")
        .include_soft_deleted_records(true)
        .max_results(1);
    let first = first.send().await.unwrap();
    assert_eq!(first.record_identifiers(), ["p1"]);
    let next = client
        .list_records()
        .feature_group_name("people")
        .include_soft_deleted_records(true)
        .max_results(1)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(next.record_identifiers(), ["p2"]);
    assert!(next.next_token().is_none());
    server.shutdown().await.unwrap();
}

#[test]
fn a_background_server_serves_plain_tests_and_keeps_records_across_a_restart() {
    let dir = support::DataDir::new("background");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = BackgroundServer::start(ServerConfig {
        data_dir: dir.0.clone(),
        ..ServerConfig::default()
    })
    .unwrap();
    let endpoint = server.endpoint();
    runtime.block_on(async {
        create_group(&endpoint, "durable").await;
        let put = client(&endpoint, 1).put_record().feature_group_name("durable");
        put.set_record(Some(record("d1", "2024-01-01T00:00:00Z", "7")))
            .send()
            .await
            .unwrap();
    });
    server.shutdown().unwrap();

    let server = BackgroundServer::start(ServerConfig {
        data_dir: dir.0.clone(),
        ..ServerConfig::default()
    })
    .unwrap();
    let endpoint = server.endpoint();
    let got = runtime.block_on(async {
        let get = client(&endpoint, 1)
            .get_record()
            .feature_group_name("durable")
            .record_identifier_value_as_string("d1");
        get.send().await.unwrap()
    });
    assert_eq!(
        pairs(got.record()),
        pairs(&record("d1", "2024-01-01T00:00:00Z", "7"))
    );
}

// As the connector's tests do: the store stops and a new one starts on the same port and data directory at
// once, while the client keeps its pooled connection and another connection is held open, idle.
#[test]
fn a_store_restarted_on_the_same_port_serves_the_earlier_data_to_a_client_that_kept_its_connections() {
    let dir = support::DataDir::new("same-port");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let first = BackgroundServer::start(ServerConfig {
        data_dir: dir.0.clone(),
        ..ServerConfig::default()
    })
    .unwrap();
    let address = first.local_addr();
    let endpoint = first.endpoint();
    let client = client(&endpoint, 3);
    let held_open = std::net::TcpStream::connect(address).unwrap();
    runtime.block_on(async {
        create_group(&endpoint, "kept").await;
        let mut call = client.batch_write_record();
        for i in 0..25 {
            call = call.entries(
                BatchWriteRecordEntry::builder()
                    .feature_group_name("kept")
                    .set_record(Some(record(
                        &format!("k{i}"),
                        "2024-01-01T00:00:00Z",
                        &i.to_string(),
                    )))
                    .build(),
            );
        }
        assert!(call.send().await.unwrap().errors().is_empty());
    });
    let stopping = std::time::Instant::now();
    drop(first);
    // An idle connection does not hold up the stop for the shutdown grace period (10 s).
    assert!(
        stopping.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        stopping.elapsed()
    );

    for restart in 0..2 {
        let again = BackgroundServer::start(ServerConfig {
            port: address.port(),
            data_dir: dir.0.clone(),
            ..ServerConfig::default()
        })
        .unwrap_or_else(|e| panic!("restart {restart} on {address}: {e}"));
        assert_eq!(again.local_addr(), address);
        let got = runtime.block_on(async {
            let get = client
                .get_record()
                .feature_group_name("kept")
                .record_identifier_value_as_string("k24");
            get.send().await.unwrap()
        });
        assert_eq!(
            pairs(got.record()),
            pairs(&record("k24", "2024-01-01T00:00:00Z", "24"))
        );
        // The second time, stopped by shutdown() rather than by a drop.
        if restart == 0 {
            drop(again);
        } else {
            again.shutdown().unwrap();
        }
    }
    drop(held_open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_connection_is_a_dispatch_failure_that_the_sdk_retries() {
    let server = start("reset").await;
    let endpoint = server.endpoint();
    create_group(&endpoint, "flaky").await;
    server
        .set_faults(Faults {
            connection_reset_probability: 1.0,
            ..Faults::default()
        })
        .unwrap();
    let put = client(&endpoint, 2).put_record().feature_group_name("flaky");
    let error = put
        .set_record(Some(record("f", "2024-01-01T00:00:00Z", "1")))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, SdkError::DispatchFailure(_)), "{error:?}");
    assert_eq!(server.stats().connection_resets, 2);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discarded_writes_are_answered_as_written_and_not_stored() {
    let server = start("discard").await;
    let endpoint = server.endpoint();
    create_group(&endpoint, "volume").await;
    server
        .set_faults(Faults {
            discard_writes: true,
            ..Faults::default()
        })
        .unwrap();
    let client = client(&endpoint, 1);
    client
        .put_record()
        .feature_group_name("volume")
        .set_record(Some(record("v1", "2024-05-01T10:00:00Z", "1")))
        .send()
        .await
        .unwrap();
    let output = client
        .batch_write_record()
        .entries(
            BatchWriteRecordEntry::builder()
                .feature_group_name("volume")
                .set_record(Some(record("v2", "2024-05-01T10:00:00Z", "2")))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(output.errors().is_empty());
    // Still validated: a record without its event time is refused as the service would.
    let invalid = client
        .put_record()
        .feature_group_name("volume")
        .set_record(Some(vec![value("id", "v3")]))
        .send()
        .await;
    assert!(invalid.is_err());
    for id in ["v1", "v2"] {
        let got = client
            .get_record()
            .feature_group_name("volume")
            .record_identifier_value_as_string(id)
            .send()
            .await
            .unwrap();
        assert!(got.record.is_none(), "{id} was stored");
    }
    server.shutdown().await.unwrap();
}
