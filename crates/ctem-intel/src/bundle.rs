//! [`Intel`]: every loaded intelligence source behind one lookup.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ctem_model::CveId;
use serde::Serialize;

use crate::attack::{AttackCatalog, CtidMappings};
use crate::cve_store::{Cve5Store, NvdStore};
use crate::cve5::Cve5Record;
use crate::epss::{EpssRecord, EpssScores};
use crate::error::IntelError;
use crate::exploits::Exploits;
use crate::kev::{KevCatalog, KevEntry};
use crate::nvd::NvdFile;
use crate::osv::{OsvRecord, OsvStore};
use crate::provenance::SourceKind;
use crate::sniff::{Detected, detect};
use crate::stix::StixBundle;
use crate::validate::detect_kind;

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
#[derive(Debug, Default)]
pub struct Intel {
    kev: Option<KevCatalog>,
    epss: EpssScores,
    skipped: Vec<Skipped>,
    cve5: Cve5Store,
    nvd: NvdStore,
    osv: OsvStore,
    ctid: Vec<CtidMappings>,
    attack: Option<AttackCatalog>,
    stix: Vec<StixBundle>,
    exploits: Exploits,
    /// Files loaded per kind other than KEV and EPSS, for [`Intel::sources`].
    loaded: BTreeMap<SourceKind, Loaded>,
}

/// The files loaded of one kind: the first one, their number and their records.
#[derive(Debug, Clone, Default)]
struct Loaded {
    first_path: String,
    files: usize,
    records: usize,
    date: Option<NaiveDate>,
}

impl Intel {
    /// Loads every intelligence file under `dir`, recursively, in path
    /// order: KEV, EPSS, CVE JSON 5 records, NVD responses, OSV records,
    /// ATT&CK bundles, CTID mappings, STIX bundles, Exploit-DB, Metasploit
    /// and Nuclei templates (see [`detect_kind`]). Files of other kinds are
    /// listed in [`Intel::skipped`].
    ///
    /// A feed file (KEV, EPSS, ATT&CK, CTID, STIX, Exploit-DB, Metasploit)
    /// that is invalid is an error: scoring without a feed that the user
    /// provided would rank exploited vulnerabilities too low without saying
    /// so. An invalid record of a collection of many (a CVE record, an NVD
    /// page, an OSV advisory, a Nuclei template) is listed in
    /// [`Intel::skipped`] with its error, and the others load: one bad
    /// record of a mirror of 250,000 must not hide the rest.
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
                Detected::Other(reason) => match detect_kind(&file)? {
                    Ok(kind) => intel.load_file(kind, &file)?,
                    // The KEV and EPSS detector's reason is the more precise.
                    Err(_) => intel.skipped.push(Skipped {
                        path: file.display().to_string(),
                        reason,
                    }),
                },
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

    /// Loads the EPSS files of a history folder (`epss_scores-YYYY-MM-DD.csv`
    /// or `.csv.gz`, one per day) that lie within `days` days of the newest
    /// day in it, so that a history of a year loads as fast as one of a
    /// month. A file's day is the score date on its first line, read
    /// without its rows, else the day in its name. A file with neither
    /// loads whatever its age.
    pub fn load_epss_history(&mut self, dir: &Path, days: i64) -> Result<(), IntelError> {
        let files = epss_history_files(dir, &mut self.skipped)?;
        let first = first_kept_day(&files, days);
        for (file, day) in files {
            if day.zip(first).is_none_or(|(day, first)| day >= first) {
                self.load_file(SourceKind::Epss, &file)?;
            }
        }
        Ok(())
    }

