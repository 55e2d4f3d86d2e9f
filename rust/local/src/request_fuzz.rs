//! Property-based fuzzing of the store's request handling, below HTTP: every operation's handler fed random bytes,
//! mutated valid requests (bytes flipped, cut, repeated, inserted) and random path labels and query strings. Any
//! answer, a success or a service error, is fine; a panic is not. Writes are discarded (the `discard_writes`
//! fault), so a long run does not fill the disk.
//!
//! The suite runs a short version; the long run (README, "Fuzzing") sets PROPTEST_CASES:
//! `PROPTEST_CASES=10000000 cargo test --release --locked -p featurestore-local request_fuzz`.

use std::sync::LazyLock;

use proptest::prelude::*;
use tokio::sync::Notify;

use crate::app::App;
use crate::config::{Faults, ServerConfig};
use crate::control_plane;
use crate::faults::FaultInjector;
use crate::model::operation::Operation;
use crate::runtime;
use crate::stats::StatsCollector;
use crate::store::Store;
use crate::test_dir::TestDir;

const GROUP: &str = "fuzz";

/// Valid requests of each operation, the seeds that mutations start from (control-plane bodies, runtime bodies,
/// and query strings for GetRecord and DeleteRecord).
fn seed(operation: Operation) -> &'static str {
    match operation {
        Operation::CreateFeatureGroup => {
            r#"{"FeatureGroupName":"fuzz-new","RecordIdentifierFeatureName":"id","EventTimeFeatureName":"ts","FeatureDefinitions":[{"FeatureName":"id","FeatureType":"String"},{"FeatureName":"ts","FeatureType":"String"},{"FeatureName":"v","FeatureType":"Fractional","CollectionType":"Vector","CollectionConfig":{"VectorConfig":{"Dimension":2}}}],"OnlineStoreConfig":{"EnableOnlineStore":true,"StorageType":"InMemory"}}"#
        }
        Operation::DescribeFeatureGroup => r#"{"FeatureGroupName":"fuzz","NextToken":"1"}"#,
        Operation::ListFeatureGroups => {
            r#"{"NameContains":"fu","SortBy":"Name","SortOrder":"Ascending","MaxResults":2,"NextToken":"1"}"#
        }
        Operation::UpdateFeatureGroup => {
            r#"{"FeatureGroupName":"fuzz","FeatureAdditions":[{"FeatureName":"extra","FeatureType":"Integral"}]}"#
        }
        Operation::DeleteFeatureGroup => r#"{"FeatureGroupName":"fuzz-new"}"#,
        Operation::PutRecord => {
            r#"{"Record":[{"FeatureName":"id","ValueAsString":"a"},{"FeatureName":"ts","ValueAsString":"2024-01-01T00:00:00Z"},{"FeatureName":"n","ValueAsString":"1"},{"FeatureName":"tags","ValueAsStringList":["x","y"]}],"TargetStores":["OnlineStore"],"TtlDuration":{"Unit":"Days","Value":1}}"#
        }
        Operation::BatchWriteRecord => {
            r#"{"Records":[{"FeatureGroupName":"fuzz","Record":[{"FeatureName":"id","ValueAsString":"a"},{"FeatureName":"ts","ValueAsString":"1700000000.5"},{"FeatureName":"x","ValueAsString":"1e300"}]}]}"#
        }
        Operation::BatchGetRecord => {
            r#"{"Identifiers":[{"FeatureGroupName":"fuzz","RecordIdentifiersValueAsString":["a","b"],"FeatureNames":["id"]}],"ExpirationTimeResponse":"Enabled"}"#
        }
        Operation::ListRecords => r#"{"MaxResults":2,"NextToken":"YQ","IncludeSoftDeletedRecords":true}"#,
        Operation::GetRecord => {
            "RecordIdentifierValueAsString=a&FeatureName=id&ExpirationTimeResponse=Enabled"
        }
        Operation::DeleteRecord => {
            "RecordIdentifierValueAsString=a&EventTime=2024-01-01T00%3A00%3A00Z&DeletionMode=HardDelete&TargetStores=OnlineStore"
        }
    }
}

