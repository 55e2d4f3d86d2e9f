//! End-to-end ingestion benchmark: Arrow batches of 20 features in, every record acknowledged by a real
//! `featurestore-local` running as a separate process, for both transports (lean and SDK) side by side.
//!
//! ```text
//! cargo build --release -p featurestore-local
//! taskset -c 0 cargo bench -p featurestore-core --bench ingest -- \
//!     [--records 1000000] [--put-records 100000] [--api batch,put] [--transport lean,sdk] \
//!     [--concurrency 16,64,256] [--latency-ms 0,5] [--store-cpu 1] [--store-bin target/release/featurestore-local]
//! ```
//!
//! Per case it prints records/s, client CPU per record (getrusage of this process, which holds the encoding
//! caller and the I/O runtime threads; the store is another process) and the I/O threads' share of it, peak
//! RSS (and, as base, the RSS before the case: the generated batches and the library, not the engine), and the
//! mean call latency with
//! what the store's injected latency really added. The store is pinned to `--store-cpu` with taskset; pin the
//! bench itself with `taskset -c 0` as above. Batches are generated before timing (16 distinct batches of
//! 4,096 rows, the connector's default `batchRows`, cycled), so their cost is not counted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use featurestore_core::client::client_for;
use featurestore_core::config::{Api, ClientConfig, TransportKind, WriterConfig};
use featurestore_core::io_runtime::next_runtime;
use featurestore_core::metrics::index;
use featurestore_core::model::FeatureGroup;
use featurestore_core::sink::Writer;
use serde_json::{Value, json};

// The connector's default `batchRows`: the default queue (`maxQueuedRecords`) holds two such batches.
const BATCH_ROWS: usize = 4_096;
const DISTINCT_BATCHES: usize = 16;

#[derive(Debug, Clone)]
struct Options {
    records: u64,
    put_records: u64,
    apis: Vec<Api>,
    transports: Vec<TransportKind>,
    concurrency: Vec<usize>,
    latency_ms: Vec<u64>,
    store_cpu: Option<String>,
    store_bin: String,
}

