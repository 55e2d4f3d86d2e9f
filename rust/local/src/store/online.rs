//! The online store of one feature group: an in-memory index (record identifier -> event time, expiry, where
//! the latest record lies) that decides every write and answers every read, over an append-only log (see
//! `log`) that makes it survive restarts.
//!
//! Writes append to an in-memory frame; [`OnlineTable::flush`] (called by a background task every
//! `online_flush_interval`, when the frame grows large, and at shutdown) writes the frame to the log and
//! fsyncs it. A crash loses at most the writes of the frame not yet flushed. Superseded records stay in the log
//! until the next start compacts it (when less than half of it is live).
//!
//! Why not an embedded database such as redb? Measured here on 1.1 KB records, redb cost 6.7 µs of CPU per
//! insert in key order (28 µs in random order) and doubled the file size, against 0.4 µs for appending to a
//! file: the store has 5 µs per record in total at 200,000 records/s on one core.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::Error;
use crate::store::index;
use crate::store::log::{self, End, FrameBuffer, FrameReader, LogRecord};
use crate::store::record::{ValidRecord, encode_body};

/// Frames above this size are flushed without waiting for the interval.
pub const FLUSH_BYTES: usize = 32 << 20;
/// A log this much larger than its live records is compacted when opened.
const COMPACT_MIN_BYTES: u64 = 64 << 20;
const COMPACT_FRAME_BYTES: usize = 8 << 20;

/// Record identifier -> latest record.
type Index = index::Index<Entry>;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Where the latest record for the identifier (a put or a soft delete) starts in the log.
    offset: u64,
    len: u32,
    event_time: f64,
    /// Seconds since the epoch; NaN when the record does not expire.
    expires_at: f64,
    soft_deleted: bool,
}

impl Entry {
    fn expired(&self, now: f64) -> bool {
        self.expires_at <= now
    }
}

#[derive(Debug)]
struct State {
    index: Index,
    /// Records not yet written to the log, and the file offset where they will be.
    pending: FrameBuffer,
    pending_base: u64,
    /// A frame being written by [`OnlineTable::flush`]: still read from memory until it is durable.
    flushing: Option<(u64, Arc<Vec<u8>>)>,
    /// The allocation of the last frame written, for the next one.
    spare: Option<Vec<u8>>,
    /// Bytes of live records (puts not superseded), for DescribeFeatureGroup's OnlineStoreTotalSizeBytes.
    live_bytes: u64,
    /// Every identifier of the index in byte order, built by the first ListRecords page and kept while no
    /// identifier is added or removed, so that paging through N records costs one sort, not one scan per page.
    sorted_keys: Option<Vec<Box<str>>>,
}

/// A put for [`OnlineTable::put_all`].
#[derive(Debug)]
pub struct OnlineWrite<'r, 'a> {
    pub record: &'r ValidRecord<'a>,
    pub expires_at: Option<f64>,
}

/// A record read back.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineRecord {
    pub event_time: f64,
    pub expires_at: Option<f64>,
    /// See `record::encode_body`.
    pub body: Vec<u8>,
}

/// Outcome of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Applied,
    /// No such record (or it expired): nothing changed.
    Absent,
    /// The record's event time is later than the delete's: a soft delete leaves it in place.
    Superseded,
}

