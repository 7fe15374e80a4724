//! The local intelligence cache: the feed files that `ctem intel update`
//! downloads and `ctem intel import` copies, and that `ctem assess` reads
//! when no intelligence files are named.
//!
//! # Where it lies
//!
//! [`IntelCache::resolve_root`] picks the folder, first match wins:
//! the `--intel-cache DIR` option, the `CTEM_INTEL_CACHE` environment
//! variable, `[intel] cache = "..."` in `ctem.toml`, then
//! `$XDG_CACHE_HOME/ctem/intel` (when that variable is an absolute path, as
//! the XDG base directory specification requires) and `~/.cache/ctem/intel`.
//! An explicit choice beats an ambient one, and the command line beats the
//! environment, which beats the file, so that one run can be redirected
//! without editing the configuration.
//!
//! # Layout
//!
//! ```text
//! <root>/.lock                     held by the update or import in progress
//! <root>/kev/state.json            what the cached file is (see SourceState)
//! <root>/kev/known_exploited_vulnerabilities.json
//! <root>/epss/epss_scores-current.csv.gz
//! <root>/cve5/tree/2024/32xxx/CVE-2024-32466.json   imported CVE records, as a tree
//! <root>/nvd/pages/20261201T120000Z-000000.json  NVD API pages, oldest first
//! <root>/<kind>/last-error.json    the last failure, removed by the next success
//! ```
//!
//! One folder per source, named by [`SourceKind::as_str`].
//!
//! # Atomicity
//!
//! A new file is written to a temporary file in its source folder
//! ([`IntelCache::stage`]), validated with the source's [`Validators`]
//! entry, flushed to disk (`fsync`), then renamed over the old file, and
//! the folder is flushed too. `state.json` is replaced the same way after
//! the file. A failed download or a file that does not validate is
//! deleted, so the previous file and `state.json` stay as they were. Only
//! `last-error.json` records the failure. If the machine stops between the
//! two renames, the new file sits beside the old `state.json`. The next
//! update sends the old ETag, so the server sends the file again, and the
//! update replaces both.
//!
//! A lock file ([`IntelCache::lock`], an advisory `flock` on `<root>/.lock`
//! that holds the holder's process id) keeps two updates or imports from
//! writing at once. The operating system releases it when the process
//! ends, so a crash leaves no stale lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bundle::Intel;
use crate::error::IntelError;
use crate::provenance::SourceKind;
use crate::validate::{FeedInfo, Validators};

/// The environment variable that names the cache folder.
pub const CACHE_ENV: &str = "CTEM_INTEL_CACHE";
/// The name of the state file in each source folder.
pub const STATE_FILE: &str = "state.json";
/// The name of the file that records the last failure of a source.
pub const ERROR_FILE: &str = "last-error.json";
/// The name of the lock file in the cache root.
pub const LOCK_FILE: &str = ".lock";
/// The folder of the EPSS files of past days inside `epss/`.
pub const EPSS_HISTORY: &str = "history";
/// The days of EPSS history before the newest that [`IntelCache::load_intel`]
/// loads: the window of the risk model's EPSS maximum
/// (`ctem_risk::EPSS_WINDOW_DAYS`), whose test keeps the two equal. Older
/// days stay in the cache for backtests.
pub const EPSS_HISTORY_DAYS: i64 = 30;
/// The largest `state.json` or `last-error.json` read; they are a few hundred bytes.
const STATE_MAX_BYTES: u64 = 64 * 1024;

/// A cache operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A file or folder of the cache could not be read or written.
    #[error("intelligence cache: {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },

    /// Another process holds the lock.
    #[error("intelligence cache {path} is locked by {holder}; wait for that update or import to finish, or stop it")]
    Locked {
        path: String,
        /// `process 1234`, or `another process` when the lock file names none.
        holder: String,
    },

    /// A `state.json` that cannot be read.
    #[error("intelligence cache: {path}: invalid state file: {message}; delete it and update again")]
    State { path: String, message: String },

    /// No folder could be chosen for the cache.
    #[error(
        "no folder for the intelligence cache: HOME and XDG_CACHE_HOME are not set; pass --intel-cache DIR or set CTEM_INTEL_CACHE"
    )]
    NoRoot,

    /// A file that does not validate as its kind; the previous file stays.
    #[error(transparent)]
    Invalid(#[from] IntelError),

    /// A retention shorter than the EPSS window that scoring reads.
    #[error("cannot keep {days} days of EPSS history: scoring reads the last {minimum}; keep at least {minimum}")]
    Retention { days: i64, minimum: i64 },

    /// The file's SHA-256 is not the one its publisher states.
    #[error("{path}: SHA-256 is {actual}, but the publisher states {expected}; the file was not kept")]
    Checksum {
        path: String,
        expected: String,
        actual: String,
    },
}

