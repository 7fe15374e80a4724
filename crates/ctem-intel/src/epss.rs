//! FIRST EPSS scores: the probability that a CVE is exploited in the wild
//! in the next 30 days, and its percentile among all scored CVEs.
//!
//! FIRST publishes one CSV file a day (<https://www.first.org/epss/data_stats>),
//! usually gzipped. Two layouts are read, plain or gzipped (decided by the
//! gzip magic bytes, not by the file name):
//!
//! - the official daily file: a comment line
//!   `#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000`,
//!   then the header `cve,epss,percentile`, then one row per CVE;
//! - the header `cve,epss,percentile` without the comment line, or rows
//!   only (`CVE-2025-0001,0.00275,0.50602`), as extracts of the daily file
//!   often are. Such files have no score date.
//!
//! Every row is validated: a bad CVE id, a value that is no number or lies
//! outside 0..=1 rejects the file with an error naming the line and value.
//! A CSV with other columns is rejected as "not an EPSS scores file".
//! A CVE scored twice in one file with different values rejects the file
//! ([`IntelError::EpssConflict`]); a repeated identical row is logged and
//! used once. A score date before 2021-04-14, the first day of EPSS, is
//! rejected.
//!
//! # History
//!
//! Loading several daily files (a folder of daily files, or one file per
//! day in a cache) keeps the history of each CVE. [`EpssScores::history`]
//! lists every scored day, [`EpssScores::as_of`] returns the score of a
//! past day, and [`EpssScores::trend`] returns the change over the last days.
//! [`EpssScores::get`] returns the latest score, as it did before history
//! was kept.
//!
//! - A point is stored in at most eight bytes: the day as a `u16` count
//!   from 2021-04-14, the probability and the percentile as fixed point of
//!   1e-5, the resolution that FIRST publishes. Values with more decimals
//!   are rounded to 1e-5 and the file logs a warning with their count.
//! - Consecutive days with the same score share one eight-byte run. This
//!   keeps every lookup exact: a run only covers days on which a loaded
//!   file scored the CVE, so [`EpssScores::history`] lists the same days
//!   and scores that the files hold.
//! - Two files of the same score date that disagree on a CVE: the file
//!   merged later wins, and the merge logs a warning with the number of
//!   CVEs affected. Loading the same file again changes nothing.
//! - A file without a score date (the headerless layouts) has no day, so
//!   its scores never appear in the history. [`EpssScores::get`] returns
//!   such a score only for a CVE that no dated file scores; when no dated
//!   file is loaded at all, the undated scores are therefore the latest.
//!   Among undated files, the file merged later wins.
//! - Files merged in date order append to each history in constant time.
//!   NOTE: a file merged before the days already loaded costs time in
//!   proportion to the history of each CVE it scores, so merging a long
//!   history in reverse date order is quadratic. [`crate::Intel::load_dir`]
//!   loads files in path order, which is date order for FIRST's file names.
//!
//! A third layout, weekly snapshots with the columns `cve`,
//! `snapshot_date`, `epss` and `percentile`, is read by
//! [`EpssScores::load_snapshots`] (see that function for the layout).
//! It is not recognised by [`EpssScores::load`] or by folder loading,
//! because FIRST does not publish it.

mod history;
mod parse;
mod snapshots;

use std::collections::HashMap;

/// A map keyed by CVE id, with a fast hasher: EPSS files hold about 300,000
/// CVEs and scoring looks one up per finding. foldhash seeds itself per
/// process, which keeps crafted collisions from being planned in advance.
pub(crate) type CveMap<V> = HashMap<CveId, V, foldhash::fast::RandomState>;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;
use ctem_model::CveId;
use serde::Serialize;

use self::history::{Day, Run, Runs, UNITS_PER_ONE, Units, date_of, day_of, to_probability};
use self::parse::{Limits, first_line_score_date, parse};
pub(crate) use self::parse::{classify_first_line, open_text};
use crate::error::IntelError;

