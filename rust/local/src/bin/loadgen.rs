//! Load generator for featurestore-local's throughput benchmark (`scripts/bench-local.sh`).
//!
//! Sends BatchWriteRecord calls (25 entries of 20 features by default) over many keep-alive HTTP/1.1
//! connections from one thread, with bodies built once and only their record identifiers patched per call, so
//! that the client costs little next to the store. Unsigned requests: the store accepts them, and signing is
//! not what is measured. With `--server-pid`, it reads the store's CPU time (utime + stime from
//! /proc/<pid>/stat) around the measured window and reports it per request and per record.
//!
//! Prints one JSON object with the results on stdout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(Debug, Parser)]
#[command(
    name = "featurestore-local-loadgen",
    about = "BatchWriteRecord load against featurestore-local"
)]
struct Args {
    /// The store, e.g. http://127.0.0.1:8642.
    #[arg(long)]
    endpoint: String,
    #[arg(long, default_value = "loadgen")]
    feature_group: String,
    /// Features per record (at least 2: the record identifier and the event time).
    #[arg(long, default_value_t = 20)]
    features: usize,
    /// Entries per BatchWriteRecord call (1 to 25).
    #[arg(long, default_value_t = 25)]
    entries: usize,
    /// Connections, each with one call in flight.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    #[arg(long, default_value_t = 2.0)]
    warmup_secs: f64,
    #[arg(long, default_value_t = 10.0)]
    duration_secs: f64,
    /// Distinct record identifiers cycled through; 0 makes every record identifier new.
    #[arg(long, default_value_t = 0)]
    key_space: u64,
    /// Create the feature group (online store on, offline store on unless --online-only).
    #[arg(long)]
    create: bool,
    #[arg(long)]
    online_only: bool,
    /// The store's process id, to report its CPU time.
    #[arg(long)]
    server_pid: Option<u32>,
}

const ID_DIGITS: usize = 15;

/// A request body with the byte offsets of its record identifiers' digits.
struct Template {
    body: Vec<u8>,
    id_offsets: Vec<usize>,
}

fn feature_name(i: usize) -> String {
    match i {
        0 => "record_id".to_owned(),
        1 => "event_time".to_owned(),
        _ => format!("feature_{i:02}"),
    }
}

fn feature_type(i: usize) -> &'static str {
    match i {
        0 | 1 => "String",
        _ => ["Integral", "Fractional", "String"][i % 3],
    }
}

fn template(args: &Args) -> Template {
    let mut body = String::from("{\"Entries\":[");
    let mut id_offsets = Vec::with_capacity(args.entries);
    for entry in 0..args.entries {
        if entry > 0 {
            body.push(',');
        }
        body.push_str(&format!(
            "{{\"FeatureGroupName\":\"{}\",\"Record\":[",
            args.feature_group
        ));
        for i in 0..args.features {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!(
                "{{\"FeatureName\":\"{}\",\"ValueAsString\":\"",
                feature_name(i)
            ));
            match i {
                0 => {
                    body.push('r');
                    id_offsets.push(body.len());
                    body.push_str(&"0".repeat(ID_DIGITS));
                }
                1 => body.push_str("2026-01-15T10:30:00.000Z"),
                _ => match feature_type(i) {
                    "Integral" => body.push_str(&format!("{}", 1_000_003 * (entry + 1) * i)),
                    "Fractional" => body.push_str(&format!("{}", 0.618_034 * ((entry + 7) * i) as f64)),
                    _ => body.push_str(&format!("value-{entry}-{i}-abcdefgh")),
                },
            }
            body.push_str("\"}");
        }
        body.push_str("]}");
    }
    body.push_str("]}");
    Template {
        body: body.into_bytes(),
        id_offsets,
    }
}

fn patch_ids(body: &mut [u8], offsets: &[usize], first: u64, key_space: u64) {
    for (i, &offset) in offsets.iter().enumerate() {
        let mut id = first + i as u64;
        if key_space > 0 {
            id %= key_space;
        }
        for digit in body[offset..offset + ID_DIGITS].iter_mut().rev() {
            *digit = b'0' + (id % 10) as u8;
            id /= 10;
        }
    }
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // /proc counts in USER_HZ ticks, 100 per second on every Linux architecture (part of the ABI).
    Some(ticks / 100.0)
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    records: AtomicU64,
    failed_calls: AtomicU64,
    entry_errors: AtomicU64,
}

