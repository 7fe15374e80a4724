//! What the rules read: the resolved inventory, the open findings, the
//! exploitation signals that threat intelligence gave each finding, and the
//! compensating controls of the configuration.
//!
//! The engine fills these from the inventory, the findings and the loaded
//! intelligence; the generator fills them for tests and benchmarks. Nothing
//! here reads a file.

use ctem_model::{Asset, Finding, Relationship};
use serde::{Deserialize, Serialize};

/// What threat intelligence says about exploiting one finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ExploitSignals {
    /// A CVE of the finding is in CISA KEV (exploited in the wild).
    pub kev: bool,
    /// The highest FIRST EPSS probability among its CVEs.
    pub epss: Option<f64>,
}

/// One open finding with its signals.
#[derive(Debug, Clone, Copy)]
pub struct GraphFinding<'a> {
    pub finding: &'a Finding,
    /// The fingerprint of the finding, which fixes name.
    pub fingerprint: &'a str,
    pub signals: ExploitSignals,
}

pub use ctem_model::Controls;

/// Everything the rules derive the attack graph from.
#[derive(Debug, Clone, Copy)]
pub struct GraphInput<'a> {
    pub assets: &'a [Asset],
    pub relationships: &'a [Relationship],
    pub findings: &'a [GraphFinding<'a>],
    pub controls: &'a Controls,
}
