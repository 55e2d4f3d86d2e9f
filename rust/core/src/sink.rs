//! The writer the JNI bridge drives: Arrow in, every row acknowledged or failed out.
//!
//! A [`Writer`] encodes each batch on the caller's thread (validation and encoding are CPU work the caller
//! pays for, one encoder per column built once per schema) and hands the encoded records to its
//! [`engine::Engine`], whose tasks on one of the process's I/O runtimes send them. The caller waits only while the
//! writer's queue is full, in `flush()` and in `abort()`; nothing calls back into it. The first two waits can be
//! bounded (`write_ipc_stream`, `send_pending`, `flush_within` take a timeout and say whether they are done), so
//! that a Spark task killed meanwhile notices it between two waits.

pub mod budget;
pub mod ceiling;
pub mod engine;
pub mod fault;

use std::collections::VecDeque;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::client::client_for;
use crate::config::{Operation, WriterConfig};
use crate::encode::RecordEncoder;
use crate::error::{Error, Result};
use crate::io_runtime::next_runtime;
use crate::ipc::InvalidText;
use crate::metrics::METRIC_COUNT;
use crate::model::FeatureGroup;
use crate::record::{EncodedBatch, FailedRecord, failed_json_lines};
use crate::schema::{check_input_schema, delete_columns};

use engine::Engine;

/// The encoder of one input schema. A delete encodes only the record identifier and event time columns (as a
/// record of those two features: the transport reads the DeleteRecord's parameters from it), so the batch is
/// projected onto them first and the other columns are never read.
#[derive(Debug)]
struct InputEncoder {
    encoder: RecordEncoder,
    /// `Some` for a delete: the columns the encoder was built for.
    projection: Option<Vec<usize>>,
}

impl InputEncoder {
    fn new(config: &WriterConfig, group: &FeatureGroup, schema: &SchemaRef) -> Result<Self> {
        check_input_schema(group, schema, config.operation, config.ignore_unknown_columns)?;
        match config.operation {
            Operation::Write => Ok(Self {
                encoder: RecordEncoder::new(group, schema, config.ignore_unknown_columns)?,
                projection: None,
            }),
            Operation::Delete => {
                let projection = delete_columns(group, schema);
                let projected = schema
                    .project(&projection)
                    .map_err(|e| Error::Internal(format!("cannot project the delete's columns: {e}")))?;
                Ok(Self {
                    encoder: RecordEncoder::new(group, &projected, false)?,
                    projection: Some(projection),
                })
            }
        }
    }

    fn encode(
        &self,
        batch: &RecordBatch,
        first_row: u64,
        invalid_text: &[InvalidText],
        out: &mut EncodedBatch,
    ) -> Result<()> {
        match &self.projection {
            // Invalid text is named by column, so a projection keeps it.
            None => self.encoder.encode_marked(batch, first_row, invalid_text, out),
            Some(columns) => {
                // Projection shares the arrays (reference counts): nothing is copied.
                let projected = batch
                    .project(columns)
                    .map_err(|e| Error::Internal(format!("cannot project the delete's columns: {e}")))?;
                self.encoder
                    .encode_marked(&projected, first_row, invalid_text, out);
            }
        }
        Ok(())
    }
}

/// Writes rows to one feature group. Not `Sync`: one caller thread at a time (a Spark task).
#[derive(Debug)]
pub struct Writer {
    config: WriterConfig,
    group: FeatureGroup,
    /// The encoder of the current input schema, rebuilt when a batch comes with another schema.
    encoder: Option<(SchemaRef, InputEncoder)>,
    /// Rows seen so far: the next batch's first row number.
    next_row: u64,
    /// Batches encoded and counted in, waiting for room in the queue, in order.
    pending: VecDeque<EncodedBatch>,
    engine: Engine,
}

impl Writer {
    /// Opens a writer. Unless `dryRun` is set, resolves region and credentials (blocking; shared with other
    /// writers of the same client configuration) so that a configuration problem fails here, not later.
    pub fn open(config: WriterConfig, group: FeatureGroup) -> Result<Writer> {
        let mut problems = Vec::new();
        config.validate(&mut problems);
        if !problems.is_empty() {
            return Err(Error::InvalidConfig(problems));
        }
        let io = if config.dry_run {
            None
        } else {
            let runtime = next_runtime()?;
            let client = client_for(&runtime, &config.client)?;
            Some((runtime, client))
        };
        let engine = Engine::start(
            &config,
            &group.record_identifier_feature_name,
            &group.event_time_feature_name,
            io,
        );
        log::debug!(
            "writer opened for {} ({:?}, api {:?}, batch size {}, max in flight {}, dry run {})",
            config.feature_group,
            config.operation,
            config.api,
            config.batch_size,
            config.max_in_flight,
            config.dry_run
        );
        Ok(Writer {
            config,
            group,
            encoder: None,
            next_row: 0,
            pending: VecDeque::new(),
            engine,
        })
    }

