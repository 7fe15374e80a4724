//! SSVC decision tables: the CERT/CC Stakeholder-Specific Vulnerability
//! Categorization, with its tables kept as data.
//!
//! An SSVC decision table maps every combination of the values of a few
//! decision points (Exploitation, Automatable, Technical Impact...) to one
//! value of an outcome (Track, Attend, Act...). The tables, their decision
//! points and their values are published by the SSVC project
//! (<https://certcc.github.io/SSVC/>, source in the `CERTCC/SSVC`
//! repository) as JSON and as CSV files.
//!
//! # Tables
//!
//! [`BuiltinTable`] lists the tables that ship with ctem, each a CSV file
//! under `data/ssvc/` that is compiled into the crate:
//!
//! - CISA Coordinator 2.0.3: Exploitation, Automatable, Technical Impact,
//!   Mission and Well-Being Impact -> Track, Track*, Attend, Act;
//! - Deployer Patch Application Priority 1.0.0: Exploitation, System
//!   Exposure, Automatable, Human Impact -> Defer, Scheduled, Out-of-Cycle,
//!   Immediate;
//! - Human Impact 1.0.0: Safety Impact, Mission Impact -> Human Impact, the
//!   input of the deployer table;
//! - CISA BOD 26-04 1.0.0: In KEV, Publicly Exposed, Automatable, Technical
//!   Impact -> the remediation timeline of the directive.
//!
//! [`DecisionTable::load`] reads a table of the user's own, so that a team
//! can decide with its own tree.
//!
//! # Format
//!
//! The CSV layout of the SSVC project: a header
//! `row,<Point vX.Y.Z (namespace)>,...,<Outcome vX.Y.Z (namespace)>`, then
//! one row per combination (`0,none,no,partial,low,track`). Fields may be
//! quoted as in RFC 4180. The version and the namespace of a column are
//! optional. Before the header, lines that start with `#` are comments, and
//! lines that start with `#!` are directives, an extension of ctem that
//! the built-in tables use:
//!
//! - `#! table: CISA Coordinator v2.0.3` names the table;
//! - `#! point: Exploitation (E) = None (N) | Public PoC (P, PoC) | Active (A)`
//!   declares the values of a column in order, lowest first, with aliases
//!   in brackets (the SSVC keys, or the spellings of other sources).
//!
//! Without a `point` directive, the values of a column are the ones its
//! rows use, in the order they first appear. The SSVC project writes its
//! rows in value order, so that order holds for the decision points, but
//! not always for the outcome: declare the outcome of a user table when
//! [`DecisionTable::outcome_range`] should be right.
//!
//! # Validation
//!
//! A table is rejected unless every combination of the values of its
//! decision points appears in exactly one row: a missing or duplicate row
//! would make a decision depend on the order of the file. Malformed input
//! is an error that names the line and the column (the field, counted from
//! 1): a value that a directive does not declare, a row with too few or too
//! many fields, an unclosed quote, a header that does not start with `row`.
//! Inputs are bounded: [`SSVC_MAX_BYTES`] per file and [`SSVC_MAX_COMBINATIONS`] per
//! table.
//!
//! # Matching names and values
//!
//! Names of decision points and values are compared after normalization:
//! case is ignored, and runs of spaces, `_` and `-` count as one space, so
//! `public_poc`, `Public PoC` and `PUBLIC-POC` are one value. Other
//! characters stay, so `Track*` and `Track` remain distinct. A decision
//! point also answers to its name with its version (`Exploitation v1.1.0`),
//! and to its aliases.
//!
//! # Unknown inputs
//!
//! [`DecisionTable::decide`] needs a value for every decision point of the
//! table, and reports the first one missing. ctem cannot know some of them
//! from intelligence alone (Mission and Well-Being Impact, System Exposure,
//! Safety Impact), so it never guesses them: the caller sets them from the
//! scoping of the assets. Until then, [`DecisionTable::outcome_range`]
//! returns the lowest and the highest outcome over every value of the
//! points not given, such as "Attend to Act". Inputs that name no decision
//! point of the table are ignored, so one set of inputs can serve several
//! tables. A misspelled name therefore shows up as a missing point.
//!
//! ```
//! use ctem_intel::{BuiltinTable, Inputs};
//!
//! let coordinator = BuiltinTable::CisaCoordinator.table();
//! let mut inputs = Inputs::new()
//!     .with("Exploitation", "active")
//!     .with("Automatable", "yes")
//!     .with("Technical Impact", "total");
//!
//! let range = coordinator.outcome_range(&inputs)?;
//! assert_eq!(range.to_string(), "Attend to Act");
//! assert_eq!(range.unknown, ["Mission and Well-Being Impact"]);
//!
//! inputs.set("mission_and_well_being_impact", "medium");
//! assert_eq!(coordinator.decide(&inputs)?.value, "Act");
//!
//! // The deployer table takes Human Impact from its own table.
//! let human = BuiltinTable::HumanImpact
//!     .table()
//!     .decide(&Inputs::from([("Safety Impact", "critical"), ("Mission Impact", "MEF failure")]))?;
//! let deployer = BuiltinTable::DeployerPatchApplicationPriority.table();
//! let inputs = Inputs::from([
//!     ("Exploitation", "PoC"),
//!     ("System Exposure", "open"),
//!     ("Automatable", "no"),
//!     ("Human Impact", human.value.as_str()),
//! ]);
//! assert_eq!(deployer.decide(&inputs)?.value, "Scheduled");
//! # Ok::<(), ctem_intel::SsvcError>(())
//! ```