#[derive(Debug)]
pub struct OnlineTable {
    path: PathBuf,
    file: File,
    state: Mutex<State>,
    /// One flush at a time, so frames land in order.
    flush_lock: Mutex<()>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl OnlineTable {
    /// Opens (or creates) the log at `path`, replays it into the index, cuts off a torn tail and compacts it
    /// when mostly dead.
    pub fn open(path: &Path, now: f64) -> Result<OnlineTable, Error> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io("creating the online store directory", dir, e))?;
        }
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io("opening the online store log", path, e))?;
        let (index, live_bytes, end) = replay(&file, path)?;
        let mut table = OnlineTable {
            path: path.to_owned(),
            file,
            state: Mutex::new(State {
                index,
                pending: FrameBuffer::new(),
                pending_base: end,
                flushing: None,
                spare: None,
                live_bytes,
                sorted_keys: None,
            }),
            flush_lock: Mutex::new(()),
        };
        if end > COMPACT_MIN_BYTES && lock(&table.state).live_bytes * 2 < end {
            table.compact(now)?;
        }
        Ok(table)
    }

    /// Applies puts in order: a record replaces the stored one unless the stored one has a later event time
    /// (an equal event time overwrites). Returns how many were applied.
    pub fn put_all(&self, writes: &[OnlineWrite<'_, '_>], now: f64) -> usize {
        let mut state = lock(&self.state);
        let state = &mut *state;
        let mut applied = 0;
        for write in writes {
            let record = write.record;
            let key = record.record_identifier;
            let entry = |(at, len): (usize, u32)| Entry {
                offset: state.pending_base + at as u64,
                len,
                event_time: record.event_time,
                expires_at: write.expires_at.unwrap_or(f64::NAN),
                soft_deleted: false,
            };
            let encode = |out: &mut Vec<u8>| encode_body(record, out);
            // One hash and probe per record: the key is only copied when it is new.
            match state.index.entry(key) {
                hashbrown::hash_table::Entry::Occupied(mut slot) => {
                    let existing = slot.get().1;
                    if !existing.expired(now) && existing.event_time > record.event_time {
                        continue;
                    }
                    if !existing.soft_deleted {
                        state.live_bytes -= u64::from(existing.len);
                    }
                    let new = entry(
                        state
                            .pending
                            .push_put(key, record.event_time, write.expires_at, encode),
                    );
                    state.live_bytes += u64::from(new.len);
                    slot.get_mut().1 = new;
                }
                hashbrown::hash_table::Entry::Vacant(slot) => {
                    let new = entry(
                        state
                            .pending
                            .push_put(key, record.event_time, write.expires_at, encode),
                    );
                    state.live_bytes += u64::from(new.len);
                    state.sorted_keys = None;
                    slot.insert((key.into(), new));
                }
            }
            applied += 1;
        }
        applied
    }

    /// Whether the pending frame is large enough to flush now.
    pub fn wants_flush(&self) -> bool {
        lock(&self.state).pending.len() >= FLUSH_BYTES
    }

    pub fn get(&self, key: &str, now: f64) -> Result<Option<OnlineRecord>, Error> {
        let bytes = {
            let state = lock(&self.state);
            let Some(entry) = state.index.get(key).copied() else {
                return Ok(None);
            };
            if entry.soft_deleted || entry.expired(now) {
                return Ok(None);
            }
            match in_memory(&state, entry.offset, entry.len) {
                Some(bytes) => bytes.to_vec(),
                None => {
                    drop(state);
                    self.read_at(entry.offset, entry.len)?
                }
            }
        };
        match log::parse_record(&bytes) {
            Some((
                LogRecord::Put {
                    event_time,
                    expires_at,
                    body,
                    ..
                },
                _,
            )) => Ok(Some(OnlineRecord {
                event_time,
                expires_at,
                body: body.to_vec(),
            })),
            _ => Err(Error::Corrupt {
                path: self.path.clone(),
                message: format!("the record for '{key}' is not a put"),
            }),
        }
    }

    /// Soft delete: the record stays listed (with IncludeSoftDeletedRecords) but is no longer returned, if
    /// `event_time` is later than the stored record's.
    pub fn soft_delete(&self, key: &str, event_time: f64, now: f64) -> Deleted {
        let mut state = lock(&self.state);
        let state = &mut *state;
        let Some(entry) = state.index.get(key).copied().filter(|e| !e.expired(now)) else {
            return Deleted::Absent;
        };
        if event_time <= entry.event_time {
            return Deleted::Superseded;
        }
        let (at, len) = state.pending.push_soft_delete(key, event_time);
        if !entry.soft_deleted {
            state.live_bytes -= u64::from(entry.len);
        }
        state.index.insert(
            key,
            Entry {
                offset: state.pending_base + at as u64,
                len,
                event_time,
                expires_at: f64::NAN,
                soft_deleted: true,
            },
        );
        Deleted::Applied
    }

    /// Hard delete: the record is removed. `Superseded` (the service answers a ValidationError) when the
    /// stored record's event time is not earlier than `event_time`.
    pub fn hard_delete(&self, key: &str, event_time: f64, now: f64) -> Deleted {
        let mut state = lock(&self.state);
        let state = &mut *state;
        let Some(entry) = state.index.get(key).copied().filter(|e| !e.expired(now)) else {
            return Deleted::Absent;
        };
        if event_time <= entry.event_time {
            return Deleted::Superseded;
        }
        state.pending.push_hard_delete(key);
        if !entry.soft_deleted {
            state.live_bytes -= u64::from(entry.len);
        }
        state.index.remove(key);
        state.sorted_keys = None;
        Deleted::Applied
    }

    /// Up to `limit` record identifiers after `after`, in byte order, and whether more follow.
    pub fn list(
        &self,
        after: Option<&str>,
        limit: usize,
        include_soft_deleted: bool,
        now: f64,
    ) -> (Vec<String>, bool) {
        let mut state = lock(&self.state);
        let state = &mut *state;
        let index = &state.index;
        let sorted = state.sorted_keys.get_or_insert_with(|| {
            let mut keys: Vec<Box<str>> = index.iter().map(|(key, _)| key.clone()).collect();
            keys.sort_unstable();
            keys
        });
        let start = after.map_or(0, |after| sorted.partition_point(|key| key.as_ref() <= after));
        let mut listed = sorted[start..].iter().filter(|key| {
            index
                .get(key.as_ref())
                .is_some_and(|entry| !entry.expired(now) && (include_soft_deleted || !entry.soft_deleted))
        });
        let keys: Vec<String> = listed.by_ref().take(limit).map(|key| key.to_string()).collect();
        let more = listed.next().is_some();
        (keys, more)
    }

    /// Records held (soft-deleted ones included, expired ones excluded only once compacted).
    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.state).index.len()
    }

    pub fn live_bytes(&self) -> u64 {
        lock(&self.state).live_bytes
    }

    /// Writes the pending frame to the log and fsyncs it.
    pub fn flush(&self) -> Result<(), Error> {
        let _one_at_a_time = lock(&self.flush_lock);
        let (base, frame) = {
            let mut state = lock(&self.state);
            match &state.flushing {
                // A frame whose write failed earlier goes first.
                Some((base, frame)) => (*base, Arc::clone(frame)),
                None => {
                    if state.pending.is_empty() {
                        return Ok(());
                    }
                    let base = state.pending_base;
                    let next = state
                        .spare
                        .take()
                        .map_or_else(FrameBuffer::new, FrameBuffer::reusing);
                    let frame = Arc::new(std::mem::replace(&mut state.pending, next).seal());
                    state.pending_base = base + frame.len() as u64;
                    state.flushing = Some((base, Arc::clone(&frame)));
                    (base, frame)
                }
            }
        };
        self.file
            .write_all_at(&frame, base)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Error::io("writing the online store log", &self.path, e))?;
        let mut state = lock(&self.state);
        state.flushing = None;
        // Readers only borrow the frame under the lock, so this is now the last reference.
        state.spare = Arc::try_unwrap(frame).ok();
        Ok(())
    }

    /// Flushes, then removes the log (DeleteFeatureGroup).
    pub fn destroy(&self) -> Result<(), Error> {
        let _one_at_a_time = lock(&self.flush_lock);
        let mut state = lock(&self.state);
        state.index.clear();
        state.sorted_keys = None;
        state.pending = FrameBuffer::new();
        state.live_bytes = 0;
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io("removing the online store log", &self.path, e))
            }
            _ => Ok(()),
        }
    }

    fn read_at(&self, offset: u64, len: u32) -> Result<Vec<u8>, Error> {
        let mut bytes = vec![0; len as usize];
        self.file
            .read_exact_at(&mut bytes, offset)
            .map_err(|e| Error::io("reading the online store log", &self.path, e))?;
        Ok(bytes)
    }

    /// Rewrites the log with only the latest record of each identifier (expired ones dropped).
    fn compact(&mut self, now: f64) -> Result<(), Error> {
        let compact_path = self.path.with_extension("log.compacting");
        let io = |context, e| Error::io(context, &compact_path, e);
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&compact_path)
            .map_err(|e| io("creating the compacted log", e))?;
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = state.pending_base;
        state.index.retain(|_, entry| !entry.expired(now));
        state.sorted_keys = None;
        let mut written: u64 = 0;
        let mut frame = FrameBuffer::new();
        let mut moved: Vec<(Box<str>, u64)> = Vec::with_capacity(state.index.len());
        for (key, entry) in state.index.iter() {
            let mut bytes = vec![0; entry.len as usize];
            self.file
                .read_exact_at(&mut bytes, entry.offset)
                .map_err(|e| Error::io("reading the online store log", &self.path, e))?;
            let at = frame.push_raw(&bytes);
            moved.push((key.clone(), written + at as u64));
            if frame.len() >= COMPACT_FRAME_BYTES {
                let sealed = std::mem::replace(&mut frame, FrameBuffer::new()).seal();
                file.write_all_at(&sealed, written)
                    .map_err(|e| io("writing the compacted log", e))?;
                written += sealed.len() as u64;
            }
        }
        if !frame.is_empty() {
            let sealed = frame.seal();
            file.write_all_at(&sealed, written)
                .map_err(|e| io("writing the compacted log", e))?;
            written += sealed.len() as u64;
        }
        file.sync_all().map_err(|e| io("syncing the compacted log", e))?;
        std::fs::rename(&compact_path, &self.path).map_err(|e| io("replacing the log", e))?;
        sync_dir(&self.path)?;
        for (key, offset) in moved {
            if let Some(entry) = state.index.get_mut(&key) {
                entry.offset = offset;
            }
        }
        state.pending_base = written;
        self.file = file;
        ::log::info!("compacted {}: {before} -> {written} bytes", self.path.display());
        Ok(())
    }
}