/// The way a cached file arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Downloaded by `ctem intel update`.
    Download,
    /// Copied by `ctem intel import`.
    Import,
}

/// The `state.json` of a source: what its cached file is and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceState {
    pub kind: SourceKind,
    /// The file (or folder, for trees) in the source folder.
    pub file: String,
    pub origin: Origin,
    /// The URL it was downloaded from, or the path it was imported from.
    pub source: String,
    /// The `ETag` of the response, for `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` of the response, for `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// When the content was last confirmed current: downloaded, confirmed
    /// by a `304 Not Modified`, or imported.
    pub fetched_at: DateTime<Utc>,
    /// When the file was written to the cache.
    pub changed_at: DateTime<Utc>,
    /// SHA-256 of the file, lowercase hex; `None` for trees.
    pub sha256: Option<String>,
    /// Size in bytes (the sum of the files, for trees).
    pub size: u64,
    /// Records in the file, as its validator counted them.
    pub records: Option<u64>,
    /// The version the feed states about itself.
    pub version: Option<String>,
    /// The date the feed states about itself.
    pub date: Option<NaiveDate>,
    /// For NVD: the end of the last `lastModEndDate` window fetched, where
    /// the next incremental update starts.
    #[serde(default)]
    pub cursor: Option<DateTime<Utc>>,
}

/// The last failure of a source, kept in `last-error.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    pub at: DateTime<Utc>,
    pub message: String,
}

/// The contents of the cache for one source, as `ctem intel status` shows them.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub kind: SourceKind,
    /// The cached file, when there is one.
    pub path: Option<PathBuf>,
    pub state: Option<SourceState>,
    pub last_error: Option<LastError>,
}

/// The cache folder.
#[derive(Debug, Clone)]
pub struct IntelCache {
    root: PathBuf,
}

/// The cache lock, released when dropped.
#[derive(Debug)]
pub struct CacheLock {
    _file: File,
}

/// A temporary file in a source folder, deleted when dropped unless it was installed.
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
    file: Option<File>,
    kept: bool,
}

impl Staged {
    /// Returns the path of the temporary file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the open file, for writing.
    pub fn file(&mut self) -> &mut File {
        self.file
            .as_mut()
            .expect("the staged file stays open until it is installed")
    }
}

impl Staged {
    /// Syncs the file and renames it to `target`, in the same folder, and
    /// syncs the folder, so the file is complete or absent after a crash.
    pub(crate) fn keep_as(mut self, target: &Path) -> Result<(), CacheError> {
        if let Some(file) = self.file.take() {
            file.sync_all().map_err(|e| io_error(&self.path, e))?;
        }
        fs::rename(&self.path, target).map_err(|e| io_error(target, e))?;
        self.kept = true;
        if let Some(parent) = target.parent() {
            sync_dir(parent);
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        self.file.take();
        if !self.kept {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The origin of a file to install, for its `state.json`.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub origin: Origin,
    /// The URL or imported path.
    pub source: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The SHA-256 that the publisher states, checked before the file is kept.
    pub expected_sha256: Option<String>,
}

impl IntelCache {
    /// Uses `root` as the cache folder. Nothing is created until something is written.
    pub fn new(root: impl Into<PathBuf>) -> IntelCache {
        IntelCache { root: root.into() }
    }

    /// Picks the cache folder (see the module doc for the order).
    pub fn resolve_root(flag: Option<&Path>, configured: Option<&Path>) -> Result<PathBuf, CacheError> {
        if let Some(dir) = flag {
            return Ok(dir.to_path_buf());
        }
        if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
        if let Some(dir) = configured {
            return Ok(dir.to_path_buf());
        }
        IntelCache::default_root().ok_or(CacheError::NoRoot)
    }

    /// `$XDG_CACHE_HOME/ctem/intel`, else `~/.cache/ctem/intel`.
    pub fn default_root() -> Option<PathBuf> {
        let xdg = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute());
        let base = xdg.or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })?;
        Some(base.join("ctem").join("intel"))
    }

