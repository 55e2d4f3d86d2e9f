//! Per-feature-group records-per-second caps through the Rust SDK: a cap throttles only its group, entries named
//! by ARN count against it, a change to the caps mid-run is a step (no bucket refilled), and `Stats::by_group`
//! counts each group's requests, records and throttling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod support;

use std::collections::BTreeMap;

use aws_sdk_sagemakerfeaturestoreruntime as sdk;
use aws_sdk_sagemakerfeaturestoreruntime::error::ProvideErrorMetadata;
use featurestore_local::stats::GroupStats;
use featurestore_local::{Faults, Server, ServerConfig};
use sdk::types::BatchWriteRecordEntry;
use support::{client, create_group, record};

const CAPPED_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:feature-group/capped";

fn entries(group: &str, prefix: &str, n: usize) -> Vec<BatchWriteRecordEntry> {
    (0..n)
        .map(|i| {
            BatchWriteRecordEntry::builder()
                .feature_group_name(group)
                .set_record(Some(record(&format!("{prefix}{i}"), "2024-01-01T00:00:00Z", "1")))
                .build()
        })
        .collect()
}

fn caps(groups: &[(&str, f64)]) -> Faults {
    Faults {
        max_records_per_second_by_group: groups.iter().map(|(g, r)| ((*g).to_owned(), *r)).collect(),
        ..Faults::default()
    }
}

/// The error code of a call answered with an error, or None when it succeeded.
async fn batch(client: &sdk::Client, entries: Vec<BatchWriteRecordEntry>) -> Option<String> {
    let call = client.batch_write_record().set_entries(Some(entries));
    match call.send().await {
        Ok(output) => {
            assert!(
                output
                    .errors()
                    .iter()
                    .all(|e| e.error_code() == Some("ResourceNotFound")),
                "{output:?}"
            );
            None
        }
        Err(error) => Some(error.into_service_error().code().unwrap_or_default().to_owned()),
    }
}

async fn put(client: &sdk::Client, group: &str, id: &str) -> Option<String> {
    let call = client.put_record().feature_group_name(group);
    match call
        .set_record(Some(record(id, "2024-01-01T00:00:00Z", "1")))
        .send()
        .await
    {
        Ok(_) => None,
        Err(error) => Some(error.into_service_error().code().unwrap_or_default().to_owned()),
    }
}

fn counts(requests: u64, records_written: u64, throttled: u64) -> GroupStats {
    GroupStats {
        requests,
        records_written,
        throttled,
    }
}

// The cap of `capped` is half a record per second: a write of more than half a record goes through only when
// its bucket is full, then owes the rest for seconds, so that each step below holds on a slow machine too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_cap_throttles_only_its_group_changes_as_a_step_and_is_counted_by_group() {
    let dir = support::DataDir::new("group-caps");
    let server = Server::start(ServerConfig {
        data_dir: dir.0.clone(),
        faults: caps(&[("capped", 0.5)]),
        ..ServerConfig::default()
    })
    .await
    .unwrap();
    let endpoint = server.endpoint();
    create_group(&endpoint, "capped").await;
    create_group(&endpoint, "free").await;
    let client = client(&endpoint, 1);
    let throttled = Some("ThrottlingException".to_owned());

    // A full bucket lets a mixed write through (19 records of `capped` owed); an unknown group is no one's.
    let mut mixed = entries("capped", "c", 19);
    mixed.extend(entries("free", "f", 5));
    mixed.extend(entries("nope", "n", 1));
    assert_eq!(batch(&client, mixed).await, None);
    // Entries naming `capped` by ARN draw on its budget; `free` has none.
    let by_arn = client
        .batch_write_record()
        .set_entries(Some(entries(CAPPED_ARN, "a", 3)))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(by_arn.code(), Some("ThrottlingException"));
    assert!(
        by_arn
            .message()
            .unwrap_or_default()
            .contains("feature group capped"),
        "{by_arn:?}"
    );
    assert_eq!(batch(&client, entries("free", "g", 25)).await, None);
    assert_eq!(put(&client, "capped", "p1").await, throttled);

    // Capping another group leaves `capped`'s debt as it is: a refilled bucket would take the next write.
    server
        .set_faults(caps(&[("capped", 0.5), ("free", 1000.0)]))
        .unwrap();
    assert_eq!(put(&client, CAPPED_ARN, "p2").await, throttled);
    assert_eq!(batch(&client, entries("free", "h", 5)).await, None);
    // Halving its cap keeps the debt (tokens clamped to the new burst, not refilled).
    server
        .set_faults(caps(&[("capped", 0.25), ("free", 1000.0)]))
        .unwrap();
    assert_eq!(put(&client, "capped", "p3").await, throttled);
    assert_eq!(server.faults().max_records_per_second_by_group["capped"], 0.25);
    // Without a cap the group is written again.
    server.set_faults(Faults::default()).unwrap();
    assert_eq!(put(&client, "capped", "p4").await, None);
    // Injected throttling is counted against every group a write names.
    server
        .set_faults(Faults {
            throttle_probability: 1.0,
            ..Faults::default()
        })
        .unwrap();
    let mut both = entries("free", "i", 2);
    both.extend(entries(CAPPED_ARN, "j", 1));
    assert_eq!(batch(&client, both).await, throttled);

    let stats = server.stats();
    assert_eq!(
        stats.by_group,
        BTreeMap::from([
            ("capped".to_owned(), counts(7, 20, 5)),
            ("free".to_owned(), counts(4, 35, 1)),
        ])
    );
    assert_eq!(stats.throttled, 5);
    server.reset_stats();
    assert!(server.stats().by_group.is_empty());
    server.shutdown().await.unwrap();
}
