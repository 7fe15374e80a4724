//! [`Intel`]: every loaded intelligence source behind one lookup.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ctem_model::CveId;
use serde::Serialize;

use crate::epss::{EpssRecord, EpssScores};
use crate::error::IntelError;
use crate::kev::{KevCatalog, KevEntry};
use crate::provenance::SourceKind;
use crate::sniff::{Detected, detect};

/// One loaded source, as a report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub kind: SourceKind,
    pub path: String,
    /// The KEV `catalogVersion` or the EPSS `model_version`.
    pub version: Option<String>,
    /// The KEV release day (UTC) or the EPSS score date.
    pub date: Option<NaiveDate>,
    /// KEV entries or EPSS rows (distinct CVEs) in the file.
    pub count: usize,
}

impl fmt::Display for Source {
    /// Formats the source for a report, such as `CISA KEV 2025.08.25 of
    /// 2025-08-25, 1404 entries (feeds/kev.json)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.kind {
            SourceKind::Kev => "entries",
            SourceKind::Epss => "scores",
            _ => "records",
        };
        f.write_str(self.kind.publisher())?;
        if let Some(version) = &self.version {
            write!(f, " {version}")?;
        }
        match self.date {
            Some(date) => write!(f, " of {date}")?,
            None => f.write_str(" (undated)")?,
        }
        write!(f, ", {} {unit} ({})", self.count, self.path)
    }
}

/// A file that [`Intel::load_dir`] did not load, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// The threat intelligence of one run: at most one KEV catalog (the newest
/// one loaded) and the EPSS scores of every loaded file.
#[derive(Debug, Clone, Default)]
pub struct Intel {
    kev: Option<KevCatalog>,
    epss: EpssScores,
    skipped: Vec<Skipped>,
}

impl Intel {
    /// Loads every KEV catalog and EPSS file under `dir`, recursively, in
    /// path order. Files of other kinds are listed in [`Intel::skipped`].
    ///
    /// A file that looks like a KEV catalog or an EPSS file but is invalid
    /// is an error: scoring without a feed that the user provided would
    /// rank exploited vulnerabilities too low without saying so.
    /// Symbolic links to files are followed, links to folders are not,
    /// which keeps the walk free of loops.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Intel, IntelError> {
        let dir = dir.as_ref();
        let mut intel = Intel::default();
        let mut files = Vec::new();
        collect_files(dir, &mut files, &mut intel.skipped)?;

        for file in files {
            match detect(&file)? {
                Detected::Kev => intel.add_kev(KevCatalog::load(&file)?),
                Detected::Epss => intel.add_epss(EpssScores::load(&file)?),
                Detected::Other(reason) => intel.skipped.push(Skipped {
                    path: file.display().to_string(),
                    reason,
                }),
            }
        }