/// Maximum length of a line in bytes. Rows are about 35 bytes and the
/// comment line about 70, so a longer line means a corrupt or hostile file.
/// The limit keeps memory bounded whatever the input.
pub const EPSS_MAX_LINE_BYTES: usize = 1024;

/// Maximum number of lines in one file. The daily file of 2025 scores
/// about 300,000 CVEs, so the limit leaves ample room for growth while it
/// bounds the time and memory that a gzip bomb of short lines can take.
pub const EPSS_MAX_LINES: u64 = 5_000_000;

/// The first two bytes of every gzip stream (RFC 1952, section 2.3.1).
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The EPSS values of one CVE.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpssScore {
    /// Probability of exploitation activity in the next 30 days, 0.0 to 1.0.
    pub epss: f64,
    /// Share of scored CVEs with a lower or equal probability, 0.0 to 1.0.
    pub percentile: f64,
}

/// One EPSS file that was loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EpssFile {
    /// The path (or the name given to [`EpssScores::from_reader`]).
    pub path: String,
    /// `model_version` of the comment line, such as `v2025.03.14`.
    pub model_version: Option<String>,
    /// The day of `score_date` in UTC. FIRST scores once a day at 00:00 UTC.
    pub score_date: Option<NaiveDate>,
    /// How many distinct CVEs the file scores.
    pub count: usize,
}

/// A CVE's score together with the file it came from, so that a report can
/// name the score date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpssRecord<'a> {
    /// The latest score of the CVE.
    pub score: EpssScore,
    /// The file that gave the score.
    pub file: &'a EpssFile,
}

/// A CVE's latest EPSS score with the highest probability of its recent
/// history ([`EpssScores::window_maximum`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowMaximum<'a> {
    /// The latest score of the CVE and its file.
    pub record: EpssRecord<'a>,
    /// The highest probability within the window, at least the latest.
    pub maximum: f64,
    /// The day of `maximum`: the history's day where it beats the latest
    /// score, else the latest file's score date.
    pub date: Option<NaiveDate>,
}

/// The change of a CVE's score over a window of days that ends on the
/// latest score date loaded ([`EpssScores::trend`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpssTrend {
    /// The day of the score at the start: the latest scored day at or
    /// before the start of the window.
    pub start_date: NaiveDate,
    /// The score at the start of the window.
    pub start: EpssScore,
    /// The day of the latest score at or before the end of the window.
    pub end_date: NaiveDate,
    /// The score at the end of the window.
    pub end: EpssScore,
    /// `end.epss - start.epss`, computed on the 1e-5 fixed point, so a
    /// change of 0.2 is 0.2 and not 0.19999999999999998.
    pub epss_change: f64,
    /// `end.percentile - start.percentile`, computed the same way.
    pub percentile_change: f64,
}

/// EPSS scores by CVE with their history, from one or more files.
#[derive(Debug, Clone, Default)]
pub struct EpssScores {
    files: Vec<EpssFile>,
    /// The latest score date of `files`, kept so that each lookup of a
    /// window need not scan them.
    newest: Option<NaiveDate>,
    /// The scores of dated files.
    dated: CveMap<CveHistory>,
    /// The scores of files without a score date.
    undated: CveMap<Undated>,
}

/// The dated scores of one CVE.
#[derive(Debug, Clone)]
struct CveHistory {
    runs: Runs,
    /// The index in `files` of the file that gave the latest point.
    latest_file: u32,
}

/// The score of one CVE from a file without a score date.
#[derive(Debug, Clone, Copy)]
struct Undated {
    units: Units,
    /// The index of the file in `files`.
    file: u32,
}

/// Opens a file, with its path as errors name it.
fn open_file(path: &Path) -> Result<(File, String), IntelError> {
    let display = path.display().to_string();
    match File::open(path) {
        Ok(file) => Ok((file, display)),
        Err(source) => Err(IntelError::Io { path: display, source }),
    }
}