mod parse;

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::OnceLock;

use serde::Serialize;

/// The maximum size of a table file in bytes. The built-in tables are
/// under 4 KB, so a larger file is almost certainly not a table.
pub const SSVC_MAX_BYTES: u64 = 1024 * 1024;

/// The maximum number of value combinations (rows) of one table. The
/// built-in tables have at most 72. The limit bounds the memory and time
/// that a hostile header with many values can take.
pub const SSVC_MAX_COMBINATIONS: usize = 100_000;

/// A decision table that could not be loaded, or a decision that could not
/// be made.
#[derive(Debug, thiserror::Error)]
pub enum SsvcError {
    /// The file could not be opened or read.
    #[error("failed to read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },

    /// The file exceeds [`SSVC_MAX_BYTES`].
    #[error(
        "{path} is larger than the limit of {limit} bytes for an SSVC decision table; tables are a few kilobytes, so check that it is the right file"
    )]
    TooLarge { path: String, limit: u64 },

    /// A line that is not UTF-8 text.
    #[error("{path}: line {line} is not valid UTF-8; save the table as UTF-8 text")]
    NotUtf8 { path: String, line: usize },

    /// A field of the CSV that is malformed or has an invalid value. The
    /// column is the field, counted from 1.
    #[error("{path}: line {line}, column {column}: {reason}")]
    Csv {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },

    /// A line that is invalid as a whole: a directive, or a table that
    /// ends after its header.
    #[error("{path}: line {line}: {reason}")]
    Line { path: String, line: usize, reason: String },

    /// A row whose combination of values an earlier row already decides.
    #[error(
        "{path}: line {line}: the combination {combination} is already decided on line {first_line}; every combination of values must appear in exactly one row"
    )]
    Duplicate {
        path: String,
        line: usize,
        first_line: usize,
        combination: String,
    },

    /// A table without a row for some combinations of values.
    #[error(
        "{path}: {missing} of {total} combinations of values have no row, the first is {example}; every combination must appear in exactly one row"
    )]
    Incomplete {
        path: String,
        missing: usize,
        total: usize,
        example: String,
    },

    /// The inputs of a decision lack a decision point of the table.
    #[error("{table}: no value for the decision point {point}; set one of {expected}")]
    MissingPoint {
        table: String,
        point: String,
        expected: String,
    },

    /// An input value that the decision point does not have.
    #[error("{table}: invalid value {value:?} for {point}; expected one of {expected}")]
    UnknownValue {
        table: String,
        point: String,
        value: String,
        expected: String,
    },

    /// Two inputs that name the same decision point (by name and by alias)
    /// with different values.
    #[error("{table}: {point} is set twice with different values, {first:?} and {second:?}")]
    ConflictingInputs {
        table: String,
        point: String,
        first: String,
        second: String,
    },
}