    /// Returns the cache folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the folder of one source.
    pub fn source_dir(&self, kind: SourceKind) -> PathBuf {
        self.root.join(kind.as_str())
    }

    /// Takes the cache lock, creating the cache folder if needed. Fails at
    /// once, naming the holder, when another process has it.
    pub fn lock(&self) -> Result<CacheLock, CacheError> {
        create_dir(&self.root)?;
        let path = self.root.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = (&file).take(64).read_to_string(&mut text);
                let holder = match text.trim().parse::<u32>() {
                    Ok(pid) => format!("process {pid}"),
                    Err(_) => "another process".to_string(),
                };
                return Err(CacheError::Locked {
                    path: self.root.display().to_string(),
                    holder,
                });
            }
            Err(fs::TryLockError::Error(error)) => return Err(io_error(&path, error)),
        }
        file.set_len(0).map_err(|e| io_error(&path, e))?;
        write!(file, "{}", std::process::id()).map_err(|e| io_error(&path, e))?;
        file.sync_all().map_err(|e| io_error(&path, e))?;
        self.remove_leftovers();
        Ok(CacheLock { _file: file })
    }

    /// Removes the temporary files and folders (`.partial-*`, `.staging-*`,
    /// `.old-*`) that a process stopped in the middle of an update left in
    /// the source folders. Only the lock holder calls it, so none is in use.
    fn remove_leftovers(&self) {
        for kind in SourceKind::ALL {
            let Ok(entries) = fs::read_dir(self.source_dir(kind)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if [".partial-", ".staging-", ".old-"].iter().any(|p| name.starts_with(p)) {
                    tracing::debug!(path = %entry.path().display(), "removing a leftover of an interrupted update");
                    let _ = remove_any(&entry.path());
                }
            }
        }
    }

    /// Keeps a copy of the EPSS file just installed as the file of its score
    /// day under `epss/history/`, so that the score history of every CVE
    /// grows with each daily update (see [`crate::EpssScores::as_of`]). A later
    /// file of the same day replaces the earlier one.
    fn keep_epss_day(&self, name: &str, date: chrono::NaiveDate) -> Result<(), CacheError> {
        let installed = self.source_dir(SourceKind::Epss).join(name);
        self.keep_epss_day_from(&installed, name, date)
    }

    /// Copies an EPSS file (named `name` where it came from) into the
    /// history as the file of `date`.
    fn keep_epss_day_from(&self, file: &Path, name: &str, date: chrono::NaiveDate) -> Result<(), CacheError> {
        let history = self.source_dir(SourceKind::Epss).join(EPSS_HISTORY);
        create_dir(&history)?;
        let gzip = name.to_ascii_lowercase().ends_with(".gz");
        let target = history.join(format!("epss_scores-{date}.csv{}", if gzip { ".gz" } else { "" }));
        let mut staged = stage_in(&history)?;
        let mut source = File::open(file).map_err(|e| io_error(file, e))?;
        io::copy(&mut source, staged.file()).map_err(|e| io_error(&target, e))?;
        staged.keep_as(&target)
    }

    /// Lists the EPSS history files more than `keep_days` days older than
    /// the newest day of the history, oldest first, and deletes them
    /// unless `dry_run`. A file's day is the one that
    /// [`load_intel`](IntelCache::load_intel) windows by: the score date
    /// on its first line, else the day in its name. Only the `.csv` and
    /// `.csv.gz` files of the history folder count, as for loading, and
    /// files with no day are kept.
    ///
    /// # Errors
    ///
    /// `keep_days` below [`EPSS_HISTORY_DAYS`], which scoring reads, or a
    /// folder or file that cannot be read or deleted. Files deleted before
    /// a failed deletion stay deleted; each is a whole day, so the history
    /// left is consistent.
    pub fn prune_epss_history(
        &self,
        _lock: &CacheLock,
        keep_days: i64,
        dry_run: bool,
    ) -> Result<Vec<(PathBuf, chrono::NaiveDate)>, CacheError> {
        if keep_days < EPSS_HISTORY_DAYS {
            return Err(CacheError::Retention {
                days: keep_days,
                minimum: EPSS_HISTORY_DAYS,
            });
        }

        let history = self.source_dir(SourceKind::Epss).join(EPSS_HISTORY);
        if !history.is_dir() {
            return Ok(Vec::new());
        }

        // Entries that are no regular file are never deleted.
        let mut not_files = Vec::new();
        let files = crate::bundle::epss_history_files(&history, &mut not_files)?;
        let Some(first_kept) = crate::bundle::first_kept_day(&files, keep_days) else {
            return Ok(Vec::new());
        };
        let mut old: Vec<(PathBuf, chrono::NaiveDate)> = files
            .into_iter()
            .filter_map(|(path, day)| Some((path, day?)))
            .filter(|(_, day)| *day < first_kept)
            .collect();
        old.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));

        if !dry_run {
            for (path, _) in &old {
                fs::remove_file(path).map_err(|e| io_error(path, e))?;
            }
        }
        Ok(old)
    }

    /// Creates a temporary file in the folder of `kind`, so that the final
    /// rename stays on one file system.
    pub fn stage(&self, _lock: &CacheLock, kind: SourceKind) -> Result<Staged, CacheError> {
        let dir = self.source_dir(kind);
        create_dir(&dir)?;
        stage_in(&dir)
    }

    /// Validates a staged file as `kind`, checks its SHA-256 when the
    /// publisher states one, and installs it as `name` in the source folder
    /// with a new `state.json`. On error the staged file is deleted and the
    /// cache is unchanged.
    pub fn commit(
        &self,
        lock: &CacheLock,
        kind: SourceKind,
        mut staged: Staged,
        name: &str,
        incoming: Incoming,
        validators: &Validators,
    ) -> Result<SourceState, CacheError> {
        let file = staged.file();
        file.sync_all().map_err(|e| io_error(&staged.path, e))?;

        let (sha256, size) = hash_file(&staged.path)?;
        if let Some(expected) = &incoming.expected_sha256
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(CacheError::Checksum {
                path: incoming.source.clone(),
                expected: expected.clone(),
                actual: sha256,
            });
        }
        let info = validators.validate(kind, &incoming.source, &staged.path)?;
        let incoming_source = incoming.source.clone();

        let previous = self.state(kind).ok().flatten();
        // A feed older than the cached one never replaces it: an old KEV
        // catalog would unlist CVEs added since. An older EPSS day joins
        // the history only.
        let cached_date = previous
            .as_ref()
            .filter(|state| state.kind == kind)
            .and_then(|state| state.date);
        if let (Some(incoming), Some(cached), Some(previous)) = (info.date, cached_date, &previous)
            && matches!(kind, SourceKind::Kev | SourceKind::Epss)
            && incoming < cached
        {
            if kind == SourceKind::Epss {
                self.keep_epss_day_from(staged.path(), name, incoming)?;
                return Ok(previous.clone());
            }
            return Err(CacheError::from(IntelError::NotFormat {
                path: incoming_source.clone(),
                expected: "a KEV catalog as new as the cached one",
                reason: format!("it was released on {incoming}, before the cached catalog of {cached}; it is not used"),
            }));
        }
        self.install(lock, kind, staged, name)?;
        if kind == SourceKind::Epss
            && let Some(date) = info.date
        {
            self.keep_epss_day(name, date)?;
        }
        if let Some(previous) = previous
            && previous.file != name
        {
            let _ = remove_any(&self.source_dir(kind).join(&previous.file));
        }

        let now = Utc::now();
        let state = SourceState {
            kind,
            file: name.to_string(),
            origin: incoming.origin,
            source: incoming.source,
            etag: incoming.etag,
            last_modified: incoming.last_modified,
            fetched_at: now,
            changed_at: now,
            sha256: Some(sha256),
            size,
            records: info.records,
            version: info.version,
            date: info.date,
            cursor: None,
        };
        self.write_state(lock, &state)?;
        Ok(state)
    }

    /// Renames a staged file to `relative` inside the folder of `kind`
    /// (creating parent folders), replacing any file there, and flushes the folder.
    pub fn install(
        &self,
        _lock: &CacheLock,
        kind: SourceKind,
        mut staged: Staged,
        relative: &str,
    ) -> Result<(), CacheError> {
        let target = self.source_dir(kind).join(relative);
        if let Some(parent) = target.parent() {
            create_dir(parent)?;
        }
        if let Some(file) = staged.file.take() {
            file.sync_all().map_err(|e| io_error(&staged.path, e))?;
        }
        fs::rename(&staged.path, &target).map_err(|e| io_error(&target, e))?;
        staged.kept = true;
        sync_dir(target.parent().unwrap_or(&self.root));
        Ok(())
    }

    /// Replaces `state.json` of a source atomically and clears its last error.
    pub fn write_state(&self, _lock: &CacheLock, state: &SourceState) -> Result<(), CacheError> {
        let dir = self.source_dir(state.kind);
        let json = serde_json::to_vec_pretty(state).expect("a state serializes");
        write_atomic(&dir, STATE_FILE, &json)?;
        let _ = fs::remove_file(dir.join(ERROR_FILE));
        Ok(())
    }

    /// Records the failure of a source in `last-error.json`, leaving its
    /// file and `state.json` as they are.
    pub fn record_error(&self, _lock: &CacheLock, kind: SourceKind, message: &str) -> Result<(), CacheError> {
        let dir = self.source_dir(kind);
        create_dir(&dir)?;
        let error = LastError {
            at: Utc::now(),
            message: message.to_string(),
        };
        let json = serde_json::to_vec_pretty(&error).expect("an error record serializes");
        write_atomic(&dir, ERROR_FILE, &json)
    }

    /// Reads the `state.json` of a source; `None` when the source was never cached.
    pub fn state(&self, kind: SourceKind) -> Result<Option<SourceState>, CacheError> {
        read_json(&self.source_dir(kind).join(STATE_FILE))
    }

    /// Reads the last failure of a source, if the last attempt failed.
    pub fn last_error(&self, kind: SourceKind) -> Result<Option<LastError>, CacheError> {
        read_json(&self.source_dir(kind).join(ERROR_FILE))
    }

    /// Returns the cached file (or folder) of a source, when its state names one that exists.
    pub fn file(&self, kind: SourceKind) -> Result<Option<PathBuf>, CacheError> {
        let Some(state) = self.state(kind)? else {
            return Ok(None);
        };
        let path = self.source_dir(kind).join(&state.file);
        Ok(path.exists().then_some(path))
    }

    /// Reads the status of every kind, in [`SourceKind::ALL`] order.
    pub fn status(&self) -> Result<Vec<SourceStatus>, CacheError> {
        SourceKind::ALL
            .iter()
            .map(|&kind| {
                Ok(SourceStatus {
                    kind,
                    path: self.file(kind)?,
                    state: self.state(kind)?,
                    last_error: self.last_error(kind)?,
                })
            })
            .collect()
    }

    /// Loads every cached source for scoring and `ctem intel show`: the
    /// file of each single-file source, the tree of CVE records and Nuclei
    /// templates, the NVD pages and the bundles of TAXII collections. Of the
    /// EPSS history, only the last [`EPSS_HISTORY_DAYS`] days load. An
    /// empty cache gives an empty [`Intel`].
    pub fn load_intel(&self) -> Result<Intel, CacheError> {
        let mut intel = Intel::default();
        let epss_history = self.source_dir(SourceKind::Epss).join(EPSS_HISTORY);
        for kind in SourceKind::ALL {
            // The history contains a copy of every dated EPSS file, the
            // current one included.
            if kind == SourceKind::Epss && epss_history.is_dir() {
                intel.load_epss_history(&epss_history, EPSS_HISTORY_DAYS)?;
                continue;
            }
            if let Some(path) = self.file(kind)? {
                intel.load_file(kind, &path)?;
            }
        }
        let taxii = self.source_dir(SourceKind::Stix).join(crate::taxii_feed::TAXII_FOLDER);
        if taxii.is_dir() {
            intel.load_file(SourceKind::Stix, &taxii)?;
        }
        Ok(intel)
    }
}

