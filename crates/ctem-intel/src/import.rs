//! `ctem intel import`: copies feed files into the [`IntelCache`] for
//! offline and air-gapped use.
//!
//! Each file's kind is detected from its name and first KiB
//! ([`detect_kind`]), then it is validated like a download and copied
//! atomically. Feeds that are one file (KEV, EPSS, ATT&CK, ...) replace the
//! cached file of their kind. When one import has several files of such a
//! kind, the last in path order is the one kept. CVE records and Nuclei
//! templates are many small files: they are copied into the `tree/` folder
//! of their kind, and files already in the tree stay. A CVE record named
//! by its id lands where `cvelistV5` keeps it (`2024/32xxx/`); other files
//! keep their path below the imported folder (a single file lands at the
//! top of the tree).
//! Folders are searched recursively in path order; symbolic links to
//! folders and names starting with a dot are not followed.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use chrono::Utc;
use ctem_model::CveId;
use serde::Serialize;

use crate::bundle::Skipped;
use crate::cache::{
    CacheError, CacheLock, EPSS_HISTORY, ERROR_FILE, Incoming, IntelCache, LOCK_FILE, Origin, STATE_FILE,
    state_for_tree,
};
use crate::cve5::Cve5Record;
use crate::provenance::SourceKind;
use crate::sync::NVD_PAGES;
use crate::taxii_feed::TAXII_FOLDER;
use crate::validate::{FeedInfo, Validators, detect_kind};

/// The folder of the files of tree kinds inside their source folder.
pub const TREE: &str = "tree";

/// A file that was copied into the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub path: String,
    pub kind: SourceKind,
    /// The path of the copy in the cache.
    pub cached: PathBuf,
    pub records: Option<u64>,
}

/// The result of one import.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub imported: Vec<Imported>,
    /// Files of a known kind that failed validation: nothing was copied.
    pub failed: Vec<Skipped>,
    /// Files of no kind that the cache holds.
    pub skipped: Vec<Skipped>,
}

/// Tells whether a kind is kept as a tree of many files.
fn is_tree(kind: SourceKind) -> bool {
    matches!(kind, SourceKind::Cve5 | SourceKind::NucleiTemplates)
}

/// Imports files and folders into the cache under its lock.
pub fn import(cache: &IntelCache, paths: &[PathBuf], validators: &Validators) -> Result<ImportReport, CacheError> {
    let lock = cache.lock()?;
    let mut report = ImportReport::default();
    let mut trees_touched = Vec::new();

    for root in paths {
        let metadata = fs::metadata(root).map_err(|source| CacheError::Io {
            path: root.display().to_string(),
            source,
        })?;
        let mut files = Vec::new();
        if metadata.is_dir() {
            collect(root, root, &mut files, &mut report.skipped);
        } else {
            let name = root.file_name().map(PathBuf::from).unwrap_or_else(|| root.clone());
            files.push((root.clone(), name));
        }

        for (file, relative) in files {
            let display = file.display().to_string();
            let kind = match detect_kind(&file) {
                Ok(Ok(kind)) => kind,
                Ok(Err(reason)) => {
                    report.skipped.push(Skipped { path: display, reason });
                    continue;
                }
                Err(error) => {
                    report.failed.push(Skipped {
                        path: display,
                        reason: error.to_string(),
                    });
                    continue;
                }
            };
            match import_file(cache, &lock, kind, &file, &relative, validators) {
                Ok(imported) => {
                    if is_tree(kind) && !trees_touched.contains(&kind) {
                        trees_touched.push(kind);
                    }
                    report.imported.push(imported);
                }
                Err(error) => {
                    let reason = error.to_string();
                    if let Err(record) = cache.record_error(&lock, kind, &format!("import of {display}: {reason}")) {
                        tracing::warn!(source = %kind, error = %record, "cannot record the failure");
                    }
                    report.failed.push(Skipped { path: display, reason });
                }
            }
        }
    }

    for kind in trees_touched {
        let source = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let (size, files) = tree_size(&cache.source_dir(kind).join(TREE));
        let incoming = Incoming {
            origin: Origin::Import,
            source,
            etag: None,
            last_modified: None,
            expected_sha256: None,
        };
        let info = FeedInfo {
            records: Some(files),
            version: None,
            date: Some(Utc::now().date_naive()),
        };
        cache.write_state(&lock, &state_for_tree(kind, TREE, incoming, size, info))?;
    }
    Ok(report)
}

