//! The online store's on-disk format: an append-only log of checksummed frames, each holding the records of
//! one flush.
//!
//! Frame: `[magic "FSL1"][payload length u32][xxh64 of payload u64][payload]`. A frame is written whole and
//! fsynced before the next; on open, the log is read frame by frame and a frame that is short or fails its
//! checksum (a crash during a write) ends the log: it and anything after it are cut off.
//!
//! Record in a payload: `[kind u8][key length u16][value length u32][key][value]`, where the value of a put is
//! `[event time f64][expires at f64, NaN for none][body]` (see `record::encode_body`), of a soft delete
//! `[event time f64]`, and of a hard delete empty. Little-endian throughout.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use twox_hash::XxHash64;

pub const FRAME_HEADER: usize = 16;
const MAGIC: [u8; 4] = *b"FSL1";
const RECORD_HEADER: usize = 7;
const KIND_PUT: u8 = 1;
const KIND_SOFT_DELETE: u8 = 2;
const KIND_HARD_DELETE: u8 = 3;

/// A log record, borrowed from a frame's payload.
#[derive(Debug, Clone, PartialEq)]
pub enum LogRecord<'b> {
    Put {
        key: &'b str,
        event_time: f64,
        expires_at: Option<f64>,
        body: &'b [u8],
    },
    SoftDelete {
        key: &'b str,
        event_time: f64,
    },
    HardDelete {
        key: &'b str,
    },
}

/// A buffer for one frame: the header's space first, then records appended; [`FrameBuffer::seal`] fills the
/// header in.
#[derive(Debug)]
pub struct FrameBuffer {
    bytes: Vec<u8>,
}

impl FrameBuffer {
    pub fn new() -> Self {
        Self::reusing(Vec::with_capacity(1 << 16))
    }

    /// A buffer in the allocation of an earlier frame: a steady write load then neither regrows nor
    /// page-faults a fresh buffer every flush.
    pub fn reusing(mut bytes: Vec<u8>) -> Self {
        bytes.clear();
        bytes.resize(FRAME_HEADER, 0);
        Self { bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.len() == FRAME_HEADER
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Appends a put record whose body `write_body` writes; returns the record's offset in the frame and its
    /// length.
    pub fn push_put(
        &mut self,
        key: &str,
        event_time: f64,
        expires_at: Option<f64>,
        write_body: impl FnOnce(&mut Vec<u8>),
    ) -> (usize, u32) {
        let start = self.bytes.len();
        self.bytes.push(KIND_PUT);
        self.bytes.extend_from_slice(&(key.len() as u16).to_le_bytes());
        let value_len_at = self.bytes.len();
        self.bytes.extend_from_slice(&[0; 4]);
        self.bytes.extend_from_slice(key.as_bytes());
        let value_start = self.bytes.len();
        self.bytes.extend_from_slice(&event_time.to_le_bytes());
        self.bytes
            .extend_from_slice(&expires_at.unwrap_or(f64::NAN).to_le_bytes());
        write_body(&mut self.bytes);
        let value_len = (self.bytes.len() - value_start) as u32;
        self.bytes[value_len_at..value_len_at + 4].copy_from_slice(&value_len.to_le_bytes());
        (start, (self.bytes.len() - start) as u32)
    }

    /// Appends a record copied whole from another log (compaction); returns its offset in the frame.
    pub fn push_raw(&mut self, record: &[u8]) -> usize {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(record);
        at
    }

    pub fn push_soft_delete(&mut self, key: &str, event_time: f64) -> (usize, u32) {
        self.push_plain(KIND_SOFT_DELETE, key, &event_time.to_le_bytes())
    }

    pub fn push_hard_delete(&mut self, key: &str) -> (usize, u32) {
        self.push_plain(KIND_HARD_DELETE, key, &[])
    }

    fn push_plain(&mut self, kind: u8, key: &str, value: &[u8]) -> (usize, u32) {
        let start = self.bytes.len();
        self.bytes.push(kind);
        self.bytes.extend_from_slice(&(key.len() as u16).to_le_bytes());
        self.bytes.extend_from_slice(&(value.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(key.as_bytes());
        self.bytes.extend_from_slice(value);
        (start, (self.bytes.len() - start) as u32)
    }

    /// Fills the header in and hands the frame's bytes over.
    pub fn seal(mut self) -> Vec<u8> {
        let header = frame_header(&self.bytes[FRAME_HEADER..]);
        self.bytes[..FRAME_HEADER].copy_from_slice(&header);
        self.bytes
    }
}

fn frame_header(payload: &[u8]) -> [u8; FRAME_HEADER] {
    let mut header = [0u8; FRAME_HEADER];
    header[..4].copy_from_slice(&MAGIC);
    header[4..8].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    header[8..].copy_from_slice(&XxHash64::oneshot(0, payload).to_le_bytes());
    header
}

/// Parses one record at the start of `bytes`; `None` if it is damaged.
pub fn parse_record(bytes: &[u8]) -> Option<(LogRecord<'_>, usize)> {
    let header = bytes.get(..RECORD_HEADER)?;
    let kind = header[0];
    let key_len = u16::from_le_bytes([header[1], header[2]]) as usize;
    let value_len = u32::from_le_bytes([header[3], header[4], header[5], header[6]]) as usize;
    let total = RECORD_HEADER + key_len + value_len;
    let key = std::str::from_utf8(bytes.get(RECORD_HEADER..RECORD_HEADER + key_len)?).ok()?;
    let value = bytes.get(RECORD_HEADER + key_len..total)?;
    let f64_at = |at: usize| {
        value
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(f64::from_le_bytes)
    };
    let record = match kind {
        KIND_PUT => {
            let expires_at = f64_at(8)?;
            LogRecord::Put {
                key,
                event_time: f64_at(0)?,
                expires_at: (!expires_at.is_nan()).then_some(expires_at),
                body: value.get(16..)?,
            }
        }
        KIND_SOFT_DELETE => LogRecord::SoftDelete {
            key,
            event_time: f64_at(0)?,
        },
        KIND_HARD_DELETE => LogRecord::HardDelete { key },
        _ => return None,
    };
    Some((record, total))
}

/// Reads a log file frame by frame.
pub struct FrameReader<'f> {
    file: &'f File,
    offset: u64,
    len: u64,
    payload: Vec<u8>,
}

/// How reading a log ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Every byte belonged to a valid frame.
    Clean,
    /// A damaged or incomplete frame starts at this offset: the log must be cut there.
    TornAt(u64),
}

impl<'f> FrameReader<'f> {
    pub fn new(file: &'f File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Self {
            file,
            offset: 0,
            len,
            payload: Vec::new(),
        })
    }