fn parse_options() -> Options {
    let mut options = Options {
        records: 1_000_000,
        put_records: 100_000,
        apis: vec![Api::BatchWriteRecord, Api::PutRecord],
        transports: vec![TransportKind::Lean, TransportKind::Sdk],
        concurrency: vec![16, 64, 256],
        latency_ms: vec![0, 5],
        store_cpu: Some("1".into()),
        store_bin: concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/release/featurestore-local"
        )
        .into(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).cloned().unwrap_or_default();
        let list = |v: String| v.split(',').map(str::trim).map(str::to_owned).collect::<Vec<_>>();
        match args[i].as_str() {
            "--records" => options.records = value().parse().expect("--records N"),
            "--put-records" => options.put_records = value().parse().expect("--put-records N"),
            "--api" => {
                options.apis = list(value())
                    .iter()
                    .map(|a| match a.as_str() {
                        "batch" => Api::BatchWriteRecord,
                        "put" => Api::PutRecord,
                        other => panic!("--api batch,put: {other}"),
                    })
                    .collect()
            }
            "--transport" => {
                options.transports = list(value())
                    .iter()
                    .map(|t| match t.as_str() {
                        "lean" => TransportKind::Lean,
                        "sdk" => TransportKind::Sdk,
                        other => panic!("--transport lean,sdk: {other}"),
                    })
                    .collect()
            }
            "--concurrency" => {
                options.concurrency = list(value()).iter().map(|c| c.parse().unwrap()).collect()
            }
            "--latency-ms" => options.latency_ms = list(value()).iter().map(|c| c.parse().unwrap()).collect(),
            "--store-cpu" => options.store_cpu = Some(value()).filter(|v| v != "none"),
            "--store-bin" => options.store_bin = value(),
            "--bench" => {
                i += 1;
                continue;
            }
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    options
}

/// The store as a separate process, stopped when dropped.
struct Store {
    child: Child,
    endpoint: String,
    data_dir: std::path::PathBuf,
}

impl Store {
    fn start(options: &Options) -> Store {
        let data_dir = std::env::temp_dir().join(format!("featurestore-ingest-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        std::fs::create_dir_all(&data_dir).unwrap();
        let mut command = match &options.store_cpu {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpu]).arg(&options.store_bin);
                c
            }
            None => Command::new(&options.store_bin),
        };
        let mut child = command
            .args(["--port", "0", "--data-dir"])
            .arg(&data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} ({e}); build it first", options.store_bin));
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let endpoint = line
            .trim()
            .strip_prefix("featurestore-local listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the store: {line:?}"))
            .to_owned();
        Store {
            child,
            endpoint,
            data_dir,
        }
    }

    /// A plain HTTP/1.1 call to the store's admin API.
    fn admin(&self, method: &str, path: &str, body: &str) -> Value {
        let authority = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(authority).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
        serde_json::from_str(body).unwrap_or(Value::Null)
    }

    fn set_latency(&self, latency_ms: u64) {
        self.admin(
            "PUT",
            "/_local/faults",
            &json!({ "latency_ms": latency_ms }).to_string(),
        );
    }

    fn client_config(&self, transport: TransportKind, max_connections: usize) -> ClientConfig {
        ClientConfig {
            region: Some("us-east-1".into()),
            runtime_endpoint: Some(self.endpoint.clone()),
            control_endpoint: Some(self.endpoint.clone()),
            access_key_id: Some("AKIDBENCH".into()),
            secret_access_key: Some("bench-secret".into()),
            max_connections,
            transport,
            ..ClientConfig::default()
        }
    }

    /// Creates a 20-feature group (online store only) through the signed control plane; returns its model.
    fn create_group(&self, name: &str) -> FeatureGroup {
        let mut definitions = vec![
            json!({"FeatureName": "id", "FeatureType": "String"}),
            json!({"FeatureName": "event_time", "FeatureType": "String"}),
        ];
        for i in 0..6 {
            definitions.push(json!({"FeatureName": format!("i{i}"), "FeatureType": "Integral"}));
            definitions.push(json!({"FeatureName": format!("x{i}"), "FeatureType": "Fractional"}));
            definitions.push(json!({"FeatureName": format!("s{i}"), "FeatureType": "String"}));
        }
        let request = json!({
            "FeatureGroupName": name, "RecordIdentifierFeatureName": "id", "EventTimeFeatureName": "event_time",
            "FeatureDefinitions": definitions, "OnlineStoreConfig": {"EnableOnlineStore": true},
        });
        let config = self.client_config(TransportKind::Lean, 4);
        let runtime = next_runtime().unwrap();
        let client = client_for(&runtime, &config).unwrap();
        let status = runtime
            .block_on(async move {
                let body = request.to_string().into_bytes();
                let answer = client
                    .control
                    .send(
                        http::Method::POST,
                        "/",
                        "application/x-amz-json-1.1",
                        Some("SageMaker.CreateFeatureGroup"),
                        body,
                    )
                    .await;
                answer.map(|a| a.status).unwrap_or(0)
            })
            .unwrap();
        assert_eq!(status, 200, "CreateFeatureGroup");
        let described = featurestore_core::control::describe_feature_group(&config, name).unwrap();
        FeatureGroup::from_describe_json(&described).unwrap()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn schema() -> Arc<Schema> {
    let mut fields = vec![
        Field::new("id", DataType::Utf8, false),
        Field::new(
            "event_time",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
    ];
    for i in 0..6 {
        fields.push(Field::new(format!("i{i}"), DataType::Int64, true));
        fields.push(Field::new(format!("x{i}"), DataType::Float64, true));
        fields.push(Field::new(format!("s{i}"), DataType::Utf8, true));
    }
    Arc::new(Schema::new(fields))
}

/// A batch of 20 features whose values look like real data: ids, timestamps, counts, measures and labels.
fn batch(first: usize) -> RecordBatch {
    let rows = first..first + BATCH_ROWS;
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.clone().map(|i| format!("customer-{i:08}")),
        )),
        Arc::new(
            TimestampMillisecondArray::from_iter_values(
                rows.clone().map(|i| 1_760_000_000_000 + i as i64 * 37),
            )
            .with_timezone("UTC"),
        ),
    ];
    for k in 0..6u64 {
        let seed = |i: usize| {
            (i as u64)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(k as u32 * 7)
        };
        columns.push(Arc::new(Int64Array::from_iter_values(
            rows.clone().map(|i| (seed(i) % 100_000) as i64),
        )));
        columns.push(Arc::new(Float64Array::from_iter_values(
            rows.clone().map(|i| (seed(i) % 1_000_000) as f64 / 1000.0),
        )));
        columns.push(Arc::new(StringArray::from_iter_values(
            rows.clone().map(|i| format!("label-{}-{}", k, seed(i) % 1000)),
        )));
    }
    RecordBatch::try_new(schema(), columns).unwrap()
}

#[repr(C)]
struct RUsage {
    utime_sec: i64,
    utime_usec: i64,
    stime_sec: i64,
    stime_usec: i64,
    maxrss_kb: i64,
    rest: [i64; 13],
}

unsafe extern "C" {
    fn getrusage(who: i32, usage: *mut RUsage) -> i32;
}