    /// Loads one file of a known kind, or a folder of a tree kind (CVE
    /// records, NVD pages, OSV records, Nuclei templates).
    pub fn load_file(&mut self, kind: SourceKind, path: &Path) -> Result<(), IntelError> {
        let display = path.display().to_string();
        if path.is_dir() {
            let mut files = Vec::new();
            collect_files(path, &mut files, &mut self.skipped)?;
            for file in files {
                if is_record_file(kind, &file) {
                    self.load_file(kind, &file)?;
                }
            }
            return Ok(());
        }
        let (records, date) = match kind {
            SourceKind::Kev => {
                self.add_kev(KevCatalog::load(path)?);
                return Ok(());
            }
            SourceKind::Epss => {
                self.add_epss(EpssScores::load(path)?);
                return Ok(());
            }
            SourceKind::Cve5 => match Cve5Record::load(path) {
                Ok(record) => {
                    let date = record.date_updated.map(|d| d.date_naive());
                    self.cve5.insert(record);
                    (1, date)
                }
                Err(error) => return self.skip_record(kind, &display, &error),
            },
            SourceKind::Nvd => match NvdFile::load(path) {
                Ok(file) => {
                    let count = file.cves.len();
                    let date = file.cves.iter().map(|cve| cve.last_modified.date_naive()).max();
                    for cve in file.cves {
                        self.nvd.insert(cve);
                    }
                    (count, date)
                }
                Err(error) => return self.skip_record(kind, &display, &error),
            },
            SourceKind::Osv => match OsvRecord::load(path) {
                Ok(record) => {
                    let date = record.provenance().date;
                    self.osv.add(record);
                    (1, date)
                }
                Err(error) => return self.skip_record(kind, &display, &error),
            },
            SourceKind::NucleiTemplates => match Exploits::load_nuclei_template(path) {
                Ok(exploits) => {
                    let count = exploits.len();
                    self.exploits.merge(exploits);
                    (count, None)
                }
                Err(error) => return self.skip_record(kind, &display, &error),
            },
            SourceKind::Attack => {
                let catalog = AttackCatalog::load(path)?;
                let count = catalog.len();
                self.attack = Some(catalog);
                (count, None)
            }
            SourceKind::CtidMappings => {
                let mappings = CtidMappings::load(path)?;
                let (count, date) = (mappings.mapping_count(), mappings.date());
                self.ctid.push(mappings);
                (count, date)
            }
            SourceKind::Stix => {
                let bundle = StixBundle::load(path)?;
                let count = bundle.object_count();
                self.stix.push(bundle);
                (count, None)
            }
            SourceKind::ExploitDb => {
                let exploits = Exploits::load_exploit_db(path)?;
                let count = exploits.len();
                self.exploits.merge(exploits);
                (count, None)
            }
            SourceKind::Metasploit => {
                let exploits = Exploits::load_metasploit(path)?;
                let count = exploits.len();
                self.exploits.merge(exploits);
                (count, None)
            }
        };
        let loaded = self.loaded.entry(kind).or_default();
        if loaded.files == 0 {
            loaded.first_path = display;
        }
        loaded.files += 1;
        loaded.records += records;
        loaded.date = loaded.date.max(date);
        Ok(())
    }

    /// Notes a record file that did not load; the load goes on.
    fn skip_record(&mut self, kind: SourceKind, path: &str, error: &IntelError) -> Result<(), IntelError> {
        tracing::warn!(path, kind = kind.as_str(), %error, "skipped an invalid intelligence record");
        self.skipped.push(Skipped {
            path: path.to_string(),
            reason: format!("not loaded: {error}"),
        });
        Ok(())
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
        for record in other.cve5.into_records() {
            self.cve5.insert(record);
        }
        for cve in other.nvd.into_records() {
            self.nvd.insert(cve);
        }
        for record in other.osv.into_records() {
            self.osv.add(record);
        }
        self.ctid.extend(other.ctid);
        if other.attack.is_some() {
            self.attack = other.attack;
        }
        self.stix.extend(other.stix);
        self.exploits.merge(other.exploits);
        for (kind, theirs) in other.loaded {
            let ours = self.loaded.entry(kind).or_default();
            if ours.files == 0 {
                ours.first_path = theirs.first_path;
            }
            ours.files += theirs.files;
            ours.records += theirs.records;
            ours.date = ours.date.max(theirs.date);
        }
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
        let others = self.loaded.iter().map(|(&kind, loaded)| Source {
            kind,
            path: match loaded.files {
                1 => loaded.first_path.clone(),
                n => format!("{} and {} more files", loaded.first_path, n - 1),
            },
            version: match kind {
                SourceKind::Attack => self
                    .attack
                    .as_ref()
                    .and_then(|catalog| catalog.version().map(str::to_string)),
                SourceKind::CtidMappings => self.ctid.first().map(|m| format!("ATT&CK {}", m.attack_version())),
                _ => None,
            },
            date: loaded.date,
            count: loaded.records,
        });
        kev.chain(epss).chain(others).collect()
    }