        tracing::info!(
            dir = %dir.display(),
            kev_entries = intel.kev.as_ref().map_or(0, KevCatalog::len),
            epss_scores = intel.epss.len(),
            skipped = intel.skipped.len(),
            "loaded threat intelligence"
        );
        Ok(intel)
    }

    /// Loads the files that a configuration names: an optional KEV catalog
    /// and any number of EPSS files. Each must be of its kind; nothing is
    /// skipped.
    pub fn load_files(kev: Option<&Path>, epss: &[PathBuf]) -> Result<Intel, IntelError> {
        let mut intel = Intel::default();
        if let Some(path) = kev {
            intel.add_kev(KevCatalog::load(path)?);
        }
        for path in epss {
            intel.add_epss(EpssScores::load(path)?);
        }
        Ok(intel)
    }

    /// Adds a KEV catalog. Only one catalog is kept, because each release
    /// is a complete snapshot that supersedes the earlier ones. The newer
    /// by `dateReleased` wins and the other is listed in [`Intel::skipped`].
    pub fn add_kev(&mut self, catalog: KevCatalog) {
        let (kept, dropped) = match self.kev.take() {
            Some(current) if current.released >= catalog.released => (current, catalog),
            Some(current) => (catalog, current),
            None => {
                self.kev = Some(catalog);
                return;
            }
        };
        self.skipped.push(Skipped {
            path: dropped.path().to_string(),
            reason: format!(
                "KEV catalog {} is not newer than {} ({}), which is used",
                dropped.version,
                kept.version,
                kept.path()
            ),
        });
        self.kev = Some(kept);
    }

    /// Adds everything that `other` loaded: its KEV catalog (the newer
    /// catalog wins, as in [`Intel::add_kev`]), its EPSS scores and its
    /// skipped files.
    pub fn merge(&mut self, other: Intel) {
        self.skipped.extend(other.skipped);
        if let Some(catalog) = other.kev {
            self.add_kev(catalog);
        }
        self.add_epss(other.epss);
    }

    /// Adds EPSS scores; per CVE the later score date wins (see [`EpssScores::merge`]).
    pub fn add_epss(&mut self, scores: EpssScores) {
        self.epss.merge(scores);
    }

    /// Returns the KEV entry of a CVE.
    pub fn kev(&self, cve: &CveId) -> Option<&KevEntry> {
        self.kev.as_ref().and_then(|catalog| catalog.get(cve))
    }

    /// Returns the KEV catalog in use, if one was loaded.
    pub fn kev_catalog(&self) -> Option<&KevCatalog> {
        self.kev.as_ref()
    }

    /// Returns the EPSS score of a CVE and the file it came from.
    pub fn epss(&self, cve: &CveId) -> Option<EpssRecord<'_>> {
        self.epss.get(cve)
    }

    /// Returns every EPSS score loaded.
    pub fn epss_scores(&self) -> &EpssScores {
        &self.epss
    }

    /// Lists the loaded sources: the KEV catalog first, then the EPSS files
    /// in the order they were added.
    pub fn sources(&self) -> Vec<Source> {
        let kev = self.kev.iter().map(|catalog| Source {
            kind: SourceKind::Kev,
            path: catalog.path().to_string(),
            version: Some(catalog.version.clone()),
            date: Some(catalog.released.date_naive()),
            count: catalog.len(),
        });
        let epss = self.epss.files().iter().map(|file| Source {
            kind: SourceKind::Epss,
            path: file.path.clone(),
            version: file.model_version.clone(),
            date: file.score_date,
            count: file.count,
        });
        kev.chain(epss).collect()
    }

    /// Returns the files that were not loaded, with the reason for each.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Returns whether no source was loaded.
    pub fn is_empty(&self) -> bool {
        self.kev.is_none() && self.epss.files().is_empty()
    }
}

/// Lists the files under `dir` in path order, noting entries that are neither files nor folders.
fn collect_files(dir: &Path, files: &mut Vec<PathBuf>, skipped: &mut Vec<Skipped>) -> Result<(), IntelError> {
    let io_error = |path: &Path| {
        let path = path.display().to_string();
        move |source| IntelError::Io { path, source }
    };

    let mut children = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        children.push(entry.map_err(io_error(dir))?.path());
    }
    children.sort();

    for child in children {
        let file_type = fs::symlink_metadata(&child).map_err(io_error(&child))?.file_type();
        if file_type.is_dir() {
            collect_files(&child, files, skipped)?;
            continue;
        }
        if file_type.is_file() {
            files.push(child);
            continue;
        }

        let reason = if file_type.is_symlink() {
            match fs::metadata(&child) {
                Ok(target) if target.is_file() => {
                    files.push(child);
                    continue;
                }
                Ok(target) if target.is_dir() => "symbolic link to a folder, not followed",
                Ok(_) => "symbolic link to something that is not a file",
                Err(_) => "broken symbolic link",
            }
        } else {
            "not a regular file"
        };
        skipped.push(Skipped {
            path: child.display().to_string(),
            reason: reason.to_string(),
        });
    }
    Ok(())
}