/// Builds the state of a source kept as a folder of files (imported trees, NVD
/// pages), which has no single checksum, ETag or `Last-Modified`.
pub fn state_for_tree(kind: SourceKind, folder: &str, incoming: Incoming, size: u64, info: FeedInfo) -> SourceState {
    let now = Utc::now();
    SourceState {
        kind,
        file: folder.to_string(),
        origin: incoming.origin,
        source: incoming.source,
        etag: None,
        last_modified: None,
        fetched_at: now,
        changed_at: now,
        sha256: None,
        size,
        records: info.records,
        version: info.version,
        date: info.date,
        cursor: None,
    }
}

/// Creates a temporary file in `dir`, named so that loaders and imports skip it.
pub(crate) fn stage_in(dir: &Path) -> Result<Staged, CacheError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let number = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".partial-{}-{number}", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => {
                return Ok(Staged {
                    path,
                    file: Some(file),
                    kept: false,
                });
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(io_error(&path, error)),
        }
    }
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), CacheError> {
    create_dir(dir)?;
    let mut staged = stage_in(dir)?;
    let path = staged.path.clone();
    staged.file().write_all(bytes).map_err(|e| io_error(&path, e))?;
    staged.file().sync_all().map_err(|e| io_error(&path, e))?;
    staged.file.take();
    let target = dir.join(name);
    fs::rename(&path, &target).map_err(|e| io_error(&target, e))?;
    staged.kept = true;
    sync_dir(dir);
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, CacheError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error(path, error)),
    };
    let mut bytes = Vec::new();
    file.take(STATE_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > STATE_MAX_BYTES {
        return Err(CacheError::State {
            path: path.display().to_string(),
            message: format!("larger than {STATE_MAX_BYTES} bytes"),
        });
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| CacheError::State {
            path: path.display().to_string(),
            message: error.to_string(),
        })
}