/// One value of a decision point, such as `Public PoC` of Exploitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointValue {
    name: String,
    aliases: Vec<String>,
    /// The normalized name and aliases, for matching.
    keys: Vec<String>,
}

impl PointValue {
    pub(crate) fn new(name: String, aliases: Vec<String>) -> PointValue {
        let keys = std::iter::once(&name)
            .chain(&aliases)
            .map(|text| normalize(text))
            .collect();
        PointValue { name, aliases, keys }
    }

    /// Returns the name as the table spells it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the other spellings that match the value, such as the SSVC key `P`.
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }

    /// Returns whether `text` names this value, after normalization.
    pub fn matches(&self, text: &str) -> bool {
        let text = normalize(text);
        self.keys.contains(&text)
    }
}

/// A decision point of a table, or its outcome: a name and ordered values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionPoint {
    name: String,
    version: Option<String>,
    namespace: Option<String>,
    aliases: Vec<String>,
    values: Vec<PointValue>,
    /// The normalized name, name with version, and aliases, for matching.
    keys: Vec<String>,
}

impl DecisionPoint {
    /// Returns the name without version or namespace, such as `Exploitation`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the version of the decision point, such as `1.1.0`, where the header gives one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Returns the SSVC namespace, such as `cisa`, where the header gives one.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Returns the other names that match the decision point, such as the SSVC key `E`.
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }

    /// Returns the values, lowest first.
    pub fn values(&self) -> &[PointValue] {
        &self.values
    }

    /// Returns the name with its version, such as `Exploitation v1.1.0`.
    pub fn label(&self) -> String {
        match &self.version {
            Some(version) => format!("{} v{version}", self.name),
            None => self.name.clone(),
        }
    }

    /// Returns whether `name` names this decision point, after normalization.
    pub fn is_named(&self, name: &str) -> bool {
        self.is_named_normalized(&normalize(name))
    }

    /// Returns the position of a value in [`DecisionPoint::values`].
    pub fn value_index(&self, text: &str) -> Option<usize> {
        let text = normalize(text);
        self.values.iter().position(|value| value.keys.contains(&text))
    }

    fn is_named_normalized(&self, normalized: &str) -> bool {
        self.keys.iter().any(|key| key == normalized)
    }

    /// Lists the values for an error message: `None, Public PoC, Active`.
    fn expected(&self) -> String {
        let names: Vec<&str> = self.values.iter().map(|value| value.name.as_str()).collect();
        names.join(", ")
    }
}

/// The decision of a table: a value of its outcome and its rank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The name of the value as the table spells it, such as `Track*`.
    pub value: String,
    /// The position of the value in the outcome, 0 for the lowest (such as
    /// `Track` or `Defer`). Ranks compare only within one table.
    pub rank: usize,
}

impl Outcome {
    /// Returns whether `text` names this outcome, after normalization.
    pub fn is(&self, text: &str) -> bool {
        normalize(&self.value) == normalize(text)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// The lowest and highest outcome that a table can reach when some of its
/// decision points are not known yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeRange {
    pub low: Outcome,
    pub high: Outcome,
    /// The decision points without a value, in the order of the table.
    pub unknown: Vec<String>,
}

impl OutcomeRange {
    /// Returns whether the outcome is certain, because the unknown decision
    /// points cannot change it.
    pub fn is_certain(&self) -> bool {
        self.low == self.high
    }
}

impl fmt::Display for OutcomeRange {
    /// Formats the range as `Attend to Act`, or as one outcome when it is certain.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_certain() {
            write!(f, "{}", self.low)
        } else {
            write!(f, "{} to {}", self.low, self.high)
        }
    }
}