/// CPU seconds used by this process so far (every thread), and its peak RSS in MiB.
fn process_usage() -> (f64, f64) {
    let mut usage = RUsage {
        utime_sec: 0,
        utime_usec: 0,
        stime_sec: 0,
        stime_usec: 0,
        maxrss_kb: 0,
        rest: [0; 13],
    };
    // SAFETY: getrusage(RUSAGE_SELF = 0) fills a `struct rusage`, whose x86_64/aarch64 Linux layout is two
    // `timeval`s (2 x i64 each) followed by 14 longs, which `RUsage` mirrors with #[repr(C)].
    let rc = unsafe { getrusage(0, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    let cpu = usage.utime_sec as f64
        + usage.utime_usec as f64 / 1e6
        + usage.stime_sec as f64
        + usage.stime_usec as f64 / 1e6;
    (cpu, usage.maxrss_kb as f64 / 1024.0)
}

/// This process's resident memory now (VmRSS), in MiB: before a case, what the bench itself holds (its
/// generated batches, the library), to subtract from the case's peak.
fn current_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds of this process's I/O runtime threads (`featurestore-io-*`), from /proc (10 ms resolution).
fn io_threads_cpu() -> f64 {
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("featurestore-io") {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is the 3rd field, utime the 14th, stime the 15th.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        ticks += fields.get(11).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        ticks += fields.get(12).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    }
    ticks as f64 / 100.0 // USER_HZ is 100 on Linux
}

fn name_of(api: Api) -> &'static str {
    match api {
        Api::BatchWriteRecord => "BatchWriteRecord",
        Api::PutRecord => "PutRecord",
        Api::Auto => "auto",
    }
}

fn main() {
    let options = parse_options();
    let store = Store::start(&options);
    eprintln!(
        "store: {} (cpu {:?}); generating batches",
        store.endpoint, options.store_cpu
    );
    let batches: Vec<RecordBatch> = (0..DISTINCT_BATCHES).map(|b| batch(b * BATCH_ROWS)).collect();
    println!(
        "{:<5} {:<16} {:>5} {:>7} {:>9} {:>10} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8}",
        "path",
        "api",
        "conc",
        "lat_ms",
        "records",
        "rec/s",
        "cpu_us/r",
        "io_us/r",
        "rss_MiB",
        "base_MiB",
        "call_ms",
        "added_ms",
        "retried"
    );
    let mut case = 0;
    // Mean call latency of each (concurrency, api, path) without injected latency, to show what the store's
    // injected latency really added (a tokio sleep(5 ms) waits ~6.3 ms).
    let mut zero_latency_call_ms: std::collections::HashMap<(usize, &str, usize), f64> = Default::default();
    for &latency in &options.latency_ms {
        store.set_latency(latency);
        for &api in &options.apis {
            for &transport in &options.transports {
                for &concurrency in &options.concurrency {
                    case += 1;
                    let records = if api == Api::PutRecord {
                        options.put_records
                    } else {
                        options.records
                    };
                    let group = format!("bench-{case}");
                    let model = store.create_group(&group);
                    let mut config = WriterConfig::new(&group);
                    config.client = store.client_config(transport, concurrency);
                    config.api = api;
                    config.max_in_flight = concurrency;
                    let base_rss = current_rss_mib();
                    let mut writer = Writer::open(config, model).unwrap();
                    let (cpu_before, _) = process_usage();
                    let io_before = io_threads_cpu();
                    let started = Instant::now();
                    let mut sent = 0u64;
                    let mut next = 0;
                    while sent < records {
                        let batch = &batches[next % DISTINCT_BATCHES];
                        let take = (records - sent).min(BATCH_ROWS as u64) as usize;
                        if take == BATCH_ROWS {
                            writer.write_batch(batch).unwrap();
                        } else {
                            writer.write_batch(&batch.slice(0, take)).unwrap();
                        }
                        sent += take as u64;
                        next += 1;
                    }
                    writer.flush().unwrap();
                    let elapsed = started.elapsed();
                    let (cpu_after, rss) = process_usage();
                    let io_after = io_threads_cpu();
                    let m = writer.metrics();
                    assert_eq!(
                        m[index::ROWS_ACKNOWLEDGED],
                        records as i64,
                        "not every record acknowledged: {m:?}"
                    );
                    let call_ms = m[index::LATENCY_TOTAL_MS] as f64 / m[index::REQUESTS].max(1) as f64;
                    let path = match transport {
                        TransportKind::Lean => "lean",
                        TransportKind::Sdk => "sdk",
                    };
                    let key = (concurrency, name_of(api), transport as usize);
                    let added = if latency == 0 {
                        zero_latency_call_ms.insert(key, call_ms);
                        0.0
                    } else {
                        zero_latency_call_ms
                            .get(&key)
                            .map_or(f64::NAN, |zero| call_ms - zero)
                    };
                    println!(
                        "{:<5} {:<16} {:>5} {:>7} {:>9} {:>10.0} {:>9.2} {:>8.2} {:>8.1} {:>8.1} {:>9.2} {:>9.2} {:>8}",
                        path,
                        name_of(api),
                        concurrency,
                        latency,
                        records,
                        records as f64 / elapsed.as_secs_f64(),
                        (cpu_after - cpu_before) * 1e6 / records as f64,
                        (io_after - io_before) * 1e6 / records as f64,
                        rss,
                        base_rss,
                        call_ms,
                        added,
                        m[index::ROWS_RETRIED],
                    );
                    drop(writer);
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }
    let stats = store.admin("GET", "/_local/stats", "");
    eprintln!(
        "store: {} requests, injected latency {} ms in total",
        stats["requests"], stats["injected_latency_ms"]
    );
}