fn in_memory(state: &State, offset: u64, len: u32) -> Option<&[u8]> {
    let range = |base: u64, bytes: &'_ [u8]| -> Option<std::ops::Range<usize>> {
        let start = offset.checked_sub(base)? as usize;
        let end = start + len as usize;
        (end <= bytes.len()).then_some(start..end)
    };
    if let Some(r) = range(state.pending_base, state.pending.as_bytes()) {
        return Some(&state.pending.as_bytes()[r]);
    }
    let (base, frame) = state.flushing.as_ref()?;
    range(*base, frame).map(|r| &frame[r])
}

fn sync_dir(path: &Path) -> Result<(), Error> {
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io("syncing the online store directory", dir, e))?;
    }
    Ok(())
}

/// Rebuilds the index from the log; cuts a torn tail off. Returns the index, the live bytes and where the
/// log ends.
/// What replaying a log gives: the index, the live bytes, and where the log ends.
type Replayed = (Index, u64, u64);

fn replay(file: &File, path: &Path) -> Result<Replayed, Error> {
    let mut index = Index::default();
    let mut live_bytes: u64 = 0;
    let mut reader =
        FrameReader::new(file).map_err(|e| Error::io("reading the online store log", path, e))?;
    let end = loop {
        let (payload_at, payload) = match reader.next_frame() {
            Ok(Ok(frame)) => frame,
            Ok(Err(End::Clean)) => break file.metadata().map(|m| m.len()).unwrap_or(0),
            Ok(Err(End::TornAt(at))) => {
                ::log::warn!(
                    "{}: an incomplete frame at offset {at} (a crash during a flush) was cut off",
                    path.display()
                );
                file.set_len(at)
                    .map_err(|e| Error::io("truncating a torn online store log", path, e))?;
                break at;
            }
            Err(e) => return Err(Error::io("reading the online store log", path, e)),
        };
        let mut pos = 0;
        while pos < payload.len() {
            let Some((record, len)) = log::parse_record(&payload[pos..]) else {
                return Err(Error::Corrupt {
                    path: path.to_owned(),
                    message: format!("unreadable record at offset {}", payload_at + pos as u64),
                });
            };
            let offset = payload_at + pos as u64;
            let len32 = len as u32;
            let previous = match record {
                LogRecord::Put {
                    key,
                    event_time,
                    expires_at,
                    ..
                } => {
                    live_bytes += u64::from(len32);
                    let entry = Entry {
                        offset,
                        len: len32,
                        event_time,
                        expires_at: expires_at.unwrap_or(f64::NAN),
                        soft_deleted: false,
                    };
                    index.insert(key, entry)
                }
                LogRecord::SoftDelete { key, event_time } => index.insert(
                    key,
                    Entry {
                        offset,
                        len: len32,
                        event_time,
                        expires_at: f64::NAN,
                        soft_deleted: true,
                    },
                ),
                LogRecord::HardDelete { key } => index.remove(key),
            };
            if let Some(previous) = previous.filter(|p| !p.soft_deleted) {
                live_bytes -= u64::from(previous.len);
            }
            pos += len;
        }
    };
    Ok((index, live_bytes, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::record::{Scalar, StoredValue, Value, decode_body};
    use crate::test_dir::TestDir;

    /// A log path in a scratch directory that lives as long as the returned guard.
    fn temp_log(name: &str) -> (TestDir, PathBuf) {
        let dir = TestDir::new(&format!("online-{name}"));
        let path = dir.path().join("group.log");
        (dir, path)
    }

    fn record(id: &str, event_time: f64, value: &'static str) -> ValidRecord<'static> {
        let id: &'static str = Box::leak(id.to_owned().into_boxed_str());
        ValidRecord {
            record_identifier: id,
            event_time,
            values: vec![
                Some(Value::Scalar(id, Scalar::String)),
                Some(Value::Scalar(value, Scalar::String)),
            ],
        }
    }

    fn value_of(table: &OnlineTable, id: &str, now: f64) -> Option<String> {
        let found = table.get(id, now).unwrap()?;
        match &decode_body(&found.body).unwrap()[1].1 {
            StoredValue::Scalar(text) => Some((*text).to_owned()),
            StoredValue::Collection(_) => None,
        }
    }

    fn put(table: &OnlineTable, records: &[ValidRecord<'_>], expires_at: Option<f64>) -> usize {
        let writes: Vec<OnlineWrite<'_, '_>> = records
            .iter()
            .map(|record| OnlineWrite { record, expires_at })
            .collect();
        table.put_all(&writes, 0.0)
    }

    #[test]
    fn the_latest_event_time_wins_and_equal_times_overwrite() {
        let (_dir, path) = temp_log("latest");
        let table = OnlineTable::open(&path, 0.0).unwrap();
        assert_eq!(put(&table, &[record("a", 10.0, "first")], None), 1);
        assert_eq!(put(&table, &[record("a", 5.0, "older")], None), 0);
        assert_eq!(value_of(&table, "a", 0.0).as_deref(), Some("first"));
        assert_eq!(put(&table, &[record("a", 10.0, "same time")], None), 1);
        assert_eq!(value_of(&table, "a", 0.0).as_deref(), Some("same time"));
        assert_eq!(table.get("nope", 0.0).unwrap(), None);
    }

    #[test]
    fn records_survive_a_reopen_from_memory_and_from_the_log() {
        let (_dir, path) = temp_log("reopen");
        {
            let table = OnlineTable::open(&path, 0.0).unwrap();
            put(&table, &[record("a", 1.0, "one"), record("b", 1.0, "two")], None);
            table.flush().unwrap();
            assert_eq!(value_of(&table, "a", 0.0).as_deref(), Some("one"));
            put(
                &table,
                &[record("b", 2.0, "two again"), record("c", 1.0, "three")],
                None,
            );
            table.soft_delete("c", 5.0, 0.0);
            table.flush().unwrap();
        }
        let table = OnlineTable::open(&path, 0.0).unwrap();
        assert_eq!(value_of(&table, "a", 0.0).as_deref(), Some("one"));
        assert_eq!(value_of(&table, "b", 0.0).as_deref(), Some("two again"));
        assert_eq!(value_of(&table, "c", 0.0), None);
        assert_eq!(
            table.list(None, 10, true, 0.0),
            (vec!["a".into(), "b".into(), "c".into()], false)
        );
        assert_eq!(
            table.list(None, 10, false, 0.0),
            (vec!["a".into(), "b".into()], false)
        );
    }

    #[test]
    fn unflushed_writes_are_lost_by_a_crash_but_the_log_stays_readable() {
        let (_dir, path) = temp_log("crash");
        {
            let table = OnlineTable::open(&path, 0.0).unwrap();
            put(&table, &[record("kept", 1.0, "x")], None);
            table.flush().unwrap();
            put(&table, &[record("lost", 1.0, "y")], None);
            // Dropped without a flush, like a killed process.
        }
        // A half-written frame at the end, like a crash during a flush.
        let mut frame = FrameBuffer::new();
        frame.push_put("torn", 1.0, None, |b| b.extend_from_slice(&[1; 64]));
        let sealed = frame.seal();
        let len = std::fs::metadata(&path).unwrap().len();
        let file = File::options().write(true).open(&path).unwrap();
        file.write_all_at(&sealed[..sealed.len() / 2], len).unwrap();

        let table = OnlineTable::open(&path, 0.0).unwrap();
        assert_eq!(value_of(&table, "kept", 0.0).as_deref(), Some("x"));
        assert_eq!(table.get("lost", 0.0).unwrap(), None);
        assert_eq!(table.get("torn", 0.0).unwrap(), None);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    }

    #[test]
    fn deletes_follow_event_time_rules() {
        let (_dir, path) = temp_log("deletes");
        let table = OnlineTable::open(&path, 0.0).unwrap();
        put(&table, &[record("a", 10.0, "x"), record("b", 10.0, "y")], None);
        assert_eq!(table.soft_delete("a", 9.0, 0.0), Deleted::Superseded);
        assert_eq!(value_of(&table, "a", 0.0).as_deref(), Some("x"));
        assert_eq!(table.soft_delete("a", 11.0, 0.0), Deleted::Applied);
        assert_eq!(table.get("a", 0.0).unwrap(), None);
        // A put older than the soft delete stays out; a later one comes back.
        assert_eq!(put(&table, &[record("a", 10.5, "old")], None), 0);
        assert_eq!(put(&table, &[record("a", 12.0, "back")], None), 1);
        assert_eq!(value_of(&table, "a", 0.0).as_deref(), Some("back"));

        assert_eq!(table.hard_delete("b", 10.0, 0.0), Deleted::Superseded);
        assert_eq!(table.hard_delete("b", 11.0, 0.0), Deleted::Applied);
        assert_eq!(table.list(None, 10, true, 0.0).0, vec!["a".to_owned()]);
        assert_eq!(table.hard_delete("b", 12.0, 0.0), Deleted::Absent);
        // After a hard delete any event time is accepted again.
        assert_eq!(put(&table, &[record("b", 1.0, "new")], None), 1);
    }

    #[test]
    fn expired_records_are_gone_and_can_be_rewritten_with_older_times() {
        let (_dir, path) = temp_log("ttl");
        let table = OnlineTable::open(&path, 0.0).unwrap();
        put(&table, &[record("a", 100.0, "x")], Some(160.0));
        assert_eq!(table.get("a", 159.0).unwrap().unwrap().expires_at, Some(160.0));
        assert_eq!(table.get("a", 160.0).unwrap(), None);
        assert_eq!(table.list(None, 10, true, 161.0).0, Vec::<String>::new());
        let writes = [OnlineWrite {
            record: &record("a", 50.0, "y"),
            expires_at: None,
        }];
        assert_eq!(table.put_all(&writes, 200.0), 1);
    }

    #[test]
    fn listing_pages_in_key_order() {
        let (_dir, path) = temp_log("list");
        let table = OnlineTable::open(&path, 0.0).unwrap();
        let records: Vec<_> = (0..25).map(|i| record(&format!("r{i:02}"), 1.0, "v")).collect();
        put(&table, &records, None);
        let (page, more) = table.list(None, 10, false, 0.0);
        assert!(more);
        assert_eq!(page.first().map(String::as_str), Some("r00"));
        assert_eq!(page.last().map(String::as_str), Some("r09"));
        let (page, more) = table.list(Some("r19"), 10, false, 0.0);
        assert!(!more);
        assert_eq!(page, vec!["r20", "r21", "r22", "r23", "r24"]);
    }

    #[test]
    fn listing_sees_identifiers_added_soft_deleted_and_removed_between_pages() {
        let (_dir, path) = temp_log("list-changes");
        let table = OnlineTable::open(&path, 0.0).unwrap();
        put(&table, &[record("b", 1.0, "v"), record("d", 1.0, "v")], None);
        assert_eq!(table.list(None, 1, false, 0.0), (vec!["b".to_owned()], true));
        put(&table, &[record("c", 1.0, "v"), record("e", 1.0, "v")], None);
        assert_eq!(table.soft_delete("d", 2.0, 0.0), Deleted::Applied);
        assert_eq!(table.list(Some("b"), 10, false, 0.0).0, vec!["c", "e"]);
        assert_eq!(table.list(Some("b"), 10, true, 0.0).0, vec!["c", "d", "e"]);
        assert_eq!(table.hard_delete("c", 2.0, 0.0), Deleted::Applied);
        assert_eq!(
            table.list(None, 10, true, 0.0),
            (vec!["b".to_owned(), "d".into(), "e".into()], false)
        );
    }

    #[test]
    fn a_mostly_dead_log_is_compacted_on_open() {
        let (_dir, path) = temp_log("compact");
        let big = "x".repeat(4000);
        let big: &'static str = Box::leak(big.into_boxed_str());
        {
            let table = OnlineTable::open(&path, 0.0).unwrap();
            for round in 0..40 {
                let records: Vec<_> = (0..500)
                    .map(|i| record(&format!("k{i}"), f64::from(round), big))
                    .collect();
                put(&table, &records, None);
                table.flush().unwrap();
            }
        }
        let before = std::fs::metadata(&path).unwrap().len();
        assert!(before > COMPACT_MIN_BYTES);
        let table = OnlineTable::open(&path, 0.0).unwrap();
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after * 10 < before, "{before} -> {after}");
        assert_eq!(table.len(), 500);
        assert_eq!(value_of(&table, "k7", 0.0).as_deref(), Some(big));
        drop(table);
        let table = OnlineTable::open(&path, 0.0).unwrap();
        assert_eq!(value_of(&table, "k499", 0.0).as_deref(), Some(big));
    }
}