/// The values of decision points to decide with, by decision point name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// The point as given, its normalized form, and the value.
    entries: Vec<(String, String, String)>,
}

impl Inputs {
    /// Creates empty inputs.
    pub fn new() -> Inputs {
        Inputs::default()
    }

    /// Sets the value of a decision point and returns the inputs.
    pub fn with(mut self, point: impl Into<String>, value: impl Into<String>) -> Inputs {
        self.set(point, value);
        self
    }

    /// Sets the value of a decision point, replacing an earlier value set
    /// under the same name.
    pub fn set(&mut self, point: impl Into<String>, value: impl Into<String>) -> &mut Inputs {
        let point = point.into();
        let normalized = normalize(&point);
        let value = value.into();
        match self.entries.iter_mut().find(|entry| entry.1 == normalized) {
            Some(entry) => entry.2 = value,
            None => self.entries.push((point, normalized, value)),
        }
        self
    }

    /// Returns the value set under a name, after normalization.
    pub fn get(&self, point: &str) -> Option<&str> {
        let normalized = normalize(point);
        self.entries
            .iter()
            .find(|entry| entry.1 == normalized)
            .map(|entry| entry.2.as_str())
    }

    /// Returns the number of values set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns whether no value is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns the value given for a decision point, under any of its names.
    fn value_for(&self, table: &str, point: &DecisionPoint) -> Result<Option<&str>, SsvcError> {
        let mut found: Option<&str> = None;
        for (_, normalized, value) in &self.entries {
            if !point.is_named_normalized(normalized) {
                continue;
            }
            match found {
                Some(first) if normalize(first) != normalize(value) => {
                    return Err(SsvcError::ConflictingInputs {
                        table: table.to_string(),
                        point: point.label(),
                        first: first.to_string(),
                        second: value.to_string(),
                    });
                }
                Some(_) => {}
                None => found = Some(value),
            }
        }
        Ok(found)
    }
}

impl<P: Into<String>, V: Into<String>> FromIterator<(P, V)> for Inputs {
    fn from_iter<I: IntoIterator<Item = (P, V)>>(iter: I) -> Inputs {
        let mut inputs = Inputs::new();
        for (point, value) in iter {
            inputs.set(point, value);
        }
        inputs
    }
}

impl<P: Into<String>, V: Into<String>, const N: usize> From<[(P, V); N]> for Inputs {
    fn from(pairs: [(P, V); N]) -> Inputs {
        pairs.into_iter().collect()
    }
}

/// An SSVC decision table: decision points with ordered values, an outcome,
/// and the outcome of every combination of values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionTable {
    name: String,
    version: Option<String>,
    path: String,
    points: Vec<DecisionPoint>,
    outcome: DecisionPoint,
    /// The outcome index of each combination. The combination of value
    /// indices (i0, i1, ..., in) sits at the mixed-radix number whose most
    /// significant digit is i0, which is the row order of SSVC files.
    cells: Vec<u16>,
}

impl DecisionTable {
    /// Loads a decision table from a CSV file in the layout of the SSVC project.
    pub fn load(path: impl AsRef<Path>) -> Result<DecisionTable, SsvcError> {
        let path = path.as_ref();
        let display = path.display().to_string();
        let file = File::open(path).map_err(|source| SsvcError::Io {
            path: display.clone(),
            source,
        })?;
        DecisionTable::from_reader(&display, file)
    }

    /// Reads a decision table from `reader`; `path_for_errors` names the
    /// source in errors and in [`DecisionTable::path`].
    pub fn from_reader(path_for_errors: &str, reader: impl Read) -> Result<DecisionTable, SsvcError> {
        let path = path_for_errors;
        let mut bytes = Vec::new();
        reader
            .take(SSVC_MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| SsvcError::Io {
                path: path.to_string(),
                source,
            })?;
        if bytes.len() as u64 > SSVC_MAX_BYTES {
            return Err(SsvcError::TooLarge {
                path: path.to_string(),
                limit: SSVC_MAX_BYTES,
            });
        }
        parse::parse_table(path, &bytes)
    }