    /// The next frame's payload and the file offset where the payload starts; `Err(end)` when there are no
    /// more valid frames.
    pub fn next_frame(&mut self) -> io::Result<Result<(u64, &[u8]), End>> {
        if self.offset == self.len {
            return Ok(Err(End::Clean));
        }
        let start = self.offset;
        if self.len - start < FRAME_HEADER as u64 {
            return Ok(Err(End::TornAt(start)));
        }
        let mut header = [0u8; FRAME_HEADER];
        let mut file = self.file;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut header)?;
        let payload_len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as u64;
        if header[..4] != MAGIC || self.len - start - (FRAME_HEADER as u64) < payload_len {
            return Ok(Err(End::TornAt(start)));
        }
        self.payload.resize(payload_len as usize, 0);
        file.read_exact(&mut self.payload)?;
        if frame_header(&self.payload) != header {
            return Ok(Err(End::TornAt(start)));
        }
        self.offset = start + FRAME_HEADER as u64 + payload_len;
        Ok(Ok((start + FRAME_HEADER as u64, &self.payload)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;
    use std::io::Write;

    fn temp_file(name: &str) -> (TestDir, File) {
        let dir = TestDir::new(&format!("log-{name}"));
        let file = File::options()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(dir.path().join("t.log"))
            .unwrap();
        (dir, file)
    }

    #[test]
    fn records_round_trip_through_frames() {
        let mut frame = FrameBuffer::new();
        let (put_at, put_len) = frame.push_put("k1", 10.5, Some(20.0), |b| b.extend_from_slice(b"body"));
        let (del_at, _) = frame.push_soft_delete("k2", 11.0);
        frame.push_hard_delete("k3");
        let bytes = frame.seal();
        let (_, mut file) = temp_file("roundtrip");
        file.write_all(&bytes).unwrap();

        let mut reader = FrameReader::new(&file).unwrap();
        let (payload_at, payload) = reader.next_frame().unwrap().unwrap();
        assert_eq!(payload_at, FRAME_HEADER as u64);
        let payload = payload.to_vec();
        let (put, len) = parse_record(&payload[put_at - FRAME_HEADER..]).unwrap();
        assert_eq!(len, put_len as usize);
        assert_eq!(
            put,
            LogRecord::Put {
                key: "k1",
                event_time: 10.5,
                expires_at: Some(20.0),
                body: b"body"
            }
        );
        let (delete, _) = parse_record(&payload[del_at - FRAME_HEADER..]).unwrap();
        assert_eq!(
            delete,
            LogRecord::SoftDelete {
                key: "k2",
                event_time: 11.0
            }
        );
        assert_eq!(reader.next_frame().unwrap(), Err(End::Clean));
    }

    #[test]
    fn a_torn_or_corrupt_tail_is_found_where_it_starts() {
        let mut first = FrameBuffer::new();
        first.push_put("a", 1.0, None, |_| {});
        let first = first.seal();
        let mut second = FrameBuffer::new();
        second.push_put("b", 2.0, None, |b| b.extend_from_slice(&[7; 100]));
        let second = second.seal();

        let (_, mut file) = temp_file("torn");
        file.write_all(&first).unwrap();
        file.write_all(&second[..second.len() - 10]).unwrap();
        let mut reader = FrameReader::new(&file).unwrap();
        assert!(reader.next_frame().unwrap().is_ok());
        assert_eq!(reader.next_frame().unwrap(), Err(End::TornAt(first.len() as u64)));

        let mut corrupt = second.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 1;
        let (_, mut file) = temp_file("corrupt");
        file.write_all(&first).unwrap();
        file.write_all(&corrupt).unwrap();
        let mut reader = FrameReader::new(&file).unwrap();
        assert!(reader.next_frame().unwrap().is_ok());
        assert_eq!(reader.next_frame().unwrap(), Err(End::TornAt(first.len() as u64)));
    }
}