fn import_file(
    cache: &IntelCache,
    lock: &CacheLock,
    kind: SourceKind,
    file: &Path,
    relative: &Path,
    validators: &Validators,
) -> Result<Imported, CacheError> {
    let display = file.display().to_string();
    let mut staged = cache.stage(lock, kind)?;
    let mut input = File::open(file).map_err(|source| CacheError::Io {
        path: display.clone(),
        source,
    })?;
    io::copy(&mut input, staged.file()).map_err(|source| CacheError::Io {
        path: display.clone(),
        source,
    })?;

    if is_tree(kind) {
        let info = validators.validate(kind, &display, staged.path())?;
        // A CVE record is filed under the id it holds, not the name it
        // came with, so a misnamed file cannot replace another CVE's record.
        let relative = match kind {
            SourceKind::Cve5 => {
                let copy = File::open(staged.path()).map_err(|source| CacheError::Io {
                    path: display.clone(),
                    source,
                })?;
                let record = Cve5Record::from_reader(&display, crate::epss::open_text(&display, copy)?)?;
                Path::new(TREE).join(tree_path(kind, Path::new(&format!("{}.json", record.cve))))
            }
            _ => Path::new(TREE).join(tree_path(kind, relative)),
        };
        let relative_text = relative.to_string_lossy().into_owned();
        cache.install(lock, kind, staged, &relative_text)?;
        return Ok(Imported {
            path: display,
            kind,
            cached: cache.source_dir(kind).join(relative),
            records: info.records.map(|_| 1),
        });
    }

    let name = cached_name(kind, relative);
    let incoming = Incoming {
        origin: Origin::Import,
        source: display.clone(),
        etag: None,
        last_modified: None,
        expected_sha256: None,
    };
    let state = cache.commit(lock, kind, staged, &name, incoming, validators)?;
    Ok(Imported {
        path: display,
        kind,
        cached: cache.source_dir(kind).join(&state.file),
        records: state.records,
    })
}

/// Names the cached copy of an imported file after the file, unless that
/// name is one the cache uses itself (`state.json`, `last-error.json`, the
/// lock, temporary and hidden files, its folders) or holds control
/// characters: such names get an `imported-` prefix, without leading dots.
fn cached_name(kind: SourceKind, relative: &Path) -> String {
    let name: String = relative
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .collect();
    let reserved = [
        STATE_FILE,
        ERROR_FILE,
        LOCK_FILE,
        TREE,
        EPSS_HISTORY,
        NVD_PAGES,
        TAXII_FOLDER,
    ];
    if name.trim_start_matches('.').is_empty() {
        return format!("imported-{kind}.data");
    }
    if name.starts_with('.') || reserved.iter().any(|reserved| name.eq_ignore_ascii_case(reserved)) {
        return format!("imported-{}", name.trim_start_matches('.'));
    }
    name
}

/// Places a file of a tree kind below `tree/`. A CVE record named by its id
/// goes where the CVE Program's `cvelistV5` repository keeps it
/// (`2024/32xxx/CVE-2024-32466.json`), whatever folder it came from. Any
/// other file keeps its path below the imported folder.
fn tree_path(kind: SourceKind, relative: &Path) -> PathBuf {
    let name = relative
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let id = name.strip_suffix(".json").and_then(|stem| stem.parse::<CveId>().ok());
    match id {
        Some(id) if kind == SourceKind::Cve5 => {
            let text = id.to_string();
            let mut parts = text.splitn(3, '-').skip(1);
            let (year, number) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            let thousands = number.parse::<u64>().map_or(0, |n| n / 1000);
            PathBuf::from(year)
                .join(format!("{thousands}xxx"))
                .join(format!("{text}.json"))
        }
        _ => relative.to_path_buf(),
    }
}

/// Lists the files under `dir` with their path relative to `root`, in path order.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(PathBuf, PathBuf)>, skipped: &mut Vec<Skipped>) {
    let mut children: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|entry| entry.ok().map(|e| e.path())).collect(),
        Err(error) => {
            skipped.push(Skipped {
                path: dir.display().to_string(),
                reason: format!("cannot list the folder: {error}"),
            });
            return;
        }
    };
    children.sort();
    for child in children {
        let hidden = child.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        let Ok(link) = fs::symlink_metadata(&child) else {
            continue;
        };
        if link.is_dir() {
            collect(root, &child, files, skipped);
        } else if fs::metadata(&child).is_ok_and(|m| m.is_file()) {
            let relative = child.strip_prefix(root).unwrap_or(&child).to_path_buf();
            files.push((child, relative));
        } else {
            skipped.push(Skipped {
                path: child.display().to_string(),
                reason: "not a regular file, or a symbolic link to a folder".to_string(),
            });
        }
    }
}

/// Total size and number of files in a folder tree.
fn tree_size(dir: &Path) -> (u64, u64) {
    let mut size = 0;
    let mut files = 0;
    let Ok(entries) = fs::read_dir(dir) else {
        return (0, 0);
    };
    for entry in entries.flatten() {
        let Ok(metadata) = entry.metadata() else { continue };
        if metadata.is_dir() {
            let (s, f) = tree_size(&entry.path());
            size += s;
            files += f;
        } else if !entry.file_name().to_string_lossy().starts_with('.') {
            size += metadata.len();
            files += 1;
        }
    }
    (size, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_records_take_the_cvelist_layout() {
        let cases = [
            ("any/where/CVE-2024-32466.json", "2024/32xxx/CVE-2024-32466.json"),
            ("CVE-2021-44228.json", "2021/44xxx/CVE-2021-44228.json"),
            ("CVE-2025-0001.json", "2025/0xxx/CVE-2025-0001.json"),
            ("CVE-2024-1234567.json", "2024/1234xxx/CVE-2024-1234567.json"),
            ("records/other.json", "records/other.json"),
        ];
        for (relative, expected) in cases {
            assert_eq!(
                tree_path(SourceKind::Cve5, Path::new(relative)),
                PathBuf::from(expected),
                "{relative}"
            );
        }
        let template = Path::new("http/cves/2021/CVE-2021-44228.yaml");
        assert_eq!(tree_path(SourceKind::NucleiTemplates, template), template);
    }
}
