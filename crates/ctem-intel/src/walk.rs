//! Opening input files, and listing the files of a folder for the loaders
//! that read a tree of small records (Nuclei templates, OSV advisories)
//! within a file-count limit.

use std::fs::File;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::bundle::Skipped;
use crate::error::IntelError;

/// The deepest folder level searched below the root. Nuclei templates and
/// OSV exports nest three or four levels, so deeper trees are not data.
const MAX_DEPTH: usize = 16;

/// Opens a file for a loader and returns it with its path for messages.
pub(crate) fn open_file(path: &Path) -> Result<(File, String), IntelError> {
    let display = path.display().to_string();
    match File::open(path) {
        Ok(file) => Ok((file, display)),
        Err(source) => Err(IntelError::Io { path: display, source }),
    }
}

/// Lists the files under `dir` whose names end in one of `extensions`
/// (compared in lower case), sorted by path.
///
/// Symbolic links are not followed, which keeps the walk free of loops and
/// inside the folder; each one is listed as skipped. More than `max_files`
/// matching files is an error, because memory grows with every record.
pub(crate) fn list_files(
    dir: &Path,
    extensions: &[&str],
    max_files: usize,
    kind: &'static str,
) -> Result<(Vec<PathBuf>, Vec<Skipped>), IntelError> {
    let display = dir.display().to_string();
    let metadata = std::fs::metadata(dir).map_err(|source| IntelError::Io {
        path: display.clone(),
        source,
    })?;
    if !metadata.is_dir() {
        return Err(IntelError::NotFormat {
            path: display,
            expected: "a folder",
            reason: format!("{kind} are read from a folder"),
        });
    }

    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for entry in WalkDir::new(dir).max_depth(MAX_DEPTH).sort_by_file_name() {
        let entry = entry.map_err(|error| IntelError::Io {
            path: error.path().map_or(display.clone(), |p| p.display().to_string()),
            source: error.into(),
        })?;
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if !extensions.iter().any(|extension| name.ends_with(extension)) {
            continue;
        }
        if entry.path_is_symlink() {
            skipped.push(Skipped {
                path: entry.path().display().to_string(),
                reason: "symbolic link, not followed".into(),
            });
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        if files.len() == max_files {
            return Err(IntelError::Invalid {
                path: display,
                location: "folder".into(),
                reason: format!("more than {max_files} {kind}; point ctem at a smaller folder"),
            });
        }
        files.push(entry.into_path());
    }
    Ok((files, skipped))
}

/// Loads each file with `load` and hands the result to `add`. A file that
/// fails is logged and listed in `skipped`, and the others still load.
pub(crate) fn load_each<T>(
    files: &[PathBuf],
    kind: &'static str,
    skipped: &mut Vec<Skipped>,
    load: impl Fn(&Path) -> Result<T, IntelError>,
    mut add: impl FnMut(T),
) {
    for file in files {
        match load(file) {
            Ok(value) => add(value),
            Err(error) => {
                tracing::warn!(path = %file.display(), %error, kind, "file skipped");
                skipped.push(Skipped {
                    path: file.display().to_string(),
                    reason: error.to_string(),
                });
            }
        }
    }
}