    /// Returns the name of the `table` directive, or else the path.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the version of the `table` directive, such as `2.0.3`.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Returns the path (or the name given to [`DecisionTable::from_reader`]),
    /// or `built-in:<id>` for a [`BuiltinTable`].
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Returns the decision points, in the order of the columns.
    pub fn points(&self) -> &[DecisionPoint] {
        &self.points
    }

    /// Returns the outcome, the last column.
    pub fn outcome(&self) -> &DecisionPoint {
        &self.outcome
    }

    /// Returns the number of combinations, one per row of the file.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Returns false: a table has at least one row.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Returns the outcome of the table for `inputs`, which must give a value
    /// for every decision point of the table.
    pub fn decide(&self, inputs: &Inputs) -> Result<Outcome, SsvcError> {
        let mut cell = 0;
        for point in &self.points {
            let Some(value) = inputs.value_for(&self.name, point)? else {
                return Err(SsvcError::MissingPoint {
                    table: self.name.clone(),
                    point: point.label(),
                    expected: point.expected(),
                });
            };
            let index = self.value_index(point, value)?;
            cell = cell * point.values.len() + index;
        }
        Ok(self.outcome_of(cell))
    }

    /// Returns the lowest and highest outcome over every value of the
    /// decision points that `inputs` does not give. The values it gives
    /// must be valid.
    pub fn outcome_range(&self, inputs: &Inputs) -> Result<OutcomeRange, SsvcError> {
        let mut fixed = Vec::with_capacity(self.points.len());
        let mut unknown = Vec::new();
        for point in &self.points {
            match inputs.value_for(&self.name, point)? {
                Some(value) => fixed.push(Some(self.value_index(point, value)?)),
                None => {
                    fixed.push(None);
                    unknown.push(point.name.clone());
                }
            }
        }

        let mut low = usize::MAX;
        let mut high = 0;
        for cell in 0..self.cells.len() {
            if self.cell_matches(cell, &fixed) {
                let rank = usize::from(self.cells[cell]);
                low = low.min(rank);
                high = high.max(rank);
            }
        }

        // Every combination has a cell, so at least one matches.
        Ok(OutcomeRange {
            low: self.outcome_at(low),
            high: self.outcome_at(high),
            unknown,
        })
    }

    fn value_index(&self, point: &DecisionPoint, value: &str) -> Result<usize, SsvcError> {
        point.value_index(value).ok_or_else(|| SsvcError::UnknownValue {
            table: self.name.clone(),
            point: point.label(),
            value: crate::error::shorten(value),
            expected: point.expected(),
        })
    }

    /// Returns whether the combination at `cell` has the fixed values.
    fn cell_matches(&self, cell: usize, fixed: &[Option<usize>]) -> bool {
        let mut rest = cell;
        for (point, required) in self.points.iter().zip(fixed).rev() {
            let radix = point.values.len();
            let index = rest % radix;
            rest /= radix;
            if required.is_some_and(|required| required != index) {
                return false;
            }
        }
        true
    }

    fn outcome_of(&self, cell: usize) -> Outcome {
        self.outcome_at(usize::from(self.cells[cell]))
    }

    fn outcome_at(&self, rank: usize) -> Outcome {
        Outcome {
            value: self.outcome.values[rank].name.clone(),
            rank,
        }
    }
}

/// The decision tables that ship with ctem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BuiltinTable {
    /// CISA Coordinator 2.0.3 (Track, Track*, Attend, Act).
    CisaCoordinator,
    /// Deployer Patch Application Priority 1.0.0 (Defer, Scheduled, Out-of-Cycle, Immediate).
    DeployerPatchApplicationPriority,
    /// Human Impact 1.0.0 (Safety Impact and Mission Impact to Human Impact).
    HumanImpact,
    /// CISA BOD 26-04 1.0.0 (remediation timelines).
    CisaBod2604,
}

