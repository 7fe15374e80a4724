//! [`Context`]: what the attack graph and the configuration know about a
//! finding beyond the finding itself, its asset and the intelligence.

use std::fmt;
use std::str::FromStr;

use ctem_model::Deadline;

/// A finding's place in the environment, as [`crate::assess_with`] scores
/// it. This is pure data: the engine derives it from the attack graph and
/// the configuration. [`Context::default`] is the empty context that
/// [`crate::assess`] uses: no graph facts, no compensating controls, no
/// data classification, and the default deadline table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    pub graph: GraphFacts,
    pub controls: Controls,
    /// The classification of the data on the finding's asset.
    pub data_classification: Option<DataClassification>,
    /// The CISA BOD 26-04 deadline of each combination of criteria.
    pub deadlines: DeadlineTable,
}

/// The attack graph's facts about one finding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphFacts {
    /// The number of attack paths to a crown jewel that take a step the
    /// finding enables, among the paths the graph analysis kept.
    pub paths_to_crown_jewels: usize,
    /// The names of the crown jewels those paths reach, sorted, without repeats.
    pub crown_jewels: Vec<String>,
    /// The success probability (0..=1) of the most likely of those paths,
    /// or `None` when no kept path uses the finding.
    pub best_path_probability: Option<f64>,
    /// Whether a step that the finding enables leads into a choke point:
    /// a node that every path from the internet to a crown jewel passes.
    pub choke_point: bool,
    /// The number of crown jewels reachable from the finding's asset once
    /// an attacker controls it.
    pub blast_radius_crown_jewels: usize,
    /// The number of assets reachable from the finding's asset once an
    /// attacker controls it.
    pub blast_radius_assets: usize,
}

impl GraphFacts {
    /// Returns whether the graph shows nothing about the finding.
    pub fn is_empty(&self) -> bool {
        *self == GraphFacts::default()
    }
}

pub use ctem_model::Controls;

/// The classification of the data an asset holds, from the least to the
/// most sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataClassification {
    Public,
    Internal,
    Confidential,
    /// Regulated or secret data: payment cards, health records, keys.
    Restricted,
}

impl DataClassification {
    pub const ALL: [DataClassification; 4] = [
        DataClassification::Public,
        DataClassification::Internal,
        DataClassification::Confidential,
        DataClassification::Restricted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DataClassification::Public => "public",
            DataClassification::Internal => "internal",
            DataClassification::Confidential => "confidential",
            DataClassification::Restricted => "restricted",
        }
    }
}

impl fmt::Display for DataClassification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DataClassification {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        DataClassification::ALL
            .into_iter()
            .find(|level| level.as_str() == name)
            .ok_or_else(|| {
                format!("invalid data classification {s:?}: expected public, internal, confidential or restricted")
            })
    }
}

/// The four binary criteria of CISA BOD 26-04 for one finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BodCriteria {
    /// A CVE of the finding is in the CISA KEV catalog.
    pub kev: bool,
    /// The asset is reachable from the internet.
    pub public: bool,
    /// SSVC Automatable: steps 1 to 4 of the kill chain can be automated.
    pub automatable: bool,
    /// SSVC Technical Impact is total: full control of the component, or
    /// disclosure of all its information.
    pub total: bool,
}

impl BodCriteria {
    /// Every combination, in the order of [`BodCriteria::index`].
    pub fn all() -> impl Iterator<Item = BodCriteria> {
        (0..16usize).map(|index| BodCriteria {
            kev: index & 8 != 0,
            public: index & 4 != 0,
            automatable: index & 2 != 0,
            total: index & 1 != 0,
        })
    }

    /// Returns the position of the combination in a [`DeadlineTable`].
    pub fn index(self) -> usize {
        usize::from(self.kev) << 3
            | usize::from(self.public) << 2
            | usize::from(self.automatable) << 1
            | usize::from(self.total)
    }

    /// Returns the name of the combination in the `[prioritization.deadlines]`
    /// section of ctem.toml: the criteria that hold joined by `_`, in the
    /// order kev, public, automatable, total, or `none`.
    pub fn key(self) -> String {
        let names = [
            (self.kev, "kev"),
            (self.public, "public"),
            (self.automatable, "automatable"),
            (self.total, "total"),
        ];
        let held: Vec<&str> = names.iter().filter(|(held, _)| *held).map(|(_, name)| *name).collect();
        if held.is_empty() {
            "none".to_string()
        } else {
            held.join("_")
        }
    }
}

/// The CISA BOD 26-04 deadline of each of the 16 combinations of criteria.
///
/// The default is ctem's reading of Table 1 (Remediation Timelines) of
/// the directive, as the SSVC project encodes it in its `cisa` namespace
/// (decision table BOD2604 1.0.0, shipped as
/// `ctem_intel::BuiltinTable::CisaBod2604`). Every cell can be replaced,
/// for example from the `[prioritization.deadlines]` section of ctem.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineTable {
    cells: [Deadline; 16],
}

impl Default for DeadlineTable {
    fn default() -> Self {
        crate::decision::default_deadlines()
    }
}

impl DeadlineTable {
    /// Builds a table from the deadline of each combination, indexed by
    /// [`BodCriteria::index`].
    pub fn from_cells(cells: [Deadline; 16]) -> DeadlineTable {
        DeadlineTable { cells }
    }

    /// Returns the deadline of a combination of criteria.
    pub fn get(&self, criteria: BodCriteria) -> Deadline {
        self.cells[criteria.index()]
    }

    /// Replaces the deadline of a combination of criteria.
    pub fn set(&mut self, criteria: BodCriteria, deadline: Deadline) {
        self.cells[criteria.index()] = deadline;
    }
}
