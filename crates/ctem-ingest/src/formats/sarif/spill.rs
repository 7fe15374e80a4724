//! The spill buffer of a run whose results come before its metadata.
//!
//! A result cannot become findings until the run's `tool`,
//! `versionControlProvenance`, `originalUriBaseIds` and `artifacts` are
//! known, and a run's properties may come in any order. Results that
//! arrive early are kept here as their raw JSON, one length-prefixed record
//! each (an 8-byte little-endian length, then the bytes): in memory up to
//! [`MEMORY_BOUND`], then in an anonymous temporary file that the operating
//! system removes when it is closed, even after a crash. Records come back
//! in the order they were pushed.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// The bytes of records that a run keeps in memory before it writes the
/// rest to a temporary file.
pub(super) const MEMORY_BOUND: usize = 32 << 20;

/// The size of the length prefix of a record.
const PREFIX: usize = 8;

/// Raw results in the order they came: the first ones in memory, the rest
/// in a temporary file.
pub(super) struct Spill {
    bound: usize,
    memory: Vec<u8>,
    file: Option<BufWriter<File>>,
    records: u64,
}

impl Spill {
    /// Creates an empty buffer that keeps up to `bound` bytes of records in memory.
    pub(super) fn new(bound: usize) -> Spill {
        Spill {
            bound,
            memory: Vec::new(),
            file: None,
            records: 0,
        }
    }

    /// Returns true when no record was pushed.
    pub(super) fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Appends one record. Once one record went to the file, every later
    /// one goes there too, so that memory and then file replay in order.
    pub(super) fn push(&mut self, record: &[u8]) -> io::Result<()> {
        let prefix = (record.len() as u64).to_le_bytes();
        let fits = self.memory.len() + PREFIX + record.len() <= self.bound;
        match &mut self.file {
            None if fits => {
                self.memory.extend_from_slice(&prefix);
                self.memory.extend_from_slice(record);
            }
            None => {
                let mut file = BufWriter::with_capacity(1 << 20, tempfile::tempfile()?);
                file.write_all(&prefix)?;
                file.write_all(record)?;
                self.file = Some(file);
            }
            Some(file) => {
                file.write_all(&prefix)?;
                file.write_all(record)?;
            }
        }
        self.records += 1;
        Ok(())
    }

    /// Hands every record, with its index, to `each` in the order pushed,
    /// and closes the temporary file. Stops at the first error of `each`.
    pub(super) fn replay<E: From<io::Error>>(self, mut each: impl FnMut(u64, &[u8]) -> Result<(), E>) -> Result<(), E> {
        let mut index = 0;
        let mut rest = self.memory.as_slice();
        while !rest.is_empty() {
            let (record, after) = split_record(rest)?;
            each(index, record)?;
            index += 1;
            rest = after;
        }
        drop(self.memory);

        let Some(file) = self.file else {
            return Ok(());
        };
        let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.seek(SeekFrom::Start(0))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut record = Vec::new();
        while index < self.records {
            let mut prefix = [0; PREFIX];
            reader.read_exact(&mut prefix)?;
            let length = usize::try_from(u64::from_le_bytes(prefix)).map_err(|_| corrupt())?;
            record.resize(length, 0);
            reader.read_exact(&mut record)?;
            each(index, &record)?;
            index += 1;
        }
        Ok(())
    }
}

/// Splits the first record off the in-memory records.
fn split_record(bytes: &[u8]) -> io::Result<(&[u8], &[u8])> {
    let (prefix, rest) = bytes.split_first_chunk::<PREFIX>().ok_or_else(corrupt)?;
    let length = usize::try_from(u64::from_le_bytes(*prefix)).map_err(|_| corrupt())?;
    if length > rest.len() {
        return Err(corrupt());
    }
    Ok(rest.split_at(length))
}

/// Builds the error for a record whose length does not fit the bytes
/// written, which only a change to the temporary file by another process
/// causes.
fn corrupt() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "a spilled SARIF result record is corrupt")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replayed(spill: Spill) -> Vec<(u64, Vec<u8>)> {
        let mut records = Vec::new();
        spill
            .replay(|index, record| {
                records.push((index, record.to_vec()));
                Ok::<(), io::Error>(())
            })
            .unwrap();
        records
    }

    #[test]
    fn records_replay_in_order_across_memory_and_file() {
        for bound in [0, 20, MEMORY_BOUND] {
            let mut spill = Spill::new(bound);
            let records: Vec<Vec<u8>> = (0..50).map(|i| format!("{{\"n\":{i}}}").into_bytes()).collect();
            for record in &records {
                spill.push(record).unwrap();
            }
            spill.push(b"").unwrap();
            assert!(!spill.is_empty());
            assert_eq!(spill.file.is_some(), bound < MEMORY_BOUND, "bound {bound}");

            let back = replayed(spill);
            assert_eq!(back.len(), 51, "bound {bound}");
            for (i, record) in records.iter().enumerate() {
                assert_eq!(back[i], (i as u64, record.clone()), "bound {bound}");
            }
            assert!(back[50].1.is_empty());
        }
    }

    #[test]
    fn empty_spill_replays_nothing() {
        let spill = Spill::new(0);
        assert!(spill.is_empty());
        assert!(replayed(spill).is_empty());
    }

    #[test]
    fn replay_stops_at_first_error() {
        let mut spill = Spill::new(0);
        for record in [b"a", b"b", b"c"] {
            spill.push(record).unwrap();
        }
        let mut seen = 0;
        let error = spill
            .replay(|index, _| {
                seen += 1;
                if index == 1 {
                    return Err(io::Error::other("stop"));
                }
                Ok(())
            })
            .unwrap_err();
        assert_eq!(error.to_string(), "stop");
        assert_eq!(seen, 2);
    }
}
