//! TAXII collections as sources of the cache: `[[intel.taxii]]` in
//! `ctem.toml`, pulled by `ctem intel update`.
//!
//! Each pull requests the objects of the collection added after the last pull
//! (`added_after`, from `X-TAXII-Date-Added-Last`), writes them as one STIX
//! bundle under `stix/taxii/<name>/`, and then moves the cursor. The bundle
//! is checked with [`StixBundle::from_objects`] and written to a temporary
//! file that is renamed into place, so a failed pull leaves the earlier
//! bundles and the cursor as they were. [`crate::IntelCache::load_intel`]
//! reads every bundle of every collection.
//!
//! ```toml
//! [[intel.taxii]]
//! name = "isac"
//! api_root = "https://taxii.example.org/api1/"
//! collection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
//! server = { url = "https://taxii.example.org/taxii2/", auth = { type = "bearer", token = "..." } }
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cache::{CacheError, CacheLock, IntelCache, stage_in};
use crate::error::IntelError;
use crate::provenance::SourceKind;
use crate::stix::StixBundle;
use crate::taxii::{TaxiiClient, TaxiiConfig, TaxiiError};

/// The folder of TAXII collections inside `stix/`.
pub const TAXII_FOLDER: &str = "taxii";
/// The cursor of a collection; the leading dot keeps loaders from reading it as a bundle.
const CURSOR_FILE: &str = ".cursor.json";

/// `[[intel.taxii]]`: one TAXII collection to pull into the cache.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxiiSource {
    /// A short name (letters, digits, `-` and `_`); the collection's bundles
    /// are kept under `stix/taxii/<name>/`.
    pub name: String,
    /// The API root that contains the collection.
    pub api_root: String,
    /// The collection id.
    pub collection: String,
    /// The server: discovery URL, credentials, timeouts and limits.
    pub server: TaxiiConfig,
}

/// The outcome of one pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxiiPull {
    pub objects: usize,
    pub pages: u32,
    /// The bundle written, or `None` when the collection had nothing new.
    pub file: Option<PathBuf>,
    /// The `added_after` value of the next pull.
    pub added_last: Option<DateTime<Utc>>,
    /// False when a page or byte limit stopped the pull; the next one goes on from `added_last`.
    pub complete: bool,
}

/// A pull that failed; the cache is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum TaxiiPullError {
    #[error("[[intel.taxii]] {name:?}: {reason}")]
    Config { name: String, reason: String },
    #[error(transparent)]
    Taxii(#[from] TaxiiError),
    #[error(transparent)]
    Intel(#[from] IntelError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    added_last: DateTime<Utc>,
}

/// Returns the folder of a collection's bundles.
pub fn collection_dir(cache: &IntelCache, name: &str) -> PathBuf {
    cache.source_dir(SourceKind::Stix).join(TAXII_FOLDER).join(name)
}

/// Pulls the objects added to a collection since the last pull.
pub fn pull_taxii(cache: &IntelCache, _lock: &CacheLock, source: &TaxiiSource) -> Result<TaxiiPull, TaxiiPullError> {
    let config_error = |reason: String| TaxiiPullError::Config {
        name: source.name.clone(),
        reason,
    };
    let valid_name = !source.name.is_empty()
        && source.name.len() <= 64
        && source
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_name {
        return Err(config_error(
            "name must be 1 to 64 letters, digits, '-' or '_', since it names a folder".into(),
        ));
    }
    let api_root = Url::parse(&source.api_root)
        .map_err(|error| config_error(format!("api_root {:?} is not a URL: {error}", source.api_root)))?;

    let dir = collection_dir(cache, &source.name);
    fs::create_dir_all(&dir).map_err(|source| {
        CacheError::from(IntelError::Io {
            path: dir.display().to_string(),
            source,
        })
    })?;
    let cursor_path = dir.join(CURSOR_FILE);
    let after = read_cursor(&cursor_path)?;

    let client = TaxiiClient::new(source.server.clone())?;
    let read = client.objects(&api_root, &source.collection, after)?;
    let mut pull = TaxiiPull {
        objects: read.objects.len(),
        pages: read.pages,
        file: None,
        added_last: read.added_last.or(after),
        complete: read.complete,
    };
    if read.objects.is_empty() {
        return Ok(pull);
    }

    let text = bundle_text(&read.objects);
    StixBundle::from_objects(&read.url, read.objects)?;
    let stamp = read.added_last.unwrap_or_else(Utc::now).format("%Y%m%dT%H%M%S%.3fZ");
    let file = dir.join(format!("{stamp}.json"));
    write_atomically(&dir, &file, text.as_bytes())?;
    if let Some(last) = read.added_last {
        let cursor = serde_json::to_vec(&Cursor { added_last: last }).expect("a cursor serializes");
        write_atomically(&dir, &cursor_path, &cursor)?;
    }
    pull.file = Some(file);
    Ok(pull)
}

fn read_cursor(path: &Path) -> Result<Option<DateTime<Utc>>, TaxiiPullError> {
    match fs::read(path) {
        Ok(bytes) => {
            let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|error| {
                CacheError::from(IntelError::Json {
                    path: path.display().to_string(),
                    line: error.line(),
                    column: error.column(),
                    message: format!("invalid TAXII cursor: {error}; delete the file to pull the whole collection"),
                })
            })?;
            Ok(Some(cursor.added_last))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CacheError::from(IntelError::Io {
            path: path.display().to_string(),
            source,
        })
        .into()),
    }
}

/// Wraps objects in a STIX 2.1 bundle whose id is derived from its content,
/// so the same objects always give the same file.
fn bundle_text(objects: &[serde_json::Value]) -> String {
    let body = serde_json::to_string(objects).expect("JSON values serialize");
    let digest = Sha256::digest(body.as_bytes());
    let hex = hex::encode(&digest[..16]);
    let id = format!(
        "bundle--{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    );
    format!(r#"{{"type":"bundle","id":"{id}","objects":{body}}}"#)
}

fn write_atomically(dir: &Path, target: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let mut staged = stage_in(dir)?;
    let io = |path: &Path, source| {
        CacheError::from(IntelError::Io {
            path: path.display().to_string(),
            source,
        })
    };
    staged.file().write_all(bytes).map_err(|e| io(target, e))?;
    staged.keep_as(target)
}