impl BuiltinTable {
    /// Every built-in table.
    pub const ALL: [BuiltinTable; 4] = [
        BuiltinTable::CisaCoordinator,
        BuiltinTable::DeployerPatchApplicationPriority,
        BuiltinTable::HumanImpact,
        BuiltinTable::CisaBod2604,
    ];

    /// Returns the stable identifier used in configuration and reports.
    pub fn id(self) -> &'static str {
        match self {
            BuiltinTable::CisaCoordinator => "cisa-coordinator-2.0.3",
            BuiltinTable::DeployerPatchApplicationPriority => "deployer-patch-application-priority-1.0.0",
            BuiltinTable::HumanImpact => "human-impact-1.0.0",
            BuiltinTable::CisaBod2604 => "cisa-bod-26-04-1.0.0",
        }
    }

    /// Returns the built-in table with the identifier `id`.
    pub fn from_id(id: &str) -> Option<BuiltinTable> {
        BuiltinTable::ALL.into_iter().find(|table| table.id() == id)
    }

    /// Returns the CSV source of the table.
    pub fn csv(self) -> &'static str {
        match self {
            BuiltinTable::CisaCoordinator => include_str!("../data/ssvc/cisa_coordinator_2_0_3.csv"),
            BuiltinTable::DeployerPatchApplicationPriority => {
                include_str!("../data/ssvc/deployer_patch_application_priority_1_0_0.csv")
            }
            BuiltinTable::HumanImpact => include_str!("../data/ssvc/human_impact_1_0_0.csv"),
            BuiltinTable::CisaBod2604 => include_str!("../data/ssvc/cisa_bod_26_04_1_0_0.csv"),
        }
    }

    /// Returns the table, parsed on first use.
    pub fn table(self) -> &'static DecisionTable {
        static TABLES: [OnceLock<DecisionTable>; 4] = [const { OnceLock::new() }; 4];
        let slot = BuiltinTable::ALL
            .iter()
            .position(|table| *table == self)
            .expect("ALL lists every table");
        TABLES[slot].get_or_init(|| {
            let path = format!("built-in:{}", self.id());
            // The unit test `builtin_tables_load` parses every built-in table, so a
            // broken data file fails the tests instead of a run.
            parse::parse_table(&path, self.csv().as_bytes()).unwrap_or_else(|error| panic!("{error}"))
        })
    }
}

/// Normalizes a name or value for comparison: lowercase, with each run of
/// whitespace, `_` and `-` as one space, and no space at either end.
pub(crate) fn normalize(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        if ch.is_whitespace() || ch == '_' || ch == '-' {
            pending_space = !normalized.is_empty();
            continue;
        }
        if pending_space {
            normalized.push(' ');
            pending_space = false;
        }
        normalized.extend(ch.to_lowercase());
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_case_and_separators() {
        assert_eq!(normalize("  Public_PoC "), "public poc");
        assert_eq!(normalize("Out-of-Cycle"), "out of cycle");
        assert_eq!(normalize("MEF   support\tcrippled"), "mef support crippled");
        assert_eq!(normalize("Track*"), "track*");
    }

    #[test]
    fn builtin_tables_load() {
        for builtin in BuiltinTable::ALL {
            let table = builtin.table();
            assert!(!table.is_empty(), "{}", builtin.id());
            assert_eq!(BuiltinTable::from_id(builtin.id()), Some(builtin));
        }
    }

    #[test]
    fn builtin_table_sizes() {
        assert_eq!(BuiltinTable::CisaCoordinator.table().len(), 36);
        assert_eq!(BuiltinTable::DeployerPatchApplicationPriority.table().len(), 72);
        assert_eq!(BuiltinTable::HumanImpact.table().len(), 16);
        assert_eq!(BuiltinTable::CisaBod2604.table().len(), 16);
    }
}