    /// Returns the files that were not loaded, with the reason for each.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Returns whether no source was loaded.
    pub fn is_empty(&self) -> bool {
        self.kev.is_none() && self.epss.files().is_empty() && self.loaded.is_empty()
    }

    /// Returns the CVE JSON 5 records loaded.
    /// When the CVE was published: the earlier of the CVE record's
    /// `datePublished` and NVD's `published`, where either is loaded.
    pub fn published(&self, cve: &CveId) -> Option<chrono::DateTime<chrono::Utc>> {
        let record = self.cve5.get(cve).and_then(|record| record.date_published);
        let nvd = self.nvd.get(cve).map(|record| record.published);
        match (record, nvd) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (one, other) => one.or(other),
        }
    }

    pub fn cve5(&self) -> &Cve5Store {
        &self.cve5
    }

    /// Returns the NVD entries loaded.
    pub fn nvd(&self) -> &NvdStore {
        &self.nvd
    }

    /// Returns the OSV records loaded.
    pub fn osv(&self) -> &OsvStore {
        &self.osv
    }

    /// Returns the CTID ATT&CK mappings loaded.
    pub fn ctid(&self) -> &[CtidMappings] {
        &self.ctid
    }

    /// Returns the ATT&CK catalog that names techniques, if one was loaded.
    pub fn attack(&self) -> Option<&AttackCatalog> {
        self.attack.as_ref()
    }

    /// Returns the STIX bundles loaded.
    pub fn stix(&self) -> &[StixBundle] {
        &self.stix
    }

    /// Returns the exploit evidence loaded.
    pub fn exploits(&self) -> &Exploits {
        &self.exploits
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

/// Lists the EPSS files of a history folder and its subfolders, each with
/// its day ([`history_day`]). Entries that are no regular file go to
/// `skipped`.
pub(crate) fn epss_history_files(
    dir: &Path,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<(PathBuf, Option<NaiveDate>)>, IntelError> {
    let mut files = Vec::new();
    collect_files(dir, &mut files, skipped)?;
    Ok(files
        .into_iter()
        .filter(|file| is_record_file(SourceKind::Epss, file))
        .map(|file| {
            let day = history_day(&file);
            (file, day)
        })
        .collect())
}

/// Returns the first day that a retention of `days` days before the
/// newest day of `files` keeps, or `None` when it keeps every day (no day
/// is known, or the retention reaches past the calendar).
pub(crate) fn first_kept_day(files: &[(PathBuf, Option<NaiveDate>)], days: i64) -> Option<NaiveDate> {
    let newest = files.iter().filter_map(|(_, day)| *day).max()?;
    let retention = chrono::Duration::try_days(days.max(0))?;
    newest.checked_sub_signed(retention)
}

/// Reads the day of an EPSS history file: the score date on its first
/// line, else the day in its name (`epss_scores-YYYY-MM-DD.csv` or
/// `.csv.gz`). A file whose first line cannot be read has no day, so it
/// loads and its error stops the run.
fn history_day(path: &Path) -> Option<NaiveDate> {
    match EpssScores::score_date_of(path) {
        Ok(Some(day)) => return Some(day),
        Ok(None) => {}
        Err(_) => return None,
    }
    let name = path.file_name()?.to_str()?;
    let day = name.strip_prefix("epss_scores-")?;
    let day = day.strip_suffix(".csv.gz").or_else(|| day.strip_suffix(".csv"))?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// Tells whether a file in a folder of a tree kind is one of its records.
fn is_record_file(kind: SourceKind, path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.starts_with('.') {
        return false;
    }
    match kind {
        SourceKind::Cve5 => name.starts_with("cve-") && name.ends_with(".json"),
        SourceKind::NucleiTemplates => name.ends_with(".yaml") || name.ends_with(".yml"),
        SourceKind::Epss | SourceKind::ExploitDb => name.ends_with(".csv") || name.ends_with(".csv.gz"),
        _ => name.ends_with(".json") || name.ends_with(".json.gz"),
    }
}