impl EpssScores {
    /// Loads an EPSS file, plain CSV or gzipped.
    pub fn load(path: impl AsRef<Path>) -> Result<EpssScores, IntelError> {
        let (file, display) = open_file(path.as_ref())?;
        EpssScores::from_reader(&display, file)
    }

    /// Reads the score date that an EPSS file (plain or gzipped) states on
    /// its first line, without reading its rows. `None` when it states
    /// none.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is empty, or its first line is neither an
    /// EPSS line nor a `#model_version` comment with a valid date.
    pub fn score_date_of(path: impl AsRef<Path>) -> Result<Option<NaiveDate>, IntelError> {
        let (file, display) = open_file(path.as_ref())?;
        first_line_score_date(&display, open_text(&display, file)?)
    }

    /// Reads an EPSS file from `reader`, plain CSV or gzipped;
    /// `path_for_errors` names the source in errors and in [`EpssFile::path`].
    pub fn from_reader(path_for_errors: &str, reader: impl Read) -> Result<EpssScores, IntelError> {
        let text = open_text(path_for_errors, reader)?;
        parse(path_for_errors, text, Limits::DEFAULT)
    }

    /// Loads an EPSS snapshot file, plain CSV or gzipped: a header with the
    /// columns `cve`, `snapshot_date`, `epss` and `percentile` (others are
    /// ignored), then one row per CVE and day. Every row becomes a point of
    /// the history. The [`EpssFile`] has the latest snapshot date as its score date.
    pub fn load_snapshots(path: impl AsRef<Path>) -> Result<EpssScores, IntelError> {
        let path = path.as_ref();
        let display = path.display().to_string();
        let file = File::open(path).map_err(|source| IntelError::Io {
            path: display.clone(),
            source,
        })?;
        EpssScores::snapshots_from_reader(&display, file)
    }

    /// Reads an EPSS snapshot file from `reader` (see [`EpssScores::load_snapshots`]).
    pub fn snapshots_from_reader(path_for_errors: &str, reader: impl Read) -> Result<EpssScores, IntelError> {
        let text = open_text(path_for_errors, reader)?;
        snapshots::parse_snapshots(path_for_errors, text, Limits::DEFAULT)
    }

    /// Builds the scores of one file from its validated rows.
    fn from_file(file: EpssFile, scores: CveMap<Units>) -> EpssScores {
        let day = file
            .score_date
            .map(|date| day_of(date).expect("the parser checks the range of score dates"));
        let mut loaded = EpssScores {
            newest: file.score_date,
            files: vec![file],
            ..EpssScores::default()
        };
        match day {
            Some(day) => {
                loaded.dated = scores
                    .into_iter()
                    .map(|(cve, units)| {
                        let history = CveHistory {
                            runs: Runs::One(Run::single(day, units)),
                            latest_file: 0,
                        };
                        (cve, history)
                    })
                    .collect();
            }
            None => {
                loaded.undated = scores
                    .into_iter()
                    .map(|(cve, units)| (cve, Undated { units, file: 0 }))
                    .collect();
            }
        }
        loaded
    }

