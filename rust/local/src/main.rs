//! `featurestore-local --port P --data-dir D`: runs the local Feature Store until SIGINT or SIGTERM.
//! Prints exactly one line to stdout when ready (`featurestore-local listening on http://HOST:PORT`); logs go
//! to stderr (`RUST_LOG` sets the level, default info).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use featurestore_local::{AcceptedKey, Faults, OfflineCompression, Server, ServerConfig};

// Reading a request allocates per record and per feature: mimalloc took the store's CPU per record from 5.4 to
// 4.8 µs (scripts/bench-local.sh, online store only, alternating runs against glibc's malloc).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "featurestore-local",
    version,
    about = "A local Amazon SageMaker Feature Store"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on; 0 picks a free one (printed when ready).
    #[arg(long, default_value_t = 8642)]
    port: u16,
    /// Directory for feature group definitions, the online store and the offline store (s3/).
    #[arg(long, default_value = ".featurestore-local")]
    data_dir: PathBuf,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    #[arg(long, default_value = "123456789012")]
    account_id: String,
    /// Milliseconds between online store flushes (write + fsync): the most a crash can lose.
    #[arg(long, default_value_t = 200)]
    online_flush_interval_ms: u64,
    /// Milliseconds between offline store flushes (Parquet files).
    #[arg(long, default_value_t = 5000)]
    offline_flush_interval_ms: u64,
    /// Compression of the offline store's Parquet files.
    #[arg(long, value_enum, default_value = "snappy")]
    offline_compression: OfflineCompression,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 16 << 20)]
    max_body_bytes: usize,
    /// The account's feature group quota.
    #[arg(long, default_value_t = 1000)]
    max_feature_groups: usize,
    /// Feature definitions per DescribeFeatureGroup answer (more come with a NextToken).
    #[arg(long, default_value_t = ServerConfig::default().describe_page_size as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    describe_page_size: u32,
    /// Runtime worker threads; 0 uses the CPUs this process may run on (1 gives a single-threaded runtime).
    #[arg(long, default_value_t = 0)]
    worker_threads: usize,

    /// Fault: milliseconds added to every affected request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fault: up to this many more milliseconds, uniformly random.
    #[arg(long, default_value_t = 0)]
    latency_jitter_ms: u64,
    /// Fault: share of affected requests that wait --latency-spike-ms more.
    #[arg(long, default_value_t = 0.0)]
    latency_spike_probability: f64,
    /// Fault: the extra milliseconds of a latency spike.
    #[arg(long, default_value_t = 0)]
    latency_spike_ms: u64,
    /// Fault: share of requests answered ThrottlingException (HTTP 429).
    #[arg(long, default_value_t = 0.0)]
    throttle_probability: f64,
    /// Fault: share of requests answered InternalFailure (HTTP 500).
    #[arg(long, default_value_t = 0.0)]
    server_error_probability: f64,
    /// Fault: share of requests answered ServiceUnavailable (HTTP 503).
    #[arg(long, default_value_t = 0.0)]
    unavailable_probability: f64,
    /// Fault: share of requests whose connection is reset without an answer.
    #[arg(long, default_value_t = 0.0)]
    connection_reset_probability: f64,
    /// Fault: share of BatchWriteRecord entries returned in UnprocessedEntries.
    #[arg(long, default_value_t = 0.0)]
    unprocessed_entry_probability: f64,
    /// Fault: records per second accepted; writes beyond it are throttled.
    #[arg(long)]
    max_records_per_second: Option<f64>,
    /// Fault: records per second accepted for the feature group NAME (repeatable); its writes beyond it are
    /// throttled.
    #[arg(long = "max-records-per-second-per-group", value_name = "NAME=RATE", value_parser = group_rate)]
    group_rates: Vec<(String, f64)>,
    /// Fault: an operation answered AccessForbidden / AccessDeniedException (repeatable).
    #[arg(long = "deny-operation")]
    denied_operations: Vec<String>,
    /// The operations the other faults apply to (repeatable); every runtime operation by default.
    #[arg(long = "fault-operation")]
    fault_operations: Vec<String>,
    /// Validate and acknowledge writes without storing them (benchmarks at volumes the disk cannot hold).
    #[arg(long)]
    discard_writes: bool,
    /// Check every request's SigV4 signature against this key (repeatable), as the service does; off by
    /// default, so that any client works with any credentials. EXPIRES (seconds since the epoch): requests
    /// signed with the key from then on are answered ExpiredTokenException.
    #[arg(long = "credentials", value_name = "ACCESS_KEY:SECRET[:SESSION_TOKEN[:EXPIRES]]", value_parser = AcceptedKey::parse)]
    credentials: Vec<AcceptedKey>,
}

/// `NAME=RATE`, the value of `--max-records-per-second-per-group`; the rate's range is checked with the other
/// faults.
fn group_rate(text: &str) -> Result<(String, f64), String> {
    let (name, rate) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=RATE, got '{text}'"))?;
    let rate = rate
        .trim()
        .parse::<f64>()
        .map_err(|e| format!("the rate of '{name}' is not a number: {e}"))?;
    Ok((name.to_owned(), rate))
}