/// SHA-256 (lowercase hex) and size of a file.
pub(crate) fn hash_file(path: &Path) -> Result<(String, u64), CacheError> {
    let mut file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).map_err(|e| io_error(path, e))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

pub(crate) fn create_dir(dir: &Path) -> Result<(), CacheError> {
    fs::create_dir_all(dir).map_err(|e| io_error(dir, e))
}

/// Removes a file or a folder tree.
pub(crate) fn remove_any(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path)?.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// Flushes a folder's entries, so that a rename survives a power loss.
/// Best effort: some file systems refuse to open folders for this.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

pub(crate) fn io_error(path: &Path, source: io::Error) -> CacheError {
    CacheError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let cache = IntelCache::new(dir.path());
        let held = cache.lock().unwrap();
        let error = cache.lock().unwrap_err();
        let expected = format!("process {}", std::process::id());
        assert!(error.to_string().contains(&expected), "{error}");
        drop(held);
        assert!(cache.lock().is_ok());
    }

    #[test]
    fn dropped_stage_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = IntelCache::new(dir.path());
        let lock = cache.lock().unwrap();
        let mut staged = cache.stage(&lock, SourceKind::Kev).unwrap();
        staged.file().write_all(b"partial").unwrap();
        let path = staged.path().to_path_buf();
        drop(staged);
        assert!(!path.exists());
    }

    #[test]
    fn lock_removes_leftovers_of_an_interrupted_update() {
        let dir = tempfile::tempdir().unwrap();
        let cache = IntelCache::new(dir.path());
        let kev = cache.source_dir(SourceKind::Kev);
        fs::create_dir_all(kev.join(".staging-99")).unwrap();
        fs::write(kev.join(".partial-99-0"), b"half a download").unwrap();
        fs::write(kev.join("kev.json"), b"{}").unwrap();

        drop(cache.lock().unwrap());

        assert!(!kev.join(".staging-99").exists());
        assert!(!kev.join(".partial-99-0").exists());
        assert!(kev.join("kev.json").exists());
    }

    #[test]
    fn explicit_root_wins() {
        let root = IntelCache::resolve_root(Some(Path::new("/flag")), Some(Path::new("/config"))).unwrap();
        assert_eq!(root, PathBuf::from("/flag"));
    }
}
