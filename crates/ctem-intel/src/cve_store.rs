//! Sets of per-CVE records (CVE JSON 5 records, NVD entries) by CVE id,
//! loaded from folders, keeping the latest version of each CVE.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use chrono::{DateTime, Utc};
use ctem_model::CveId;

use crate::cve5::Cve5Record;
use crate::error::IntelError;
use crate::nvd::{NvdCve, NvdFile};

/// A record that a [`CveStore`] holds: one CVE, with the time it was last updated.
pub trait StoredRecord: Sized {
    /// The record's format, for log messages, such as `CVE JSON 5 record`.
    const FORMAT: &'static str;

    /// Returns the CVE the record describes.
    fn cve(&self) -> &CveId;

    /// Returns when the source last updated the record. A record without a
    /// date is older than any dated one.
    fn updated(&self) -> Option<DateTime<Utc>>;

    /// Returns whether [`CveStore::load_dir`] reads a file of this name.
    fn is_record_file(name: &str) -> bool;

    /// Loads the records of one file.
    fn load_file(path: &Path) -> Result<Vec<Self>, IntelError>;
}

impl StoredRecord for Cve5Record {
    const FORMAT: &'static str = "CVE JSON 5 record";

    fn cve(&self) -> &CveId {
        &self.cve
    }

    fn updated(&self) -> Option<DateTime<Utc>> {
        self.date_updated
    }

    /// `CVE-*.json`, the names of cvelistV5 and vulnrichment.
    fn is_record_file(name: &str) -> bool {
        name.starts_with("CVE-") && name.ends_with(".json")
    }

    fn load_file(path: &Path) -> Result<Vec<Self>, IntelError> {
        Cve5Record::load(path).map(|record| vec![record])
    }
}

impl StoredRecord for NvdCve {
    const FORMAT: &'static str = "NVD CVE API 2.0 JSON";

    fn cve(&self) -> &CveId {
        &self.cve
    }

    fn updated(&self) -> Option<DateTime<Utc>> {
        Some(self.last_modified)
    }

    /// Any `*.json`: NVD responses have no fixed file names.
    fn is_record_file(name: &str) -> bool {
        name.ends_with(".json")
    }

    fn load_file(path: &Path) -> Result<Vec<Self>, IntelError> {
        NvdFile::load(path).map(|file| file.cves)
    }
}

/// Records by CVE id, at most one per CVE: the one updated last.
#[derive(Debug, Clone, PartialEq)]
pub struct CveStore<R> {
    records: BTreeMap<CveId, R>,
}

/// CVE JSON 5 records by CVE id.
pub type Cve5Store = CveStore<Cve5Record>;

/// NVD entries by CVE id.
pub type NvdStore = CveStore<NvdCve>;

/// The result of [`CveStore::insert`] for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insertion {
    /// The store had no record of the CVE.
    Added,
    /// The record was updated later than the stored one and replaced it.
    Replaced,
    /// The stored record was updated at the same time or later, so it stays.
    Kept,
}

/// A file that [`CveStore::load_dir`] could not load.
#[derive(Debug)]
pub struct FailedFile {
    pub path: String,
    pub error: IntelError,
}

/// The outcome of [`CveStore::load_dir`].
#[derive(Debug, Default)]
pub struct DirLoad {
    /// Record files read, including those that failed.
    pub files: usize,
    pub added: usize,
    pub replaced: usize,
    /// Records not stored because the store had one updated at the same time or later.
    pub not_newer: usize,
    /// Files that were invalid or unreadable, each with its error. Their
    /// records are not in the store; the caller decides whether that stops the run.
    pub failed: Vec<FailedFile>,
}

impl<R> Default for CveStore<R> {
    fn default() -> Self {
        CveStore {
            records: BTreeMap::new(),
        }
    }
}

impl<R: StoredRecord> CveStore<R> {
    pub fn new() -> Self {
        CveStore::default()
    }

    /// Loads every record file under `dir`, recursively and in path order,
    /// into the store. Symbolic links to files are followed, links to
    /// folders are not. Loading the same folder twice changes nothing,
    /// because a record replaces only one updated strictly earlier.
    ///
    /// An invalid file is listed in [`DirLoad::failed`] and the walk goes
    /// on; only a `dir` that cannot be read is an error.
    pub fn load_dir(&mut self, dir: impl AsRef<Path>) -> Result<DirLoad, IntelError> {
        let dir = dir.as_ref();
        fs::read_dir(dir).map_err(|source| IntelError::Io {
            path: dir.display().to_string(),
            source,
        })?;

        let mut load = DirLoad::default();
        let walk = walkdir::WalkDir::new(dir).follow_links(false).sort_by_file_name();
        for entry in walk {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let path = error.path().unwrap_or(dir).display().to_string();
                    let source = error
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("file system loop"));
                    load.failed.push(FailedFile {
                        error: IntelError::Io {
                            path: path.clone(),
                            source,
                        },
                        path,
                    });
                    continue;
                }
            };
            let name = entry.file_name().to_string_lossy();
            let is_file = entry.file_type().is_file() || (entry.path_is_symlink() && entry.path().is_file());
            if !is_file || !R::is_record_file(&name) {
                continue;
            }

            load.files += 1;
            match R::load_file(entry.path()) {
                Ok(records) => {
                    for record in records {
                        match self.insert(record) {
                            Insertion::Added => load.added += 1,
                            Insertion::Replaced => load.replaced += 1,
                            Insertion::Kept => load.not_newer += 1,
                        }
                    }
                }
                Err(error) => load.failed.push(FailedFile {
                    path: entry.path().display().to_string(),
                    error,
                }),
            }
        }

        if !load.failed.is_empty() {
            tracing::warn!(
                dir = %dir.display(),
                failed = load.failed.len(),
                first = %load.failed[0].error,
                "some {} files could not be loaded",
                R::FORMAT
            );
        }
        tracing::info!(
            dir = %dir.display(),
            files = load.files,
            added = load.added,
            replaced = load.replaced,
            not_newer = load.not_newer,
            "loaded {} files",
            R::FORMAT
        );
        Ok(load)
    }

    /// Adds a record, keeping for each CVE the one updated last; on a tie
    /// the stored record stays.
    pub fn insert(&mut self, record: R) -> Insertion {
        match self.records.get_mut(record.cve()) {
            None => {
                self.records.insert(record.cve().clone(), record);
                Insertion::Added
            }
            Some(stored) if record.updated() > stored.updated() => {
                *stored = record;
                Insertion::Replaced
            }
            Some(_) => Insertion::Kept,
        }
    }

    /// Returns the record of a CVE.
    pub fn get(&self, cve: &CveId) -> Option<&R> {
        self.records.get(cve)
    }

    /// Returns the number of CVEs in the store.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Returns every record in CVE id order.
    pub fn records(&self) -> impl Iterator<Item = &R> {
        self.records.values()
    }

    /// Takes the records out of the store, for merging into another.
    pub fn into_records(self) -> impl Iterator<Item = R> {
        self.records.into_values()
    }
}
