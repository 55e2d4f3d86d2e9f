//! What every request handler shares: the store, the fault injector, the counters, and the limits.

use tokio::sync::Notify;

use crate::faults::FaultInjector;
use crate::signature::AcceptedKey;
use crate::stats::StatsCollector;
use crate::store::Store;

#[derive(Debug)]
pub(crate) struct App {
    pub store: Store,
    pub faults: FaultInjector,
    pub stats: StatsCollector,
    pub max_body_bytes: usize,
    /// Buffered offline rows of one group that wake the flusher early.
    pub offline_flush_rows: usize,
    /// Wakes the background flusher before its interval ends (large buffers).
    pub flush_wanted: Notify,
    /// Keys whose signatures are accepted; empty: signatures are not checked.
    pub credentials: Vec<AcceptedKey>,
    pub region: String,
    /// Feature definitions per DescribeFeatureGroup answer.
    pub describe_page_size: usize,
}