impl Args {
    /// The server's configuration and the runtime's worker threads; an error names a flag given twice.
    fn into_config(self) -> Result<(ServerConfig, usize), String> {
        let mut group_rates = BTreeMap::new();
        for (name, rate) in self.group_rates {
            if group_rates.insert(name.clone(), rate).is_some() {
                return Err(format!("--max-records-per-second-per-group names '{name}' twice"));
            }
        }
        let faults = Faults {
            latency_ms: self.latency_ms,
            latency_jitter_ms: self.latency_jitter_ms,
            latency_spike_probability: self.latency_spike_probability,
            latency_spike_ms: self.latency_spike_ms,
            throttle_probability: self.throttle_probability,
            server_error_probability: self.server_error_probability,
            unavailable_probability: self.unavailable_probability,
            connection_reset_probability: self.connection_reset_probability,
            unprocessed_entry_probability: self.unprocessed_entry_probability,
            max_records_per_second: self.max_records_per_second,
            max_records_per_second_by_group: group_rates,
            denied_operations: self.denied_operations,
            operations: self.fault_operations,
            discard_writes: self.discard_writes,
            // Statuses are set per group through the admin API, for groups a test has created.
            group_statuses: BTreeMap::new(),
        };
        let config = ServerConfig {
            host: self.host,
            port: self.port,
            data_dir: self.data_dir,
            region: self.region,
            account_id: self.account_id,
            faults,
            online_flush_interval: Duration::from_millis(self.online_flush_interval_ms.max(1)),
            offline_flush_interval: Duration::from_millis(self.offline_flush_interval_ms.max(1)),
            offline_compression: self.offline_compression,
            max_body_bytes: self.max_body_bytes,
            max_feature_groups: self.max_feature_groups,
            describe_page_size: self.describe_page_size as usize,
            credentials: self.credentials,
            ..ServerConfig::default()
        };
        Ok((config, self.worker_threads))
    }
}

fn runtime(worker_threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let threads = match worker_threads {
        0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        n => n,
    };
    if threads == 1 {
        // One core: a current-thread runtime avoids the work-stealing scheduler's overhead.
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
}

async fn wait_for_signal() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    })
}

async fn run(config: ServerConfig) -> Result<(), String> {
    let server = Server::start(config).await.map_err(|e| e.to_string())?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "featurestore-local listening on {}", server.endpoint())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("writing to stdout: {e}"))?;
    drop(stdout);
    let signal = wait_for_signal()
        .await
        .map_err(|e| format!("installing signal handlers: {e}"))?;
    log::info!("{signal} received");
    server.shutdown().await.map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let checked = Args::parse()
        .into_config()
        .and_then(|(config, threads)| config.faults.validate().map(|()| (config, threads)));
    let (config, worker_threads) = match checked {
        Ok(checked) => checked,
        Err(problem) => {
            eprintln!("featurestore-local: invalid fault flags: {problem}");
            return ExitCode::from(2);
        }
    };
    let result = runtime(worker_threads)
        .map_err(|e| format!("starting the runtime: {e}"))
        .and_then(|runtime| runtime.block_on(run(config)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("featurestore-local: {problem}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(flags: &[&str]) -> Result<ServerConfig, String> {
        let args = Args::try_parse_from(std::iter::once("featurestore-local").chain(flags.iter().copied()))
            .map_err(|e| e.to_string())?;
        let (config, _) = args.into_config()?;
        config.faults.validate()?;
        Ok(config)
    }

    #[test]
    fn group_caps_are_a_repeatable_name_equals_rate_flag() {
        let config = parse(&[
            "--max-records-per-second-per-group",
            "customers=2000",
            "--max-records-per-second-per-group",
            "orders=0.5",
        ])
        .unwrap();
        assert_eq!(
            config.faults.max_records_per_second_by_group,
            BTreeMap::from([("customers".to_owned(), 2000.0), ("orders".to_owned(), 0.5)])
        );
        assert!(
            parse(&[])
                .unwrap()
                .faults
                .max_records_per_second_by_group
                .is_empty()
        );
    }

    #[test]
    fn invalid_group_caps_are_refused() {
        let refused = |value: &str| parse(&["--max-records-per-second-per-group", value]).unwrap_err();
        assert!(refused("customers").contains("expected NAME=RATE"));
        assert!(refused("customers=fast").contains("the rate of 'customers' is not a number"));
        assert!(refused("customers=0").contains("max_records_per_second_by_group"));
        assert!(refused("customers=-3").contains("got -3"));
        assert!(refused("=10").contains("is not a feature group name"));
        let twice = parse(&[
            "--max-records-per-second-per-group",
            "customers=1",
            "--max-records-per-second-per-group",
            "customers=2",
        ])
        .unwrap_err();
        assert!(twice.contains("'customers' twice"), "{twice}");
    }
}