    /// Writes the batches of one complete Arrow IPC stream (schema, batches, end of stream): encodes them, then
    /// queues their records, waiting at most `wait` for room (`None`: as long as it takes). Returns whether all
    /// are queued; if not, [`Self::send_pending`] goes on. The arrays are dropped before this returns.
    pub fn write_ipc_stream(&mut self, bytes: &[u8], wait: Option<Duration>) -> Result<bool> {
        self.check_open()?;
        if !self.pending.is_empty() {
            return Err(Error::Internal(
                "a batch was written while an earlier one still waits for room (call send_pending)".into(),
            ));
        }
        for read in crate::ipc::read_stream(bytes)? {
            self.encode(&read.batch, &read.invalid_text)?;
        }
        self.send_pending(wait)
    }

    /// Validates and encodes `batch`, then queues its records (waiting as long as the queue is full).
    pub fn write_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        self.check_open()?;
        self.encode(batch, &[])?;
        self.send_pending(None).map(|_| ())
    }

    /// Queues the batches waiting for room, waiting at most `wait` for it; returns whether none is left.
    pub fn send_pending(&mut self, wait: Option<Duration>) -> Result<bool> {
        self.check_open()?;
        while let Some(batch) = self.pending.pop_front() {
            if let Some(batch) = self.engine.enqueue(batch, wait)? {
                self.pending.push_front(batch);
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Validates and encodes `batch` and counts its rows in; its records wait in `pending`. The rows of
    /// `invalid_text` fail (their text was not UTF-8 when read).
    fn encode(&mut self, batch: &RecordBatch, invalid_text: &[InvalidText]) -> Result<()> {
        let schema = batch.schema();
        let same_schema = matches!(&self.encoder, Some((current, _)) if *current == schema);
        if !same_schema {
            let encoder = InputEncoder::new(&self.config, &self.group, &schema)?;
            self.encoder = Some((schema, encoder));
        }
        let Some((_, encoder)) = &self.encoder else {
            return Err(Error::Internal("no encoder after building one".into()));
        };
        let mut encoded = EncodedBatch::default();
        encoder.encode(batch, self.next_row, invalid_text, &mut encoded)?;
        if encoded.row_count() != batch.num_rows() {
            return Err(Error::Internal(format!(
                "the encoder returned {} rows for a batch of {}",
                encoded.row_count(),
                batch.num_rows()
            )));
        }
        self.next_row += batch.num_rows() as u64;
        if self.engine.accept(&mut encoded) {
            self.pending.push_back(encoded);
        }
        Ok(())
    }

    /// Returns when every accepted row is acknowledged or failed; then the latched error, if any.
    pub fn flush(&mut self) -> Result<()> {
        self.flush_within(None).map(|_| ())
    }

    /// [`Self::flush`], waiting at most `wait`: `Ok(false)` when rows are still unsettled by then.
    pub fn flush_within(&mut self, wait: Option<Duration>) -> Result<bool> {
        let queued = self.pending.is_empty() || self.send_pending(wait)?;
        if !queued || !self.engine.flush_within(wait) {
            return Ok(false);
        }
        match self.engine.fatal_error() {
            Some(error) => Err(error),
            None => Ok(true),
        }
    }

    /// Stops promptly: calls in flight are cancelled and every row not yet acknowledged (or still waiting for
    /// room) fails with origin `Aborted`. Later writes return [`Error::Aborted`].
    pub fn abort(&mut self) {
        for batch in self.pending.drain(..) {
            self.engine.fail_unqueued(&batch);
        }
        self.engine.abort();
    }

    /// The counters, in [`crate::metrics::METRIC_NAMES`] order.
    pub fn metrics(&self) -> [i64; METRIC_COUNT] {
        self.engine.metrics()
    }

    /// Drains the failed rows collected so far.
    pub fn take_failed(&mut self) -> Vec<FailedRecord> {
        self.engine.take_failed()
    }

    /// Drains the failed rows collected so far as failed-records lines (see [`failed_json_lines`]), each naming
    /// the writer's task attempt; with `render` false (nowhere to write them) they are dropped unrendered.
    pub fn take_failed_lines(&mut self, render: bool) -> Vec<u8> {
        let failed = self.engine.take_failed();
        if render {
            failed_json_lines(&failed, self.config.attempt.as_ref())
        } else {
            Vec::new()
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.engine.is_aborted() {
            return Err(Error::Aborted);
        }
        match self.engine.fatal_error() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