/// One store for the whole run, with the group the seeds name.
static APP: LazyLock<(App, TestDir)> = LazyLock::new(|| {
    let dir = TestDir::new("request-fuzz");
    let config = ServerConfig {
        data_dir: dir.path().to_owned(),
        ..ServerConfig::default()
    };
    let app = App {
        store: Store::open(&config).expect("store opens"),
        faults: FaultInjector::new(Faults {
            discard_writes: true,
            ..Faults::default()
        }),
        stats: StatsCollector::new(),
        max_body_bytes: config.max_body_bytes,
        offline_flush_rows: config.offline_flush_rows,
        flush_wanted: Notify::new(),
        credentials: Vec::new(),
        region: config.region.clone(),
        describe_page_size: 2,
    };
    let group = r#"{"FeatureGroupName":"fuzz","RecordIdentifierFeatureName":"id","EventTimeFeatureName":"ts","FeatureDefinitions":[{"FeatureName":"id","FeatureType":"String"},{"FeatureName":"ts","FeatureType":"String"},{"FeatureName":"n","FeatureType":"Integral"},{"FeatureName":"x","FeatureType":"Fractional"},{"FeatureName":"tags","FeatureType":"String","CollectionType":"List"}],"OnlineStoreConfig":{"EnableOnlineStore":true,"StorageType":"InMemory"}}"#;
    control_plane::handle(&app, Operation::CreateFeatureGroup, group.as_bytes()).expect("the fuzz group");
    (app, dir)
});

/// Answers one request as the server would after routing it; the answer itself does not matter.
fn answer(operation: Operation, label: &str, input: &[u8]) {
    let app = &APP.0;
    if operation.is_runtime() {
        let uses_query = matches!(operation, Operation::GetRecord | Operation::DeleteRecord);
        let (query, body) = if uses_query {
            (Some(String::from_utf8_lossy(input).into_owned()), &[][..])
        } else {
            (None, input)
        };
        let _ = runtime::handle(app, operation, Some(label), query.as_deref(), body);
    } else {
        let _ = control_plane::handle(app, operation, input);
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize, usize),
    Insert(usize, Vec<u8>),
    Repeat(usize, usize),
}

fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for mutation in mutations {
        let at = |i: usize| {
            if bytes.is_empty() {
                0
            } else {
                i % (bytes.len() + 1)
            }
        };
        match mutation {
            Mutation::Flip(i, bits) if !bytes.is_empty() => {
                let i = i % bytes.len();
                bytes[i] ^= bits;
            }
            Mutation::Flip(..) => {}
            Mutation::Cut(i, n) => {
                let start = at(*i);
                let end = (start + n).min(bytes.len());
                bytes.drain(start..end);
            }
            Mutation::Insert(i, more) => {
                let start = at(*i);
                bytes.splice(start..start, more.iter().copied());
            }
            Mutation::Repeat(i, n) => {
                let start = at(*i);
                let end = (start + n).min(bytes.len());
                let copy = bytes[start..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(
        b"{}[]\":,\\0123456789-.eE truefalsenull\xff\xc3"
            .iter()
            .map(|b| vec![*b])
            .collect::<Vec<_>>(),
    );
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Cut(i, n)),
        (
            any::<usize>(),
            prop_oneof![interesting, prop::collection::vec(any::<u8>(), 1..8)]
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Repeat(i, n)),
    ]
}

fn operation() -> impl Strategy<Value = Operation> {
    prop::sample::select(Operation::ALL.to_vec())
}

/// Path labels: the group's name, other names, and text that is not a name (or not percent-decodable).
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(GROUP.to_owned()),
        1 => Just("arn:aws:sagemaker:us-east-1:123456789012:feature-group/fuzz".to_owned()),
        1 => "[a-zA-Z0-9%-]{0,20}",
        1 => "\\PC{0,10}",
    ]
}

proptest! {
    // A short run in the suite; PROPTEST_CASES sets the long one.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn request_fuzz_random_bytes_never_panic(
        operation in operation(),
        label in label(),
        bytes in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        answer(operation, &label, &bytes);
    }

    #[test]
    fn request_fuzz_mutated_valid_requests_never_panic(
        operation in operation(),
        label in label(),
        mutations in prop::collection::vec(mutation(), 0..6),
    ) {
        answer(operation, &label, &mutate(seed(operation).as_bytes(), &mutations));
    }
}