    /// Returns the latest score of a CVE and the file it came from. A score
    /// of a file without score date counts only for a CVE that no dated
    /// file scores.
    pub fn get(&self, cve: &CveId) -> Option<EpssRecord<'_>> {
        self.get_with_history(cve).map(|(record, _)| record)
    }

    /// Returns what [`EpssScores::get`] and [`EpssScores::history`] return
    /// for a CVE, with one lookup of the CVE: its latest score and file,
    /// and every day a dated file scored it, oldest first.
    pub fn get_with_history(
        &self,
        cve: &CveId,
    ) -> Option<(EpssRecord<'_>, impl Iterator<Item = (NaiveDate, EpssScore)> + '_)> {
        let (record, dated) = self.lookup(cve)?;
        let history = dated
            .into_iter()
            .flat_map(|history| history.runs.days())
            .map(|(day, units)| (date_of(day), score_of(units)));
        Some((record, history))
    }

    /// Looks a CVE up once: its latest score with the file it came from,
    /// and its dated history when a dated file scores it.
    fn lookup(&self, cve: &CveId) -> Option<(EpssRecord<'_>, Option<&CveHistory>)> {
        let dated = self.dated.get(cve);
        let record = match dated {
            Some(history) => EpssRecord {
                score: score_of(history.runs.last().units()),
                file: &self.files[history.latest_file as usize],
            },
            None => {
                let undated = self.undated.get(cve)?;
                EpssRecord {
                    score: score_of(undated.units),
                    file: &self.files[undated.file as usize],
                }
            }
        };
        Some((record, dated))
    }

    /// Returns a CVE's latest score with the highest probability of its
    /// history within `days` days before the newest score date loaded. Where
    /// the history contains no higher score, or no file is dated, the
    /// maximum is the latest score, dated by its file.
    pub fn window_maximum(&self, cve: &CveId, days: i64) -> Option<WindowMaximum<'_>> {
        let (record, dated) = self.lookup(cve)?;
        let latest = record.score.epss;
        // NOTE: a window too long for a date has no start, so it reads no
        // history, like one that starts before the first representable date.
        let start = self
            .newest
            .zip(chrono::TimeDelta::try_days(days))
            .and_then(|(newest, window)| newest.checked_sub_signed(window));
        // A window that starts before the first day of the history covers all of it.
        let first = start.and_then(|start| if start <= date_of(0) { Some(0) } else { day_of(start) });
        // The highest score in the window and the last day it held, read
        // from the runs of equal scores without visiting each day.
        let recent = first.zip(dated).and_then(|(first, history)| {
            let mut best: Option<(Units, Day)> = None;
            for run in history.runs.as_slice().iter().filter(|run| run.end() >= first) {
                if best.is_none_or(|(units, _)| run.units().epss >= units.epss) {
                    best = Some((run.units(), run.end()));
                }
            }
            best
        });
        let (maximum, date) = match recent.map(|(units, day)| (score_of(units).epss, day)) {
            Some((maximum, day)) if maximum > latest => (maximum, Some(date_of(day))),
            _ => (latest, record.file.score_date),
        };
        Some(WindowMaximum { record, maximum, date })
    }

    /// Returns the score of a CVE as of `date`: the score of the latest
    /// scored day at or before `date`, with that day. Returns `None` when
    /// no dated file scores the CVE on or before `date`.
    pub fn as_of(&self, cve: &CveId, date: NaiveDate) -> Option<(NaiveDate, EpssScore)> {
        let history = self.dated.get(cve)?;
        let day = match day_of(date) {
            Some(day) => day,
            None if date < history::first_day() => return None,
            None => Day::MAX,
        };
        let (found, units) = history.runs.at_or_before(day)?;
        Some((date_of(found), score_of(units)))
    }

    /// Lists every day on which a dated file scored the CVE, oldest first,
    /// with the score of that day. Empty for a CVE without dated scores.
    pub fn history(&self, cve: &CveId) -> impl Iterator<Item = (NaiveDate, EpssScore)> + '_ {
        self.dated
            .get(cve)
            .into_iter()
            .flat_map(|history| history.runs.days())
            .map(|(day, units)| (date_of(day), score_of(units)))
    }

    /// Returns the change of a CVE's score over the last `days` days. The
    /// window ends on [`EpssScores::latest_score_date`] and starts `days`
    /// days before. Each end takes the latest score at or before its day.
    /// Returns `None` when no score of the CVE lies at or before the start.
    pub fn trend(&self, cve: &CveId, days: u32) -> Option<EpssTrend> {
        let history = self.dated.get(cve)?;
        let window_end = day_of(self.latest_score_date()?)?;
        let window_start = window_end.checked_sub(Day::try_from(days).ok()?)?;

        let (start_day, start) = history.runs.at_or_before(window_start)?;
        let (end_day, end) = history.runs.at_or_before(window_end)?;
        let change = |from: u32, to: u32| (f64::from(to) - f64::from(from)) / f64::from(UNITS_PER_ONE);
        Some(EpssTrend {
            start_date: date_of(start_day),
            start: score_of(start),
            end_date: date_of(end_day),
            end: score_of(end),
            epss_change: change(start.epss, end.epss),
            percentile_change: change(start.percentile, end.percentile),
        })
    }

    /// Returns the latest score date of the files loaded, or `None` when
    /// every file is undated.
    pub fn latest_score_date(&self) -> Option<NaiveDate> {
        self.newest
    }

    /// Returns the number of distinct CVEs scored, dated or not.
    pub fn len(&self) -> usize {
        let undated_only = self.undated.keys().filter(|cve| !self.dated.contains_key(*cve)).count();
        self.dated.len() + undated_only
    }

    /// Returns whether no CVE is scored.
    pub fn is_empty(&self) -> bool {
        self.dated.is_empty() && self.undated.is_empty()
    }

    /// Returns the files loaded, in the order they were merged. A file equal
    /// to one already listed (same path, model version, score date and
    /// count), such as the same file loaded twice, is listed once.
    pub fn files(&self) -> &[EpssFile] {
        &self.files
    }

    /// Adds the scores and the history of `other`. On a day that both hold,
    /// the scores of `other` win, and a warning counts the CVEs whose score
    /// changed. [`EpssScores::get`] then returns the score of the latest day.
    pub fn merge(&mut self, other: EpssScores) {
        if self.files.is_empty() {
            // Nothing to merge with, so the maps are taken over without rehashing.
            *self = other;
            return;
        }

        let file_indexes: Vec<u32> = other.files.iter().map(|file| self.add_file(file)).collect();
        let mut changed = 0usize;

        for (cve, incoming) in other.dated {
            let latest_file = file_indexes[incoming.latest_file as usize];
            match self.dated.entry(cve) {
                Entry::Vacant(slot) => {
                    slot.insert(CveHistory {
                        runs: incoming.runs,
                        latest_file,
                    });
                }
                Entry::Occupied(mut slot) => {
                    let history = slot.get_mut();
                    let incoming_is_latest = incoming.runs.last().end() >= history.runs.last().end();
                    let mut conflict = false;
                    for &run in incoming.runs.as_slice() {
                        conflict |= history.runs.insert(run);
                    }
                    if incoming_is_latest {
                        history.latest_file = latest_file;
                    }
                    changed += usize::from(conflict);
                }
            }
        }

        for (cve, undated) in other.undated {
            let file = file_indexes[undated.file as usize];
            self.undated.insert(cve, Undated { file, ..undated });
        }

        if changed > 0 {
            let paths: Vec<&str> = other.files.iter().map(|file| file.path.as_str()).collect();
            tracing::warn!(
                files = ?paths,
                cves = changed,
                "EPSS files of the same score date disagree on some CVEs; the scores of the files merged later are used"
            );
        }
    }

    /// Appends `file` to the list unless an equal one is listed, and returns its index.
    fn add_file(&mut self, file: &EpssFile) -> u32 {
        let index = match self.files.iter().position(|listed| listed == file) {
            Some(index) => index,
            None => {
                self.files.push(file.clone());
                self.newest = self.newest.max(file.score_date);
                self.files.len() - 1
            }
        };
        u32::try_from(index).expect("fewer than 2^32 EPSS files are loaded")
    }
}

fn score_of(units: Units) -> EpssScore {
    EpssScore {
        epss: to_probability(units.epss),
        percentile: to_probability(units.percentile),
    }
}