async fn control_call(endpoint: &str, target: &str, body: String) -> Result<(u16, String), String> {
    let uri: http::Uri = endpoint.parse().map_err(|e| format!("{e}"))?;
    let authority = uri.authority().ok_or("the endpoint has no host")?.to_string();
    let stream = TcpStream::connect(&authority)
        .await
        .map_err(|e| format!("connecting to {authority}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = Request::builder()
        .method(Method::POST)
        .uri("/")
        .header("host", &authority)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("SageMaker.{target}"))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

async fn create_group(args: &Args) -> Result<(), String> {
    let definitions: Vec<serde_json::Value> = (0..args.features)
        .map(|i| serde_json::json!({"FeatureName": feature_name(i), "FeatureType": feature_type(i)}))
        .collect();
    let mut request = serde_json::json!({
        "FeatureGroupName": args.feature_group,
        "RecordIdentifierFeatureName": "record_id",
        "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": definitions,
        "OnlineStoreConfig": {"EnableOnlineStore": true},
    });
    if !args.online_only {
        request["OfflineStoreConfig"] =
            serde_json::json!({"S3StorageConfig": {"S3Uri": "s3://loadgen/offline"}});
    }
    let (status, body) = control_call(&args.endpoint, "CreateFeatureGroup", request.to_string()).await?;
    if status == 200 || body.contains("ResourceInUse") {
        Ok(())
    } else {
        Err(format!("CreateFeatureGroup answered {status}: {body}"))
    }
}

const CLEAN_RESPONSE: &[u8] = br#"{"Errors":[],"UnprocessedEntries":[]}"#;

async fn connection_loop(
    authority: String,
    template: Arc<Template>,
    next_id: Arc<AtomicU64>,
    key_space: u64,
    counting: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) -> Result<(), String> {
    let stream = TcpStream::connect(&authority)
        .await
        .map_err(|e| format!("connecting to {authority}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let entries = template.id_offsets.len() as u64;
    while !stop.load(Ordering::Relaxed) {
        let mut body = template.body.clone();
        patch_ids(
            &mut body,
            &template.id_offsets,
            next_id.fetch_add(entries, Ordering::Relaxed),
            key_space,
        );
        let request = Request::builder()
            .method(Method::POST)
            .uri("/BatchWriteRecord")
            .header("host", &authority)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        sender.ready().await.map_err(|e| e.to_string())?;
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let ok = response.status() == 200;
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if counting.load(Ordering::Relaxed) {
            counters.calls.fetch_add(1, Ordering::Relaxed);
            if !ok {
                counters.failed_calls.fetch_add(1, Ordering::Relaxed);
            } else if body.as_ref() == CLEAN_RESPONSE {
                counters.records.fetch_add(entries, Ordering::Relaxed);
            } else {
                // Count the entries that failed; the rest were written.
                let failed = String::from_utf8_lossy(&body).matches("\"ErrorCode\"").count() as u64;
                counters.entry_errors.fetch_add(failed, Ordering::Relaxed);
                counters
                    .records
                    .fetch_add(entries.saturating_sub(failed), Ordering::Relaxed);
            }
        }
    }
    Ok(())
}

async fn run(args: Args) -> Result<serde_json::Value, String> {
    if !(1..=25).contains(&args.entries) || args.features < 2 {
        return Err("--entries must be 1 to 25 and --features at least 2".to_owned());
    }
    if args.create {
        create_group(&args).await?;
    }
    let uri: http::Uri = args.endpoint.parse().map_err(|e| format!("{e}"))?;
    let authority = uri.authority().ok_or("the endpoint has no host")?.to_string();
    let template = Arc::new(template(&args));
    let next_id = Arc::new(AtomicU64::new(1));
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let tasks: Vec<_> = (0..args.connections)
        .map(|_| {
            tokio::spawn(connection_loop(
                authority.clone(),
                Arc::clone(&template),
                Arc::clone(&next_id),
                args.key_space,
                Arc::clone(&counting),
                Arc::clone(&stop),
                Arc::clone(&counters),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(args.warmup_secs)).await;
    let server_cpu_start = args.server_pid.and_then(cpu_seconds);
    let own_cpu_start = cpu_seconds(std::process::id());
    let started = Instant::now();
    counting.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs_f64(args.duration_secs)).await;
    counting.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let server_cpu = server_cpu_start
        .zip(args.server_pid.and_then(cpu_seconds))
        .map(|(a, b)| b - a);
    let own_cpu = own_cpu_start
        .zip(cpu_seconds(std::process::id()))
        .map(|(a, b)| b - a);
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("a connection failed: {e}")),
            Err(e) => return Err(format!("a connection task failed: {e}")),
        }
    }
    let calls = counters.calls.load(Ordering::Relaxed);
    let records = counters.records.load(Ordering::Relaxed);
    let per = |cpu: Option<f64>, n: u64| cpu.filter(|_| n > 0).map(|cpu| cpu * 1e6 / n as f64);
    Ok(serde_json::json!({
        "entries_per_call": args.entries,
        "features_per_record": args.features,
        "connections": args.connections,
        "seconds": elapsed,
        "calls": calls,
        "records": records,
        "failed_calls": counters.failed_calls.load(Ordering::Relaxed),
        "entry_errors": counters.entry_errors.load(Ordering::Relaxed),
        "records_per_second": records as f64 / elapsed,
        "calls_per_second": calls as f64 / elapsed,
        "body_bytes": template.body.len(),
        "server_cpu_seconds": server_cpu,
        "server_cpu_share_of_one_core": server_cpu.map(|cpu| cpu / elapsed),
        "server_cpu_us_per_call": per(server_cpu, calls),
        "server_cpu_us_per_record": per(server_cpu, records),
        "loadgen_cpu_us_per_record": per(own_cpu, records),
    }))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("featurestore-local-loadgen: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(report) => {
            println!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("featurestore-local-loadgen: {problem}");
            std::process::ExitCode::FAILURE
        }
    }
}
